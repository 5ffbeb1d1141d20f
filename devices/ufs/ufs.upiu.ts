/**
 * @module devices/ufs/ufs.upiu
 * UPIU encode/decode (JESD220 §10, big-endian on the wire) shared by the device model (which
 * decodes requests and builds responses) and the test driver (which does the opposite).
 * Host-memory descriptors (UTRD, PRDT) are in ufs.utp.ts; offsets and codes in ufs.regs.ts.
 *
 * @example
 * const req = buildCommandUpiu({ lun: 0, tag: 3, flags: UPIU_FLAGS.READ, edtl: 4096, cdb: read10(0, 1) });
 * const h = decodeHeader(req);                 // { type: 0x01, lun: 0, tag: 3, ... }
 */
import { UPIU, UPIU_TC } from './ufs.regs.js';

/** The 12-byte basic header. */
export interface UpiuHeader {
  /** Transaction code (bits 5:0 of byte 0). */
  readonly type: number;
  readonly flags: number;
  readonly lun: number;
  readonly tag: number;
  /** Command set type (byte 4, bits 3:0). */
  readonly cmdSet: number;
  /** Query function / TM function. */
  readonly fn: number;
  readonly response: number;
  readonly status: number;
  /** Total EHS length (byte 8, 32-byte units). */
  readonly ehsLen: number;
  readonly devInfo: number;
  /** Data segment length (bytes). */
  readonly dsl: number;
}

// Big-endian fields straight from the bytes: no DataView (see core/bytes.ts), no view object.
const get16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const get32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const set16 = (b: Uint8Array, o: number, v: number): void => { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; };
const set32 = (b: Uint8Array, o: number, v: number): void => { b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff; };

export function decodeHeader(b: Uint8Array): UpiuHeader {
  return {
    type: b[UPIU.TYPE]! & 0x3f, flags: b[UPIU.FLAGS]!, lun: b[UPIU.LUN]!, tag: b[UPIU.TAG]!,
    cmdSet: b[UPIU.CMD_SET]! & 0x0f, fn: b[UPIU.FUNCTION]!, response: b[UPIU.RESPONSE]!, status: b[UPIU.STATUS]!,
    ehsLen: b[UPIU.EHS_LEN]!, devInfo: b[UPIU.DEV_INFO]!, dsl: get16(b, UPIU.DSL),
  };
}

/** Writes a header into `b` (fields not given are 0). */
export function encodeHeader(b: Uint8Array, h: Partial<UpiuHeader> & { type: number }): void {
  b[UPIU.TYPE] = h.type & 0x3f;
  b[UPIU.FLAGS] = h.flags ?? 0;
  b[UPIU.LUN] = h.lun ?? 0;
  b[UPIU.TAG] = h.tag ?? 0;
  b[UPIU.CMD_SET] = (h.cmdSet ?? 0) & 0x0f;
  b[UPIU.FUNCTION] = h.fn ?? 0;
  b[UPIU.RESPONSE] = h.response ?? 0;
  b[UPIU.STATUS] = h.status ?? 0;
  b[UPIU.EHS_LEN] = h.ehsLen ?? 0;
  b[UPIU.DEV_INFO] = h.devInfo ?? 0;
  set16(b, UPIU.DSL, h.dsl ?? 0);
}

// ---- requests (built by drivers and tests, decoded by the device) ---------------------------

export function buildNopOut(tag: number): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE);
  encodeHeader(b, { type: UPIU_TC.NOP_OUT, tag });
  return b;
}

export interface CommandUpiu {
  readonly lun: number;
  readonly tag: number;
  /** UPIU_FLAGS.READ / WRITE plus the task attribute. */
  readonly flags: number;
  /** Expected data transfer length, bytes. */
  readonly edtl: number;
  /** Up to 16 bytes, zero padded. */
  readonly cdb: Uint8Array;
}

export function buildCommandUpiu(c: CommandUpiu): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE);
  encodeHeader(b, { type: UPIU_TC.COMMAND, flags: c.flags, lun: c.lun, tag: c.tag });
  set32(b, UPIU.EDTL, c.edtl >>> 0);
  b.set(c.cdb.subarray(0, UPIU.CDB_SIZE), UPIU.CDB);
  return b;
}

