/**
 * @module devices/ufs/ufs.query
 * The UFS device's query engine (JESD220 §10.7.8–9, §14): READ/WRITE DESCRIPTOR, READ/WRITE
 * ATTRIBUTE, READ/SET/CLEAR/TOGGLE FLAG, with the device's flags and attributes.
 *
 * fDeviceInit: SET starts device initialisation; the flag reads 1 until `deviceInitNs` has
 * passed **and** at least one READ FLAG has seen it set, then reads 0. Deliberate difference
 * from a real device (and from QEMU, where it always reads 0): the "seen set once" rule makes
 * every driver go through its polling loop even with zero timing, as a real device that needs
 * time would force it to.
 *
 * Descriptors are read-only (WRITE DESCRIPTOR → NOT WRITEABLE), as in QEMU. Attribute and flag
 * index/selector fields are ignored (no per-LU attributes); descriptor selectors must be 0.
 */
import {
  configurationDescriptor, deviceDescriptor, geometryDescriptor, healthDescriptor, interconnectDescriptor, maxLus,
  powerDescriptor, stringDescriptor, stringFor, unitDescriptor, type DescriptorConfig,
} from './ufs.descriptors.js';
import { ATTR_IDN, DESC_IDN, FLAG_IDN, QUERY_FUNC, QUERY_OP, QUERY_RESULT, WLUN } from './ufs.regs.js';
import type { QueryFields } from './ufs.upiu.js';

/** Flag access: read/write, set-only (clear/toggle refused), or read-only. */
type FlagMode = 'rw' | 'set-only' | 'ro';

const FLAGS: ReadonlyMap<number, { mode: FlagMode; reset: number }> = new Map([
  [FLAG_IDN.fDeviceInit, { mode: 'set-only', reset: 0 }],
  [FLAG_IDN.fPermanentWPEn, { mode: 'set-only', reset: 0 }],
  [FLAG_IDN.fPowerOnWPEn, { mode: 'set-only', reset: 0 }],
  [FLAG_IDN.fBackgroundOpsEn, { mode: 'rw', reset: 1 }],
  [FLAG_IDN.fDeviceLifeSpanModeEn, { mode: 'rw', reset: 0 }],
  [FLAG_IDN.fPurgeEnable, { mode: 'set-only', reset: 0 }],
  [FLAG_IDN.fRefreshEnable, { mode: 'set-only', reset: 0 }],
  [FLAG_IDN.fPhyResourceRemoval, { mode: 'rw', reset: 0 }],
  [FLAG_IDN.fBusyRTC, { mode: 'ro', reset: 0 }],
  [FLAG_IDN.fPermanentlyDisableFwUpdate, { mode: 'set-only', reset: 0 }],
]);

/** Attribute: reset value, maximum writable value (undefined: read-only). */
const ATTRS: ReadonlyMap<number, { reset: number; max?: number }> = new Map<number, { reset: number; max?: number }>([
  [ATTR_IDN.bBootLunEn, { reset: 0, max: 2 }],
  [ATTR_IDN.bCurrentPowerMode, { reset: 0x11 }], // active
  [ATTR_IDN.bActiveICCLevel, { reset: 0, max: 0x0f }],
  [ATTR_IDN.bOutOfOrderDataEn, { reset: 0, max: 1 }],
  [ATTR_IDN.bBackgroundOpStatus, { reset: 0 }],
  [ATTR_IDN.bPurgeStatus, { reset: 0 }],
  [ATTR_IDN.bMaxDataInSize, { reset: 8, max: 8 }],
  [ATTR_IDN.bMaxDataOutSize, { reset: 8, max: 8 }],
  [ATTR_IDN.dDynCapNeeded, { reset: 0 }],
  [ATTR_IDN.bRefClkFreq, { reset: 1, max: 3 }], // 26 MHz
  [ATTR_IDN.bConfigDescrLock, { reset: 0, max: 1 }],
  [ATTR_IDN.bMaxNumOfRTT, { reset: 2, max: 2 }],
  [ATTR_IDN.wExceptionEventControl, { reset: 0, max: 0xffff }],
  [ATTR_IDN.wExceptionEventStatus, { reset: 0 }],
  [ATTR_IDN.dSecondsPassed, { reset: 0, max: 0xffffffff }],
  [ATTR_IDN.wContextConf, { reset: 0, max: 0xffff }],
  [ATTR_IDN.bDeviceFFUStatus, { reset: 0 }],
  [ATTR_IDN.bPSAState, { reset: 0, max: 0xff }],
  [ATTR_IDN.dPSADataSize, { reset: 0, max: 0xffffffff }],
  [ATTR_IDN.bRefClkGatingWaitTime, { reset: 10 }],
  [ATTR_IDN.bDeviceCaseRoughTemperature, { reset: 0 }],
  [ATTR_IDN.bDeviceTooHighTempBoundary, { reset: 0 }],
  [ATTR_IDN.bDeviceTooLowTempBoundary, { reset: 0 }],
  [ATTR_IDN.bThrottlingStatus, { reset: 0 }],
]);

