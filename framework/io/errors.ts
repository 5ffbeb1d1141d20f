/**
 * @module io/errors
 * Failures of the I/O tools: `IoError` is the VFS's (or the host's) SystemError with the byte
 * offset where it happened, in the message ("... at offset 4096") and as a field.
 *
 * @example
 * try { await copy(opts); } catch (e) { if (e instanceof IoError) console.log(e.offset); }
 */
import { Errno, type ErrnoName } from '../errors/errno.js';
import { HmError, SystemError } from '../errors/hm-error.js';

export class IoError extends SystemError {
  constructor(code: ErrnoName, syscall: string, path: string | undefined, readonly offset: number, detail?: string, cause?: unknown) {
    super(code, syscall, path, detail ? `${detail}, at offset ${offset}` : `at offset ${offset}`,
      cause === undefined ? {} : { cause });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), offset: this.offset };
  }
}

function errnoNameOf(code: unknown): ErrnoName {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(Errno, code) ? code as ErrnoName : 'EIO';
}

/**
 * Wraps what an I/O call threw (a VFS SystemError, a host fs error, anything) as an IoError at
 * `offset`; `path` and `syscall` are kept from the original when it has them.
 */
export function ioErrorAt(e: unknown, offset: number, syscall: string, path: string): IoError {
  if (e instanceof IoError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; syscall?: unknown; path?: unknown };
  const code = errnoNameOf(err.code);
  const known = code !== 'EIO' || err.code === 'EIO';
  const detail = known ? undefined : e instanceof Error ? e.message : String(e);
  return new IoError(code, typeof err.syscall === 'string' ? err.syscall : syscall,
    typeof err.path === 'string' ? err.path : path, offset, detail, e);
}

/** EINVAL for a bad option, naming it, with what to do. */
export function badOption(message: string, ...suggestions: string[]): HmError {
  return new HmError('EINVAL', message, { suggestions });
}
