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
 *
 * The controller's per-IO forms decode into objects it keeps per slot (`readUtrdInto`,
 * `fetchCommandInto` into a FetchedCommand, one PrdtPort per slot) and copy descriptors with
 * `DmaSpace.readTo` (no view, no allocation); `readUtrd` / `fetchCommand` allocate, for tests
 * and tools.
 */
import { u32le } from '../core/bytes.js';
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

/** A Utrd the controller decodes into again for every request of a slot. */
export class UtrdFields implements Utrd {
  addr = 0;
  ct = 0;
  dd = 0;
  intr = false;
  ucdba = 0;
  ruo = 0;
  rul = 0;
  prdto = 0;
  prdtl = 0;
}

export const addr64 = (lo: number, hi: number): number => hi * 0x1_0000_0000 + (lo >>> 0);

/** Scratch for descriptor reads: one per process, used synchronously (no allocation per IO). */
const utrdScratch = new Uint8Array(UTRD.SIZE);

/** Decodes the UTRD at `addr` into `out`; false on a DMA fault (`out` is then unchanged). */
export function readUtrdInto(dma: DmaSpace, addr: number, out: UtrdFields): boolean {
  if (dma.readTo(addr, UTRD.SIZE, utrdScratch, 0) !== 'ok') return false;
  const b = utrdScratch;
  const dw0 = u32le(b, UTRD.DW0), dw6 = u32le(b, UTRD.DW6), dw7 = u32le(b, UTRD.DW7);
  out.addr = addr;
  out.ct = (dw0 & UTRD.CT_MASK) >>> UTRD.CT_SHIFT;
  out.dd = dw0 & UTRD.DD_MASK;
  out.intr = (dw0 & UTRD.I) !== 0;
  out.ucdba = addr64(u32le(b, UTRD.UCDBA), u32le(b, UTRD.UCDBAU));
  out.ruo = (dw6 >>> 16) * 4;
  out.rul = (dw6 & 0xffff) * 4;
  out.prdto = (dw7 >>> 16) * 4;
  out.prdtl = dw7 & 0xffff;
  return true;
}

/** Reads the UTRD at `addr`, or undefined on a DMA fault. */
export function readUtrd(dma: DmaSpace, addr: number): Utrd | undefined {
  const u = new UtrdFields();
  return readUtrdInto(dma, addr, u) ? u : undefined;
}

export interface Segment {
  readonly addr: number;
  readonly len: number;
}

/**
 * One slot's fetched request: its UTRD, command UPIU and PRDT. The controller keeps one per
 * slot and fetches into it again for every request (no allocation per IO): a slot's request
 * stays in it from dispatch to completion, and the slot cannot be rung again before that.
 */
export class FetchedCommand {
  readonly utrd = new UtrdFields();
  /** The request UPIU: 32 bytes plus its data segment (the 32-byte buffer is reused while DSL = 0). */
  request: Uint8Array;
  /** PRDT entries: data buffer address and byte count, `prdtCount` of them. */
  readonly segAddr: number[] = [];
  readonly segLen: number[] = [];
  prdtCount = 0;
  /** Sum of the PRDT byte counts. */
  prdtBytes = 0;
  private readonly base = new Uint8Array(UPIU.BASE_SIZE);

  constructor() {
    this.request = this.base;
  }

  /** The PRDT as segments (diagnostics and tests; allocates). */
  get prdt(): readonly Segment[] {
    const out: Segment[] = [];
    for (let i = 0; i < this.prdtCount; i++) out.push({ addr: this.segAddr[i]!, len: this.segLen[i]! });
    return out;
  }

  /** The request buffer for a UPIU with data segment length `dsl`. */
  requestBuffer(dsl: number): Uint8Array {
    this.request = dsl === 0 ? this.base : new Uint8Array(UPIU.BASE_SIZE + dsl);
    return this.request;
  }
}

export interface FetchFailure {
  readonly ocs: number;
  /** A DMA access failed: the controller raises IS.SBFES. */
  readonly busError: boolean;
  readonly why: string;
}

const fail = (ocs: number, busError: boolean, why: string): FetchFailure => ({ ocs, busError, why });
const overlaps = (a: number, al: number, b: number, bl: number): boolean => al > 0 && bl > 0 && a < b + bl && b < a + al;

