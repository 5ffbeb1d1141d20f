/**
 * @module devices/ufs/ufs.device
 * The UFS device behind the host controller (Renode's UFSHostController / UFSDevice split):
 * it takes a request UPIU plus a DataPort over the request's PRDT and returns the response
 * UPIU. NOP OUT → NOP IN; QUERY REQUEST → query engine; COMMAND → the SCSI target for the LUN
 * (ordinary LUs 0..n-1, well-known LUs REPORT LUNS 0x81, UFS DEVICE 0xd0, BOOT 0xb0, RPMB 0xc4,
 * anything else "logical unit not supported"). Any other transaction code is rejected.
 *
 * A CHECK CONDITION response carries response = TARGET FAILURE and the sense data, as QEMU does
 * (hardware-models.md §1.5). OVERFLOW / UNDERFLOW and the residual count come from the expected
 * data transfer length vs what the CDB asked for and what was moved.
 */
import { UPIU, UPIU_FLAGS, UPIU_RESPONSE, UPIU_TC, WLUN } from './ufs.regs.js';
import { QueryEngine } from './ufs.query.js';
import { AbsentLu, LogicalUnit, mediaCostAt, WellKnownLu, type DataPort, type MutableMediaCost, type ScsiDeviceInfo } from './ufs.scsi.js';
import { openStorage } from './ufs.storage.js';
import type { RequestCost } from './ufs.timing.js';
import {
  buildCommandResponse, buildNopIn, buildQueryResponse, buildReject, decodeHeader, decodeQueryFields, writeCommandResponse,
} from './ufs.upiu.js';
import type { DeviceIdentity } from './ufs.descriptors.js';

export interface LuParams {
  readonly sizeBytes: number;
  /** Logical block size; default 4096 (UFS: bLogicalBlockSize >= 12). */
  readonly blockSize?: number;
  /** Sparse image file; default: memory. */
  readonly backingFile?: string;
  readonly writeProtected?: boolean;
}

export interface DeviceReply {
  readonly response: Uint8Array;
  /** The data phase failed on the host side. */
  readonly hostError?: 'mismatch' | 'fault';
  /** The UPIU was not one the device accepts (REJECT). */
  readonly rejected?: boolean;
}

export const DEFAULT_IDENTITY: DeviceIdentity = Object.freeze({
  manufacturer: 'HMDRV', product: 'Virtual UFS 3.1', serial: 'HMUFS00000001', oemId: 'HM', revision: '0100',
});

const WELL_KNOWN = [WLUN.REPORT_LUNS, WLUN.UFS_DEVICE, WLUN.BOOT, WLUN.RPMB];

export class UfsDevice {
  readonly lus: LogicalUnit[] = [];
  private readonly wlus = new Map<number, WellKnownLu>();
  private readonly info: ScsiDeviceInfo;
  readonly query: QueryEngine;
  // Per-IO scratch (requests run one at a time, synchronously): see cost() and execute().
  private readonly costScratch: MutableMediaCost = { kind: 'none', bytes: 0 };
  private readonly cmdScratch = { cdb: new Uint8Array(UPIU.CDB_SIZE), edtl: 0 };
  private readonly responseScratch = new Uint8Array(UPIU.BASE_SIZE);
  private readonly replyScratch: { response: Uint8Array; hostError?: 'mismatch' | 'fault'; rejected?: boolean } = { response: this.responseScratch, hostError: undefined };

  /** Opens every LU's storage (may throw on a bad backing file). */
  constructor(luParams: readonly LuParams[], queueDepth: number, now: () => bigint, deviceInitNs: bigint, identity = DEFAULT_IDENTITY) {
    this.info = {
      identity: { vendor: identity.manufacturer, product: identity.product, revision: identity.revision, serial: identity.serial },
      luns: luParams.map((_, i) => i),
      wluns: WELL_KNOWN,
      onPowerCondition: (c) => this.query.setPowerCondition(c),
    };
    try {
      luParams.forEach((p, lun) => {
        const storage = openStorage({ sizeBytes: p.sizeBytes, backingFile: p.backingFile });
        this.lus.push(new LogicalUnit(lun, this.info, { blockSize: p.blockSize ?? 4096, storage, writeProtected: p.writeProtected }));
      });
    } catch (err) {
      this.close();
      throw err;
    }
    for (const w of WELL_KNOWN) this.wlus.set(w, new WellKnownLu(w, this.info));
    const lus = this.lus.map((l) => ({ lun: l.lun, blockSize: l.blockSize, blocks: l.blocks }));
    this.query = new QueryEngine({ lus, queueDepth, identity }, now, deviceInitNs);
  }

