/**
 * @module register-file
 * The model side of a register map: storage plus MMIO dispatch derived from the declaration
 * (Renode `DoubleWordRegisterCollection`, QEMU `register_init_block32`), so a model writes no
 * `switch (offset)`. Field semantics come from the access modes (see regmap.ts). Hooks add
 * side effects: `onWrite` after a guest write has been applied (doorbells, enables), `onRead`
 * to compute a value before a read (status mirrors), `afterRead` after a read.
 *
 * Guest misuse never throws (QEMU `LOG_GUEST_ERROR`): an access to an unmapped offset is logged
 * as unhandled and reads 0; an access of a size the register does not accept, or misaligned,
 * is logged as a guest error and ignored (reads 0); a write that tries to change read-only bits
 * is logged as a guest error (the writable bits still take the write).
 *
 * Model-side `value(name)` / `setValue(name)` look the name up; data paths that run per packet
 * resolve `map.reg(name).index` once and use `valueAt` / `setValueAt`.
 *
 * @example
 * const rf = new RegisterFile(UFS_REGS, {
 *   onWrite: { UTRLDBR: () => this.doorbellBh() , IE: () => this.updateIrq() },
 *   log: (m) => trace.guestError(m),
 * });
 * rf.write(0x24, 4, 0x401);          // guest: IE = UTRCS | UCCS
 * rf.setValue('IS', rf.value('IS') | UFS_REGS.bits.IS.UCCS);   // model: raise a status bit
 */
import type { MmioRegionSpec } from './device-model.js';
import { lowMask, RegisterMapError, type FieldName, type RegisterInfo, type RegisterMap, type RegisterName, type RegisterSpecs } from './regmap.js';

/** One traced register access; `value` is what the guest read or wrote (access-sized). */
export interface RegisterAccessEvent {
  readonly kind: 'read' | 'write';
  readonly reg: string;
  readonly offset: number;
  readonly size: number;
  readonly value: number;
}

export interface RegisterFileHooks<S extends RegisterSpecs> {
  /** Instance name used in log messages; default the map's name. */
  readonly name?: string;
  /** After a guest write is applied: the register's new and old values and the bits written. */
  readonly onWrite?: { readonly [R in keyof S]?: (newValue: number, oldValue: number, written: number) => void };
  /** Computes the register's value before a guest read; the result is stored, then read. */
  readonly onRead?: { readonly [R in keyof S]?: () => number };
  /** After a guest read, with the value returned (access-sized). */
  readonly afterRead?: { readonly [R in keyof S]?: (value: number) => void };
  /** Guest errors and unhandled accesses, one line each. */
  readonly log?: (msg: string) => void;
  /** Every handled access. */
  readonly trace?: (ev: RegisterAccessEvent) => void;
}

/** Access counters, for tests and /proc. */
export interface RegisterFileStats {
  reads: number;
  writes: number;
  unhandledReads: number;
  unhandledWrites: number;
  /** Wrong size, misaligned, or changing read-only bits. */
  guestErrors: number;
}

type WriteHook = (newValue: number, oldValue: number, written: number) => void;

export class RegisterFile<S extends RegisterSpecs = RegisterSpecs> implements MmioRegionSpec {
  readonly name: string;
  readonly size: number;
  readonly stats: RegisterFileStats = { reads: 0, writes: 0, unhandledReads: 0, unhandledWrites: 0, guestErrors: 0 };
  /** Register values by `RegisterInfo.index`; unsigned and width-masked. */
  private readonly values: Uint32Array;
  /** Per register index: the bits a model-side write may set (width, minus reserved bits). */
  private readonly keep: Uint32Array;
  private readonly onWrite: (WriteHook | undefined)[];
  private readonly onRead: ((() => number) | undefined)[];
  private readonly afterRead: (((v: number) => void) | undefined)[];
  private readonly log: (msg: string) => void;
  private readonly trace: ((ev: RegisterAccessEvent) => void) | undefined;

  constructor(readonly map: RegisterMap<S>, hooks: RegisterFileHooks<S> = {}) {
    this.name = hooks.name ?? map.name;
    this.size = map.size;
    this.values = new Uint32Array(map.registers.length);
    this.keep = new Uint32Array(map.registers.map((r) => r.modes.all & ~r.modes.rsvd));
    this.onWrite = this.hookTable('onWrite', hooks.onWrite);
    this.onRead = this.hookTable('onRead', hooks.onRead);
    this.afterRead = this.hookTable('afterRead', hooks.afterRead);
    this.log = hooks.log ?? (() => {});
    this.trace = hooks.trace;
    this.reset();
  }

  /** The last read hit a register with write-1-to-clear bits (see MmioRegionSpec). */
  lastReadW1c = false;

  /** Guest read of `size` bytes at `offset`. Never throws; bad accesses read 0. */
  read(offset: number, size: number): number {
    const r = this.locate(offset, size, 'read');
    this.lastReadW1c = r !== undefined && r.modes.w1c !== 0;
    if (r === undefined) return 0;
    const i = r.index, m = r.modes;
    const provide = this.onRead[i];
    if (provide !== undefined) this.values[i] = (provide() & m.all & ~m.rsvd) >>> 0;
    const shift = (offset - r.offset) * 8;
    const lanes = (lowMask(size * 8) << shift) >>> 0;
    const value = ((this.values[i]! & m.readable & lanes) >>> 0) >>> shift;
    if (m.rc & lanes) this.values[i] = this.values[i]! & ~(m.rc & lanes);
    this.stats.reads++;
    this.trace?.({ kind: 'read', reg: r.name, offset, size, value });
    this.afterRead[i]?.(value);
    return value;
  }

