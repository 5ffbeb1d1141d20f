/**
 * @module devices/ufs/ufs.descriptors
 * The UFS device's descriptors (JESD220 §14.1, UFS 3.1 sizes: device 89 B, configuration
 * 22 + 8 × 27 B, unit 45 B, geometry 87 B, interconnect 6 B, power 98 B, health 45 B), built
 * from the device configuration. Multi-byte fields are big-endian. Fields not listed here are 0
 * (features the model does not have: WriteBooster, HPB, boot LUs, RPMB regions, ...).
 */
import { DESC_IDN } from './ufs.regs.js';

export interface DescriptorLu {
  readonly lun: number;
  readonly blockSize: number;
  readonly blocks: bigint;
}

export interface DeviceIdentity {
  readonly manufacturer: string;
  readonly product: string;
  readonly serial: string;
  readonly oemId: string;
  readonly revision: string;
}

export interface DescriptorConfig {
  readonly lus: readonly DescriptorLu[];
  readonly queueDepth: number;
  readonly identity: DeviceIdentity;
}

/** UFS 3.1 (wSpecVersion BCD). */
export const UFS_SPEC_VERSION = 0x0310;
/** Allocation unit: dSegmentSize (512-byte units) × bAllocationUnitSize = 4 MiB. */
const SEGMENT_SIZE_512 = 0x2000;
const UNIT_CONFIG_OFFSET = 0x16, UNIT_CONFIG_LEN = 27;
/** String descriptor indexes used in the device descriptor. */
export const STRING_INDEX = Object.freeze({ MANUFACTURER: 1, PRODUCT: 2, SERIAL: 3, OEM_ID: 4, REVISION: 5 });

function desc(length: number, idn: number): { d: Uint8Array; v: DataView } {
  const d = new Uint8Array(length);
  d[0] = length;
  d[1] = idn;
  return { d, v: new DataView(d.buffer) };
}

/** bMaxNumberLU: 0 = 8 LUs, 1 = 32. */
export const maxLus = (cfg: DescriptorConfig): number => (cfg.lus.some((l) => l.lun >= 8) || cfg.lus.length > 8 ? 32 : 8);

export function deviceDescriptor(cfg: DescriptorConfig): Uint8Array {
  const { d, v } = desc(0x59, DESC_IDN.DEVICE);
  d[0x06] = cfg.lus.length; // bNumberLU
  d[0x07] = 4; // bNumberWLU: REPORT LUNS, UFS DEVICE, BOOT, RPMB
  d[0x0a] = 1; // bInitPowerMode: active
  d[0x0b] = 0x7f; // bHighPriorityLUN: all LUs same priority
  d[0x0d] = 1; // bSecurityLU: RPMB
  v.setUint16(0x10, UFS_SPEC_VERSION);
  d[0x14] = STRING_INDEX.MANUFACTURER;
  d[0x15] = STRING_INDEX.PRODUCT;
  d[0x16] = STRING_INDEX.SERIAL;
  d[0x17] = STRING_INDEX.OEM_ID;
  v.setUint16(0x18, 0x0000); // wManufacturerID: none (matches no vendor quirk table)
  d[0x1a] = UNIT_CONFIG_OFFSET; // bUD0BaseOffset
  d[0x1b] = UNIT_CONFIG_LEN; // bUDConfigPLength
  d[0x1c] = 2; // bDeviceRTTCap
  d[0x21] = cfg.queueDepth; // bQueueDepth
  v.setUint16(0x22, 0x0001); // wDeviceVersion
  d[0x2a] = STRING_INDEX.REVISION; // iProductRevisionLevel
  return d;
}

export function configurationDescriptor(cfg: DescriptorConfig): Uint8Array {
  const { d, v } = desc(UNIT_CONFIG_OFFSET + 8 * UNIT_CONFIG_LEN, DESC_IDN.CONFIGURATION);
  d[0x05] = 1; // bInitPowerMode
  d[0x06] = 0x7f; // bHighPriorityLUN
  for (const lu of cfg.lus) {
    if (lu.lun >= 8) continue; // configuration descriptor 0 covers LUs 0..7
    const at = UNIT_CONFIG_OFFSET + lu.lun * UNIT_CONFIG_LEN;
    d[at] = 1; // bLUEnable
    v.setUint32(at + 4, allocUnits(lu)); // dNumAllocUnits
    d[at + 9] = Math.log2(lu.blockSize); // bLogicalBlockSize
    d[at + 10] = 0x03; // bProvisioningType: thin, TPRZ
  }
  return d;
}