export function decodeCommand(b: Uint8Array): CommandUpiu {
  const h = decodeHeader(b);
  return { lun: h.lun, tag: h.tag, flags: h.flags, edtl: get32(b, UPIU.EDTL), cdb: b.slice(UPIU.CDB, UPIU.CDB + UPIU.CDB_SIZE) };
}

/** The transaction-specific fields of a QUERY REQUEST / RESPONSE. */
export interface QueryFields {
  readonly opcode: number;
  readonly idn: number;
  readonly index: number;
  readonly selector: number;
  readonly length: number;
  readonly value: number;
}

export interface QueryRequest extends QueryFields {
  readonly tag: number;
  /** QUERY_FUNC.STANDARD_READ / STANDARD_WRITE. */
  readonly fn: number;
  /** Data segment (WRITE DESCRIPTOR). */
  readonly data?: Uint8Array;
}

export function buildQueryRequest(q: Partial<QueryRequest> & { tag: number; fn: number; opcode: number }): Uint8Array {
  const data = q.data ?? new Uint8Array(0);
  const b = new Uint8Array(UPIU.BASE_SIZE + data.length);
  encodeHeader(b, { type: UPIU_TC.QUERY_REQ, tag: q.tag, fn: q.fn, dsl: data.length });
  writeQueryFields(b, { opcode: q.opcode, idn: q.idn ?? 0, index: q.index ?? 0, selector: q.selector ?? 0, length: q.length ?? 0, value: q.value ?? 0 });
  b.set(data, UPIU.Q_DATA);
  return b;
}

export function decodeQueryFields(b: Uint8Array): QueryFields {
  return {
    opcode: b[UPIU.Q_OPCODE]!, idn: b[UPIU.Q_IDN]!, index: b[UPIU.Q_INDEX]!, selector: b[UPIU.Q_SELECTOR]!,
    length: get16(b, UPIU.Q_LENGTH), value: get32(b, UPIU.Q_VALUE),
  };
}

function writeQueryFields(b: Uint8Array, q: QueryFields): void {
  b[UPIU.Q_OPCODE] = q.opcode;
  b[UPIU.Q_IDN] = q.idn;
  b[UPIU.Q_INDEX] = q.index;
  b[UPIU.Q_SELECTOR] = q.selector;
  set16(b, UPIU.Q_LENGTH, q.length);
  set32(b, UPIU.Q_VALUE, q.value >>> 0);
}

export interface TaskRequest {
  readonly lun: number;
  readonly tag: number;
  /** TM_FUNC.* */
  readonly fn: number;
  /** Input parameter 1: LUN of the task; 2: task tag of the task; 3: initiator ID. */
  readonly param1: number;
  readonly param2: number;
  readonly param3?: number;
}

export function buildTaskRequest(t: TaskRequest): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE);
  encodeHeader(b, { type: UPIU_TC.TASK_REQ, lun: t.lun, tag: t.tag, fn: t.fn });
  set32(b, UPIU.TM_PARAM1, t.param1 >>> 0);
  set32(b, UPIU.TM_PARAM2, t.param2 >>> 0);
  set32(b, UPIU.TM_PARAM3, (t.param3 ?? 0) >>> 0);
  return b;
}

export function decodeTaskRequest(b: Uint8Array): TaskRequest {
  const h = decodeHeader(b);
  return { lun: h.lun, tag: h.tag, fn: h.fn, param1: get32(b, UPIU.TM_PARAM1), param2: get32(b, UPIU.TM_PARAM2), param3: get32(b, UPIU.TM_PARAM3) };
}

// ---- responses (built by the device, decoded by drivers and tests) --------------------------

export function buildNopIn(tag: number): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE);
  encodeHeader(b, { type: UPIU_TC.NOP_IN, tag });
  return b;
}

/**
 * REJECT UPIU: the device's answer to a UPIU it cannot interpret. Simplified: header only
 * (response = target failure); the transaction-specific status fields are left zero.
 */
export function buildReject(tag: number, lun: number): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE);
  encodeHeader(b, { type: UPIU_TC.REJECT, tag, lun, response: 0x01 });
  return b;
}

export interface CommandResponse {
  readonly lun: number;
  readonly tag: number;
  /** UPIU_FLAGS.OVERFLOW / UNDERFLOW. */
  readonly flags: number;
  readonly response: number;
  readonly status: number;
  readonly residual: number;
  /** Fixed-format sense data, or empty. */
  readonly sense: Uint8Array;
}

