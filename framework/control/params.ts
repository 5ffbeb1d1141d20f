/**
 * @module control/params
 * Checks request parameters; a bad one fails with EINVAL naming the field, so a client's
 * mistake is reported, never thrown deep inside the kernel.
 *
 * @example
 * const path = str(params, 'path');
 * const length = optInt(params, 'length', 0);
 */
import { protocolError } from './wire-error.js';

export type Params = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function str(p: Params, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '') throw protocolError('EINVAL', `params.${key}: expected a non-empty string`);
  return v;
}

export function optStr(p: Params, key: string): string | undefined {
  return p[key] === undefined ? undefined : str(p, key);
}

/** An optional integer >= `min`. */
export function optInt(p: Params, key: string, min = 0): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw protocolError('EINVAL', `params.${key}: expected an integer >= ${min}`);
  }
  return v;
}

export function optBool(p: Params, key: string): boolean | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw protocolError('EINVAL', `params.${key}: expected a boolean`);
  return v;
}

/** Decodes a base64 string parameter. */
export function base64(p: Params, key: string): Buffer {
  const v = p[key];
  if (typeof v !== 'string' || !BASE64.test(v)) throw protocolError('EINVAL', `params.${key}: expected base64 data`);
  return Buffer.from(v, 'base64');
}