/** bCurrentPowerMode values for START STOP UNIT power conditions 1 (active), 2 (sleep), 3 (power down). */
const POWER_MODE_FOR_CONDITION: Readonly<Record<number, number>> = { 1: 0x11, 2: 0x22, 3: 0x33 };

export interface QueryReply {
  /** QUERY_RESULT.* */
  readonly response: number;
  /** The transaction-specific fields echoed back (value / length updated). */
  readonly fields: QueryFields;
  readonly data: Uint8Array;
}

const EMPTY: Uint8Array = new Uint8Array(0);
const READ_OPS: readonly number[] = [QUERY_OP.READ_DESC, QUERY_OP.READ_ATTR, QUERY_OP.READ_FLAG];

export class QueryEngine {
  private readonly flags = new Map<number, number>();
  private readonly attrs = new Map<number, number>();
  private initStartedAt: bigint | undefined;
  private initSeenSet = false;

  constructor(private readonly cfg: DescriptorConfig, private readonly now: () => bigint, private readonly deviceInitNs: bigint) {
    this.reset();
  }

  /** Power-on / endpoint reset: flags and attributes back to their defaults. */
  reset(): void {
    for (const [id, f] of FLAGS) this.flags.set(id, f.reset);
    for (const [id, a] of ATTRS) this.attrs.set(id, a.reset);
    this.initStartedAt = undefined;
    this.initSeenSet = false;
  }

  /** START STOP UNIT to the UFS DEVICE W-LU changed the power condition. */
  setPowerCondition(condition: number): void {
    const mode = POWER_MODE_FOR_CONDITION[condition];
    if (mode !== undefined) this.attrs.set(ATTR_IDN.bCurrentPowerMode, mode);
  }

  /** Runs one query; `_data` is the request's data segment (unused: descriptors are read-only). */
  execute(fn: number, q: QueryFields, _data: Uint8Array): QueryReply {
    const reply = (response: number, fields: Partial<QueryFields> = {}, out: Uint8Array = EMPTY): QueryReply => ({ response, fields: { ...q, ...fields }, data: out });
    if (q.opcode === QUERY_OP.NOP) return reply(QUERY_RESULT.SUCCESS);
    if (q.opcode > QUERY_OP.TOGGLE_FLAG) return reply(QUERY_RESULT.INVALID_OPCODE);
    const wantFn = READ_OPS.includes(q.opcode) ? QUERY_FUNC.STANDARD_READ : QUERY_FUNC.STANDARD_WRITE;
    if (fn !== wantFn) return reply(QUERY_RESULT.GENERAL_FAILURE);
    switch (q.opcode) {
      case QUERY_OP.READ_DESC: {
        const r = this.readDescriptor(q);
        if (typeof r === 'number') return reply(r, { length: 0 });
        const out = r.subarray(0, Math.min(r.length, q.length));
        return reply(QUERY_RESULT.SUCCESS, { length: out.length }, out);
      }
      case QUERY_OP.WRITE_DESC:
        return reply(this.descriptorExists(q) ? QUERY_RESULT.NOT_WRITEABLE : QUERY_RESULT.INVALID_IDN);
      case QUERY_OP.READ_ATTR: {
        const v = this.attrs.get(q.idn);
        return v === undefined ? reply(QUERY_RESULT.INVALID_IDN) : reply(QUERY_RESULT.SUCCESS, { value: v });
      }
      case QUERY_OP.WRITE_ATTR: return reply(this.writeAttribute(q.idn, q.value), { value: this.attrs.get(q.idn) ?? 0 });
      default: {
        const r = this.flagOp(q.opcode, q.idn);
        return typeof r === 'number' ? reply(r) : reply(QUERY_RESULT.SUCCESS, { value: r.value });
      }
    }
  }

