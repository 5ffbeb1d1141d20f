/**
 * @module nic/e1000.regs
 * Intel 82540EM ("e1000") register map, legacy descriptor layouts and the bit constants a
 * driver needs. Pure data plus pure helpers: the model (e1000.model.ts), twin drivers and tests
 * all import this file, the way QEMU's `e1000x_regs.h` is shared by the model and its qtest.
 *
 * Offsets and bits follow hardware-models.md §2 ([Q-E1000X], [UB-E1000]); the extra
 * storage-only registers (CTRL_EXT, FCAL, PBA, RXCSUM, VFTA, ...) use the 8254x offsets so a
 * Linux-style bring-up finds every register it touches. All registers are 32 bits wide and
 * accessed whole (QEMU `.impl` 4/4); narrower accesses are logged guest errors.
 *
 * @example
 * import { E1000_REGS as R, TXD_CMD, writeTxDesc } from './e1000.regs.js';
 * mmio.write(R.offsets.RCTL, 4, R.bits.RCTL.EN | R.bits.RCTL.BAM);
 * writeTxDesc(mem.bytes, ring + 16 * i, { addr: buf, length: 60, cmd: TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS });
 * mmio.write(R.offsets.TDT, 4, i + 1);
 */
import { defineRegisterMap, type FieldSpec, type RegisterSpec, type SpecsOf } from '../core/regmap.js';

/** PCI identity of the 82540EM and the size of its MMIO BAR (`PNPMMIO_SIZE`). */
export const E1000_PCI = Object.freeze({ VENDOR_ID: 0x8086, DEVICE_ID: 0x100e, MMIO_SIZE: 0x20000 });

/** 0 | 1 | ... | N-1, so generated register names stay literal types. */
type Indices<N extends number, Acc extends number[] = []> = Acc['length'] extends N ? Acc[number] : Indices<N, [...Acc, Acc['length']]>;

/** `count` registers `PREFIX0..PREFIXn` every `stride` bytes from `base` (register arrays). */
function regArray<P extends string, N extends number, R extends Omit<RegisterSpec, 'offset'>>(
  prefix: P, base: number, count: N, stride: number, spec: R,
): Record<`${P}${Indices<N>}`, R & { offset: number }> {
  const out: Record<string, R & { offset: number }> = {};
  for (let i = 0; i < count; i++) out[`${prefix}${i}`] = { ...spec, offset: base + i * stride };
  return out as Record<`${P}${Indices<N>}`, R & { offset: number }>;
}

/** Interrupt causes: the same bit positions in ICR, ICS, IMS and IMC. */
function causeFields(access: FieldSpec['access']) {
  return {
    TXDW: { bit: 0, access, doc: 'TX descriptor written back' },
    TXQE: { bit: 1, access, doc: 'TX queue empty' },
    LSC: { bit: 2, access, doc: 'link status change' },
    RXSEQ: { bit: 3, access, doc: 'RX sequence error' },
    RXDMT0: { bit: 4, access, doc: 'RX descriptors below the minimum threshold (RCTL.RDMTS)' },
    RXO: { bit: 6, access, doc: 'RX overrun: a frame was dropped for lack of buffers' },
    RXT0: { bit: 7, access, doc: 'RX timer: frames were received (after RDTR/RADV delay)' },
    MDAC: { bit: 9, access, doc: 'MDI/O access complete' },
    TXD_LOW: { bit: 15, access, doc: 'TX descriptors low (not raised by this model)' },
    INT_ASSERTED: { bit: 31, access, doc: '82571+ only; always 0 on the 82540EM model' },
  } as const;
}

const rw = (doc: string) => ({ access: 'rw', doc }) as const;
const counter = (doc: string) => ({ access: 'rc', doc: `${doc} (clears on read)` }) as const;
const value16 = (doc: string) => ({ fields: { VALUE: { bit: 0, width: 16, access: 'rw', doc } } }) as const;

