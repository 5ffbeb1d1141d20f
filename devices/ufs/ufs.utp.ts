/**
 * @module devices/ufs/ufs.utp
 * The host-memory side of UTP transfer requests (UFSHCI §6, hardware-models.md §1.3–1.4,
 * §1.6): decoding a UTRD, fetching the command UPIU and the PRDT through the controller's
 * DmaSpace, the PRDT as a scatter-gather DataPort, and writing the response UPIU and the OCS.
 *
 * Everything honours the offsets the driver programmed (UCDBA, RUO/RUL, PRDTO/PRDTL), never
 * Linux's layout. A DMA fault never throws: it becomes an OCS (INVALID_CMD_TABLE_ATTR for the
 * command table, INVALID_PRDT_ATTR for the PRDT and data buffers) plus a system bus error
 * (IS.SBFES), and nothing outside the request is touched.
 *
 * Strict checks (real hardware requires these; lenient mode logs and carries on): UTRD.CT = 1,
 * UCDBA 128-byte aligned, PRDT entries with DBA dword aligned and DBC bits 1:0 = 11b, command,
 * response and PRDT areas not overlapping.
 */
import { byteView, u32le } from '../core/bytes.js';
import type { DmaSpace } from '../core/dma.js';
import { OCS, PRDT, UPIU, UTP_CMD_TYPE_UFS_STORAGE, UTP_DD, UTRD } from './ufs.regs.js';
import type { DataPort, PortResult } from './ufs.scsi.js';

/** A decoded UTRD. Addresses are numbers: above 2^53 they are unreachable anyway (decode error). */
export interface Utrd {
  readonly addr: number;
  readonly ct: number;
  /** UTP_DD value (shifted). */
  readonly dd: number;
  readonly intr: boolean;
  readonly ucdba: number;
  /** Response UPIU offset and length, bytes (RUO/RUL are in dwords). */
  readonly ruo: number;
  readonly rul: number;
  /** PRDT offset, bytes, and number of entries. */
  readonly prdto: number;
  readonly prdtl: number;
}

export const addr64 = (lo: number, hi: number): number => hi * 0x1_0000_0000 + (lo >>> 0);

/** Scratch for descriptor reads: one per process, used synchronously (no allocation per IO). */
const utrdScratch = new Uint8Array(UTRD.SIZE);

/** Reads the UTRD at `addr`, or undefined on a DMA fault. */
export function readUtrd(dma: DmaSpace, addr: number): Utrd | undefined {
  if (dma.readInto(addr, utrdScratch) !== 'ok') return undefined;
  const b = utrdScratch;
  const dw0 = u32le(b, UTRD.DW0), dw6 = u32le(b, UTRD.DW6), dw7 = u32le(b, UTRD.DW7);
  return {
    addr,
    ct: (dw0 & UTRD.CT_MASK) >>> UTRD.CT_SHIFT,
    dd: dw0 & UTRD.DD_MASK,
    intr: (dw0 & UTRD.I) !== 0,
    ucdba: addr64(u32le(b, UTRD.UCDBA), u32le(b, UTRD.UCDBAU)),
    ruo: (dw6 >>> 16) * 4,
    rul: (dw6 & 0xffff) * 4,
    prdto: (dw7 >>> 16) * 4,
    prdtl: dw7 & 0xffff,
  };
}

export interface Segment {
  readonly addr: number;
  readonly len: number;
}

export interface FetchedCommand {
  readonly utrd: Utrd;
  /** The request UPIU: 32 bytes plus its data segment. */
  readonly request: Uint8Array;
  readonly prdt: readonly Segment[];
}

export interface FetchFailure {
  readonly ocs: number;
  /** A DMA access failed: the controller raises IS.SBFES. */
  readonly busError: boolean;
  readonly why: string;
}

const fail = (ocs: number, busError: boolean, why: string): FetchFailure => ({ ocs, busError, why });
const overlaps = (a: number, al: number, b: number, bl: number): boolean => al > 0 && bl > 0 && a < b + bl && b < a + al;

/** Fetches the command UPIU and the PRDT a UTRD points at, checking what the controller checks. */
export function fetchCommand(dma: DmaSpace, utrd: Utrd, strict: boolean, log: (m: string) => void): FetchedCommand | FetchFailure {
  const lenient = (why: string, ocs: number): FetchFailure | undefined => {
    if (strict) return fail(ocs, false, why);
    log(`${why} (accepted: not strict)`);
    return undefined;
  };
  const dd = utrd.dd;
  const bad = (utrd.ct !== UTP_CMD_TYPE_UFS_STORAGE ? lenient(`UTRD command type ${utrd.ct} is not 1 (UFS storage)`, OCS.INVALID_CMD_TABLE_ATTR) : undefined)
    ?? (utrd.ucdba % UTRD.UCD_ALIGN !== 0 ? lenient(`UCDBA 0x${utrd.ucdba.toString(16)} is not 128-byte aligned`, OCS.INVALID_CMD_TABLE_ATTR) : undefined)
    ?? (dd !== UTP_DD.NONE && dd !== UTP_DD.HOST_TO_DEVICE && dd !== UTP_DD.DEVICE_TO_HOST ? fail(OCS.INVALID_CMD_TABLE_ATTR, false, 'UTRD data direction 3 is reserved') : undefined);
  if (bad !== undefined) return bad;

  const head = dma.read(utrd.ucdba, UPIU.BASE_SIZE);
  if (!head.ok) return fail(OCS.INVALID_CMD_TABLE_ATTR, true, `command UPIU at 0x${utrd.ucdba.toString(16)} unreachable (${head.fault.kind})`);
  const dsl = byteView(head.data).getUint16(UPIU.DSL);
  let request = head.data;
  if (dsl > 0) {
    const full = dma.read(utrd.ucdba, UPIU.BASE_SIZE + dsl);
    if (!full.ok) return fail(OCS.INVALID_CMD_TABLE_ATTR, true, `command UPIU data segment unreachable (${full.fault.kind})`);
    request = full.data;
  }
  const prdtBytes = utrd.prdtl * PRDT.SIZE;
  if (overlaps(0, request.length, utrd.ruo, utrd.rul) || overlaps(utrd.prdto, prdtBytes, utrd.ruo, utrd.rul) || overlaps(0, request.length, utrd.prdto, prdtBytes)) {
    const f = lenient('command UPIU, response UPIU and PRDT areas overlap', OCS.INVALID_CMD_TABLE_ATTR);
    if (f !== undefined) return f;
  }
  const prdt = readPrdt(dma, utrd.ucdba + utrd.prdto, utrd.prdtl, strict, log);
  return 'ocs' in prdt ? prdt : { utrd, request, prdt: prdt.segments };
}

