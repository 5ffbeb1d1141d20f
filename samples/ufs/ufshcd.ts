/**
 * The UFS host controller core, shaped like Linux's drivers/ufs/core/ufshcd.c (legacy
 * single-doorbell mode): host memory (UTRL, UTMRL, one UCD per slot), HCE enable, UIC commands
 * (DME_LINKSTARTUP, DME_GET/SET, power mode change), making the host operational, device
 * management commands on the reserved slot (NOP OUT, QUERY), task management (ABORT TASK), the
 * interrupt handler and the completion of transfer request slots.
 *
 * The SCSI side (scan, CDBs, one gendisk per LU, blk-mq) is ufs-sd.ts; it submits on slots
 * 0..nutrs-2 and gets completions through `hba.ioComplete`. The last slot is reserved for
 * device management commands, as Linux's `hba->reserved_slot`.
 *
 * Differs from Linux: no clock gating, hibernate, auto-hibernate, interrupt aggregation, MCQ or
 * crypto; a fatal host error (HCFES/DFES) is logged, and the requests it stops are then
 * aborted by their timeouts instead of a full host reset.
 */
import {
  complete, devm_request_irq, dev_err, dev_info, dev_warn, dmam_alloc_coherent, init_completion, IRQ_HANDLED, IRQ_NONE,
  mutex_init, mutex_lock, mutex_unlock, msecs_to_jiffies, readl, readl_poll_timeout, reinit_completion,
  wait_for_completion_timeout, writel, EIO, ENOMEM, ETIMEDOUT, type CoherentBuffer, type Completion, type Device,
  type IoMem, type Mutex,
} from '../../linux-kapi/index.js';
import {
  DESC_IDN, FLAG_IDN, HS_SERIES, OCS, PA, PRDT, PWR_MODE, QUERY_FUNC, QUERY_OP, QUERY_RESULT, UFS_INTR, UFS_INTR_ERRORS,
  UFS_INTR_UIC_PWR, UFS_REGS, UIC, uicArgMib, UPIU, UPIU_TC, UPMCRS, UTMRD, UTP_DD, UTRD,
} from '../../devices/ufs/ufs.regs.js';
import {
  be16, be32, prdtEntry, queryUpiu, UCD_PRDT_OFF, UCD_RSP_OFF, upiuHeader, utmrdPrepare, utmrdResult, utrdInit,
  utrdOcs, utrdPrepare,
} from './ufs-upiu.js';

const A = UFS_REGS.offsets;
const HCS = UFS_REGS.bits.HCS;

/** PRDT entries per UCD (Linux: SG_ALL) and the UCD size that holds them. */
export const UFS_MAX_PRDT = 128;
export const UCD_SIZE = UCD_PRDT_OFF + UFS_MAX_PRDT * PRDT.SIZE;
/** Bytes of the reserved slot's data buffer (scan, descriptors). */
const DEV_BUF_SIZE = 4096;
const DEV_CMD_TIMEOUT_MS = 1500;
const UIC_CMD_TIMEOUT_MS = 500;
const TM_TIMEOUT_MS = 100;
const LINK_STARTUP_RETRIES = 3;

/** Interrupts the driver enables once operational (Linux UFSHCD_ENABLE_INTRS). */
const ENABLE_INTRS = UFS_INTR.UTRCS | UFS_INTR.UTMRCS | UFS_INTR.UCCS | UFS_INTR_UIC_PWR | UFS_INTR_ERRORS;

export interface UfsPowerInfo { gear: number; lanes: number; mode: string; series: string }