export const E1000_REGS = defineRegisterMap('e1000', {
  // ---- general -------------------------------------------------------------------------
  CTRL: {
    offset: 0x00000,
    reset: 0x00000240, // SLU | SPD_SEL = 1000 (QEMU mac_reg_init)
    fields: {
      FD: { bit: 0, access: 'rw', doc: 'full duplex' },
      LRST: { bit: 3, access: 'rw', doc: 'link reset (stored only)' },
      ASDE: { bit: 5, access: 'rw', doc: 'auto-speed detection enable' },
      SLU: { bit: 6, access: 'rw', doc: 'set link up: STATUS.LU needs it (and a carrier)' },
      SPD_SEL: { bit: 8, width: 2, access: 'rw', doc: 'speed select: 0 = 10, 1 = 100, 2 = 1000 Mb/s' },
      FRCSPD: { bit: 11, access: 'rw', doc: 'force speed' },
      FRCDPX: { bit: 12, access: 'rw', doc: 'force duplex' },
      RST: { bit: 26, access: 'w1s', doc: 'device reset; self-clearing (the write resets everything)' },
      RFCE: { bit: 27, access: 'rw', doc: 'RX flow control enable (stored only)' },
      TFCE: { bit: 28, access: 'rw', doc: 'TX flow control enable (stored only)' },
      VME: { bit: 30, access: 'rw', doc: 'VLAN mode enable (stored only)' },
      PHY_RST: { bit: 31, access: 'rw', doc: 'PHY reset (stored only)' },
    },
  },
  STATUS: {
    offset: 0x00008,
    reset: 0x00080081, // GIO_MASTER_ENABLE | SPEED 1000 | FD; LU is computed from the link
    fields: {
      FD: { bit: 0, access: 'ro', doc: 'full duplex' },
      LU: { bit: 1, access: 'ro', doc: 'link up' },
      SPEED: { bit: 6, width: 2, access: 'ro', doc: '0 = 10, 1 = 100, 2 = 1000 Mb/s' },
      PHYRA: { bit: 10, access: 'ro', doc: 'PHY reset asserted' },
      GIO_MASTER_ENABLE: { bit: 19, access: 'ro', doc: 'bus mastering enabled' },
    },
  },
  EECD: {
    offset: 0x00010,
    doc: 'EEPROM bit-bang interface: stored only (use EERD); reports a present, granted 64-word EEPROM',
    fields: {
      SK: { bit: 0, access: 'rw' }, CS: { bit: 1, access: 'rw' }, DI: { bit: 2, access: 'rw' }, DO: { bit: 3, access: 'ro' },
      FWE: { bit: 4, width: 2, access: 'rw' }, EE_REQ: { bit: 6, access: 'rw' },
      EE_GNT: { bit: 7, access: 'ro', reset: 1 }, EE_PRES: { bit: 8, access: 'ro', reset: 1 }, EE_SIZE: { bit: 9, access: 'ro' },
    },
  },
  // EERD and MDIC status fields are declared rw so that a driver writing a command (with them 0)
  // is not a read-only violation; the model recomputes them on every write.
  EERD: {
    offset: 0x00014,
    doc: 'EEPROM read: write ADDR | START, read back DONE and DATA (completes at once)',
    fields: {
      START: { bit: 0, access: 'w1s', doc: 'start a read (self-clearing)' },
      DONE: { bit: 4, access: 'rw', doc: 'read complete (set by the device; written values are ignored)' },
      ADDR: { bit: 8, width: 8, access: 'rw', doc: 'word address' },
      DATA: { bit: 16, width: 16, access: 'rw', doc: 'word read (set by the device; written values are ignored)' },
    },
  },
  CTRL_EXT: { offset: 0x00018, ...rw('extended control (stored only)') },
  MDIC: {
    offset: 0x00020,
    doc: 'MDI control: PHY register access through the MAC; completes at once; only PHY address 1 answers',
    fields: {
      DATA: { bit: 0, width: 16, access: 'rw' },
      REGADD: { bit: 16, width: 5, access: 'rw' },
      PHYADD: { bit: 21, width: 5, access: 'rw' },
      OP: { bit: 26, width: 2, access: 'rw', doc: '1 = write (MDIC_OP_WRITE), 2 = read (MDIC_OP_READ)' },
      READY: { bit: 28, access: 'rw', doc: 'access complete (set by the device; written values are ignored)' },
      INT_EN: { bit: 29, access: 'rw', doc: 'raise ICR.MDAC on completion' },
      ERROR: { bit: 30, access: 'rw', doc: 'access failed (set by the device; written values are ignored)' },
    },
  },
  FCAL: { offset: 0x00028, ...rw('flow control address low (stored only)') },
  FCAH: { offset: 0x0002c, ...rw('flow control address high (stored only)') },
  FCT: { offset: 0x00030, ...rw('flow control type (stored only)') },
  VET: { offset: 0x00038, ...rw('VLAN EtherType (stored only)') },

  // ---- interrupts ---------------------------------------------------------------------
  ICR: { offset: 0x000c0, doc: 'interrupt cause: clears on read; writing 1s also clears', fields: causeFields('rc') },
  ITR: { offset: 0x000c4, doc: 'interrupt throttling', fields: { INTERVAL: { bit: 0, width: 16, access: 'rw', doc: 'minimum gap between interrupts, 256 ns units; 0 = off' } } },
  ICS: { offset: 0x000c8, doc: 'interrupt cause set (software interrupt)', fields: causeFields('wo') },
  IMS: { offset: 0x000d0, doc: 'interrupt mask set: writing 1 enables a cause; reads the mask', fields: causeFields('w1s') },
  IMC: { offset: 0x000d8, doc: 'interrupt mask clear: writing 1 disables a cause', fields: causeFields('wo') },

  // ---- receive / transmit control ------------------------------------------------------
  RCTL: {
    offset: 0x00100,
    fields: {
      EN: { bit: 1, access: 'rw', doc: 'receiver enable' },
      SBP: { bit: 2, access: 'rw', doc: 'store bad packets (oversized frames are kept)' },
      UPE: { bit: 3, access: 'rw', doc: 'unicast promiscuous' },
      MPE: { bit: 4, access: 'rw', doc: 'multicast promiscuous' },
      LPE: { bit: 5, access: 'rw', doc: 'long packets (up to 16384 bytes instead of 1522)' },
      LBM: { bit: 6, width: 2, access: 'rw', doc: 'loopback mode (stored only)' },
      RDMTS: { bit: 8, width: 2, access: 'rw', doc: 'RXDMT0 threshold: 0 = 1/2, 1 = 1/4, 2 = 1/8 of the ring' },
      MO: { bit: 12, width: 2, access: 'rw', doc: 'multicast offset: which 12 address bits index the MTA' },
      BAM: { bit: 15, access: 'rw', doc: 'accept broadcast' },
      BSIZE: { bit: 16, width: 2, access: 'rw', doc: 'buffer size: 0 = 2048, 1 = 1024, 2 = 512, 3 = 256 (x16 with BSEX)' },
      VFE: { bit: 18, access: 'rw', doc: 'VLAN filter enable (stored only)' },
      BSEX: { bit: 25, access: 'rw', doc: 'buffer size extension' },
      SECRC: { bit: 26, access: 'rw', doc: 'strip the Ethernet CRC from received frames' },
    },
  },
  FCTTV: { offset: 0x00170, ...rw('flow control transmit timer (stored only)') },
  TXCW: { offset: 0x00178, ...rw('TX configuration word (stored only)') },
  RXCW: { offset: 0x00180, access: 'ro', doc: 'RX configuration word (reads 0)' },
  TCTL: {
    offset: 0x00400,
    fields: {
      EN: { bit: 1, access: 'rw', doc: 'transmitter enable' },
      PSP: { bit: 3, access: 'rw', doc: 'pad short packets to 64 bytes (60 + FCS)' },
      CT: { bit: 4, width: 8, access: 'rw', doc: 'collision threshold (stored only)' },
      COLD: { bit: 12, width: 10, access: 'rw', doc: 'collision distance (stored only)' },
      RTLC: { bit: 24, access: 'rw', doc: 'retransmit on late collision (stored only)' },
    },
  },
  TIPG: { offset: 0x00410, ...rw('inter-packet gap (stored; pacing always uses the standard 12-byte IFG)') },
  LEDCTL: { offset: 0x00e00, ...rw('LED control (stored only)') },
  PBA: { offset: 0x01000, reset: 0x30, ...rw('packet buffer allocation, KB for RX (stored only; see params.rxBufferSize)') },
  FCRTL: { offset: 0x02160, ...rw('flow control RX threshold low (stored only)') },
  FCRTH: { offset: 0x02168, ...rw('flow control RX threshold high (stored only)') },

  // ---- RX ring ---------------------------------------------------------------------------
  RDBAL: { offset: 0x02800, doc: 'RX ring base, low; 16-byte aligned', fields: { ADDR: { bit: 4, width: 28, access: 'rw' } } },
  RDBAH: { offset: 0x02804, ...rw('RX ring base, high') },
  RDLEN: { offset: 0x02808, doc: 'RX ring length in bytes, a multiple of 128', fields: { LEN: { bit: 7, width: 13, access: 'rw' } } },
  RDH: { offset: 0x02810, ...value16('RX head: the next descriptor hardware fills') },
  RDT: { offset: 0x02818, ...value16('RX tail: one past the last descriptor software handed over') },
  RDTR: { offset: 0x02820, ...value16('RX packet delay timer, 1.024 us units; 0 = RXT0 at once') },
  RXDCTL: { offset: 0x02828, ...rw('RX descriptor control (stored only)') },
  RADV: { offset: 0x0282c, ...value16('RX absolute delay, 1.024 us units (used while RDTR != 0)') },

  // ---- TX ring ---------------------------------------------------------------------------
  TDBAL: { offset: 0x03800, doc: 'TX ring base, low; 16-byte aligned', fields: { ADDR: { bit: 4, width: 28, access: 'rw' } } },
  TDBAH: { offset: 0x03804, ...rw('TX ring base, high') },
  TDLEN: { offset: 0x03808, doc: 'TX ring length in bytes, a multiple of 128', fields: { LEN: { bit: 7, width: 13, access: 'rw' } } },
  TDH: { offset: 0x03810, ...value16('TX head: the next descriptor hardware processes') },
  TDT: { offset: 0x03818, ...value16('TX tail: writing it starts transmission') },
  TIDV: { offset: 0x03820, ...value16('TX interrupt delay (descriptors with CMD.IDE), 1.024 us units') },
  TXDCTL: { offset: 0x03828, ...rw('TX descriptor control (stored only)') },
  TADV: { offset: 0x0382c, ...value16('TX absolute interrupt delay, 1.024 us units') },

  // ---- statistics (all clear on read) ------------------------------------------------------
  CRCERRS: { offset: 0x04000, ...counter('CRC errors') },
  ALGNERRC: { offset: 0x04004, ...counter('alignment errors') },
  SYMERRS: { offset: 0x04008, ...counter('symbol errors') },
  RXERRC: { offset: 0x0400c, ...counter('RX errors') },
  MPC: { offset: 0x04010, ...counter('missed packets: dropped for lack of buffers') },
  SCC: { offset: 0x04014, ...counter('single collisions') },
  ECOL: { offset: 0x04018, ...counter('excessive collisions') },
  MCC: { offset: 0x0401c, ...counter('multiple collisions') },
  LATECOL: { offset: 0x04020, ...counter('late collisions') },
  COLC: { offset: 0x04028, ...counter('collisions') },
  DC: { offset: 0x04030, ...counter('defers') },
  TNCRS: { offset: 0x04034, ...counter('TX with no carrier sense') },
  SEC: { offset: 0x04038, ...counter('sequence errors') },
  CEXTERR: { offset: 0x0403c, ...counter('carrier extension errors') },
  RLEC: { offset: 0x04040, ...counter('RX length errors') },
  XONRXC: { offset: 0x04048, ...counter('XON received') },
  XONTXC: { offset: 0x0404c, ...counter('XON sent') },
  XOFFRXC: { offset: 0x04050, ...counter('XOFF received') },
  XOFFTXC: { offset: 0x04054, ...counter('XOFF sent') },
  FCRUC: { offset: 0x04058, ...counter('unsupported flow control frames') },
  PRC64: { offset: 0x0405c, ...counter('frames received, 64 bytes') },
  PRC127: { offset: 0x04060, ...counter('frames received, 65-127 bytes') },
  PRC255: { offset: 0x04064, ...counter('frames received, 128-255 bytes') },
  PRC511: { offset: 0x04068, ...counter('frames received, 256-511 bytes') },
  PRC1023: { offset: 0x0406c, ...counter('frames received, 512-1023 bytes') },
  PRC1522: { offset: 0x04070, ...counter('frames received, 1024-1522 bytes') },
  GPRC: { offset: 0x04074, ...counter('good packets received') },
  BPRC: { offset: 0x04078, ...counter('broadcast packets received') },
  MPRC: { offset: 0x0407c, ...counter('multicast packets received') },
  GPTC: { offset: 0x04080, ...counter('good packets sent') },
  GORCL: { offset: 0x04088, ...counter('good octets received, low') },
  GORCH: { offset: 0x0408c, ...counter('good octets received, high') },
  GOTCL: { offset: 0x04090, ...counter('good octets sent, low') },
  GOTCH: { offset: 0x04094, ...counter('good octets sent, high') },
  RNBC: { offset: 0x040a0, ...counter('frames that found no RX descriptor') },
  RUC: { offset: 0x040a4, ...counter('undersized frames') },
  RFC: { offset: 0x040a8, ...counter('fragments') },
  ROC: { offset: 0x040ac, ...counter('oversized frames') },
  RJC: { offset: 0x040b0, ...counter('jabber') },
  MGTPRC: { offset: 0x040b4, ...counter('management packets received') },
  MGTPDC: { offset: 0x040b8, ...counter('management packets dropped') },
  MGTPTC: { offset: 0x040bc, ...counter('management packets sent') },
  TORL: { offset: 0x040c0, ...counter('total octets received, low') },
  TORH: { offset: 0x040c4, ...counter('total octets received, high') },
  TOTL: { offset: 0x040c8, ...counter('total octets sent, low') },
  TOTH: { offset: 0x040cc, ...counter('total octets sent, high') },
  TPR: { offset: 0x040d0, ...counter('total packets received') },
  TPT: { offset: 0x040d4, ...counter('total packets sent') },
  PTC64: { offset: 0x040d8, ...counter('frames sent, 64 bytes') },
  PTC127: { offset: 0x040dc, ...counter('frames sent, 65-127 bytes') },
  PTC255: { offset: 0x040e0, ...counter('frames sent, 128-255 bytes') },
  PTC511: { offset: 0x040e4, ...counter('frames sent, 256-511 bytes') },
  PTC1023: { offset: 0x040e8, ...counter('frames sent, 512-1023 bytes') },
  PTC1522: { offset: 0x040ec, ...counter('frames sent, 1024-1522 bytes') },
  MPTC: { offset: 0x040f0, ...counter('multicast packets sent') },
  BPTC: { offset: 0x040f4, ...counter('broadcast packets sent') },
  TSCTC: { offset: 0x040f8, ...counter('TSO contexts sent') },
  TSCTFC: { offset: 0x040fc, ...counter('TSO contexts failed') },

  // ---- filters ---------------------------------------------------------------------------
  RXCSUM: { offset: 0x05000, ...rw('RX checksum offload control (stored only: no offload)') },
  ...regArray('MTA', 0x05200, 128, 4, rw('multicast table array: 4096 hash bits')),
  ...regArray('RAL', 0x05400, 16, 8, rw('receive address low: MAC bytes 0-3, little endian')),
  ...regArray('RAH', 0x05404, 16, 8, {
    doc: 'receive address high: MAC bytes 4-5, address select, address valid',
    fields: {
      RAH: { bit: 0, width: 16, access: 'rw', doc: 'MAC bytes 4-5' },
      ASEL: { bit: 16, width: 2, access: 'rw', doc: 'address select: 0 = destination address' },
      AV: { bit: 31, access: 'rw', doc: 'address valid' },
    },
  } as const),
  ...regArray('VFTA', 0x05600, 128, 4, rw('VLAN filter table (stored only)')),
  WUC: { offset: 0x05800, ...rw('wake-up control (stored only)') },
  WUFC: { offset: 0x05808, ...rw('wake-up filter control (stored only)') },
  MANC: { offset: 0x05820, ...rw('management control (stored only)') },
}, { size: E1000_PCI.MMIO_SIZE });

