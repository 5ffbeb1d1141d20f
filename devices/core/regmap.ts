/**
 * @module regmap
 * Register maps declared as data (QEMU `REG32`/`FIELD` + `RegisterAccessInfo`, Renode
 * `FieldMode`), in a pure module that device models, drivers and tests all import: the model
 * derives its MMIO dispatch from the map (see register-file.ts), the driver uses the offsets and
 * bit constants, the tests use both. This module has no side effects and no dependencies.
 *
 * Widths are 8, 16 or 32 bits. A 64-bit register is declared as two 32-bit registers, the way
 * the hardware documents them (UFSHCI UTRLBA/UTRLBAU, e1000 RDBAL/RDBAH).
 *
 * All values are unsigned 32-bit numbers (`>>> 0`), so bit 31 never turns a value negative.
 *
 * @example
 * const regs = defineRegisterMap('ufshci', {
 *   IS: { offset: 0x20, fields: { UTRCS: { bit: 0, access: 'w1c' }, UCCS: { bit: 10, access: 'w1c' } } },
 *   IE: { offset: 0x24 },                       // a plain read/write register
 *   VER: { offset: 0x08, access: 'ro', reset: 0x0400 },
 * });
 * regs.offsets.IS;        // 0x20
 * regs.bits.IS.UCCS;      // 1 << 10
 */

/**
 * How a field reacts to guest accesses (Renode `FieldMode`, QEMU `RegisterAccessInfo`):
 * - `rw`   read/write storage;
 * - `ro`   read-only: writes are ignored (a write that would change it is a guest error);
 * - `wo`   write-only: the write is stored (the model sees it), reads return 0;
 * - `w1c`  write 1 to clear (status bits);
 * - `w1s`  write 1 to set (doorbells: the model clears the bit when done);
 * - `rc`   read-clear: a read returns the value, then clears it; writes are ignored;
 * - `rsvd` reserved: reads 0, writes ignored.
 */
export type AccessMode = 'ro' | 'rw' | 'wo' | 'w1c' | 'w1s' | 'rc' | 'rsvd';
export const ACCESS_MODES: readonly AccessMode[] = Object.freeze(['ro', 'rw', 'wo', 'w1c', 'w1s', 'rc', 'rsvd']);

export type RegisterWidth = 8 | 16 | 32;
/** Bytes per MMIO access. */
export type AccessSize = 1 | 2 | 4;

export interface FieldSpec {
  /** Least significant bit. */
  readonly bit: number;
  /** Bits; default 1. */
  readonly width?: number;
  readonly access: AccessMode;
  /** Reset value of the field (not shifted). Overrides the register's reset for these bits. */
  readonly reset?: number;
  readonly doc?: string;
}

export interface RegisterSpec {
  /** Byte offset in the MMIO window; must be aligned to the register's width. */
  readonly offset: number;
  /** Bits; default 32. */
  readonly width?: RegisterWidth;
  /** Reset value of the whole register; default 0. */
  readonly reset?: number;
  /** Access mode of the whole register when it has no fields; default `rw`. */
  readonly access?: AccessMode;
  /**
   * Access sizes (bytes) the device accepts within this register; default the map's `sizes`,
   * else only the register's own width (QEMU `.valid.min/max_access_size`).
   */
  readonly sizes?: readonly AccessSize[];
  /** With fields, bits no field covers are reserved (read 0, writes ignored). */
  readonly fields?: Readonly<Record<string, FieldSpec>>;
  readonly doc?: string;
}

export type RegisterSpecs = Readonly<Record<string, RegisterSpec>>;

export interface RegisterMapOptions {
  /** Size of the MMIO window in bytes; default the end of the last register. */
  readonly size?: number;
  /** Default access sizes for every register (see RegisterSpec.sizes). */
  readonly sizes?: readonly AccessSize[];
}

/** A field, resolved: `mask` is in place (already shifted). */
export interface FieldInfo {
  readonly name: string;
  readonly register: string;
  readonly shift: number;
  readonly width: number;
  readonly mask: number;
  readonly access: AccessMode;
  /** Reset value of the field, not shifted. */
  readonly reset: number;
  readonly doc?: string;
}

