/**
 * e1000 hardware access (the part of Linux's e1000_hw.c this driver needs): register access,
 * reset, the EEPROM through EERD (checksum, MAC address), the PHY through MDIC, receive
 * addresses and the multicast table, link state, and the statistics registers.
 *
 * Differs from Linux's e1000_hw.c: only the 82540EM; the EEPROM is read through EERD (the
 * model has no Microwire bit-banging), and link setup is the MAC's SLU plus the PHY's reported
 * state (no autonegotiation to restart).
 */
import { readl, udelay, usleep_range, writel, type IoMem } from '../../linux-kapi/index.js';
import {
  E1000_REGS, EEPROM, MDIC_OP_READ, MTA, NUM_MTA, NUM_RA, PHY_ADDR, RAH, RAL,
} from '../../devices/nic/e1000.regs.js';

export const R = E1000_REGS.offsets;
export const B = E1000_REGS.bits;

export const er32 = (hw: IoMem, reg: number): number => readl(hw, reg);
export const ew32 = (hw: IoMem, reg: number, v: number): void => writel(v >>> 0, hw, reg);
/** E1000_WRITE_FLUSH: a read that makes earlier posted writes land. */
export const e1000_write_flush = (hw: IoMem): number => readl(hw, R.STATUS);

/** e1000_reset_hw: mask interrupts, stop RX/TX, global reset, mask again, clear pending causes. */
export async function e1000_reset_hw(hw: IoMem): Promise<number> {
  ew32(hw, R.IMC, 0xffffffff);
  ew32(hw, R.RCTL, 0);
  ew32(hw, R.TCTL, B.TCTL.PSP);
  e1000_write_flush(hw);
  ew32(hw, R.CTRL, er32(hw, R.CTRL) | B.CTRL.RST);
  // Linux waits 5 ms for the reset to complete before touching the device again.
  for (let i = 0; i < 10 && er32(hw, R.CTRL) & B.CTRL.RST; i++) await usleep_range(500, 1000);
  if (er32(hw, R.CTRL) & B.CTRL.RST) return -5;
  ew32(hw, R.IMC, 0xffffffff);
  er32(hw, R.ICR);
  return 0;
}

/** One EEPROM word through EERD; -1 on timeout. */
export function e1000_read_eeprom(hw: IoMem, word: number): number {
  ew32(hw, R.EERD, (word << 8) | B.EERD.START);
  for (let i = 0; i < 100; i++) {
    const v = er32(hw, R.EERD);
    if (v & B.EERD.DONE) return v >>> 16;
    udelay(5);
  }
  return -1;
}

/** e1000_validate_eeprom_checksum: words 0..0x3f sum to 0xBABA. */
export function e1000_validate_eeprom_checksum(hw: IoMem): boolean {
  let sum = 0;
  for (let i = 0; i <= EEPROM.CHECKSUM_WORD; i++) {
    const w = e1000_read_eeprom(hw, i);
    if (w < 0) return false;
    sum = (sum + w) & 0xffff;
  }
  return sum === EEPROM.CHECKSUM_SUM;
}

/** e1000_read_mac_addr: EEPROM words 0-2, little endian. */
export function e1000_read_mac_addr(hw: IoMem): Uint8Array | null {
  const mac = new Uint8Array(6);
  for (let i = 0; i < 3; i++) {
    const w = e1000_read_eeprom(hw, i);
    if (w < 0) return null;
    mac[2 * i] = w & 0xff;
    mac[2 * i + 1] = w >>> 8;
  }
  return mac;
}

/** e1000_read_phy_reg through MDIC; -1 on error or timeout. */
export function e1000_read_phy_reg(hw: IoMem, reg: number): number {
  ew32(hw, R.MDIC, (reg << 16) | (PHY_ADDR << 21) | MDIC_OP_READ);
  for (let i = 0; i < 64; i++) {
    const v = er32(hw, R.MDIC);
    if (v & B.MDIC.READY) return v & B.MDIC.ERROR ? -1 : v & 0xffff;
    udelay(50);
  }
  return -1;
}