export interface UfsHba {
  readonly dev: Device;
  readonly base: IoMem;
  readonly irq: number;
  nutrs: number;
  nutmrs: number;
  /** Slot for device management commands (the last one). */
  reservedSlot: number;
  version: string;
  utrl: CoherentBuffer;
  utmrl: CoherentBuffer;
  /** One UCD per slot, UCD_SIZE apart. */
  ucd: CoherentBuffer;
  /** The reserved slot's data buffer. */
  devBuf: CoherentBuffer;
  /** Per I/O slot scratch (UNMAP parameter lists), 64 bytes each. */
  scratch: CoherentBuffer;
  /** Slots rung (or queued to be) and not yet completed. */
  outstanding: number;
  /** Slots prepared but not rung yet (blk-mq batch, see ufshcd_send_command). */
  doorbell: number;
  /** Interrupts enabled now (IE). */
  ie: number;
  state: 'init' | 'operational' | 'stopped';
  readonly uicDone: Completion;
  readonly pwrDone: Completion;
  readonly devCmdDone: Completion;
  readonly tmDone: Completion;
  readonly devLock: Mutex;
  readonly tmLock: Mutex;
  /** A transfer slot (not the reserved one) completed: the SCSI layer finishes it. */
  ioComplete: (slot: number) => void;
  power: UfsPowerInfo;
  device: { spec: number; luns: number; queueDepth: number; product: string };
  readonly errors: { host: number; ocs: number; aborts: number };
}

// ---- memory ---------------------------------------------------------------------------------

/** ufshcd_memory_alloc + ufshcd_host_memory_configure. */
async function memoryAlloc(dev: Device, nutrs: number, nutmrs: number): Promise<Omit<UfsHba, 'dev' | 'base' | 'irq'> | null> {
  const utrl = await dmam_alloc_coherent(dev, nutrs * UTRD.SIZE);
  const utmrl = await dmam_alloc_coherent(dev, nutmrs * UTMRD.SIZE);
  const ucd = await dmam_alloc_coherent(dev, nutrs * UCD_SIZE);
  const devBuf = await dmam_alloc_coherent(dev, DEV_BUF_SIZE);
  const scratch = await dmam_alloc_coherent(dev, nutrs * 64);
  if (!utrl || !utmrl || !ucd || !devBuf || !scratch) return null;
  for (let s = 0; s < nutrs; s++) utrdInit(utrl.cpu_addr, s, ucd.dma_handle + s * UCD_SIZE);
  return {
    nutrs, nutmrs, reservedSlot: nutrs - 1, version: '', utrl, utmrl, ucd, devBuf, scratch, outstanding: 0, doorbell: 0, ie: 0,
    state: 'init', uicDone: init_completion(), pwrDone: init_completion(), devCmdDone: init_completion(),
    tmDone: init_completion(), devLock: mutex_init(), tmLock: mutex_init(), ioComplete: () => undefined,
    power: { gear: 1, lanes: 1, mode: 'SLOW_MODE', series: 'A' }, device: { spec: 0, luns: 0, queueDepth: 0, product: '' },
    errors: { host: 0, ocs: 0, aborts: 0 },
  };
}

/** The UCD of `slot` as bytes (the command UPIU at 0, the response at 512, the PRDT at 1024). */
export const ucdOf = (hba: UfsHba, slot: number): Uint8Array => hba.ucd.cpu_addr.subarray(slot * UCD_SIZE, (slot + 1) * UCD_SIZE);

// ---- interrupts -----------------------------------------------------------------------------

/**
 * ufshcd_transfer_req_compl: slots whose doorbell bit cleared have completed (the legacy
 * doorbell way; UTRLCNR is left alone, as Linux does unless `use_utrlcnr`).
 */
function transferReqCompl(hba: UfsHba): void {
  const dbr = readl(hba.base, A.UTRLDBR);
  const done = (hba.outstanding & ~dbr) >>> 0;
  if (done === 0) return;
  hba.outstanding = (hba.outstanding & ~done) >>> 0;
  for (let bits = done, slot = 0; bits !== 0; bits >>>= 1, slot++) {
    if ((bits & 1) === 0) continue;
    if (slot === hba.reservedSlot) complete(hba.devCmdDone);
    else hba.ioComplete(slot);
  }
}