/** Per-access-mode bit masks of one register, derived from its fields. */
export interface ModeMasks {
  /** All bits of the register's width. */
  readonly all: number;
  readonly rw: number;
  readonly ro: number;
  readonly wo: number;
  readonly w1c: number;
  readonly w1s: number;
  readonly rc: number;
  /** Explicitly reserved bits plus every bit no field covers. */
  readonly rsvd: number;
  /** Bits a read returns (everything but `wo` and `rsvd`). */
  readonly readable: number;
}

/** A register, resolved and validated. */
export interface RegisterInfo {
  readonly name: string;
  /** Position in `RegisterMap.registers` (sorted by offset). */
  readonly index: number;
  readonly offset: number;
  readonly width: RegisterWidth;
  readonly bytes: number;
  readonly reset: number;
  readonly sizes: readonly AccessSize[];
  readonly fields: readonly FieldInfo[];
  readonly modes: ModeMasks;
  readonly doc?: string;
}

type FieldsOf<R> = R extends { readonly fields: infer F } ? F : Record<never, FieldSpec>;
/** Names of the fields of register `R` in the specs `S`. */
export type FieldName<S extends RegisterSpecs, R extends keyof S> = keyof FieldsOf<S[R]> & string;
/** Names of the registers in the specs `S`. */
export type RegisterName<S extends RegisterSpecs> = keyof S & string;

/** The specs type behind a map, e.g. `RegisterFileHooks<SpecsOf<typeof UFS_REGS>>`. */
export type SpecsOf<M> = M extends RegisterMap<infer S> ? S : never;

/** A frozen, validated register map. */
export interface RegisterMap<S extends RegisterSpecs = RegisterSpecs> {
  readonly name: string;
  /** Bytes in the MMIO window. */
  readonly size: number;
  /** Registers sorted by offset. */
  readonly registers: readonly RegisterInfo[];
  /** REG → byte offset. */
  readonly offsets: { readonly [R in keyof S]: number };
  /** REG → FIELD → in-place mask (`1 << bit` for 1-bit fields). */
  readonly bits: { readonly [R in keyof S]: { readonly [F in keyof FieldsOf<S[R]>]: number } };
  /** The resolved register; throws RegisterMapError for an unknown name. */
  reg(reg: RegisterName<S>): RegisterInfo;
  /** The register covering byte `offset`, if any. */
  at(offset: number): RegisterInfo | undefined;
  /** `{ shift, mask, width, ... }` of a field; throws RegisterMapError for an unknown name. */
  field<R extends RegisterName<S>>(reg: R, field: FieldName<S, R>): FieldInfo;
  /** Extracts a field from a register value. */
  get<R extends RegisterName<S>>(value: number, reg: R, field: FieldName<S, R>): number;
  /** Returns `value` with the field replaced by `v` (truncated to the field's width). */
  set<R extends RegisterName<S>>(value: number, reg: R, field: FieldName<S, R>, v: number): number;
}