/** The map's spec type, for `RegisterFile<E1000Specs>`. */
export type E1000Specs = SpecsOf<typeof E1000_REGS>;

/** Offsets of the register arrays' entries. */
export const RAL = (n: number): number => 0x05400 + 8 * n;
export const RAH = (n: number): number => 0x05404 + 8 * n;
export const MTA = (n: number): number => 0x05200 + 4 * n;
/** Receive-address pairs and multicast-table words. */
export const NUM_RA = 16;
export const NUM_MTA = 128;

/** Interrupt-cause bits (same in ICR/ICS/IMS/IMC). */
export const ICR = E1000_REGS.bits.ICR;
/** What Linux enables (`IMS_ENABLE_MASK`). */
export const IMS_ENABLE_MASK = ICR.RXT0 | ICR.TXDW | ICR.RXDMT0 | ICR.RXSEQ | ICR.LSC;

/** MDIC operations (in place). */
export const MDIC_OP_WRITE = 0x04000000;
export const MDIC_OP_READ = 0x08000000;
/** The only PHY address that answers. */
export const PHY_ADDR = 1;
/** PHY registers (IEEE 802.3 clause 22 + Marvell M88E1011 specific status). */
export const PHY_REG = Object.freeze({ BMCR: 0, BMSR: 1, ID1: 2, ID2: 3, ANAR: 4, ANLPAR: 5, GTCR: 9, GTSR: 10, PSSR: 0x11 });
export const PHY_BMSR_LINK = 0x0004;
export const PHY_BMSR_ANC = 0x0020;