/** ufshcd_intr: acknowledge (W1C) what is pending and enabled, then serve it. */
function ufshcd_intr(_irq: number, devId: unknown): number {
  const hba = devId as UfsHba;
  const is = readl(hba.base, A.IS) & hba.ie;
  if (is === 0) return IRQ_NONE;
  writel(is, hba.base, A.IS);
  if (is & UFS_INTR.UCCS) complete(hba.uicDone);
  if (is & UFS_INTR_UIC_PWR) complete(hba.pwrDone);
  if (is & UFS_INTR.UTMRCS) complete(hba.tmDone);
  if (is & (UFS_INTR.UTRCS | UFS_INTR_ERRORS)) transferReqCompl(hba);
  if (is & UFS_INTR_ERRORS) hostError(hba, is);
  return IRQ_HANDLED;
}

function hostError(hba: UfsHba, is: number): void {
  hba.errors.host++;
  const names = Object.entries(UFS_INTR).filter(([, v]) => (is & UFS_INTR_ERRORS & v) !== 0).map(([k]) => k).join('|');
  let detail = '';
  if (is & UFS_INTR.UE) detail = ` UECPA 0x${readl(hba.base, A.UECPA).toString(16)} UECDL 0x${readl(hba.base, A.UECDL).toString(16)}`;
  if (is & UFS_INTR.UTPES) detail += ` HCS 0x${readl(hba.base, A.HCS).toString(16)}`;
  const fatal = (is & (UFS_INTR.HCFES | UFS_INTR.DFES)) !== 0;
  dev_err(hba.dev, `host error: IS 0x${is.toString(16)} (${names})${detail}${fatal ? '; fatal: requests still in flight will time out and be aborted' : ''}`);
}

// ---- UIC ------------------------------------------------------------------------------------

/** ufshcd_send_uic_cmd: waits for HCS.UCRDY, runs the command, waits for IS.UCCS. */
export async function ufshcd_send_uic_cmd(hba: UfsHba, cmd: number, arg1 = 0, arg2 = 0, arg3 = 0): Promise<{ err: number; result: number; value: number }> {
  const [rdy] = await readl_poll_timeout(hba.base, A.HCS, (v) => (v & HCS.UCRDY) !== 0, 10, 100_000);
  if (rdy) { dev_err(hba.dev, `UIC 0x${cmd.toString(16)}: controller not ready for a UIC command`); return { err: -EIO, result: -1, value: 0 }; }
  reinit_completion(hba.uicDone);
  writel(arg1, hba.base, A.UCMDARG1);
  writel(arg2, hba.base, A.UCMDARG2);
  writel(arg3, hba.base, A.UCMDARG3);
  writel(cmd, hba.base, A.UICCMD);
  if (!await wait_for_completion_timeout(hba.uicDone, msecs_to_jiffies(UIC_CMD_TIMEOUT_MS))) {
    dev_err(hba.dev, `UIC 0x${cmd.toString(16)} timed out`);
    return { err: -ETIMEDOUT, result: -1, value: 0 };
  }
  const result = readl(hba.base, A.UCMDARG2) & 0xff;
  return { err: result === 0 ? 0 : -EIO, result, value: readl(hba.base, A.UCMDARG3) };
}

export const ufshcd_dme_get = (hba: UfsHba, attr: number, peer = false): Promise<{ err: number; result: number; value: number }> =>
  ufshcd_send_uic_cmd(hba, peer ? UIC.DME_PEER_GET : UIC.DME_GET, uicArgMib(attr));
export async function ufshcd_dme_set(hba: UfsHba, attr: number, value: number, peer = false): Promise<number> {
  return (await ufshcd_send_uic_cmd(hba, peer ? UIC.DME_PEER_SET : UIC.DME_SET, uicArgMib(attr), 0, value)).err;
}

// ---- bring-up -------------------------------------------------------------------------------

