/**
 * @module devices/ufs/ufs.uic
 * The UIC layer seen through UICCMD: a UniPro link with a small MIB attribute store on each
 * side (local = host M-PHY/UniPro, peer = the device's), link startup, power mode changes and
 * hibernate (hardware-models.md §1.2). The controller (ufs.model.ts) owns timing and registers;
 * this class only decides what a command does.
 *
 * Attribute values model a 2-lane UFS 3.1 link: connected lanes 2, max HS gear 4, max PWM gear
 * 4, UniPro 1.8 (PA_LOCALVERINFO 5). After link startup the link runs in SLOWAUTO PWM-G1 on one
 * lane (an estimate: UniPro starts in the slowest mode). PA_PWRMODE validation: modes 1/2/4/5
 * (7 = unchanged), gear within the max for the mode, lanes 1..connected, HS series A/B; a
 * request that fails gives UPMCRS = PWR_ERROR_CAP.
 *
 * Deliberate differences: unknown attributes read as INVALID_MIB_ATTRIBUTE; unknown attribute
 * SETs are stored (vendor attributes) unless strict; GenSelectorIndex must be 0 for PA/DME
 * attributes (BAD_INDEX otherwise); DME_TEST_MODE is not implemented (DME_FAILURE).
 */
import { DME, HS_SERIES, PA, PWR_MODE, UIC, UIC_RESULT, UPMCRS } from './ufs.regs.js';

interface AttrSpec {
  readonly reset: number;
  readonly readOnly?: boolean;
}

const LANES = 2;
const MAX_HS_GEAR = 4;
const MAX_PWM_GEAR = 4;
const UNIPRO_1_8 = 5;

/** The attributes both sides implement, with their values after link startup. */
const ATTRS: ReadonlyMap<number, AttrSpec> = new Map<number, AttrSpec>([
  [PA.AVAILTXDATALANES, { reset: LANES, readOnly: true }],
  [PA.AVAILRXDATALANES, { reset: LANES, readOnly: true }],
  [PA.CONNECTEDTXDATALANES, { reset: LANES, readOnly: true }],
  [PA.CONNECTEDRXDATALANES, { reset: LANES, readOnly: true }],
  [PA.MAXRXHSGEAR, { reset: MAX_HS_GEAR, readOnly: true }],
  [PA.MAXRXPWMGEAR, { reset: MAX_PWM_GEAR, readOnly: true }],
  [PA.LOCALVERINFO, { reset: UNIPRO_1_8, readOnly: true }],
  [PA.REMOTEVERINFO, { reset: UNIPRO_1_8, readOnly: true }],
  [PA.ACTIVETXDATALANES, { reset: 1 }],
  [PA.ACTIVERXDATALANES, { reset: 1 }],
  [PA.TXGEAR, { reset: 1 }],
  [PA.RXGEAR, { reset: 1 }],
  [PA.TXTERMINATION, { reset: 0 }],
  [PA.RXTERMINATION, { reset: 0 }],
  [PA.HSSERIES, { reset: HS_SERIES.A }],
  [PA.PWRMODE, { reset: (PWR_MODE.SLOWAUTO << 4) | PWR_MODE.SLOWAUTO }],
  [PA.HIBERN8TIME, { reset: 1 }],
  [PA.TACTIVATE, { reset: 1 }],
  [PA.GRANULARITY, { reset: 6 }],
  [PA.TXHSADAPTTYPE, { reset: 0 }],
  [PA.PWRMODEUSERDATA0, { reset: 0x1fff }], [PA.PWRMODEUSERDATA1, { reset: 0xffff }],
  [PA.PWRMODEUSERDATA2, { reset: 0x7fff }], [PA.PWRMODEUSERDATA3, { reset: 0x1fff }],
  [PA.PWRMODEUSERDATA4, { reset: 0xffff }], [PA.PWRMODEUSERDATA5, { reset: 0x7fff }],
  [DME.LOCAL_FC0_PROTECTION_TIMEOUT, { reset: 0x1fff }],
  [DME.LOCAL_TC0_REPLAY_TIMEOUT, { reset: 0xffff }],
  [DME.LOCAL_AFC0_REQ_TIMEOUT, { reset: 0x7fff }],
  [DME.VS_POWERSTATE, { reset: 0, readOnly: true }],
]);

/** What the controller must do once a UIC command has run. */
export interface UicOutcome {
  /** UCMDARG2 bits 7:0. */
  readonly result: number;
  /** UCMDARG3 (GET commands). */
  readonly value?: number;
  /** The link came up: set HCS.DP/UTRLRDY/UTMRLRDY and IS.ULSS. */
  readonly linkUp?: boolean;
  /** The link went down (DME_RESET): clear HCS.DP/UTRLRDY/UTMRLRDY. */
  readonly linkDown?: boolean;
  /** A power mode change follows: after its delay, HCS.UPMCRS = this value and IS.UPMS. */
  readonly powerChange?: number;
  /** Hibernate entered / exited: after the delay, IS.UHES / IS.UHXS and UPMCRS = PWR_LOCAL. */
  readonly hibernate?: 'enter' | 'exit';
  /** DME_END_PT_RST: the device resets. */
  readonly endpointReset?: boolean;
}

const key = (attr: number, sel: number): number => attr * 0x10000 + sel;

export class UicLink {
  /** True between a successful DME_LINK_STARTUP and a reset. */
  up = false;
  hibernated = false;
  private readonly local = new Map<number, number>();
  private readonly peer = new Map<number, number>();