  private descriptorExists(q: QueryFields): boolean {
    return typeof this.readDescriptor(q) !== 'number';
  }

  /** The descriptor bytes, or a QUERY_RESULT error code. */
  private readDescriptor(q: QueryFields): Uint8Array | number {
    if (q.selector !== 0) return QUERY_RESULT.INVALID_SELECTOR;
    const single = (build: () => Uint8Array): Uint8Array | number => (q.index === 0 ? build() : QUERY_RESULT.INVALID_INDEX);
    switch (q.idn) {
      case DESC_IDN.DEVICE: return single(() => deviceDescriptor(this.cfg));
      case DESC_IDN.CONFIGURATION: return single(() => configurationDescriptor(this.cfg));
      case DESC_IDN.UNIT:
        if (q.index === WLUN.RPMB || q.index >= maxLus(this.cfg)) return QUERY_RESULT.INVALID_INDEX;
        return unitDescriptor(this.cfg, q.index);
      case DESC_IDN.INTERCONNECT: return single(interconnectDescriptor);
      case DESC_IDN.STRING: {
        const s = stringFor(this.cfg.identity, q.index);
        return s === undefined ? QUERY_RESULT.INVALID_INDEX : stringDescriptor(s);
      }
      case DESC_IDN.GEOMETRY: return single(() => geometryDescriptor(this.cfg));
      case DESC_IDN.POWER: return single(powerDescriptor);
      case DESC_IDN.HEALTH: return single(healthDescriptor);
      default: return QUERY_RESULT.INVALID_IDN;
    }
  }

  private writeAttribute(idn: number, value: number): number {
    const spec = ATTRS.get(idn);
    if (spec === undefined) return QUERY_RESULT.INVALID_IDN;
    if (spec.max === undefined) return QUERY_RESULT.NOT_WRITEABLE;
    if (value > spec.max) return QUERY_RESULT.INVALID_VALUE;
    if (idn === ATTR_IDN.bConfigDescrLock && this.attrs.get(idn) === 1) return QUERY_RESULT.ALREADY_WRITTEN;
    this.attrs.set(idn, value);
    return QUERY_RESULT.SUCCESS;
  }

  /** READ/SET/CLEAR/TOGGLE FLAG: the flag's value afterwards, or a QUERY_RESULT error. */
  private flagOp(op: number, idn: number): { value: number } | number {
    const spec = FLAGS.get(idn);
    if (spec === undefined) return QUERY_RESULT.INVALID_IDN;
    if (idn === FLAG_IDN.fDeviceInit) this.advanceDeviceInit(op === QUERY_OP.READ_FLAG);
    const cur = this.flags.get(idn)!;
    if (op === QUERY_OP.READ_FLAG) return { value: cur };
    if (spec.mode === 'ro') return QUERY_RESULT.NOT_WRITEABLE;
    if (spec.mode === 'set-only' && op !== QUERY_OP.SET_FLAG) return QUERY_RESULT.NOT_WRITEABLE;
    const next = op === QUERY_OP.SET_FLAG ? 1 : op === QUERY_OP.CLEAR_FLAG ? 0 : cur ^ 1;
    this.flags.set(idn, next);
    if (idn === FLAG_IDN.fDeviceInit && next === 1 && cur === 0) {
      this.initStartedAt = this.now();
      this.initSeenSet = false;
    }
    return { value: next };
  }

  /** Device initialisation finishes once its time has passed and a READ FLAG has seen it running. */
  private advanceDeviceInit(reading: boolean): void {
    if (this.flags.get(FLAG_IDN.fDeviceInit) !== 1 || this.initStartedAt === undefined) return;
    if (this.initSeenSet && this.now() - this.initStartedAt >= this.deviceInitNs) {
      this.flags.set(FLAG_IDN.fDeviceInit, 0);
      this.initStartedAt = undefined;
    } else if (reading) {
      this.initSeenSet = true;
    }
  }
}
