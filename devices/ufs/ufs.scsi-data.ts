/**
 * @module devices/ufs/ufs.scsi-data
 * The parameter data a UFS logical unit returns (T10 SPC-4 / SBC-3 layouts, as summarised in
 * hardware-models.md §1.7): fixed-format sense, standard INQUIRY and VPD pages, MODE SENSE
 * pages, READ CAPACITY, REPORT LUNS. Pure functions returning fresh byte arrays; the command
 * dispatch that uses them is ufs.scsi.ts.
 */
import { SENSE_KEY } from './ufs.regs.js';

/** Peripheral device types. */
export const PDT = Object.freeze({ DISK: 0x00, WELL_KNOWN_LU: 0x1e, NOT_CONNECTED: 0x7f });

/** Identity strings of the device, ASCII, space padded by the builders. */
export interface ScsiIdentity {
  readonly vendor: string;
  readonly product: string;
  readonly revision: string;
  readonly serial: string;
}

/** 18-byte fixed-format sense data (response code 0x70: current error). */
export function fixedSense(key: number, asc: readonly [number, number]): Uint8Array {
  const s = new Uint8Array(18);
  s[0] = 0x70;
  s[2] = key & 0x0f;
  s[7] = 10; // additional sense length
  s[12] = asc[0];
  s[13] = asc[1];
  return s;
}

export const NO_SENSE = (): Uint8Array => fixedSense(SENSE_KEY.NO_SENSE, [0, 0]);

function ascii(dst: Uint8Array, at: number, len: number, s: string): void {
  for (let i = 0; i < len; i++) dst[at + i] = i < s.length ? s.charCodeAt(i) & 0x7f : 0x20;
}

/** Standard INQUIRY data, 36 bytes. `pdt` 0x7f reports "no logical unit" (PQ 011b). */
export function standardInquiry(pdt: number, id: ScsiIdentity): Uint8Array {
  const d = new Uint8Array(36);
  d[0] = pdt;
  d[2] = 0x06; // SPC-4
  d[3] = 0x02; // response data format 2
  d[4] = 36 - 5; // additional length
  d[7] = 0x02; // CMDQUE: tagged command queuing
  ascii(d, 8, 8, id.vendor);
  ascii(d, 16, 16, id.product);
  ascii(d, 32, 4, id.revision);
  return d;
}

export interface BlockLimits {
  /** Blocks per READ/WRITE the device prefers not to exceed. */
  readonly maxTransferBlocks: number;
  readonly maxUnmapDescriptors: number;
}

/** Supported VPD pages of a disk LU; well-known LUs support 0x00, 0x80 and 0x87 only. */
export const DISK_VPD_PAGES = [0x00, 0x80, 0x87, 0xb0, 0xb1, 0xb2] as const;
export const WLUN_VPD_PAGES = [0x00, 0x80, 0x87] as const;

/** A VPD page, or undefined when `page` is not in `pages`. */
export function vpdPage(page: number, pdt: number, pages: readonly number[], id: ScsiIdentity, limits: BlockLimits): Uint8Array | undefined {
  if (!pages.includes(page)) return undefined;
  const body = vpdBody(page, pages, id, limits);
  const d = new Uint8Array(4 + body.length);
  d[0] = pdt;
  d[1] = page;
  d[2] = body.length >> 8;
  d[3] = body.length & 0xff;
  d.set(body, 4);
  return d;
}

function vpdBody(page: number, pages: readonly number[], id: ScsiIdentity, limits: BlockLimits): Uint8Array {
  switch (page) {
    case 0x00: return Uint8Array.from(pages);
    case 0x80: { // unit serial number
      const b = new Uint8Array(id.serial.length);
      ascii(b, 0, b.length, id.serial);
      return b;
    }
    case 0x87: return Uint8Array.from([0x3f, 0xff, 0x00, 0x00]); // mode page policy: all pages shared
    case 0xb0: { // block limits (page length 0x3c)
      const b = new Uint8Array(0x3c);
      const v = new DataView(b.buffer);
      v.setUint16(2, 1); // optimal transfer length granularity
      v.setUint32(4, limits.maxTransferBlocks);
      v.setUint32(8, limits.maxTransferBlocks); // optimal transfer length
      v.setUint32(16, 0xffffffff); // maximum unmap LBA count
      v.setUint32(20, limits.maxUnmapDescriptors);
      v.setUint32(24, 1); // optimal unmap granularity
      return b;
    }
    case 0xb1: { // block device characteristics: non-rotating medium
      const b = new Uint8Array(0x3c);
      b[1] = 0x01;
      return b;
    }
    case 0xb2: // logical block provisioning: LBPU (UNMAP), LBPRZ = 1, thin provisioned
      return Uint8Array.from([0x00, 0x80 | (1 << 2), 0x02, 0x00]);
    default: return new Uint8Array(0);
  }
}

