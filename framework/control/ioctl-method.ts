/**
 * @module control/ioctl-method
 * The control socket's `ioctl`: resolves a declared name (or a number) against the driver's
 * declarations, builds the argument (an integer, raw bytes, or values packed per the declared
 * format), calls ioctl(2) through the VFS and decodes what comes back.
 *
 * @example
 * await ioctl(kernel, { path: '/dev/echo0', cmd: 'HMECHO_IOC_GET_COUNT' });
 * // { cmd: 2147763457, name: 'HMECHO_IOC_GET_COUNT', ret: 0, out: 'BQAAAA==', decoded: [5], format: 'u32' }
 */
import type { IKernel } from '../kernel-api.js';
import type { IoctlDecl } from '../platform/types.js';
import { O, type IoctlArg } from '../vfs/types.js';
import { ioctlNumber } from '../platform/ioctl.js';
import { decodeFields, encodeFields, ioctlReturnsData, RAW_FORMAT, toBigInt } from './ioctl-format.js';
import type { IoctlCallResult, IoctlParams } from './protocol.js';
import { protocolError } from './wire-error.js';

const NUMERIC = /^(0x[0-9a-f]+|\d+)$/i;

/** A declaration's number, or -1 if the declaration is malformed. */
function safeNumber(d: IoctlDecl): number {
  try { return ioctlNumber(d); } catch { return -1; }
}

/** Finds the command: a declared name, or a number (declared or not). */
function resolveCmd(path: string, cmd: number | string, decls: IoctlDecl[]): { num: number; decl?: IoctlDecl } {
  if (typeof cmd === 'number' || NUMERIC.test(cmd)) {
    const num = typeof cmd === 'number' ? cmd : Number(cmd);
    if (!Number.isInteger(num) || num < 0 || num > 0xffffffff) throw protocolError('EINVAL', `bad ioctl command number ${cmd}`);
    return { num, decl: decls.find((d) => safeNumber(d) === num) };
  }
  const decl = decls.find((d) => d.name === cmd);
  if (!decl) {
    const suggestions = decls.length > 0
      ? decls.map((d) => `${d.name}${d.format ? ` (${d.format})` : ''}`)
      : ['this device declares no ioctls; pass a numeric command (0x...)'];
    throw protocolError('EINVAL', `unknown ioctl '${cmd}' for ${path}`, suggestions);
  }
  return { num: ioctlNumber(decl), decl };
}

/** The argument as ioctl(2) takes it: an integer, or a buffer of at least the declared size. */
function buildArg(p: IoctlParams, decl?: IoctlDecl): IoctlArg {
  const size = decl?.size ?? 0;
  const wantsBuffer = decl !== undefined && decl.dir !== 'none' && size > 0;
  if (p.arg !== undefined && p.argValues !== undefined) throw protocolError('EINVAL', 'give either arg or argValues, not both');
  if (typeof p.arg === 'number') return p.arg;
  if (typeof p.arg === 'string') {
    const raw = Buffer.from(p.arg, 'base64');
    return raw.length >= size ? raw : Buffer.concat([raw, Buffer.alloc(size - raw.length)]);
  }
  if (p.argValues !== undefined) {
    if (wantsBuffer && decl.format === RAW_FORMAT) {
      throw protocolError('EINVAL', `${decl.name} takes raw bytes (format 'bytes'); pass the argument as bytes, not values`);
    }
    if (wantsBuffer && decl.format) return encodeFields(decl.format, p.argValues, size);
    if (p.argValues.length !== 1) {
      throw protocolError('EINVAL', `${decl?.name ?? 'this ioctl'} has no declared format; pass one integer or raw bytes`);
    }
    return Number(toBigInt(p.argValues[0]!));
  }
  return wantsBuffer ? Buffer.alloc(size) : undefined;
}

export async function ioctl(kernel: IKernel, p: IoctlParams): Promise<IoctlCallResult> {
  if (typeof p.cmd !== 'number' && (typeof p.cmd !== 'string' || p.cmd === '')) {
    throw protocolError('EINVAL', 'params.cmd: expected an ioctl name or number');
  }
  if (p.arg !== undefined && typeof p.arg !== 'number' && typeof p.arg !== 'string') {
    throw protocolError('EINVAL', 'params.arg: expected an integer or base64 data');
  }
  if (p.argValues !== undefined
    && (!Array.isArray(p.argValues) || !p.argValues.every((v) => typeof v === 'number' || typeof v === 'string'))) {
    throw protocolError('EINVAL', 'params.argValues: expected an array of integers (numbers or strings)');
  }
  const decls = await kernel.ioctlsFor(p.path).catch(() => [] as IoctlDecl[]);
  const { num, decl } = resolveCmd(p.path, p.cmd, decls);
  const arg = buildArg(p, decl);
  const fh = await kernel.vfs.open(p.path, O.RDONLY);
  let res: { ret: number; out?: Uint8Array };
  try {
    res = await fh.ioctl(num, arg);
  } finally {
    await fh.close().catch(() => undefined);
  }
  const returnsData = decl === undefined || ioctlReturnsData(decl);
  const out = res.out ?? (returnsData && arg instanceof Uint8Array ? arg : new Uint8Array(0));
  const result: IoctlCallResult = { cmd: num, ret: res.ret, out: Buffer.from(out).toString('base64') };
  if (decl) result.name = decl.name;
  if (decl?.format) {
    result.format = decl.format;
    if (returnsData && out.length > 0 && decl.format !== RAW_FORMAT) result.decoded = decodeFields(decl.format, out);
  }
  return result;
}