  /** Guest write of `size` bytes at `offset`. Never throws; bad accesses are logged and dropped. */
  write(offset: number, size: number, value: number): void {
    const r = this.locate(offset, size, 'write');
    if (r === undefined) return;
    const i = r.index, m = r.modes;
    const shift = (offset - r.offset) * 8;
    const lanes = (lowMask(size * 8) << shift) >>> 0;
    const w = ((value << shift) & lanes) >>> 0;
    const old = this.values[i]!;
    const changedRo = ((w ^ old) & m.ro & lanes) >>> 0;
    if (changedRo !== 0) this.guestError(`write ${hex(w)} to ${r.name} tries to change read-only bits ${hex(changedRo)}${fieldNames(r, changedRo)}`);
    const store = (m.rw | m.wo) & lanes;
    let next = (old & ~store) | (w & store);
    next &= ~(w & m.w1c);
    next |= w & m.w1s;
    this.values[i] = next & ~m.rsvd;
    this.stats.writes++;
    this.trace?.({ kind: 'write', reg: r.name, offset, size, value: (value & lowMask(size * 8)) >>> 0 });
    this.onWrite[i]?.(this.values[i]!, old, w);
  }

  /** Restores every register's declared reset value (no hooks run). */
  reset(): void {
    for (const r of this.map.registers) this.values[r.index] = r.reset;
  }

  /** The stored value, as the model sees it (write-only bits included, no read side effects). */
  value(reg: RegisterName<S>): number {
    return this.values[this.map.reg(reg).index]!;
  }

  /** Model-side write: bypasses access modes (e.g. setting a W1C status bit); reserved bits stay 0. */
  setValue(reg: RegisterName<S>, v: number): void {
    const i = this.map.reg(reg).index;
    this.values[i] = v & this.keep[i]!;
  }

  /**
   * `value()` by `RegisterInfo.index`, for data paths that resolve their registers once
   * (`map.reg('TDT').index`) instead of looking a name up per access.
   */
  valueAt(index: number): number {
    return this.values[index]!;
  }

  /** `setValue()` by `RegisterInfo.index`. */
  setValueAt(index: number, v: number): void {
    this.values[index] = v & this.keep[index]!;
  }

  /** Model-side field read. */
  getField<R extends RegisterName<S>>(reg: R, field: FieldName<S, R>): number {
    return this.map.get(this.value(reg), reg, field);
  }

  /** Model-side field write (bypasses access modes). */
  setField<R extends RegisterName<S>>(reg: R, field: FieldName<S, R>, v: number): void {
    this.setValue(reg, this.map.set(this.value(reg), reg, field, v));
  }

  /** Debug view: `{ REG: '0x0000001f' }`, zero-padded to the register width, in offset order. */
  dump(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.map.registers) out[r.name] = `0x${this.values[r.index]!.toString(16).padStart(r.width / 4, '0')}`;
    return out;
  }

  /** Plain, serialisable register state (`{ REG: value }`) for snapshots. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.map.registers) out[r.name] = this.values[r.index]!;
    return out;
  }

  /** Restores a snapshot; registers it does not name keep their value. */
  restore(snap: Readonly<Record<string, number>>): void {
    for (const [name, v] of Object.entries(snap)) this.setValue(name as RegisterName<S>, v);
  }

  /** Finds the register for an access, or logs why the access is refused. */
  private locate(offset: number, size: number, kind: 'read' | 'write'): RegisterInfo | undefined {
    const r = this.map.at(offset);
    if (r === undefined) {
      if (kind === 'read') this.stats.unhandledReads++;
      else this.stats.unhandledWrites++;
      this.log(`${this.name}: unhandled ${kind} at ${hex(offset)} (size ${size})`);
      return undefined;
    }
    if (!(r.sizes as readonly number[]).includes(size)) {
      this.guestError(`${kind} of ${r.name} at ${hex(offset)} with unsupported size ${size} (allowed: ${r.sizes.join(', ')})`);
      return undefined;
    }
    // Registers are aligned to their width and sizes never exceed it, so an aligned access
    // always stays inside one register.
    if (offset % size !== 0) {
      this.guestError(`misaligned ${size}-byte ${kind} of ${r.name} at ${hex(offset)}`);
      return undefined;
    }
    return r;
  }

  private guestError(msg: string): void {
    this.stats.guestErrors++;
    this.log(`${this.name}: guest error: ${msg}`);
  }

  /** Hooks by register index; a hook for an unknown register is a model bug. */
  private hookTable<F>(kind: string, hooks: Readonly<Record<string, F | undefined>> | undefined): (F | undefined)[] {
    const table: (F | undefined)[] = new Array(this.map.registers.length).fill(undefined);
    for (const [name, fn] of Object.entries(hooks ?? {})) {
      const r = this.map.registers.find((x) => x.name === name);
      if (r === undefined) throw new RegisterMapError(this.map.name, name, undefined, `${kind} hook for a register the map does not declare`);
      table[r.index] = fn;
    }
    return table;
  }
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

function fieldNames(r: RegisterInfo, bits: number): string {
  const names = r.fields.filter((f) => (f.mask & bits) !== 0).map((f) => f.name);
  return names.length > 0 ? ` (${names.join(', ')})` : '';
}