/** e1000_rar_set: receive address `index` = mac, valid. */
export function e1000_rar_set(hw: IoMem, mac: Uint8Array, index: number): void {
  ew32(hw, RAL(index), (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0);
  ew32(hw, RAH(index), (mac[4]! | (mac[5]! << 8) | B.RAH0.AV) >>> 0);
}

/** e1000_init_hw (the parts that matter here): link up, addresses, empty multicast table. */
export function e1000_init_hw(hw: IoMem, mac: Uint8Array): void {
  ew32(hw, R.CTRL, er32(hw, R.CTRL) | B.CTRL.SLU);
  e1000_rar_set(hw, mac, 0);
  for (let i = 1; i < NUM_RA; i++) { ew32(hw, RAL(i), 0); ew32(hw, RAH(i), 0); }
  for (let i = 0; i < NUM_MTA; i++) ew32(hw, MTA(i), 0);
}

/** Link state from STATUS: up, speed (Mb/s), full duplex. */
export function e1000_link(hw: IoMem): { up: boolean; speed: number; fullDuplex: boolean } {
  const s = er32(hw, R.STATUS);
  const speed = [10, 100, 1000, 1000][(s >>> 6) & 3]!;
  return { up: (s & B.STATUS.LU) !== 0, speed, fullDuplex: (s & B.STATUS.FD) !== 0 };
}

/** Hardware statistics, accumulated (the registers clear on read). */
export interface E1000HwStats {
  crcerrs: number; algnerrc: number; symerrs: number; rxerrc: number; mpc: number; scc: number; ecol: number;
  mcc: number; latecol: number; colc: number; tncrs: number; cexterr: number; rlec: number; ruc: number;
  rfc: number; roc: number; rjc: number; rnbc: number; gprc: number; bprc: number; mprc: number; gptc: number;
  gorc: number; gotc: number; tpr: number; tpt: number; mptc: number; bptc: number;
}

export function e1000_zero_stats(): E1000HwStats {
  return {
    crcerrs: 0, algnerrc: 0, symerrs: 0, rxerrc: 0, mpc: 0, scc: 0, ecol: 0, mcc: 0, latecol: 0, colc: 0, tncrs: 0,
    cexterr: 0, rlec: 0, ruc: 0, rfc: 0, roc: 0, rjc: 0, rnbc: 0, gprc: 0, bprc: 0, mprc: 0, gptc: 0, gorc: 0,
    gotc: 0, tpr: 0, tpt: 0, mptc: 0, bptc: 0,
  };
}

/** e1000_update_stats: reads (and so clears) the counters into `s`. */
export function e1000_update_stats(hw: IoMem, s: E1000HwStats): void {
  s.crcerrs += er32(hw, R.CRCERRS);
  s.algnerrc += er32(hw, R.ALGNERRC);
  s.symerrs += er32(hw, R.SYMERRS);
  s.rxerrc += er32(hw, R.RXERRC);
  s.mpc += er32(hw, R.MPC);
  s.scc += er32(hw, R.SCC);
  s.ecol += er32(hw, R.ECOL);
  s.mcc += er32(hw, R.MCC);
  s.latecol += er32(hw, R.LATECOL);
  s.colc += er32(hw, R.COLC);
  s.tncrs += er32(hw, R.TNCRS);
  s.cexterr += er32(hw, R.CEXTERR);
  s.rlec += er32(hw, R.RLEC);
  s.ruc += er32(hw, R.RUC);
  s.rfc += er32(hw, R.RFC);
  s.roc += er32(hw, R.ROC);
  s.rjc += er32(hw, R.RJC);
  s.rnbc += er32(hw, R.RNBC);
  s.gprc += er32(hw, R.GPRC);
  s.bprc += er32(hw, R.BPRC);
  s.mprc += er32(hw, R.MPRC);
  s.gptc += er32(hw, R.GPTC);
  // 64-bit octet counters: low then high (reading high clears both).
  s.gorc += er32(hw, R.GORCL) + er32(hw, R.GORCH) * 2 ** 32;
  s.gotc += er32(hw, R.GOTCL) + er32(hw, R.GOTCH) * 2 ** 32;
  s.tpr += er32(hw, R.TPR);
  s.tpt += er32(hw, R.TPT);
  s.mptc += er32(hw, R.MPTC);
  s.bptc += er32(hw, R.BPTC);
}