/** EEPROM: 64 words, MAC in words 0-2 (little endian), words 0..0x3f sum to 0xBABA. */
export const EEPROM = Object.freeze({ WORDS: 64, CHECKSUM_WORD: 0x3f, CHECKSUM_SUM: 0xbaba });

/** CTRL.SPD_SEL / STATUS.SPEED encodings. */
export const SPEED = Object.freeze({ S10: 0, S100: 1, S1000: 2 });

// ---- legacy descriptors (16 bytes, little endian) -------------------------------------

export const DESC_SIZE = 16;
/** RDLEN/TDLEN granularity in bytes (8 descriptors). */
export const RING_ALIGN = 128;

/** Byte offsets inside a legacy RX descriptor (`struct e1000_rx_desc`). */
export const RX_DESC = Object.freeze({ ADDR: 0, LENGTH: 8, CSUM: 10, STATUS: 12, ERRORS: 13, SPECIAL: 14 });
/** RX descriptor status byte. */
export const RXD_STAT = Object.freeze({ DD: 0x01, EOP: 0x02, IXSM: 0x04, VP: 0x08, UDPCS: 0x10, TCPCS: 0x20, IPCS: 0x40, PIF: 0x80 });
/** RX descriptor errors byte. */
export const RXD_ERR = Object.freeze({ CE: 0x01, SE: 0x02, SEQ: 0x04, CXE: 0x10, TCPE: 0x20, IPE: 0x40, RXE: 0x80 });