let prdtScratch = new Uint8Array(PRDT.SIZE * 64);

function readPrdt(dma: DmaSpace, at: number, count: number, strict: boolean, log: (m: string) => void): { segments: Segment[] } | FetchFailure {
  if (count === 0) return { segments: [] };
  const bytes = count * PRDT.SIZE;
  if (prdtScratch.length < bytes) prdtScratch = new Uint8Array(Math.max(bytes, prdtScratch.length * 2));
  const b = prdtScratch.length === bytes ? prdtScratch : prdtScratch.subarray(0, bytes);
  if (dma.readInto(at, b) !== 'ok') return fail(OCS.INVALID_PRDT_ATTR, true, `PRDT at 0x${at.toString(16)} unreachable (${dma.lastFault?.kind ?? 'fault'})`);
  const segments: Segment[] = [];
  for (let i = 0; i < count; i++) {
    const e = i * PRDT.SIZE;
    const addr = addr64(u32le(b, e + PRDT.DBA), u32le(b, e + PRDT.DBAU));
    const dbc = u32le(b, e + PRDT.DBC);
    const problem = (addr & 3) !== 0 ? `DBA 0x${addr.toString(16)} is not dword aligned`
      : (dbc & 3) !== 3 ? `DBC 0x${dbc.toString(16)} is not a dword count - 1 (bits 1:0 must be 11b)`
        : (dbc & ~PRDT.DBC_MASK) !== 0 ? `DBC 0x${dbc.toString(16)} exceeds 256 KiB` : undefined;
    if (problem !== undefined) {
      if (strict) return fail(OCS.INVALID_PRDT_ATTR, false, `PRDT entry ${i}: ${problem}`);
      log(`PRDT entry ${i}: ${problem} (accepted: not strict)`);
    }
    segments.push({ addr, len: (dbc & PRDT.DBC_MASK) + 1 });
  }
  return { segments };
}

/**
 * The PRDT as a byte stream. Only the direction UTRD.DD names has a buffer: the other
 * direction has capacity 0, so a device that moves data the driver did not describe gets a
 * 'mismatch' (OCS MISMATCH_DATA_BUF_SIZE) and memory stays untouched.
 */
export class PrdtPort implements DataPort {
  private readonly capacity: number;
  /** Set once a DMA access failed. */
  faulted = false;

  constructor(private readonly dma: DmaSpace, private readonly segments: readonly Segment[], private readonly dd: number) {
    this.capacity = segments.reduce((n, s) => n + s.len, 0);
  }

  toHost(pos: number, src: Uint8Array): PortResult {
    return this.each('to-host', pos, src.length, (view, at) => view.set(src.subarray(at - pos, at - pos + view.length)));
  }

  fromHost(pos: number, dst: Uint8Array): PortResult {
    return this.each('from-host', pos, dst.length, (view, at) => dst.set(view, at - pos));
  }

  each(dir: 'to-host' | 'from-host', pos: number, len: number, fn: (view: Uint8Array, at: number) => void): PortResult {
    if (len === 0) return 'ok';
    const allowed = dir === 'to-host' ? UTP_DD.DEVICE_TO_HOST : UTP_DD.HOST_TO_DEVICE;
    if (this.dd !== allowed || pos + len > this.capacity) return 'mismatch';
    let segStart = 0;
    for (const s of this.segments) {
      const from = Math.max(pos, segStart), to = Math.min(pos + len, segStart + s.len);
      if (from < to) {
        const view = this.dma.view(s.addr + (from - segStart), to - from, dir === 'to-host' ? 'from-device' : 'to-device');
        if (view === null) {
          this.faulted = true;
          return 'fault';
        }
        fn(view, from);
      }
      segStart += s.len;
      if (segStart >= pos + len) break;
    }
    return 'ok';
  }
}

/** Writes the response UPIU at UCDBA + RUO, cut to RUL; returns the OCS for it. */
export function writeResponse(dma: DmaSpace, utrd: Utrd, response: Uint8Array): { ocs: number; busError: boolean } {
  const n = Math.min(response.length, utrd.rul);
  if (n > 0 && dma.write(utrd.ucdba + utrd.ruo, n === response.length ? response : response.subarray(0, n)) !== 'ok') return { ocs: OCS.INVALID_CMD_TABLE_ATTR, busError: true };
  return { ocs: n < response.length ? OCS.MISMATCH_RESP_UPIU_SIZE : OCS.SUCCESS, busError: false };
}

/** Writes the OCS byte (UTRD/UTMRD DW2 bits 7:0) only; false on a DMA fault. */
export function writeOcs(dma: DmaSpace, descAddr: number, ocs: number): boolean {
  return dma.write(descAddr + UTRD.DW2, Uint8Array.of(ocs)) === 'ok';
}