/** ufshcd_hba_enable: HCE 0 (if set), then 1, and poll until the controller reads back 1. */
async function hbaEnable(hba: UfsHba): Promise<number> {
  if (readl(hba.base, A.HCE) & 1) {
    writel(0, hba.base, A.HCE);
    const [e] = await readl_poll_timeout(hba.base, A.HCE, (v) => (v & 1) === 0, 100, 50_000);
    if (e) { dev_err(hba.dev, 'controller did not stop (HCE stuck at 1)'); return -EIO; }
  }
  writel(1, hba.base, A.HCE);
  const [e] = await readl_poll_timeout(hba.base, A.HCE, (v) => (v & 1) === 1, 100, 100_000);
  if (e) { dev_err(hba.dev, 'controller enable failed (HCE never read 1)'); return -EIO; }
  hba.ie = UFS_INTR.UCCS | UFS_INTR_UIC_PWR;
  writel(hba.ie, hba.base, A.IE);
  return 0;
}

/** ufshcd_link_startup: DME_LINKSTARTUP (with retries) and HCS.DP. */
async function linkStartup(hba: UfsHba): Promise<number> {
  for (let i = 0; i < LINK_STARTUP_RETRIES; i++) {
    const r = await ufshcd_send_uic_cmd(hba, UIC.DME_LINK_STARTUP);
    if (r.err === 0 && readl(hba.base, A.HCS) & HCS.DP) return 0;
    dev_warn(hba.dev, `link startup failed (result ${r.result}), retrying`);
  }
  dev_err(hba.dev, 'link startup failed: no device present');
  return -EIO;
}

/** ufshcd_make_hba_operational. */
function makeOperational(hba: UfsHba): number {
  hba.ie = ENABLE_INTRS;
  writel(hba.ie, hba.base, A.IE);
  writel(0, hba.base, A.UTRIACR);
  writel(hba.utrl.dma_handle % 0x1_0000_0000, hba.base, A.UTRLBA);
  writel(Math.floor(hba.utrl.dma_handle / 0x1_0000_0000), hba.base, A.UTRLBAU);
  writel(hba.utmrl.dma_handle % 0x1_0000_0000, hba.base, A.UTMRLBA);
  writel(Math.floor(hba.utmrl.dma_handle / 0x1_0000_0000), hba.base, A.UTMRLBAU);
  const hcs = readl(hba.base, A.HCS);
  const ready = HCS.UCRDY | HCS.UTRLRDY | HCS.UTMRLRDY;
  if ((hcs & ready) !== ready) { dev_err(hba.dev, `host not ready: HCS 0x${hcs.toString(16)}`); return -EIO; }
  writel(1, hba.base, A.UTMRLRSR);
  writel(1, hba.base, A.UTRLRSR);
  return 0;
}

// ---- device management commands (reserved slot) ---------------------------------------------

interface DevCmdResult { err: number; ocs: number; rsp: Uint8Array }

/**
 * ufshcd_exec_dev_cmd: one command on the reserved slot. `prepare` writes the request UPIU (and
 * PRDT) into the UCD and returns the data direction and PRDT length.
 */
async function execDevCmd(hba: UfsHba, prepare: (ucd: Uint8Array) => { dd: number; prdtl: number }): Promise<DevCmdResult> {
  await mutex_lock(hba.devLock);
  try {
    const slot = hba.reservedSlot;
    const bit = (1 << slot) >>> 0;
    const ucd = ucdOf(hba, slot);
    const { dd, prdtl } = prepare(ucd);
    utrdPrepare(hba.utrl.cpu_addr, slot, dd, prdtl);
    ucd[UCD_RSP_OFF + UPIU.TYPE] = 0; // a missing response is seen as such
    reinit_completion(hba.devCmdDone);
    hba.outstanding = (hba.outstanding | bit) >>> 0;
    writel(bit, hba.base, A.UTRLDBR);
    if (!await wait_for_completion_timeout(hba.devCmdDone, msecs_to_jiffies(DEV_CMD_TIMEOUT_MS))) {
      writel(~bit >>> 0, hba.base, A.UTRLCLR);
      hba.outstanding = (hba.outstanding & ~bit) >>> 0;
      dev_err(hba.dev, 'device management command timed out');
      return { err: -ETIMEDOUT, ocs: -1, rsp: new Uint8Array(0) };
    }
    const ocs = utrdOcs(hba.utrl.cpu_addr, slot);
    const rsp = ucd.slice(UCD_RSP_OFF, UCD_RSP_OFF + 512);
    if (ocs !== OCS.SUCCESS) hba.errors.ocs++;
    return { err: ocs === OCS.SUCCESS ? 0 : -EIO, ocs, rsp };
  } finally {
    mutex_unlock(hba.devLock);
  }
}

