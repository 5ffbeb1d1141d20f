/**
 * @module nic/e1000.phy
 * The 82540EM's side bands: the EEPROM behind EERD and the copper PHY (a Marvell M88E1011-like
 * register set at MDIO address 1) behind MDIC. Both answer at once, as in QEMU. The PHY is a
 * register file whose status words follow the link: BMSR link + autonegotiation complete, the
 * 1000BASE-T status and the Marvell specific status (1000 Mb/s, full duplex, resolved, link).
 * Writes to BMCR take effect as storage only: reset and restart-autonegotiation self-clear at
 * once and do not bounce the link (deviation: no 500 ms autonegotiation timer).
 *
 * @example
 * const sb = new E1000Sideband(parseMac('52:54:00:12:34:56'));
 * sb.eepromWord(0);                 // 0x5452: MAC bytes 0-1
 * sb.phyRead(PHY_REG.BMSR);         // link and AN-complete bits follow sb.link
 */
import { E1000_PCI, EEPROM, PHY_BMSR_ANC, PHY_BMSR_LINK, PHY_REG } from './e1000.regs.js';

/** BMSR capabilities: 100BASE-TX/10BASE-T full/half, extended status, preamble suppression, AN ability, extended capability. */
const BMSR_BASE = 0x7949;
/** PSSR with link: 1000 Mb/s, full duplex, speed/duplex resolved, link up. */
const PSSR_LINK = 0xac00;
const PHY_ID1 = 0x0141, PHY_ID2 = 0x0c20;

export class E1000Sideband {
  /** Carrier as the PHY sees it. */
  link = false;
  private readonly eeprom = new Uint16Array(EEPROM.WORDS);
  private phy = new Map<number, number>();

  constructor(mac: Uint8Array) {
    for (let i = 0; i < 3; i++) this.eeprom[i] = mac[2 * i]! | (mac[2 * i + 1]! << 8);
    this.eeprom[0x0b] = E1000_PCI.DEVICE_ID; // subsystem ID
    this.eeprom[0x0c] = E1000_PCI.VENDOR_ID; // subsystem vendor
    this.eeprom[0x0d] = E1000_PCI.DEVICE_ID;
    this.eeprom[0x0e] = E1000_PCI.VENDOR_ID;
    let sum = 0;
    for (let i = 0; i < EEPROM.CHECKSUM_WORD; i++) sum += this.eeprom[i]!;
    this.eeprom[EEPROM.CHECKSUM_WORD] = (EEPROM.CHECKSUM_SUM - sum) & 0xffff;
    this.reset();
  }

  /** PHY registers back to their power-on values. */
  reset(): void {
    this.phy = new Map([
      [PHY_REG.BMCR, 0x1140], // autonegotiation enable, full duplex, 1000 Mb/s
      [PHY_REG.ANAR, 0x01e1],
      [PHY_REG.GTCR, 0x0300],
    ]);
  }

  /** An EEPROM word, or undefined past the end. */
  eepromWord(addr: number): number | undefined {
    return addr < EEPROM.WORDS ? this.eeprom[addr] : undefined;
  }

  /** A PHY register, or undefined for registers this PHY does not have. */
  phyRead(reg: number): number | undefined {
    const up = this.link;
    switch (reg) {
      case PHY_REG.BMSR: return BMSR_BASE | (up ? PHY_BMSR_LINK | PHY_BMSR_ANC : 0);
      case PHY_REG.ID1: return PHY_ID1;
      case PHY_REG.ID2: return PHY_ID2;
      case PHY_REG.ANLPAR: return up ? 0x41e1 : 0; // partner: same abilities + acknowledge
      case PHY_REG.GTSR: return up ? 0x3c00 : 0; // partner 1000BASE-T FD/HD, local/remote receiver OK
      case PHY_REG.PSSR: return up ? PSSR_LINK : 0;
      default: return this.phy.get(reg);
    }
  }

  /** Writes a PHY register; false for a register that is read-only or absent. */
  phyWrite(reg: number, value: number): boolean {
    if (reg === PHY_REG.BMCR) {
      this.phy.set(reg, value & ~0x8200 & 0xffff); // reset (15) and restart AN (9) self-clear
      if (value & 0x8000) this.reset();
      return true;
    }
    if (!this.phy.has(reg)) return false;
    this.phy.set(reg, value & 0xffff);
    return true;
  }
}