/**
 * A RESPONSE UPIU without sense data, written into the 32-byte `b` (every byte of it): the
 * device's per-IO path, which reuses one buffer instead of allocating a response.
 */
export function writeCommandResponse(b: Uint8Array, lun: number, tag: number, flags: number, response: number, status: number, residual: number): void {
  b.fill(0, 0, UPIU.BASE_SIZE);
  b[UPIU.TYPE] = UPIU_TC.RESPONSE;
  b[UPIU.FLAGS] = flags;
  b[UPIU.LUN] = lun;
  b[UPIU.TAG] = tag;
  b[UPIU.RESPONSE] = response;
  b[UPIU.STATUS] = status;
  set32(b, UPIU.RESIDUAL, residual >>> 0);
}

/** RESPONSE UPIU: 32 bytes, plus `2 + sense.length` data segment when there is sense data. */
export function buildCommandResponse(r: CommandResponse): Uint8Array {
  const dsl = r.sense.length > 0 ? 2 + r.sense.length : 0;
  const b = new Uint8Array(UPIU.BASE_SIZE + dsl);
  encodeHeader(b, { type: UPIU_TC.RESPONSE, flags: r.flags, lun: r.lun, tag: r.tag, response: r.response, status: r.status, dsl });
  set32(b, UPIU.RESIDUAL, r.residual >>> 0);
  if (dsl > 0) {
    set16(b, UPIU.SENSE_LEN, r.sense.length);
    b.set(r.sense, UPIU.SENSE);
  }
  return b;
}

export function decodeCommandResponse(b: Uint8Array): CommandResponse & { readonly type: number } {
  const h = decodeHeader(b);
  const senseLen = h.dsl >= 2 && b.length >= UPIU.SENSE ? get16(b, UPIU.SENSE_LEN) : 0;
  return {
    type: h.type, lun: h.lun, tag: h.tag, flags: h.flags, response: h.response, status: h.status,
    residual: get32(b, UPIU.RESIDUAL), sense: b.slice(UPIU.SENSE, UPIU.SENSE + Math.min(senseLen, b.length - UPIU.SENSE)),
  };
}

export interface QueryResponse extends QueryFields {
  readonly tag: number;
  readonly fn: number;
  /** QUERY_RESULT.* */
  readonly response: number;
  readonly data: Uint8Array;
}

export function buildQueryResponse(r: QueryResponse): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE + r.data.length);
  encodeHeader(b, { type: UPIU_TC.QUERY_RSP, tag: r.tag, fn: r.fn, response: r.response, dsl: r.data.length });
  writeQueryFields(b, r);
  b.set(r.data, UPIU.Q_DATA);
  return b;
}

export function decodeQueryResponse(b: Uint8Array): QueryResponse & { readonly type: number } {
  const h = decodeHeader(b);
  return { type: h.type, tag: h.tag, fn: h.fn, response: h.response, ...decodeQueryFields(b), data: b.slice(UPIU.Q_DATA, UPIU.Q_DATA + h.dsl) };
}

export interface TaskResponse {
  readonly lun: number;
  readonly tag: number;
  readonly response: number;
  /** Output parameter 1: TM_SERVICE.*; 2: additional information. */
  readonly param1: number;
  readonly param2: number;
}

export function buildTaskResponse(r: TaskResponse): Uint8Array {
  const b = new Uint8Array(UPIU.BASE_SIZE);
  encodeHeader(b, { type: UPIU_TC.TASK_RSP, lun: r.lun, tag: r.tag, response: r.response });
  set32(b, UPIU.TM_PARAM1, r.param1 >>> 0);
  set32(b, UPIU.TM_PARAM2, r.param2 >>> 0);
  return b;
}

export function decodeTaskResponse(b: Uint8Array): TaskResponse & { readonly type: number } {
  const h = decodeHeader(b);
  return { type: h.type, lun: h.lun, tag: h.tag, response: h.response, param1: get32(b, UPIU.TM_PARAM1), param2: get32(b, UPIU.TM_PARAM2) };
}

/** Bytes of a request UPIU: 32 + data segment (EHS is not supported: CAP.EHSLUTRDS = 0). */
export function requestSize(header: Uint8Array): number {
  return UPIU.BASE_SIZE + get16(header, UPIU.DSL);
}
