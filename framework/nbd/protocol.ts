/**
 * @module nbd/protocol
 * The NBD wire format (fixed newstyle handshake, simple replies): magic numbers, flag bits,
 * option / command / error numbers, and the encoders and decoders both our server and the test
 * client use. Every integer on the wire is big-endian. Values follow the NBD protocol document
 * (NetworkBlockDevice/nbd doc/proto.md); structured replies, metadata contexts, TLS and extended
 * headers are not implemented (their options are answered NBD_REP_ERR_UNSUP).
 *
 * @example
 * sock.write(encodeGreeting(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES));
 * const req = decodeRequest(await reader.read(REQUEST_BYTES));
 * sock.write(encodeSimpleReply(NBD_ERR.EINVAL, req.handle));
 */
import { Errno } from '../errors/errno.js';

/** IANA port of NBD. */
export const NBD_DEFAULT_PORT = 10809;

/** 'NBDMAGIC', the first 8 bytes the server sends. */
export const NBD_MAGIC = 0x4e42444d41474943n;
/** 'IHAVEOPT': the newstyle magic, also heading every option the client sends. */
export const NBD_OPTS_MAGIC = 0x49484156454f5054n;
/** Heads every option reply of the fixed newstyle handshake. */
export const NBD_REP_MAGIC = 0x3e889045565a9n;
export const NBD_REQUEST_MAGIC = 0x25609513;
export const NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
export const NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server, 16 bits). */
export const HANDSHAKE_FLAG = { FIXED_NEWSTYLE: 1 << 0, NO_ZEROES: 1 << 1 } as const;
/** Client flags (32 bits); any other bit set makes the server drop the connection. */
export const CLIENT_FLAG = { FIXED_NEWSTYLE: 1 << 0, NO_ZEROES: 1 << 1 } as const;

/** Transmission flags (16 bits) of an export. */
export const TX_FLAG = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
} as const;

/** Option numbers of the handshake. */
export const NBD_OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  PEEK_EXPORT: 4,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
  EXTENDED_HEADERS: 11,
} as const;

const REP_ERR = (n: number): number => (0x80000000 | n) >>> 0;

/** Option reply types; errors have bit 31 set. */
export const NBD_REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: REP_ERR(1),
  ERR_POLICY: REP_ERR(2),
  ERR_INVALID: REP_ERR(3),
  ERR_PLATFORM: REP_ERR(4),
  ERR_TLS_REQD: REP_ERR(5),
  ERR_UNKNOWN: REP_ERR(6),
  ERR_SHUTDOWN: REP_ERR(7),
  ERR_BLOCK_SIZE_REQD: REP_ERR(8),
  ERR_TOO_BIG: REP_ERR(9),
} as const;

export function isErrorReply(type: number): boolean {
  return (type & 0x80000000) !== 0;
}

/** Information types of NBD_OPT_INFO / NBD_OPT_GO (NBD_REP_INFO payloads). */
export const NBD_INFO = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

/** Transmission commands. */
export const NBD_CMD = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
  RESIZE: 8,
} as const;

/** Command flags (16 bits). */
export const NBD_CMD_FLAG = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
  PAYLOAD_LEN: 1 << 5,
} as const;

/** The error values a reply may carry (the protocol allows only these). */
export const NBD_ERR = {
  OK: 0,
  EPERM: Errno.EPERM,
  EIO: Errno.EIO,
  ENOMEM: Errno.ENOMEM,
  EINVAL: Errno.EINVAL,
  ENOSPC: Errno.ENOSPC,
  EOVERFLOW: Errno.EOVERFLOW,
  ENOTSUP: Errno.ENOTSUP,
  ESHUTDOWN: 108,
} as const;

/** Largest READ/WRITE payload clients should send without negotiating a bigger maximum (32 MiB). */
export const NBD_MAX_PAYLOAD = 32 * 1024 * 1024;
/** Longest string (export name, description, message) the protocol allows. */
export const NBD_MAX_STRING = 4096;

