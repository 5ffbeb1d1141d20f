/**
 * @module devices/ufs/ufs.tm
 * UTP task management (UFSHCI §6.3, JESD220 §10.7.6–7): the UTMRD in host memory and what the
 * device does with a TASK MANAGEMENT REQUEST against the tasks it holds.
 *
 * ABORT TASK / ABORT TASK SET / CLEAR TASK SET / LOGICAL UNIT RESET drop the matching tasks
 * (the device will never answer them: the driver then clears their slots with UTRLCLR, as Linux
 * does) and answer FUNCTION COMPLETE. QUERY TASK / QUERY TASK SET answer FUNCTION SUCCEEDED when
 * a matching task is still held, FUNCTION COMPLETE otherwise. A LUN with no logical unit gets
 * INCORRECT LOGICAL UNIT NUMBER, an unknown function NOT SUPPORTED.
 */
import type { DmaSpace } from '../core/dma.js';
import { OCS, TM_FUNC, TM_SERVICE, UPIU_TC, UTMRD } from './ufs.regs.js';
import { buildTaskResponse, decodeHeader, decodeTaskRequest } from './ufs.upiu.js';

/** A task the device holds (a dispatched transfer request not yet completed). */
export interface HeldTask {
  readonly slot: number;
  readonly lun: number;
  readonly tag: number;
}

export interface TaskManager {
  hasLun(lun: number): boolean;
  held(): readonly HeldTask[];
  /** Drops a task: it will not complete. */
  abort(slot: number): void;
}

/** Service response for one TM function; aborts tasks through `tm`. */
export function taskFunction(fn: number, lun: number, tag: number, tm: TaskManager): number {
  if (!tm.hasLun(lun)) return TM_SERVICE.INCORRECT_LUN;
  const onLun = tm.held().filter((t) => t.lun === lun);
  const exact = onLun.filter((t) => t.tag === tag);
  switch (fn) {
    case TM_FUNC.ABORT_TASK:
      exact.forEach((t) => tm.abort(t.slot));
      return TM_SERVICE.COMPLETE;
    case TM_FUNC.ABORT_TASK_SET: case TM_FUNC.CLEAR_TASK_SET: case TM_FUNC.LOGICAL_UNIT_RESET:
      onLun.forEach((t) => tm.abort(t.slot));
      return TM_SERVICE.COMPLETE;
    case TM_FUNC.QUERY_TASK: return exact.length > 0 ? TM_SERVICE.SUCCEEDED : TM_SERVICE.COMPLETE;
    case TM_FUNC.QUERY_TASK_SET: return onLun.length > 0 ? TM_SERVICE.SUCCEEDED : TM_SERVICE.COMPLETE;
    default: return TM_SERVICE.NOT_SUPPORTED;
  }
}

export interface TmResult {
  /** Undefined when the UTMRD itself was unreachable (no OCS can be written). */
  readonly ocs: number | undefined;
  readonly intr: boolean;
  readonly busError: boolean;
}

/**
 * Runs the TM request in the UTMRD at `addr`: reads the request UPIU (bytes 16..47), writes the
 * TASK MANAGEMENT RESPONSE UPIU (bytes 48..79) and the OCS (DW2).
 */
export function runTaskRequest(dma: DmaSpace, addr: number, tm: TaskManager): TmResult {
  const r = dma.read(addr, UTMRD.SIZE);
  if (!r.ok) return { ocs: undefined, intr: true, busError: true };
  const intr = (new DataView(r.data.buffer).getUint32(UTMRD.DW0, true) & UTMRD.I) !== 0;
  const req = r.data.subarray(UTMRD.REQ_UPIU, UTMRD.REQ_UPIU + UTMRD.UPIU_SIZE);
  let ocs: number = OCS.SUCCESS;
  if (decodeHeader(req).type === UPIU_TC.TASK_REQ) {
    const t = decodeTaskRequest(req);
    const service = taskFunction(t.fn, t.param1 & 0xff, t.param2 & 0xff, tm);
    const rsp = buildTaskResponse({ lun: t.lun, tag: t.tag, response: 0, param1: service, param2: 0 });
    if (dma.write(addr + UTMRD.RSP_UPIU, rsp) !== 'ok') return { ocs: undefined, intr: true, busError: true };
  } else {
    ocs = OCS.INVALID_CMD_TABLE_ATTR;
  }
  const ok = dma.write(addr + UTMRD.DW2, Uint8Array.of(ocs)) === 'ok';
  return { ocs: ok ? ocs : undefined, intr, busError: !ok };
}