/** ufshcd_verify_dev_init: NOP OUT, expecting NOP IN with our task tag. */
async function verifyDevInit(hba: UfsHba): Promise<number> {
  const tag = hba.reservedSlot;
  const r = await execDevCmd(hba, (ucd) => { upiuHeader(ucd, 0, UPIU_TC.NOP_OUT, 0, 0, tag); return { dd: UTP_DD.NONE, prdtl: 0 }; });
  if (r.err) { dev_err(hba.dev, `NOP OUT failed (OCS ${r.ocs})`); return r.err; }
  if ((r.rsp[UPIU.TYPE]! & 0x3f) !== UPIU_TC.NOP_IN || r.rsp[UPIU.TAG] !== tag) {
    dev_err(hba.dev, `NOP OUT: unexpected answer 0x${r.rsp[UPIU.TYPE]!.toString(16)} tag ${r.rsp[UPIU.TAG]}`);
    return -EIO;
  }
  return 0;
}

export interface QueryResult { err: number; response: number; value: number; data: Uint8Array }

/** ufshcd_query_{flag,attr,descriptor}: one QUERY REQUEST; `length` bytes of descriptor read back. */
export async function ufshcd_query(hba: UfsHba, opcode: number, idn: number, index = 0, value = 0): Promise<QueryResult> {
  const read = opcode === QUERY_OP.READ_DESC || opcode === QUERY_OP.READ_ATTR || opcode === QUERY_OP.READ_FLAG;
  const length = opcode === QUERY_OP.READ_DESC ? 255 : 0;
  const r = await execDevCmd(hba, (ucd) => {
    queryUpiu(ucd, 0, hba.reservedSlot, read ? QUERY_FUNC.STANDARD_READ : QUERY_FUNC.STANDARD_WRITE, opcode, idn, index, 0, length, value);
    return { dd: UTP_DD.NONE, prdtl: 0 };
  });
  if (r.err) return { err: r.err, response: -1, value: 0, data: new Uint8Array(0) };
  if ((r.rsp[UPIU.TYPE]! & 0x3f) !== UPIU_TC.QUERY_RSP) return { err: -EIO, response: -1, value: 0, data: new Uint8Array(0) };
  const response = r.rsp[UPIU.RESPONSE]!;
  const dsl = be16(r.rsp, UPIU.DSL);
  const val = opcode === QUERY_OP.READ_FLAG || opcode === QUERY_OP.SET_FLAG ? r.rsp[UPIU.Q_FLAG_VALUE]! : be32(r.rsp, UPIU.Q_VALUE);
  return {
    err: response === QUERY_RESULT.SUCCESS ? 0 : -EIO, response, value: val,
    data: r.rsp.slice(UPIU.Q_DATA, UPIU.Q_DATA + Math.min(dsl, 512 - UPIU.Q_DATA)),
  };
}

/** ufshcd_complete_dev_init: SET fDeviceInit, then poll until the device clears it. */
async function completeDevInit(hba: UfsHba): Promise<number> {
  const set = await ufshcd_query(hba, QUERY_OP.SET_FLAG, FLAG_IDN.fDeviceInit);
  if (set.err) { dev_err(hba.dev, `setting fDeviceInit failed (response 0x${set.response.toString(16)})`); return set.err; }
  const end = performance.now() + 1500;
  for (;;) {
    const r = await ufshcd_query(hba, QUERY_OP.READ_FLAG, FLAG_IDN.fDeviceInit);
    if (r.err) return r.err;
    if (r.value === 0) return 0;
    if (performance.now() > end) { dev_err(hba.dev, 'fDeviceInit was not cleared by the device'); return -ETIMEDOUT; }
    await new Promise((res) => setTimeout(res, 1));
  }
}