/** Byte offsets inside a legacy TX descriptor (`struct e1000_tx_desc`). */
export const TX_DESC = Object.freeze({ ADDR: 0, LENGTH: 8, CSO: 10, CMD: 11, STATUS: 12, CSS: 13, SPECIAL: 14 });
/** TX descriptor command byte. */
export const TXD_CMD = Object.freeze({ EOP: 0x01, IFCS: 0x02, IC: 0x04, RS: 0x08, RPS: 0x10, DEXT: 0x20, VLE: 0x40, IDE: 0x80 });
/** TX descriptor status byte. */
export const TXD_STAT = Object.freeze({ DD: 0x01, EC: 0x02, LC: 0x04, TU: 0x08 });

/** Ethernet sizes: minimum frame without FCS, FCS, preamble + IFG on the wire, max without LPE. */
export const ETH = Object.freeze({ MIN_FRAME: 60, FCS: 4, WIRE_OVERHEAD: 20, MAX_FRAME_FCS: 1522, MAX_LONG_FRAME_FCS: 16384, ADDR_LEN: 6 });

/** RX buffer size in bytes selected by RCTL.BSIZE/BSEX (BSEX with BSIZE 0 is reserved: 2048). */
export function rxBufferSize(rctl: number): number {
  const bsize = (rctl >>> 16) & 3;
  const bsex = (rctl & E1000_REGS.bits.RCTL.BSEX) !== 0;
  if (bsize === 0) return 2048;
  return (2048 >>> bsize) * (bsex ? 16 : 1);
}