/** A strict-mode check failed: a failure when strict, else logged and accepted (undefined). */
function lenient(strict: boolean, log: (m: string) => void, why: string, ocs: number): FetchFailure | undefined {
  if (strict) return fail(ocs, false, why);
  log(`${why} (accepted: not strict)`);
  return undefined;
}

/**
 * Fetches the command UPIU and the PRDT the UTRD in `out.utrd` points at into `out`, checking
 * what the controller checks; undefined on success.
 */
export function fetchCommandInto(dma: DmaSpace, out: FetchedCommand, strict: boolean, log: (m: string) => void): FetchFailure | undefined {
  const utrd = out.utrd;
  const dd = utrd.dd;
  if (utrd.ct !== UTP_CMD_TYPE_UFS_STORAGE) {
    const f = lenient(strict, log, `UTRD command type ${utrd.ct} is not 1 (UFS storage)`, OCS.INVALID_CMD_TABLE_ATTR);
    if (f !== undefined) return f;
  }
  if (utrd.ucdba % UTRD.UCD_ALIGN !== 0) {
    const f = lenient(strict, log, `UCDBA 0x${utrd.ucdba.toString(16)} is not 128-byte aligned`, OCS.INVALID_CMD_TABLE_ATTR);
    if (f !== undefined) return f;
  }
  if (dd !== UTP_DD.NONE && dd !== UTP_DD.HOST_TO_DEVICE && dd !== UTP_DD.DEVICE_TO_HOST) return fail(OCS.INVALID_CMD_TABLE_ATTR, false, 'UTRD data direction 3 is reserved');

  let request = out.requestBuffer(0);
  if (dma.readTo(utrd.ucdba, UPIU.BASE_SIZE, request, 0) !== 'ok') return fail(OCS.INVALID_CMD_TABLE_ATTR, true, `command UPIU at 0x${utrd.ucdba.toString(16)} unreachable (${faultKind(dma)})`);
  const dsl = (request[UPIU.DSL]! << 8) | request[UPIU.DSL + 1]!;
  if (dsl > 0) {
    request = out.requestBuffer(dsl);
    if (dma.readTo(utrd.ucdba, request.length, request, 0) !== 'ok') return fail(OCS.INVALID_CMD_TABLE_ATTR, true, `command UPIU data segment unreachable (${faultKind(dma)})`);
  }
  const prdtBytes = utrd.prdtl * PRDT.SIZE;
  if (overlaps(0, request.length, utrd.ruo, utrd.rul) || overlaps(utrd.prdto, prdtBytes, utrd.ruo, utrd.rul) || overlaps(0, request.length, utrd.prdto, prdtBytes)) {
    const f = lenient(strict, log, 'command UPIU, response UPIU and PRDT areas overlap', OCS.INVALID_CMD_TABLE_ATTR);
    if (f !== undefined) return f;
  }
  return readPrdtInto(dma, utrd.ucdba + utrd.prdto, utrd.prdtl, strict, log, out);
}

/** Fetches the command UPIU and the PRDT a UTRD points at (allocating form of fetchCommandInto). */
export function fetchCommand(dma: DmaSpace, utrd: Utrd, strict: boolean, log: (m: string) => void): FetchedCommand | FetchFailure {
  const f = new FetchedCommand();
  Object.assign(f.utrd, utrd);
  return fetchCommandInto(dma, f, strict, log) ?? f;
}

const faultKind = (dma: DmaSpace): string => dma.lastFault?.kind ?? 'fault';

let prdtScratch = new Uint8Array(PRDT.SIZE * 64);