/** ufs_get_device_desc + the product name string descriptor. */
async function readDeviceDesc(hba: UfsHba): Promise<number> {
  const d = await ufshcd_query(hba, QUERY_OP.READ_DESC, DESC_IDN.DEVICE);
  if (d.err || d.data.length < 0x22) { dev_err(hba.dev, 'reading the device descriptor failed'); return d.err || -EIO; }
  hba.device.luns = d.data[0x06]!;
  hba.device.spec = be16(d.data, 0x10);
  hba.device.queueDepth = d.data[0x21]! || hba.nutrs;
  const s = await ufshcd_query(hba, QUERY_OP.READ_DESC, DESC_IDN.STRING, d.data[0x15]!);
  if (!s.err && s.data.length > 2) {
    let name = '';
    for (let i = 2; i + 1 < Math.min(s.data.length, s.data[0]!); i += 2) name += String.fromCharCode(be16(s.data, i));
    hba.device.product = name.trim();
  }
  return 0;
}

/**
 * ufshcd_change_power_mode: the fastest gear and all connected lanes both sides support,
 * HS series B, FAST mode; then PA_PWRMODE and wait for UPMCRS = PWR_LOCAL. A controller that
 * does not know the attributes stays in its current mode (logged).
 */
async function changePowerMode(hba: UfsHba): Promise<number> {
  const rxLanes = await ufshcd_dme_get(hba, PA.CONNECTEDRXDATALANES);
  const txLanes = await ufshcd_dme_get(hba, PA.CONNECTEDTXDATALANES);
  const maxRx = await ufshcd_dme_get(hba, PA.MAXRXHSGEAR);
  const peerRx = await ufshcd_dme_get(hba, PA.MAXRXHSGEAR, true);
  if (rxLanes.err || txLanes.err || maxRx.err || peerRx.err) {
    dev_info(hba.dev, 'power mode attributes unavailable: staying in the power-on mode');
    return 0;
  }
  const gear = Math.max(1, Math.min(maxRx.value, peerRx.value));
  const lanes = Math.max(1, Math.min(rxLanes.value, txLanes.value));
  for (const [attr, v] of [[PA.RXGEAR, gear], [PA.ACTIVERXDATALANES, lanes], [PA.RXTERMINATION, 1], [PA.TXGEAR, gear],
    [PA.ACTIVETXDATALANES, lanes], [PA.TXTERMINATION, 1], [PA.HSSERIES, HS_SERIES.B]] as const) {
    const e = await ufshcd_dme_set(hba, attr, v);
    if (e) { dev_err(hba.dev, `DME_SET 0x${attr.toString(16)} = ${v} failed`); return e; }
  }
  reinit_completion(hba.pwrDone);
  const e = await ufshcd_dme_set(hba, PA.PWRMODE, (PWR_MODE.FAST << 4) | PWR_MODE.FAST);
  if (e) { dev_err(hba.dev, 'DME_SET PA_PWRMODE failed'); return e; }
  if (!await wait_for_completion_timeout(hba.pwrDone, msecs_to_jiffies(UIC_CMD_TIMEOUT_MS))) {
    dev_err(hba.dev, 'power mode change timed out');
    return -ETIMEDOUT;
  }
  const st = UFS_REGS.get(readl(hba.base, A.HCS), 'HCS', 'UPMCRS');
  if (st !== UPMCRS.PWR_LOCAL) { dev_err(hba.dev, `power mode change failed: UPMCRS ${st}`); return -EIO; }
  hba.power = { gear, lanes, mode: 'FAST_MODE', series: 'B' };
  return 0;
}

