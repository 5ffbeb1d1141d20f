/**
 * @module dma
 * A device's view of physical memory through an IOMMU (QEMU `dma_memory_rw` on a device's
 * AddressSpace). The kernel grants byte ranges with a direction when a driver maps a buffer
 * (`dma_map_single`, `dma_alloc_coherent`) and revokes them on unmap. Every device access is
 * checked: inside physical memory (else `decode-error`) and inside grants that allow the
 * direction (else `access-denied`). A fault never throws: it is counted, reported through
 * `onFault` (the model logs it like an IOMMU fault and sets its error status) and returned;
 * nothing outside the granted ranges is read or written. Grants are byte-precise, stricter than
 * a page-based IOMMU, so an off-by-one descriptor length is caught.
 *
 * Directions follow Linux: `to-device` lets the device read memory, `from-device` lets it write.
 * Multi-byte helpers are little-endian (PCI).
 *
 * Hot paths: `readTo` / `writeFrom` copy without allocating a view; `access` checks (and
 * reports) without moving data; `allows` only answers, and with `generation` (which changes
 * with every grant or revoke) lets a model check a descriptor ring once and then read and write
 * it through `mem.bytes` until the grants change.
 *
 * @example
 * const dma = new DmaSpace(mem, 'ufs0', { onFault: (f) => trace.errDma(f) });
 * dma.grant(utrlAddr, 32 * 32, 'bidirectional');
 * const r = dma.read(utrlAddr + slot * 32, 32);
 * if (!r.ok) return this.failSlot(slot);          // OCS = invalid, IS.SBFES
 */
import { copyBytes } from './bytes.js';
import type { PhysicalMemory } from './phys-mem.js';

export type DmaDirection = 'to-device' | 'from-device' | 'bidirectional';
/** The outcome of a DMA access (QEMU `MemTxResult`). */
export type MemTxResult = 'ok' | 'decode-error' | 'access-denied';
export type DmaFaultKind = Exclude<MemTxResult, 'ok'>;

export interface DmaFault {
  readonly device: string;
  readonly addr: number;
  readonly len: number;
  readonly kind: DmaFaultKind;
  /** What the access needed: `to-device` for a device read, `from-device` for a device write. */
  readonly dir: 'to-device' | 'from-device';
}

export interface DmaGrant {
  readonly addr: number;
  readonly size: number;
  readonly dir: DmaDirection;
}

export type DmaReadResult = { readonly ok: true; readonly data: Uint8Array } | { readonly ok: false; readonly fault: DmaFault };

export interface DmaSpaceOptions {
  /** Called once per fault, after it is counted. Must not throw. */
  readonly onFault?: (fault: DmaFault) => void;
  /** Every in-bounds access is allowed (tests, early bring-up). Bounds are still checked. */
  readonly permissive?: boolean;
}

type Need = 'to-device' | 'from-device';

const allows = (g: DmaDirection, need: Need): boolean => g === 'bidirectional' || g === need;

export class DmaSpace {
  /** Faults so far, by kind. */
  readonly faults: Record<DmaFaultKind, number> = { 'decode-error': 0, 'access-denied': 0 };
  lastFault: DmaFault | undefined;
  /** Bytes moved by successful accesses. */
  readonly stats = { bytesRead: 0, bytesWritten: 0 };
  readonly permissive: boolean;
  /** Sorted by address; may overlap. */
  private grantList: DmaGrant[] = [];
  /** The grant that satisfied the last access alone (most DMA hits the same buffer again). */
  private lastHit: DmaGrant | undefined;
  /** Bumped by every grant and revoke (see `generation`). */
  private gen = 0;
  private readonly dv: DataView;
  private readonly onFault: ((fault: DmaFault) => void) | undefined;

  constructor(readonly mem: PhysicalMemory, readonly device: string, options: DmaSpaceOptions = {}) {
    this.permissive = options.permissive ?? false;
    this.onFault = options.onFault;
    this.dv = new DataView(mem.buffer, 0, mem.size);
  }