/** RCTL.BSIZE/BSEX bits for a buffer size (256 ... 16384). */
export function rctlBufferBits(size: number): number {
  const table: Record<number, number> = { 2048: 0, 1024: 1 << 16, 512: 2 << 16, 256: 3 << 16, 16384: (1 << 16) | (1 << 25), 8192: (2 << 16) | (1 << 25), 4096: (3 << 16) | (1 << 25) };
  const bits = table[size];
  if (bits === undefined) throw new RangeError(`e1000: no RCTL buffer size ${size}`);
  return bits;
}

/** "52:54:00:12:34:56" → 6 bytes. Throws on a malformed address (a configuration error). */
export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new RangeError(`not a MAC address: '${mac}'`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array, offset = 0): string {
  return Array.from(b.subarray(offset, offset + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** RAL/RAH values for a MAC (RAH with AV set). */
export function macToRa(mac: Uint8Array | string): { ral: number; rah: number } {
  const m = typeof mac === 'string' ? parseMac(mac) : mac;
  const ral = (m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24)) >>> 0;
  const rah = (m[4]! | (m[5]! << 8) | E1000_REGS.bits.RAH0.AV) >>> 0;
  return { ral, rah };
}

/** MTA hash of a destination address for RCTL.MO: register index (0-127) and bit (0-31). */
export function mtaHash(mac: Uint8Array | string, mo = 0): { reg: number; bit: number } {
  const m = typeof mac === 'string' ? parseMac(mac) : mac;
  const shift = [4, 3, 2, 0][mo & 3]!;
  const h = (((m[5]! << 8) | m[4]!) >>> shift) & 0xfff;
  return { reg: h >>> 5, bit: h & 31 };
}

/** Fields of a legacy TX descriptor. */
export interface TxDescFields { addr: number; length: number; cmd: number; cso?: number; css?: number; status?: number; special?: number }

/** Writes a legacy TX descriptor at `off` in `mem` (the driver side; DMA memory as bytes). */
export function writeTxDesc(mem: Uint8Array, off: number, d: TxDescFields): void {
  const v = new DataView(mem.buffer, mem.byteOffset + off, DESC_SIZE);
  v.setBigUint64(TX_DESC.ADDR, BigInt(d.addr), true);
  v.setUint16(TX_DESC.LENGTH, d.length, true);
  v.setUint8(TX_DESC.CSO, d.cso ?? 0);
  v.setUint8(TX_DESC.CMD, d.cmd);
  v.setUint8(TX_DESC.STATUS, d.status ?? 0);
  v.setUint8(TX_DESC.CSS, d.css ?? 0);
  v.setUint16(TX_DESC.SPECIAL, d.special ?? 0, true);
}

/** Writes a legacy RX descriptor owning buffer `addr` (status and length cleared). */
export function writeRxDesc(mem: Uint8Array, off: number, addr: number): void {
  const v = new DataView(mem.buffer, mem.byteOffset + off, DESC_SIZE);
  v.setBigUint64(RX_DESC.ADDR, BigInt(addr), true);
  v.setBigUint64(RX_DESC.LENGTH, 0n, true);
}

/** Fields of a legacy RX descriptor as hardware wrote them back. */
export interface RxDescFields { addr: number; length: number; csum: number; status: number; errors: number; special: number }

export function readRxDesc(mem: Uint8Array, off: number): RxDescFields {
  const v = new DataView(mem.buffer, mem.byteOffset + off, DESC_SIZE);
  return {
    addr: Number(v.getBigUint64(RX_DESC.ADDR, true)),
    length: v.getUint16(RX_DESC.LENGTH, true),
    csum: v.getUint16(RX_DESC.CSUM, true),
    status: v.getUint8(RX_DESC.STATUS),
    errors: v.getUint8(RX_DESC.ERRORS),
    special: v.getUint16(RX_DESC.SPECIAL, true),
  };
}