/**
 * ufshcd_init + ufshcd_probe_hba: memory, IRQ, enable, link, operational, NOP, fDeviceInit,
 * descriptors, gear up. Returns the host or a negative errno.
 */
export async function ufshcd_init(dev: Device, base: IoMem, irq: number): Promise<UfsHba | number> {
  const cap = readl(base, A.CAP);
  if (cap === 0xffffffff) { dev_err(dev, 'registers unreadable'); return -EIO; }
  const ver = readl(base, A.VER);
  const nutrs = UFS_REGS.get(cap, 'CAP', 'NUTRS') + 1;
  const nutmrs = UFS_REGS.get(cap, 'CAP', 'NUTMRS') + 1;
  const mem = await memoryAlloc(dev, nutrs, nutmrs);
  if (!mem) return -ENOMEM;
  const hba: UfsHba = { dev, base, irq, ...mem, version: `${(ver >> 8) & 0xff}.${(ver >> 4) & 0xf}` };
  writel(readl(base, A.IS), base, A.IS);
  writel(0, base, A.IE);
  let r = await devm_request_irq(dev, irq, ufshcd_intr, 0, 'ufshcd', hba);
  if (r) { dev_err(dev, `cannot request IRQ ${irq}: ${r}`); return r; }
  if ((r = await hbaEnable(hba))) return r;
  if ((r = await linkStartup(hba))) return r;
  if ((r = makeOperational(hba))) return r;
  hba.state = 'operational';
  if ((r = await verifyDevInit(hba))) return r;
  if ((r = await completeDevInit(hba))) return r;
  if ((r = await readDeviceDesc(hba))) return r;
  if ((r = await changePowerMode(hba))) return r;
  dev_info(dev, `UFSHCI ${hba.version}, ${nutrs} slots; device "${hba.device.product}" UFS ${(hba.device.spec >> 8).toString(16)}.${((hba.device.spec >> 4) & 0xf).toString(16)}, `
    + `${hba.device.luns} LU(s); link HS-G${hba.power.gear}${hba.power.series} x${hba.power.lanes} ${hba.power.mode}`);
  return hba;
}

/** ufshcd_hba_stop: no more interrupts, lists stopped, controller disabled. */
export function ufshcd_hba_stop(hba: UfsHba): void {
  hba.state = 'stopped';
  hba.ie = 0;
  writel(0, hba.base, A.IE);
  writel(0, hba.base, A.UTRLRSR);
  writel(0, hba.base, A.UTMRLRSR);
  writel(0, hba.base, A.HCE);
  readl(hba.base, A.HCE); // flush the posted writes
}

// ---- transfer requests and task management ---------------------------------------------------

/**
 * ufshcd_send_command: `slot` (its UTRD and UCD ready) joins the doorbell batch; with `ring`
 * (blk-mq's bd->last) the batch is rung with one UTRLDBR write. Linux's legacy path rings per
 * command; one write per batch is what bd->last / commit_rqs exist for, and each posted write
 * may have to wake the machine thread.
 */
export function ufshcd_send_command(hba: UfsHba, slot: number, ring: boolean): void {
  const bit = (1 << slot) >>> 0;
  hba.outstanding = (hba.outstanding | bit) >>> 0;
  hba.doorbell = (hba.doorbell | bit) >>> 0;
  if (ring) ufshcd_commit_doorbell(hba);
}

/** Rings every slot queued since the last doorbell write (blk_mq_ops.commit_rqs). */
export function ufshcd_commit_doorbell(hba: UfsHba): void {
  if (hba.doorbell === 0) return;
  const bits = hba.doorbell;
  hba.doorbell = 0;
  writel(bits, hba.base, A.UTRLDBR);
}

export { prdtEntry, utrdPrepare, utrdOcs };

/**
 * ufshcd_abort: ABORT TASK for `tag` of `lun` (task management), then the slot is cleared
 * (UTRLCLR) and its completion is never reported. 0 or a negative errno.
 */