  /** Lets the device access [addr, addr + size) in `dir`. Throws RangeError outside memory (a kernel bug). */
  grant(addr: number, size: number, dir: DmaDirection): void {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(size) || addr < 0 || size <= 0 || addr > this.mem.size - size) {
      throw new RangeError(`${this.device}: cannot grant 0x${addr.toString(16)}+${size}: outside physical memory`);
    }
    const g = Object.freeze({ addr, size, dir });
    let i = this.grantList.findIndex((x) => x.addr > addr);
    if (i < 0) i = this.grantList.length;
    this.grantList.splice(i, 0, g);
    this.gen++;
  }

  /** Removes every grant that starts at `addr`; false if there was none. */
  revoke(addr: number): boolean {
    const before = this.grantList.length;
    this.grantList = this.grantList.filter((g) => g.addr !== addr);
    this.lastHit = undefined;
    this.gen++;
    return this.grantList.length !== before;
  }

  revokeAll(): void {
    this.grantList = [];
    this.lastHit = undefined;
    this.gen++;
  }

  /**
   * Changes whenever the grants change. A model may remember that a range it uses over and over
   * (a descriptor ring) passed `allows()`, and skip the check while the generation is the same.
   */
  get generation(): number {
    return this.gen;
  }

  /** True if the device may access [addr, addr + len) in `dir`; reports nothing (no fault is counted). */
  allows(addr: number, len: number, dir: DmaDirection): boolean {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0 || addr > this.mem.size - len) return false;
    if (len === 0 || this.permissive) return true;
    if (dir !== 'from-device' && !this.covered(addr, len, 'to-device')) return false;
    return dir === 'to-device' || this.covered(addr, len, 'from-device');
  }

  /** Checks an access as every other method does (a refusal is counted and reported), moving nothing. */
  access(addr: number, len: number, dir: 'to-device' | 'from-device'): MemTxResult {
    return this.check(addr, len, dir);
  }

  /** Device read of `len` bytes into `target` at `targetOff` (no allocation, no view). */
  readTo(addr: number, len: number, target: Uint8Array, targetOff: number): MemTxResult {
    const res = this.check(addr, len, 'to-device');
    if (res !== 'ok') return res;
    copyBytes(target, targetOff, this.mem.bytes, addr, len);
    this.stats.bytesRead += len;
    return 'ok';
  }

  /** Device write of `len` bytes of `src` from `srcOff` (no allocation, no view). */
  writeFrom(addr: number, src: Uint8Array, srcOff: number, len: number): MemTxResult {
    const res = this.check(addr, len, 'from-device');
    if (res !== 'ok') return res;
    copyBytes(this.mem.bytes, addr, src, srcOff, len);
    this.stats.bytesWritten += len;
    return 'ok';
  }

  grants(): readonly DmaGrant[] {
    return [...this.grantList];
  }

  /** Device read of `len` bytes; the data is a copy. */
  read(addr: number, len: number): DmaReadResult {
    const res = this.check(addr, len, 'to-device');
    if (res !== 'ok') return { ok: false, fault: this.lastFault! };
    this.stats.bytesRead += len;
    return { ok: true, data: this.mem.bytes.slice(addr, addr + len) };
  }

  /** Device read into `target` (no allocation). */
  readInto(addr: number, target: Uint8Array): MemTxResult {
    const res = this.check(addr, target.length, 'to-device');
    if (res !== 'ok') return res;
    target.set(this.mem.bytes.subarray(addr, addr + target.length));
    this.stats.bytesRead += target.length;
    return 'ok';
  }

  /** Device write of `data`. */
  write(addr: number, data: Uint8Array): MemTxResult {
    const res = this.check(addr, data.length, 'from-device');
    if (res !== 'ok') return res;
    this.mem.bytes.set(data, addr);
    this.stats.bytesWritten += data.length;
    return 'ok';
  }

  /** Little-endian loads; undefined on a fault (already reported). */
  readU16(addr: number): number | undefined {
    if (this.check(addr, 2, 'to-device') !== 'ok') return undefined;
    this.stats.bytesRead += 2;
    return this.dv.getUint16(addr, true);
  }

  readU32(addr: number): number | undefined {
    if (this.check(addr, 4, 'to-device') !== 'ok') return undefined;
    this.stats.bytesRead += 4;
    return this.dv.getUint32(addr, true);
  }

  readU64(addr: number): bigint | undefined {
    if (this.check(addr, 8, 'to-device') !== 'ok') return undefined;
    this.stats.bytesRead += 8;
    return this.dv.getBigUint64(addr, true);
  }

  /** Little-endian stores; the value is truncated to the width. */
  writeU16(addr: number, v: number): MemTxResult {
    const res = this.check(addr, 2, 'from-device');
    if (res === 'ok') { this.dv.setUint16(addr, v, true); this.stats.bytesWritten += 2; }
    return res;
  }

  writeU32(addr: number, v: number): MemTxResult {
    const res = this.check(addr, 4, 'from-device');
    if (res === 'ok') { this.dv.setUint32(addr, v, true); this.stats.bytesWritten += 4; }
    return res;
  }

  writeU64(addr: number, v: bigint): MemTxResult {
    const res = this.check(addr, 8, 'from-device');
    if (res === 'ok') { this.dv.setBigUint64(addr, BigInt.asUintN(64, v), true); this.stats.bytesWritten += 8; }
    return res;
  }

  /**
   * A live view for fast paths, or null (fault reported) unless [addr, addr + len) is granted
   * for `dir`. The view bypasses later checks: use it for one operation, never cache it across
   * a revoke. `bidirectional` needs both directions granted.
   */
  view(addr: number, len: number, dir: DmaDirection = 'bidirectional'): Uint8Array | null {
    if (dir !== 'from-device' && this.check(addr, len, 'to-device') !== 'ok') return null;
    if (dir !== 'to-device' && this.check(addr, len, 'from-device') !== 'ok') return null;
    return new Uint8Array(this.mem.buffer, addr, len);
  }

  /** Checks bounds then grants; reports a fault. Zero-length accesses touch nothing and succeed. */
  private check(addr: number, len: number, need: Need): MemTxResult {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0 || addr > this.mem.size - len) {
      return this.fault(addr, len, 'decode-error', need);
    }
    if (len === 0 || this.permissive || this.covered(addr, len, need)) return 'ok';
    return this.fault(addr, len, 'access-denied', need);
  }

  /** True if grants allowing `need` cover every byte of [addr, addr + len), possibly several of them. */
  private covered(addr: number, len: number, need: Need): boolean {
    const end = addr + len;
    const h = this.lastHit;
    if (h !== undefined && addr >= h.addr && end <= h.addr + h.size && allows(h.dir, need)) return true;
    let cursor = addr;
    let single: DmaGrant | undefined;
    while (cursor < end) {
      let reach = cursor;
      for (const g of this.grantList) {
        if (g.addr > cursor) break;
        const gEnd = g.addr + g.size;
        if (gEnd > reach && allows(g.dir, need)) { reach = gEnd; single = g; }
      }
      if (reach === cursor) return false;
      if (cursor === addr && reach >= end) this.lastHit = single;
      cursor = reach;
    }
    return true;
  }

  private fault(addr: number, len: number, kind: DmaFaultKind, dir: Need): DmaFaultKind {
    const f: DmaFault = { device: this.device, addr, len, kind, dir };
    this.faults[kind]++;
    this.lastFault = f;
    this.onFault?.(f);
    return kind;
  }
}