function readPrdtInto(dma: DmaSpace, at: number, count: number, strict: boolean, log: (m: string) => void, out: FetchedCommand): FetchFailure | undefined {
  out.prdtCount = 0;
  out.prdtBytes = 0;
  if (count === 0) return undefined;
  const bytes = count * PRDT.SIZE;
  if (prdtScratch.length < bytes) prdtScratch = new Uint8Array(Math.max(bytes, prdtScratch.length * 2));
  const b = prdtScratch;
  if (dma.readTo(at, bytes, b, 0) !== 'ok') return fail(OCS.INVALID_PRDT_ATTR, true, `PRDT at 0x${at.toString(16)} unreachable (${faultKind(dma)})`);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const e = i * PRDT.SIZE;
    const addr = addr64(u32le(b, e + PRDT.DBA), u32le(b, e + PRDT.DBAU));
    const dbc = u32le(b, e + PRDT.DBC);
    if ((addr & 3) !== 0 || (dbc & 3) !== 3 || (dbc & ~PRDT.DBC_MASK) !== 0) {
      const problem = (addr & 3) !== 0 ? `DBA 0x${addr.toString(16)} is not dword aligned`
        : (dbc & 3) !== 3 ? `DBC 0x${dbc.toString(16)} is not a dword count - 1 (bits 1:0 must be 11b)`
          : `DBC 0x${dbc.toString(16)} exceeds 256 KiB`;
      if (strict) return fail(OCS.INVALID_PRDT_ATTR, false, `PRDT entry ${i}: ${problem}`);
      log(`PRDT entry ${i}: ${problem} (accepted: not strict)`);
    }
    const len = (dbc & PRDT.DBC_MASK) + 1;
    out.segAddr[i] = addr;
    out.segLen[i] = len;
    total += len;
  }
  out.prdtCount = count;
  out.prdtBytes = total;
  return undefined;
}

/**
 * The PRDT as a byte stream. Only the direction UTRD.DD names has a buffer: the other
 * direction has capacity 0, so a device that moves data the driver did not describe gets a
 * 'mismatch' (OCS MISMATCH_DATA_BUF_SIZE) and memory stays untouched. It reads the PRDT from
 * its FetchedCommand at every call, so one port per slot serves every request of the slot.
 */
export class PrdtPort implements DataPort {
  /** Set once a DMA access failed. */
  faulted = false;

  constructor(private readonly dma: DmaSpace, private readonly cmd: FetchedCommand) {}

  toHost(pos: number, src: Uint8Array): PortResult {
    return this.each('to-host', pos, src.length, (view, at) => view.set(src.subarray(at - pos, at - pos + view.length)));
  }

  fromHost(pos: number, dst: Uint8Array): PortResult {
    return this.each('from-host', pos, dst.length, (view, at) => dst.set(view, at - pos));
  }

  each(dir: 'to-host' | 'from-host', pos: number, len: number, fn: (view: Uint8Array, at: number) => void): PortResult {
    if (len === 0) return 'ok';
    const c = this.cmd;
    const allowed = dir === 'to-host' ? UTP_DD.DEVICE_TO_HOST : UTP_DD.HOST_TO_DEVICE;
    if (c.utrd.dd !== allowed || pos + len > c.prdtBytes) return 'mismatch';
    const need = dir === 'to-host' ? 'from-device' : 'to-device';
    const end = pos + len;
    let segStart = 0;
    for (let i = 0; i < c.prdtCount; i++) {
      const segLen = c.segLen[i]!;
      const from = pos > segStart ? pos : segStart;
      const to = end < segStart + segLen ? end : segStart + segLen;
      if (from < to) {
        const view = this.dma.view(c.segAddr[i]! + (from - segStart), to - from, need);
        if (view === null) {
          this.faulted = true;
          return 'fault';
        }
        fn(view, from);
      }
      segStart += segLen;
      if (segStart >= end) break;
    }
    return 'ok';
  }
}

/** writeResponse's result when the response area is unreachable (INVALID_CMD_TABLE_ATTR + bus error). */
export const RESPONSE_BUS_ERROR = -1;

/**
 * Writes the response UPIU at UCDBA + RUO, cut to RUL; returns the OCS for it (SUCCESS or
 * MISMATCH_RESP_UPIU_SIZE), or RESPONSE_BUS_ERROR on a DMA fault.
 */
export function writeResponse(dma: DmaSpace, utrd: Utrd, response: Uint8Array): number {
  const n = Math.min(response.length, utrd.rul);
  if (n > 0 && dma.write(utrd.ucdba + utrd.ruo, n === response.length ? response : response.subarray(0, n)) !== 'ok') return RESPONSE_BUS_ERROR;
  return n < response.length ? OCS.MISMATCH_RESP_UPIU_SIZE : OCS.SUCCESS;
}

const ocsByte = new Uint8Array(1);

/** Writes the OCS byte (UTRD/UTMRD DW2 bits 7:0) only; false on a DMA fault. */
export function writeOcs(dma: DmaSpace, descAddr: number, ocs: number): boolean {
  ocsByte[0] = ocs;
  return dma.write(descAddr + UTRD.DW2, ocsByte) === 'ok';
}
