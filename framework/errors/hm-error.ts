/**
 * @module hm-error
 * Typed errors of the framework (the kernel) and the CLI. The kapi speaks negative errno;
 * everything above it throws these. Modelled on oclif's CLIError (code + suggestions).
 */
import { Errno, errnoMessage, errnoName, type ErrnoName } from './errno.js';

export interface HmErrorOptions {
  /** Things the user can do about it, shown by the CLI under the message. */
  suggestions?: string[];
  cause?: unknown;
}

/** Base class of every error the framework throws on purpose. */
export class HmError extends Error {
  readonly suggestions: string[];
  constructor(readonly code: string, message: string, opts: HmErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.suggestions = opts.suggestions ?? [];
  }
}

/**
 * An error shaped like Node's fs errors: `code: 'ENOENT'`, `errno: -2`, `syscall`, `path`,
 * and the message `ENOENT: no such file or directory, open '/dev/x'`.
 */
export class SystemError extends HmError {
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  constructor(code: ErrnoName, syscall: string, path?: string, detail?: string, opts: HmErrorOptions = {}) {
    const where = path === undefined ? syscall : `${syscall} '${path}'`;
    super(code, `${code}: ${errnoMessage(code)}, ${where}${detail ? ` (${detail})` : ''}`, opts);
    this.errno = -Errno[code];
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }

  /** From a negative (or positive) errno number as returned by a driver. */
  static fromErrno(n: number, syscall: string, path?: string, detail?: string): SystemError {
    return new SystemError(errnoName(n) ?? 'EIO', syscall, path, detail);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, errno: this.errno, syscall: this.syscall, path: this.path, message: this.message };
  }
}

/** Narrowing helper for catch blocks. */
export function isSystemError(e: unknown, code?: ErrnoName): e is SystemError {
  return e instanceof SystemError && (code === undefined || e.code === code);
}