export async function ufshcd_abort(hba: UfsHba, lun: number, tag: number): Promise<number> {
  hba.errors.aborts++;
  const bit = (1 << tag) >>> 0;
  await mutex_lock(hba.tmLock);
  let service = -1;
  try {
    utmrdPrepare(hba.utmrl.cpu_addr, 0, lun, tag, 0x01 /* ABORT TASK */, lun, tag);
    reinit_completion(hba.tmDone);
    writel(1, hba.base, A.UTMRLDBR);
    if (await wait_for_completion_timeout(hba.tmDone, msecs_to_jiffies(TM_TIMEOUT_MS))) service = utmrdResult(hba.utmrl.cpu_addr, 0).service;
    else writel(~1 >>> 0, hba.base, A.UTMRLCLR);
  } finally {
    mutex_unlock(hba.tmLock);
  }
  writel(~bit >>> 0, hba.base, A.UTRLCLR);
  const [e] = await readl_poll_timeout(hba.base, A.UTRLDBR, (v) => (v & bit) === 0, 10, 100_000);
  hba.outstanding = (hba.outstanding & ~bit) >>> 0;
  dev_warn(hba.dev, `tag ${tag} (LU ${lun}) aborted: task management service response ${service < 0 ? 'none (timed out)' : `0x${service.toString(16)}`}${e ? ', slot did not clear' : ''}`);
  return e ? -EIO : 0;
}

/**
 * Runs one SCSI command on the reserved slot (used by the scan before the disks exist):
 * `dataIn` bytes read into the host's device buffer, or `dataOut` sent from it.
 */
export async function ufshcd_exec_scsi(hba: UfsHba, lun: number, cdb: Uint8Array, o: { dataIn?: number; dataOut?: Uint8Array } = {}): Promise<{ err: number; status: number; sense: Uint8Array; data: Uint8Array }> {
  const len = o.dataIn ?? o.dataOut?.length ?? 0;
  if (len > DEV_BUF_SIZE) return { err: -EIO, status: -1, sense: new Uint8Array(0), data: new Uint8Array(0) };
  if (o.dataOut) hba.devBuf.cpu_addr.set(o.dataOut);
  const r = await execDevCmd(hba, (ucd) => {
    const flags = o.dataIn !== undefined ? 0x40 : o.dataOut ? 0x20 : 0;
    upiuHeader(ucd, 0, UPIU_TC.COMMAND, flags, lun, hba.reservedSlot);
    ucd[UPIU.EDTL] = (len >>> 24) & 0xff; ucd[UPIU.EDTL + 1] = (len >>> 16) & 0xff; ucd[UPIU.EDTL + 2] = (len >>> 8) & 0xff; ucd[UPIU.EDTL + 3] = len & 0xff;
    ucd.set(cdb, UPIU.CDB);
    const padded = Math.ceil(len / 4) * 4;
    if (len) prdtEntry(ucd, UCD_PRDT_OFF, 0, hba.devBuf.dma_handle, padded);
    return { dd: o.dataIn !== undefined ? UTP_DD.DEVICE_TO_HOST : o.dataOut ? UTP_DD.HOST_TO_DEVICE : UTP_DD.NONE, prdtl: len ? 1 : 0 };
  });
  if (r.err) return { err: r.err, status: -1, sense: new Uint8Array(0), data: new Uint8Array(0) };
  const status = r.rsp[UPIU.STATUS]!;
  const senseLen = Math.min(be16(r.rsp, UPIU.SENSE_LEN), 18);
  const residual = be32(r.rsp, UPIU.RESIDUAL);
  return {
    err: 0, status, sense: r.rsp.slice(UPIU.SENSE, UPIU.SENSE + senseLen),
    data: o.dataIn !== undefined ? hba.devBuf.cpu_addr.slice(0, Math.max(0, len - residual)) : new Uint8Array(0),
  };
}
