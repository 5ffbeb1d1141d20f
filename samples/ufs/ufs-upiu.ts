/**
 * The UFS driver's descriptor and UPIU builders (Linux: ufshcd_prepare_req_desc_hdr,
 * ufshcd_prepare_utp_scsi_cmd_upiu, ufshcd_prepare_utp_query_req_upiu, ufshcd_map_sg...):
 * bytes written straight into the coherent UTRL / UCD memory, with the constants of
 * devices/ufs/ufs.regs.ts. Host-memory descriptors are little-endian, UPIUs big-endian.
 */
import {
  OCS, PRDT, UPIU, UPIU_TC, UTMRD, UTP_CMD_TYPE_UFS_STORAGE, UTRD,
} from '../../devices/ufs/ufs.regs.js';

/** Linux's `utp_transfer_cmd_desc`: command UPIU at 0, response UPIU at 512, PRDT at 1024. */
export const UCD_RSP_OFF = 512;
export const UCD_RSP_LEN = 512;
export const UCD_PRDT_OFF = 1024;

export const be16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
export const be32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
export function setBe16(b: Uint8Array, o: number, v: number): void { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; }
export function setBe32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff;
}
export function setLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; b[o + 2] = (v >>> 16) & 0xff; b[o + 3] = (v >>> 24) & 0xff;
}
export const le32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** ufshcd_host_memory_configure: the fields of a UTRD that never change (UCD address, offsets). */
export function utrdInit(utrl: Uint8Array, slot: number, ucdAddr: number): void {
  const o = slot * UTRD.SIZE;
  utrl.fill(0, o, o + UTRD.SIZE);
  setLe32(utrl, o + UTRD.UCDBA, ucdAddr % 0x1_0000_0000);
  setLe32(utrl, o + UTRD.UCDBAU, Math.floor(ucdAddr / 0x1_0000_0000));
  setLe32(utrl, o + UTRD.DW6, ((UCD_RSP_OFF / 4) << 16) | (UCD_RSP_LEN / 4));
  setLe32(utrl, o + UTRD.DW7, (UCD_PRDT_OFF / 4) << 16);
}

/** ufshcd_prepare_req_desc_hdr: DW0 (type, direction, interrupt), OCS preset, PRDT length. */
export function utrdPrepare(utrl: Uint8Array, slot: number, dd: number, prdtl: number): void {
  const o = slot * UTRD.SIZE;
  setLe32(utrl, o + UTRD.DW0, ((UTP_CMD_TYPE_UFS_STORAGE << UTRD.CT_SHIFT) | dd | UTRD.I) >>> 0);
  setLe32(utrl, o + UTRD.DW2, OCS.INVALID_COMMAND_STATUS);
  setLe32(utrl, o + UTRD.DW7, (((UCD_PRDT_OFF / 4) << 16) | prdtl) >>> 0);
}

export const utrdOcs = (utrl: Uint8Array, slot: number): number => utrl[slot * UTRD.SIZE + UTRD.DW2]!;

/** The UPIU basic header (12 bytes) at `o`, and the rest of the 32-byte request zeroed. */
export function upiuHeader(ucd: Uint8Array, o: number, type: number, flags: number, lun: number, tag: number, fn = 0, dsl = 0): void {
  ucd.fill(0, o, o + UPIU.BASE_SIZE);
  ucd[o + UPIU.TYPE] = type;
  ucd[o + UPIU.FLAGS] = flags;
  ucd[o + UPIU.LUN] = lun;
  ucd[o + UPIU.TAG] = tag;
  ucd[o + UPIU.FUNCTION] = fn;
  setBe16(ucd, o + UPIU.DSL, dsl);
}

/** COMMAND UPIU: header, expected data transfer length, CDB (zero padded to 16 bytes). */
export function commandUpiu(ucd: Uint8Array, o: number, lun: number, tag: number, flags: number, edtl: number, cdb: Uint8Array): void {
  upiuHeader(ucd, o, UPIU_TC.COMMAND, flags, lun, tag);
  setBe32(ucd, o + UPIU.EDTL, edtl);
  ucd.set(cdb.subarray(0, UPIU.CDB_SIZE), o + UPIU.CDB);
}

/** QUERY REQUEST UPIU. */
export function queryUpiu(ucd: Uint8Array, o: number, tag: number, fn: number, opcode: number, idn: number, index: number,
  selector: number, length: number, value: number): void {
  upiuHeader(ucd, o, UPIU_TC.QUERY_REQ, 0, 0, tag, fn);
  ucd[o + UPIU.Q_OPCODE] = opcode;
  ucd[o + UPIU.Q_IDN] = idn;
  ucd[o + UPIU.Q_INDEX] = index;
  ucd[o + UPIU.Q_SELECTOR] = selector;
  setBe16(ucd, o + UPIU.Q_LENGTH, length);
  setBe32(ucd, o + UPIU.Q_VALUE, value);
}

/** One PRDT entry: data base address and byte count - 1 (the count must be a dword multiple). */
export function prdtEntry(ucd: Uint8Array, prdtOff: number, i: number, addr: number, len: number): void {
  const o = prdtOff + i * PRDT.SIZE;
  setLe32(ucd, o + PRDT.DBA, addr % 0x1_0000_0000);
  setLe32(ucd, o + PRDT.DBAU, Math.floor(addr / 0x1_0000_0000));
  setLe32(ucd, o + 8, 0);
  setLe32(ucd, o + PRDT.DBC, (len - 1) & PRDT.DBC_MASK);
}

/** A UTMRD with a TASK MANAGEMENT REQUEST UPIU (ABORT TASK etc.). */
export function utmrdPrepare(utmrl: Uint8Array, slot: number, lun: number, tag: number, fn: number, param1: number, param2: number): void {
  const o = slot * UTMRD.SIZE;
  utmrl.fill(0, o, o + UTMRD.SIZE);
  setLe32(utmrl, o + UTMRD.DW0, UTMRD.I);
  setLe32(utmrl, o + UTMRD.DW2, OCS.INVALID_COMMAND_STATUS);
  const u = o + UTMRD.REQ_UPIU;
  upiuHeader(utmrl, u, UPIU_TC.TASK_REQ, 0, lun, tag, fn);
  setBe32(utmrl, u + UPIU.TM_PARAM1, param1);
  setBe32(utmrl, u + UPIU.TM_PARAM2, param2);
}

/** The TM response: OCS and the service response (output parameter 1). */
export function utmrdResult(utmrl: Uint8Array, slot: number): { ocs: number; service: number } {
  const o = slot * UTMRD.SIZE;
  return { ocs: utmrl[o + UTMRD.DW2]!, service: be32(utmrl, o + UTMRD.RSP_UPIU + UPIU.TM_PARAM1) & 0xff };
}

const OCS_NAMES = Object.fromEntries(Object.entries(OCS).map(([k, v]) => [v, k])) as Record<number, string>;
export const ocsName = (ocs: number): string => OCS_NAMES[ocs] ?? `0x${ocs.toString(16)}`;