/** A register map that is wrong as declared. Names the map, register and field at fault. */
export class RegisterMapError extends Error {
  constructor(
    readonly map: string,
    readonly register: string | undefined,
    readonly field: string | undefined,
    detail: string,
  ) {
    const where = [map, register, field].filter((s) => s !== undefined).join('.');
    super(`register map ${where}: ${detail}`);
    this.name = 'RegisterMapError';
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WIDTHS: readonly number[] = [8, 16, 32];
const SIZES: readonly number[] = [1, 2, 4];

/** Mask of the low `width` bits (width 1..32), unsigned. */
export function lowMask(width: number): number {
  return width >= 32 ? 0xffffffff : ((1 << width) >>> 0) - 1;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * Validates `specs` and returns the frozen map. Throws RegisterMapError on: unknown access
 * modes, bad widths, misaligned or overlapping registers, fields overlapping each other or
 * running past the register, reset values that do not fit (or set reserved bits), bad access
 * sizes, names that are not identifiers or that differ only in case.
 */
export function defineRegisterMap<S extends RegisterSpecs>(
  name: string,
  specs: S,
  options: RegisterMapOptions = {},
): RegisterMap<S> {
  if (name.length === 0) throw new RegisterMapError('?', undefined, undefined, 'a register map needs a name');
  const names = Object.keys(specs);
  checkUniqueNames(name, undefined, names);
  const resolved = names.map((r) => resolveRegister(name, r, specs[r]!, options));
  resolved.sort((a, b) => a.offset - b.offset);
  checkNoOverlap(name, resolved);
  const end = resolved.reduce((m, r) => Math.max(m, r.offset + r.bytes), 0);
  const size = options.size ?? end;
  if (!Number.isInteger(size) || size < end) {
    throw new RegisterMapError(name, undefined, undefined, `window size ${size} is smaller than the last register's end ${hex(end)}`);
  }
  return buildMap<S>(name, size, resolved.map((r, index) => deepFreeze({ ...r, index })));
}

type Unindexed = Omit<RegisterInfo, 'index'>;

function resolveRegister(map: string, name: string, spec: RegisterSpec, options: RegisterMapOptions): Unindexed {
  const fail = (detail: string, field?: string): never => { throw new RegisterMapError(map, name, field, detail); };
  if (!IDENT.test(name)) fail('register name must be an identifier');
  const width = spec.width ?? 32;
  if (!WIDTHS.includes(width)) fail(`width ${width} is not 8, 16 or 32 (declare 64-bit registers as two 32-bit halves)`);
  const bytes = width / 8;
  if (!Number.isInteger(spec.offset) || spec.offset < 0) fail(`offset ${spec.offset} is not a non-negative integer`);
  if (spec.offset % bytes !== 0) fail(`offset ${hex(spec.offset)} is not aligned to the register width (${bytes} bytes)`);
  const all = lowMask(width);
  const sizes = spec.sizes ?? options.sizes?.filter((s) => s <= bytes) ?? [bytes as AccessSize];
  if (sizes.length === 0) fail(`no allowed access size fits in a ${bytes}-byte register`);
  for (const s of sizes) if (!SIZES.includes(s) || s > bytes) fail(`access size ${s} is not 1, 2 or 4 bytes within a ${bytes}-byte register`);

  const fields = spec.fields === undefined ? undefined : resolveFields(map, name, width, spec.fields);
  if (spec.access !== undefined && !ACCESS_MODES.includes(spec.access)) fail(`unknown access mode '${spec.access}'`);
  if (fields !== undefined && spec.access !== undefined) fail('give the access mode per field when a register has fields');

  const regReset = spec.reset ?? 0;
  if (!Number.isInteger(regReset) || regReset < 0 || regReset > all) fail(`reset ${hex(regReset)} does not fit in ${width} bits`);
  const modes = fields === undefined ? wholeRegisterModes(all, spec.access ?? 'rw') : fieldModes(all, fields);
  // A field's own reset overrides the register's reset for its bits.
  let reset = regReset;
  for (const f of fields ?? []) {
    const given = spec.fields![f.name]!.reset;
    if (given !== undefined) reset = ((reset & ~f.mask) | (given << f.shift)) >>> 0;
  }
  if ((reset & modes.rsvd) !== 0) fail(`reset ${hex(reset)} sets reserved bits ${hex((reset & modes.rsvd) >>> 0)}`);
  const withResets = (fields ?? []).map((f) => ({ ...f, reset: (reset & f.mask) >>> f.shift }));
  return { name, offset: spec.offset, width: width as RegisterWidth, bytes, reset, sizes: [...sizes], fields: withResets, modes, doc: spec.doc };
}

function resolveFields(map: string, reg: string, width: number, specs: Readonly<Record<string, FieldSpec>>): FieldInfo[] {
  const names = Object.keys(specs);
  checkUniqueNames(map, reg, names);
  const out: FieldInfo[] = [];
  let used = 0;
  for (const name of names) {
    const f = specs[name]!;
    const fail = (detail: string): never => { throw new RegisterMapError(map, reg, name, detail); };
    if (!IDENT.test(name)) fail('field name must be an identifier');
    if (!ACCESS_MODES.includes(f.access)) fail(`unknown access mode '${f.access}'`);
    const fw = f.width ?? 1;
    if (!Number.isInteger(f.bit) || f.bit < 0 || !Number.isInteger(fw) || fw < 1) fail(`bit ${f.bit} / width ${fw} are not valid`);
    if (f.bit + fw > width) fail(`bits ${f.bit + fw - 1}:${f.bit} run past the ${width}-bit register`);
    const mask = (lowMask(fw) << f.bit) >>> 0;
    if ((used & mask) !== 0) {
      const other = out.find((o) => (o.mask & mask) !== 0)!;
      fail(`overlaps field ${other.name} (bits ${hex((other.mask & mask) >>> 0)})`);
    }
    used = (used | mask) >>> 0;
    const reset = f.reset ?? 0;
    if (!Number.isInteger(reset) || reset < 0 || reset > lowMask(fw)) fail(`reset ${hex(reset)} does not fit in ${fw} bits`);
    if (f.access === 'rsvd' && reset !== 0) fail('a reserved field reads 0; its reset must be 0');
    out.push({ name, register: reg, shift: f.bit, width: fw, mask, access: f.access, reset, doc: f.doc });
  }
  return out;
}

function wholeRegisterModes(all: number, access: AccessMode): ModeMasks {
  const m = { all, rw: 0, ro: 0, wo: 0, w1c: 0, w1s: 0, rc: 0, rsvd: 0, readable: 0 };
  m[access] = all;
  m.readable = (all & ~m.wo & ~m.rsvd) >>> 0;
  return m;
}

function fieldModes(all: number, fields: readonly FieldInfo[]): ModeMasks {
  const m = { all, rw: 0, ro: 0, wo: 0, w1c: 0, w1s: 0, rc: 0, rsvd: 0, readable: 0 };
  let covered = 0;
  for (const f of fields) {
    m[f.access] = (m[f.access] | f.mask) >>> 0;
    covered |= f.mask;
  }
  m.rsvd = (m.rsvd | (all & ~covered)) >>> 0;
  m.readable = (all & ~m.wo & ~m.rsvd) >>> 0;
  return m;
}

/** Names must be unique; names differing only in case are rejected too (they collide in dumps and docs). */
function checkUniqueNames(map: string, reg: string | undefined, names: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const n of names) {
    const prev = seen.get(n.toUpperCase());
    if (prev !== undefined) {
      throw new RegisterMapError(map, reg ?? n, reg === undefined ? undefined : n, `duplicate name (also declared as ${prev})`);
    }
    seen.set(n.toUpperCase(), n);
  }
}

function checkNoOverlap(map: string, sorted: readonly Unindexed[]): void {
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!, b = sorted[i]!;
    if (a.offset + a.bytes > b.offset) {
      throw new RegisterMapError(map, b.name, undefined,
        `offset ${hex(b.offset)} overlaps register ${a.name} (${hex(a.offset)}..${hex(a.offset + a.bytes - 1)})`);
    }
  }
}

function buildMap<S extends RegisterSpecs>(name: string, size: number, registers: readonly RegisterInfo[]): RegisterMap<S> {
  const byName = new Map<string, RegisterInfo>();
  const byByte = new Map<number, RegisterInfo>();
  const fieldIndex = new Map<string, Map<string, FieldInfo>>();
  const offsets: Record<string, number> = {};
  const bits: Record<string, Record<string, number>> = {};
  for (const r of registers) {
    byName.set(r.name, r);
    for (let b = 0; b < r.bytes; b++) byByte.set(r.offset + b, r);
    offsets[r.name] = r.offset;
    bits[r.name] = Object.fromEntries(r.fields.map((f) => [f.name, f.mask]));
    fieldIndex.set(r.name, new Map(r.fields.map((f) => [f.name, f])));
  }
  const reg = (n: string): RegisterInfo => {
    const r = byName.get(n);
    if (r === undefined) throw new RegisterMapError(name, n, undefined, 'no such register');
    return r;
  };
  const field = (r: string, f: string): FieldInfo => {
    const info = fieldIndex.get(reg(r).name)!.get(f);
    if (info === undefined) throw new RegisterMapError(name, r, f, 'no such field');
    return info;
  };
  const map: RegisterMap = {
    name,
    size,
    registers: Object.freeze([...registers]),
    offsets: deepFreeze(offsets),
    bits: deepFreeze(bits),
    reg,
    at: (offset) => byByte.get(offset),
    field,
    get: (value, r, f) => {
      const fi = field(r, f);
      return (value & fi.mask) >>> fi.shift;
    },
    set: (value, r, f, v) => {
      const fi = field(r, f);
      return ((value & ~fi.mask) | ((v << fi.shift) & fi.mask)) >>> 0;
    },
  };
  return Object.freeze(map) as unknown as RegisterMap<S>;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
