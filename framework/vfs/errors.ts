/**
 * @module vfs/errors
 * Error helpers: every VFS failure is a `SystemError` naming the VFS call (syscall) and path,
 * including failures that come from a node's operations (a driver, an attribute's show/store).
 */
import { Errno, errnoName, type ErrnoName } from '../errors/errno.js';
import { SystemError } from '../errors/hm-error.js';

export function sysErr(code: ErrnoName, syscall: string, path?: string, detail?: string): SystemError {
  return new SystemError(code, syscall, path, detail);
}

function isErrnoName(code: unknown): code is ErrnoName {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(Errno, code);
}

/** Kernel-internal codes user space never sees, mapped as Linux maps them on the way out. */
const USER_VISIBLE: Partial<Record<ErrnoName, ErrnoName>> = {
  ENOIOCTLCMD: 'ENOTTY', ERESTARTSYS: 'EINTR', EPROBE_DEFER: 'EIO', ENOTSUPP: 'ENOTSUP',
};

/** The errno name carried by anything a node operation threw (also errors that crossed an RPC). */
function codeOf(e: unknown): ErrnoName | undefined {
  if (typeof e === 'number') return errnoName(e);
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  if (isErrnoName(code)) return code;
  if (typeof errno === 'number' && errno < 0) return errnoName(errno);
  return undefined;
}

/**
 * Converts what a node operation threw into a fresh `SystemError` for this VFS call:
 * errno-coded errors keep their code, anything else (a plain Error, a crash) becomes EIO.
 */
export function opError(e: unknown, syscall: string, path: string): SystemError {
  const found = codeOf(e);
  const code = found === undefined ? 'EIO' : USER_VISIBLE[found] ?? found;
  const detail = found === undefined && e instanceof Error ? e.message : undefined;
  return new SystemError(code, syscall, path, detail, { cause: e });
}

/** Runs a node operation, converting its failure with `opError`. */
export async function callOp<T>(syscall: string, path: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw opError(e, syscall, path);
  }
}

/** A negative errno returned (not thrown) by an operation. */
export function checkRet(n: number, syscall: string, path: string): number {
  if (n < 0) {
    const name = errnoName(n) ?? 'EIO';
    throw sysErr(USER_VISIBLE[name] ?? name, syscall, path);
  }
  return n;
}
