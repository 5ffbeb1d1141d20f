/**
 * @module control/wire-error
 * Errors across the control socket: any thrown value becomes a {@link WireError} on the
 * server, and a {@link ControlError} (an HmError keeping code, errno, syscall, path and
 * suggestions) on the client, so callers handle remote failures like local ones.
 *
 * @example
 * socket.write(encodeMessage({ id, error: toWireError(err) }));
 * // client side:
 * throw fromWireError(response.error);
 */
import { Errno, type ErrnoName } from '../errors/errno.js';
import { HmError } from '../errors/hm-error.js';
import type { WireError } from './protocol.js';

/** A failure reported by the other end of the control socket. */
export class ControlError extends HmError {
  readonly errno?: number;
  readonly syscall?: string;
  readonly path?: string;
  constructor(wire: WireError) {
    super(wire.code, wire.message, { suggestions: wire.suggestions });
    if (wire.errno !== undefined) this.errno = wire.errno;
    if (wire.syscall !== undefined) this.syscall = wire.syscall;
    if (wire.path !== undefined) this.path = wire.path;
  }
}

/** A protocol-level failure with an errno code, e.g. `protocolError('EINVAL', 'params.path: expected a string')`. */
export function protocolError(code: ErrnoName, message: string, suggestions: string[] = []): HmError {
  return new HmError(code, message, { suggestions });
}

/** Serialises any thrown value; unknown errors become EIO with their message. */
export function toWireError(e: unknown): WireError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as Partial<Record<string, unknown>>;
  const code = typeof err.code === 'string' ? err.code : 'EIO';
  const message = e instanceof Error ? e.message : String(e);
  const wire: WireError = { code, message, suggestions: [] };
  if (typeof err.errno === 'number') wire.errno = err.errno;
  else if (code in Errno) wire.errno = -Errno[code as ErrnoName];
  if (typeof err.syscall === 'string') wire.syscall = err.syscall;
  if (typeof err.path === 'string') wire.path = err.path;
  if (Array.isArray(err.suggestions)) wire.suggestions = err.suggestions.map(String);
  return wire;
}

/** Rebuilds the error a server reported. */
export function fromWireError(wire: unknown): ControlError {
  const w = (typeof wire === 'object' && wire !== null ? wire : {}) as Partial<WireError>;
  return new ControlError({
    code: typeof w.code === 'string' ? w.code : 'EIO',
    message: typeof w.message === 'string' ? w.message : 'unknown error from the control socket',
    suggestions: Array.isArray(w.suggestions) ? w.suggestions.map(String) : [],
    ...(typeof w.errno === 'number' ? { errno: w.errno } : {}),
    ...(typeof w.syscall === 'string' ? { syscall: w.syscall } : {}),
    ...(typeof w.path === 'string' ? { path: w.path } : {}),
  });
}