const allocUnits = (lu: DescriptorLu): number => Number((lu.blocks * BigInt(lu.blockSize) + BigInt(SEGMENT_SIZE_512 * 512 - 1)) / BigInt(SEGMENT_SIZE_512 * 512));

/** Unit descriptor of LUN `index`: bLUEnable 0 for an index with no LU. */
export function unitDescriptor(cfg: DescriptorConfig, index: number): Uint8Array {
  const { d, v } = desc(0x2d, DESC_IDN.UNIT);
  d[0x02] = index;
  const lu = cfg.lus.find((l) => l.lun === index);
  if (lu === undefined) return d;
  d[0x03] = 1; // bLUEnable
  d[0x06] = 0; // bLUQueueDepth: 0 = shared device queue (bQueueDepth)
  d[0x0a] = Math.log2(lu.blockSize); // bLogicalBlockSize
  v.setBigUint64(0x0b, lu.blocks); // qLogicalBlockCount
  v.setUint32(0x13, SEGMENT_SIZE_512 * 512 / lu.blockSize); // dEraseBlockSize, in blocks
  d[0x17] = 0x03; // bProvisioningType: thin provisioning, TPRZ = 1
  v.setBigUint64(0x18, lu.blocks); // qPhyMemResourceCount
  return d;
}

export function geometryDescriptor(cfg: DescriptorConfig): Uint8Array {
  const { d, v } = desc(0x57, DESC_IDN.GEOMETRY);
  const bytes = cfg.lus.reduce((n, l) => n + l.blocks * BigInt(l.blockSize), 0n);
  v.setBigUint64(0x04, (bytes + 511n) / 512n); // qTotalRawDeviceCapacity, 512-byte units
  d[0x0c] = maxLus(cfg) === 32 ? 1 : 0; // bMaxNumberLU
  v.setUint32(0x0d, SEGMENT_SIZE_512); // dSegmentSize
  d[0x11] = 1; // bAllocationUnitSize
  d[0x12] = 8; // bMinAddrBlockSize: 4 KiB in 512-byte units
  d[0x13] = 8; // bOptimalReadBlockSize
  d[0x14] = 8; // bOptimalWriteBlockSize
  d[0x15] = 8; // bMaxInBufferSize
  d[0x16] = 8; // bMaxOutBufferSize
  d[0x17] = 1; // bRPMB_ReadWriteSize
  v.setUint16(0x1e, 0x0001); // wSupportedMemoryTypes: normal memory
  return d;
}

export function interconnectDescriptor(): Uint8Array {
  const { d, v } = desc(6, DESC_IDN.INTERCONNECT);
  v.setUint16(2, 0x0180); // bcdUniproVersion 1.8
  v.setUint16(4, 0x0410); // bcdMphyVersion 4.1
  return d;
}

/** Power parameters: active ICC levels 0..15 as mA values (unit bits 15:14 = 2). */
export function powerDescriptor(): Uint8Array {
  const { d, v } = desc(0x62, DESC_IDN.POWER);
  for (let i = 0; i < 16; i++) {
    const level = (2 << 14) | (50 + 25 * i);
    v.setUint16(2 + 2 * i, level); // VCC
    v.setUint16(34 + 2 * i, level); // VCCQ
    v.setUint16(66 + 2 * i, level); // VCCQ2
  }
  return d;
}

export function healthDescriptor(): Uint8Array {
  const { d } = desc(0x2d, DESC_IDN.HEALTH);
  d[2] = 0x01; // bPreEOLInfo: normal
  d[3] = 0x01; // bDeviceLifeTimeEstA: 0-10 % used
  d[4] = 0x01; // bDeviceLifeTimeEstB
  return d;
}

/** String descriptor: UTF-16BE, bLength = 2 + 2 × characters (at most 126). */
export function stringDescriptor(s: string): Uint8Array {
  const chars = [...s].slice(0, 126);
  const { d, v } = desc(2 + 2 * chars.length, DESC_IDN.STRING);
  chars.forEach((c, i) => v.setUint16(2 + 2 * i, c.charCodeAt(0)));
  return d;
}

/** The string behind a string-descriptor index, if any. */
export function stringFor(id: DeviceIdentity, index: number): string | undefined {
  switch (index) {
    case STRING_INDEX.MANUFACTURER: return id.manufacturer;
    case STRING_INDEX.PRODUCT: return id.product;
    case STRING_INDEX.SERIAL: return id.serial;
    case STRING_INDEX.OEM_ID: return id.oemId;
    case STRING_INDEX.REVISION: return id.revision;
    default: return undefined;
  }
}