  constructor(private readonly strict: boolean, private readonly log: (msg: string) => void) {
    this.reset();
  }

  /** Link down, every attribute back to its reset value. */
  reset(): void {
    this.up = false;
    this.hibernated = false;
    for (const m of [this.local, this.peer]) {
      m.clear();
      for (const [attr, spec] of ATTRS) m.set(key(attr, 0), spec.reset);
    }
  }

  /** Runs one UIC command (opcode, UCMDARG1..3). */
  execute(op: number, arg1: number, _arg2: number, arg3: number): UicOutcome {
    const attr = arg1 >>> 16, sel = arg1 & 0xffff;
    switch (op) {
      case UIC.DME_LINK_STARTUP: return this.linkStartup();
      case UIC.DME_GET: return this.get(this.local, attr, sel);
      case UIC.DME_PEER_GET: return this.up ? this.get(this.peer, attr, sel) : { result: UIC_RESULT.PEER_COMMUNICATION_FAILURE };
      case UIC.DME_SET: return this.set(this.local, attr, sel, arg3, true);
      case UIC.DME_PEER_SET: return this.up ? this.set(this.peer, attr, sel, arg3, false) : { result: UIC_RESULT.PEER_COMMUNICATION_FAILURE };
      case UIC.DME_HIBER_ENTER: return this.hibernate(true);
      case UIC.DME_HIBER_EXIT: return this.hibernate(false);
      case UIC.DME_RESET:
        this.reset();
        return { result: UIC_RESULT.SUCCESS, linkDown: true };
      case UIC.DME_END_PT_RST: return { result: UIC_RESULT.SUCCESS, endpointReset: true };
      case UIC.DME_POWERON: case UIC.DME_POWEROFF: case UIC.DME_ENABLE: return { result: UIC_RESULT.SUCCESS };
      case UIC.DME_TEST_MODE:
        this.log('UIC DME_TEST_MODE is not implemented');
        return { result: UIC_RESULT.DME_FAILURE };
      default:
        this.log(`unknown UIC opcode 0x${op.toString(16)}`);
        return { result: UIC_RESULT.DME_FAILURE };
    }
  }

  private linkStartup(): UicOutcome {
    // A repeated startup restarts the link from its power-on state (Linux retries it).
    this.reset();
    this.up = true;
    this.local.set(key(DME.VS_POWERSTATE, 0), 2);
    return { result: UIC_RESULT.SUCCESS, linkUp: true };
  }

  private get(store: Map<number, number>, attr: number, sel: number): UicOutcome {
    const v = store.get(key(attr, sel));
    if (v !== undefined) return { result: UIC_RESULT.SUCCESS, value: v };
    if (sel !== 0 && store.has(key(attr, 0))) return { result: UIC_RESULT.BAD_INDEX };
    return { result: UIC_RESULT.INVALID_MIB_ATTRIBUTE };
  }

  private set(store: Map<number, number>, attr: number, sel: number, value: number, local: boolean): UicOutcome {
    const spec = ATTRS.get(attr);
    if (spec === undefined) {
      if (this.strict) return { result: UIC_RESULT.INVALID_MIB_ATTRIBUTE };
      store.set(key(attr, sel), value >>> 0); // a vendor attribute: remember it
      return { result: UIC_RESULT.SUCCESS };
    }
    if (sel !== 0) return { result: UIC_RESULT.BAD_INDEX };
    if (spec.readOnly) return { result: UIC_RESULT.READ_ONLY_MIB_ATTRIBUTE };
    store.set(key(attr, 0), value >>> 0);
    if (attr !== PA.PWRMODE || !local) return { result: UIC_RESULT.SUCCESS };
    if (!this.up) return { result: UIC_RESULT.PEER_COMMUNICATION_FAILURE };
    return { result: UIC_RESULT.SUCCESS, powerChange: this.powerModeStatus(value) };
  }

  /** UPMCRS for a PA_PWRMODE request, from the PA_* attributes programmed before it. */
  private powerModeStatus(mode: number): number {
    const rx = (mode >> 4) & 0xf, tx = mode & 0xf;
    const a = (attr: number): number => this.local.get(key(attr, 0)) ?? 0;
    const ok = (m: number, gear: number, lanes: number): boolean => {
      if (m === PWR_MODE.UNCHANGED) return true;
      const fast = m === PWR_MODE.FAST || m === PWR_MODE.FASTAUTO;
      const slow = m === PWR_MODE.SLOW || m === PWR_MODE.SLOWAUTO;
      const maxGear = fast ? MAX_HS_GEAR : MAX_PWM_GEAR;
      return (fast || slow) && gear >= 1 && gear <= maxGear && lanes >= 1 && lanes <= LANES;
    };
    const series = a(PA.HSSERIES);
    const good = ok(rx, a(PA.RXGEAR), a(PA.ACTIVERXDATALANES)) && ok(tx, a(PA.TXGEAR), a(PA.ACTIVETXDATALANES)) &&
      (series === HS_SERIES.A || series === HS_SERIES.B);
    if (!good) this.log(`power mode change 0x${mode.toString(16)} rejected (gear, lanes or series out of range)`);
    return good ? UPMCRS.PWR_LOCAL : UPMCRS.PWR_ERROR_CAP;
  }

  private hibernate(enter: boolean): UicOutcome {
    if (!this.up) return { result: UIC_RESULT.PEER_COMMUNICATION_FAILURE };
    this.hibernated = enter;
    return { result: UIC_RESULT.SUCCESS, hibernate: enter ? 'enter' : 'exit' };
  }
}