/** Bytes of the server greeting: NBDMAGIC, IHAVEOPT, handshake flags. */
export const GREETING_BYTES = 18;
/** Bytes of an option header: IHAVEOPT, option, length. */
export const OPTION_HEADER_BYTES = 16;
/** Bytes of an option reply header: magic, option, type, length. */
export const OPTION_REPLY_HEADER_BYTES = 20;
/** Bytes of a transmission request header. */
export const REQUEST_BYTES = 28;
/** Bytes of a simple reply header. */
export const SIMPLE_REPLY_BYTES = 16;
/** Reserved zeroes after the NBD_OPT_EXPORT_NAME reply (unless NO_ZEROES was agreed). */
export const EXPORT_NAME_ZEROES = 124;

const COMMAND_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(NBD_CMD).map(([name, n]) => [n, name]),
);
const OPTION_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(NBD_OPT).map(([name, n]) => [n, name]),
);

export function commandName(cmd: number): string {
  return COMMAND_NAMES[cmd] ?? `CMD_${cmd}`;
}

export function optionName(opt: number): string {
  return OPTION_NAMES[opt] ?? `OPT_${opt}`;
}

// --- handshake -------------------------------------------------------------------------------

export function encodeGreeting(handshakeFlags: number): Buffer {
  const b = Buffer.alloc(GREETING_BYTES);
  b.writeBigUInt64BE(NBD_MAGIC, 0);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, 8);
  b.writeUInt16BE(handshakeFlags, 16);
  return b;
}

export interface Greeting { handshakeFlags: number }

/** Parses the server greeting; throws on a bad magic (oldstyle servers included). */
export function decodeGreeting(b: Buffer): Greeting {
  if (b.readBigUInt64BE(0) !== NBD_MAGIC) throw new Error('not an NBD server (bad NBDMAGIC)');
  if (b.readBigUInt64BE(8) !== NBD_OPTS_MAGIC) throw new Error('not a newstyle NBD server (bad IHAVEOPT)');
  return { handshakeFlags: b.readUInt16BE(16) };
}

export function encodeClientFlags(flags: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(flags >>> 0, 0);
  return b;
}

export interface OptionHeader { magic: bigint; option: number; length: number }