/** Mode page control (MODE SENSE byte 2, bits 7:6). */
export const MODE_PC = Object.freeze({ CURRENT: 0, CHANGEABLE: 1, DEFAULT: 2, SAVED: 3 });
export const MODE_PAGE = Object.freeze({ CACHING: 0x08, CONTROL: 0x0a, ALL: 0x3f });

/**
 * The requested mode pages (caching: WCE = 1, a volatile write cache that SYNCHRONIZE CACHE
 * flushes; control: unrestricted reordering), or undefined for an unsupported page. Nothing is
 * changeable, so PC = CHANGEABLE returns the pages with every parameter bit 0.
 */
export function modePages(page: number, pc: number): Uint8Array | undefined {
  const caching = new Uint8Array(20);
  caching[0] = MODE_PAGE.CACHING;
  caching[1] = 0x12;
  if (pc !== MODE_PC.CHANGEABLE) caching[2] = 0x04; // WCE
  const control = new Uint8Array(12);
  control[0] = MODE_PAGE.CONTROL;
  control[1] = 0x0a;
  if (pc !== MODE_PC.CHANGEABLE) control[3] = 0x10; // queue algorithm modifier: unrestricted
  if (page === MODE_PAGE.CACHING) return caching;
  if (page === MODE_PAGE.CONTROL) return control;
  if (page === MODE_PAGE.ALL) return concat([caching, control]);
  return undefined;
}

/** MODE SENSE parameter header + pages. DPOFUA is set: the LU honours FUA. */
export function modeSenseData(ten: boolean, pages: Uint8Array, writeProtected: boolean): Uint8Array {
  const hdr = ten ? 8 : 4;
  const d = new Uint8Array(hdr + pages.length);
  const devSpecific = 0x10 | (writeProtected ? 0x80 : 0);
  if (ten) {
    new DataView(d.buffer).setUint16(0, d.length - 2);
    d[3] = devSpecific;
  } else {
    d[0] = d.length - 1;
    d[2] = devSpecific;
  }
  d.set(pages, hdr);
  return d;
}

/** READ CAPACITY(10): last LBA (clipped to 0xffffffff) and block length. */
export function readCapacity10(blocks: bigint, blockSize: number): Uint8Array {
  const d = new Uint8Array(8);
  const v = new DataView(d.buffer);
  const last = blocks - 1n;
  v.setUint32(0, last > 0xffffffffn ? 0xffffffff : Number(last));
  v.setUint32(4, blockSize);
  return d;
}

/** READ CAPACITY(16): last LBA, block length, LBPME (thin provisioning) and LBPRZ (unmapped reads 0). */
export function readCapacity16(blocks: bigint, blockSize: number): Uint8Array {
  const d = new Uint8Array(32);
  const v = new DataView(d.buffer);
  v.setBigUint64(0, blocks - 1n);
  v.setUint32(8, blockSize);
  d[14] = 0x80 | 0x40;
  return d;
}

/**
 * REPORT LUNS parameter data. Ordinary LUs use single-level peripheral addressing (LUN in byte
 * 1); well-known LUs use the W-LUN format C1h + (UPIU LUN & 0x7f), e.g. UFS DEVICE 0xd0 → C1 50.
 */
export function reportLuns(luns: readonly number[], wluns: readonly number[]): Uint8Array {
  const entries = luns.length + wluns.length;
  const d = new Uint8Array(8 + 8 * entries);
  new DataView(d.buffer).setUint32(0, 8 * entries);
  let at = 8;
  for (const l of luns) {
    d[at + 1] = l & 0xff;
    at += 8;
  }
  for (const w of wluns) {
    d[at] = 0xc1;
    d[at + 1] = w & 0x7f;
    at += 8;
  }
  return d;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