  /** Power-on reset of the device state (flags, attributes); stored data is kept. */
  reset(): void {
    this.query.reset();
  }

  close(): void {
    for (const lu of this.lus) lu.storage.close();
  }

  /** True for a LUN (UPIU numbering) with a logical unit behind it. */
  hasLun(lun: number): boolean {
    return this.lus[lun] !== undefined || this.wlus.has(lun);
  }

  /**
   * What the request will cost the medium (for the timing model); cheap, no validation. The
   * result is reused by the next call: consume it at once.
   */
  cost(req: Uint8Array): RequestCost {
    const c = this.costScratch;
    c.kind = 'none';
    c.bytes = 0;
    if ((req[UPIU.TYPE]! & 0x3f) !== UPIU_TC.COMMAND) return c;
    const lu = this.lus[req[UPIU.LUN]!];
    return lu === undefined ? c : mediaCostAt(req, UPIU.CDB, lu.blockSize, c);
  }

  /**
   * Executes one request UPIU (header + fields + data segment). A COMMAND's reply and its
   * response bytes (when there is no sense data) are reused by the next call: consume them at once.
   */
  execute(req: Uint8Array, port: DataPort): DeviceReply {
    const type = req[UPIU.TYPE]! & 0x3f;
    if (type === UPIU_TC.COMMAND) return this.command(req, port);
    const h = decodeHeader(req);
    switch (type) {
      case UPIU_TC.NOP_OUT: return { response: buildNopIn(h.tag) };
      case UPIU_TC.QUERY_REQ: {
        const r = this.query.execute(h.fn, decodeQueryFields(req), req.subarray(UPIU.Q_DATA, UPIU.Q_DATA + h.dsl));
        return { response: buildQueryResponse({ tag: h.tag, fn: h.fn, response: r.response, ...r.fields, data: r.data }) };
      }
      default: return { response: buildReject(h.tag, h.lun), rejected: true };
    }
  }

  /** COMMAND → SCSI target → RESPONSE, through per-device scratch (the hot path: one per IO). */
  private command(req: Uint8Array, port: DataPort): DeviceReply {
    const lun = req[UPIU.LUN]!, tag = req[UPIU.TAG]!;
    const edtl = ((req[UPIU.EDTL]! << 24) | (req[UPIU.EDTL + 1]! << 16) | (req[UPIU.EDTL + 2]! << 8) | req[UPIU.EDTL + 3]!) >>> 0;
    const cmd = this.cmdScratch;
    for (let i = 0; i < UPIU.CDB_SIZE; i++) cmd.cdb[i] = req[UPIU.CDB + i]!;
    cmd.edtl = edtl;
    const target = this.lus[lun] ?? this.wlus.get(lun) ?? new AbsentLu(lun, this.info);
    const out = target.execute(cmd, port);
    let flags = 0, residual = 0;
    if (out.required > edtl) {
      flags = UPIU_FLAGS.OVERFLOW;
      residual = out.required - edtl;
    } else if (out.transferred < edtl) {
      flags = UPIU_FLAGS.UNDERFLOW;
      residual = edtl - out.transferred;
    }
    const response = out.status === 0 ? UPIU_RESPONSE.TARGET_SUCCESS : UPIU_RESPONSE.TARGET_FAILURE;
    const reply = this.replyScratch;
    if (out.sense.length === 0) {
      writeCommandResponse(this.responseScratch, lun, tag, flags, response, out.status, residual);
      reply.response = this.responseScratch;
    } else {
      reply.response = buildCommandResponse({ lun, tag, flags, response, status: out.status, residual, sense: out.sense });
    }
    reply.hostError = out.hostError;
    return reply;
  }
}