export function encodeOption(option: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(OPTION_HEADER_BYTES + data.length);
  b.writeBigUInt64BE(NBD_OPTS_MAGIC, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(data.length, 12);
  b.set(data, OPTION_HEADER_BYTES);
  return b;
}

export function decodeOptionHeader(b: Buffer): OptionHeader {
  return { magic: b.readBigUInt64BE(0), option: b.readUInt32BE(8), length: b.readUInt32BE(12) };
}

export function encodeOptionReply(option: number, type: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(OPTION_REPLY_HEADER_BYTES + data.length);
  b.writeBigUInt64BE(NBD_REP_MAGIC, 0);
  b.writeUInt32BE(option >>> 0, 8);
  b.writeUInt32BE(type >>> 0, 12);
  b.writeUInt32BE(data.length, 16);
  b.set(data, OPTION_REPLY_HEADER_BYTES);
  return b;
}

export interface OptionReplyHeader { magic: bigint; option: number; type: number; length: number }

export function decodeOptionReplyHeader(b: Buffer): OptionReplyHeader {
  return { magic: b.readBigUInt64BE(0), option: b.readUInt32BE(8), type: b.readUInt32BE(12), length: b.readUInt32BE(16) };
}

/** An error reply with a human-readable message (UTF-8, cut to the protocol's string limit). */
export function encodeOptionError(option: number, type: number, message: string): Buffer {
  return encodeOptionReply(option, type, utf8Limited(message));
}

function utf8Limited(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return b.length <= NBD_MAX_STRING ? b : b.subarray(0, NBD_MAX_STRING);
}

/** NBD_REP_SERVER payload: 32-bit name length, name, then an optional description. */
export function encodeServerEntry(name: string, description = ''): Buffer {
  const n = utf8Limited(name);
  const d = utf8Limited(description);
  const b = Buffer.alloc(4 + n.length + d.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  d.copy(b, 4 + n.length);
  return b;
}

export function decodeServerEntry(b: Buffer): { name: string; description: string } {
  const len = b.readUInt32BE(0);
  if (4 + len > b.length) throw new Error('NBD_REP_SERVER: name longer than the reply');
  return { name: b.toString('utf8', 4, 4 + len), description: b.toString('utf8', 4 + len) };
}

/** NBD_REP_INFO / NBD_INFO_EXPORT payload: type, 64-bit size, transmission flags. */
export function encodeInfoExport(size: number, txFlags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(NBD_INFO.EXPORT, 0);
  b.writeBigUInt64BE(BigInt(size), 2);
  b.writeUInt16BE(txFlags, 10);
  return b;
}

/** NBD_REP_INFO payload of NBD_INFO_NAME or NBD_INFO_DESCRIPTION. */
export function encodeInfoString(type: typeof NBD_INFO.NAME | typeof NBD_INFO.DESCRIPTION, text: string): Buffer {
  const s = utf8Limited(text);
  const b = Buffer.alloc(2 + s.length);
  b.writeUInt16BE(type, 0);
  s.copy(b, 2);
  return b;
}

export interface BlockSizes {
  /** Power of two, 1..64 KiB: offsets and lengths should be multiples of it. */
  minimum: number;
  /** Power of two >= minimum: the size for efficient I/O. */
  preferred: number;
  /** Largest READ/WRITE payload (a multiple of minimum). */
  maximum: number;
}

export function encodeInfoBlockSize(s: BlockSizes): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(NBD_INFO.BLOCK_SIZE, 0);
  b.writeUInt32BE(s.minimum, 2);
  b.writeUInt32BE(s.preferred, 6);
  b.writeUInt32BE(s.maximum, 10);
  return b;
}

/** What an NBD_REP_INFO payload says (for the client side). */
export type InfoReply =
  | { type: typeof NBD_INFO.EXPORT; size: number; txFlags: number }
  | { type: typeof NBD_INFO.NAME | typeof NBD_INFO.DESCRIPTION; text: string }
  | ({ type: typeof NBD_INFO.BLOCK_SIZE } & BlockSizes)
  | { type: number; raw: Buffer };

export function decodeInfoReply(b: Buffer): InfoReply {
  const type = b.readUInt16BE(0);
  if (type === NBD_INFO.EXPORT && b.length === 12) {
    return { type, size: Number(b.readBigUInt64BE(2)), txFlags: b.readUInt16BE(10) };
  }
  if (type === NBD_INFO.NAME || type === NBD_INFO.DESCRIPTION) return { type, text: b.toString('utf8', 2) };
  if (type === NBD_INFO.BLOCK_SIZE && b.length === 14) {
    return { type, minimum: b.readUInt32BE(2), preferred: b.readUInt32BE(6), maximum: b.readUInt32BE(10) };
  }
  return { type, raw: b.subarray(2) };
}

/** The data of NBD_OPT_INFO / NBD_OPT_GO: export name and the information types asked for. */
export interface InfoRequest { name: string; infos: number[] }

export function encodeInfoRequest(r: InfoRequest): Buffer {
  const n = Buffer.from(r.name, 'utf8');
  const b = Buffer.alloc(4 + n.length + 2 + 2 * r.infos.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(r.infos.length, 4 + n.length);
  r.infos.forEach((t, i) => b.writeUInt16BE(t, 6 + n.length + 2 * i));
  return b;
}

/** Parses NBD_OPT_INFO / NBD_OPT_GO data; a string describing the fault if it is malformed. */
export function decodeInfoRequest(b: Buffer): InfoRequest | string {
  if (b.length < 6) return 'option data shorter than 6 bytes';
  const nameLen = b.readUInt32BE(0);
  if (nameLen > NBD_MAX_STRING) return `export name longer than ${NBD_MAX_STRING} bytes`;
  if (4 + nameLen + 2 > b.length) return 'export name length exceeds the option data';
  const count = b.readUInt16BE(4 + nameLen);
  if (b.length !== 6 + nameLen + 2 * count) return 'information request count does not match the option length';
  const infos: number[] = [];
  for (let i = 0; i < count; i++) infos.push(b.readUInt16BE(6 + nameLen + 2 * i));
  return { name: b.toString('utf8', 4, 4 + nameLen), infos };
}

/** Reply to NBD_OPT_EXPORT_NAME: size, transmission flags, and 124 zeroes unless NO_ZEROES. */
export function encodeExportNameReply(size: number, txFlags: number, noZeroes: boolean): Buffer {
  const b = Buffer.alloc(10 + (noZeroes ? 0 : EXPORT_NAME_ZEROES));
  b.writeBigUInt64BE(BigInt(size), 0);
  b.writeUInt16BE(txFlags, 8);
  return b;
}

// --- transmission ----------------------------------------------------------------------------

export interface Request {
  magic: number;
  flags: number;
  type: number;
  /** Opaque 64-bit cookie echoed in the reply. */
  handle: bigint;
  /** Byte offset; above 2^53 it is rounded (any such offset is beyond every export anyway). */
  offset: number;
  length: number;
}

export function encodeRequest(r: Omit<Request, 'magic'> & { magic?: number }): Buffer {
  const b = Buffer.alloc(REQUEST_BYTES);
  b.writeUInt32BE((r.magic ?? NBD_REQUEST_MAGIC) >>> 0, 0);
  b.writeUInt16BE(r.flags, 4);
  b.writeUInt16BE(r.type, 6);
  b.writeBigUInt64BE(r.handle, 8);
  b.writeBigUInt64BE(BigInt(r.offset), 16);
  b.writeUInt32BE(r.length >>> 0, 24);
  return b;
}

export function decodeRequest(b: Buffer): Request {
  return {
    magic: b.readUInt32BE(0),
    flags: b.readUInt16BE(4),
    type: b.readUInt16BE(6),
    handle: b.readBigUInt64BE(8),
    offset: Number(b.readBigUInt64BE(16)),
    length: b.readUInt32BE(24),
  };
}

export function encodeSimpleReply(error: number, handle: bigint): Buffer {
  const b = Buffer.alloc(SIMPLE_REPLY_BYTES);
  b.writeUInt32BE(NBD_SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error >>> 0, 4);
  b.writeBigUInt64BE(handle, 8);
  return b;
}

export interface SimpleReply { magic: number; error: number; handle: bigint }

export function decodeSimpleReply(b: Buffer): SimpleReply {
  return { magic: b.readUInt32BE(0), error: b.readUInt32BE(4), handle: b.readBigUInt64BE(8) };
}

/**
 * The NBD error value for whatever a device operation threw: the protocol allows only a few
 * values, so errno codes are folded onto them (EROFS/EACCES are EPERM, EFBIG/EDQUOT are ENOSPC,
 * anything unknown is EIO).
 */
export function nbdErrorOf(e: unknown): number {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  switch (code) {
    case 'EPERM': case 'EACCES': case 'EROFS': case 'EBADF': return NBD_ERR.EPERM;
    case 'ENOSPC': case 'EFBIG': case 'EDQUOT': return NBD_ERR.ENOSPC;
    case 'EINVAL': return NBD_ERR.EINVAL;
    case 'ENOMEM': return NBD_ERR.ENOMEM;
    case 'EOVERFLOW': return NBD_ERR.EOVERFLOW;
    case 'ENOTSUP': case 'EOPNOTSUPP': return NBD_ERR.ENOTSUP;
    case 'ESHUTDOWN': return NBD_ERR.ESHUTDOWN;
    default: return NBD_ERR.EIO;
  }
}

/** True for a power of two between 1 and 2^31. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 2 ** 31 && (n & (n - 1)) === 0;
}
