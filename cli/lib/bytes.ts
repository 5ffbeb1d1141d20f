/**
 * @module cli/lib/bytes
 * Byte helpers for the data commands: hex input (`write --hex`, `ioctl --hex`) and the JSON
 * form of file content (utf8 text when it is valid utf8, base64 otherwise).
 *
 * @example
 * parseHex('de ad:be 0xef'); // <Buffer de ad be ef>
 * jsonData(Buffer.from('hi')); // { data: 'hi', encoding: 'utf8' }
 */
import { HmError } from '../../framework/errors/hm-error.js';

/** Hex digits, optionally with a 0x prefix per group and space, colon or dash separators. */
export function parseHex(text: string): Buffer {
  const digits = text.replace(/0x/gi, '').replace(/[\s:-]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) {
    throw new HmError('EINVAL', `not hex bytes: '${text}'`, { suggestions: ['give pairs of hex digits, e.g. "de ad be ef" or 0xdeadbeef'] });
  }
  return Buffer.from(digits, 'hex');
}

export function isUtf8(data: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

export function jsonData(data: Buffer): { data: string; encoding: 'utf8' | 'base64' } {
  return isUtf8(data) ? { data: data.toString('utf8'), encoding: 'utf8' } : { data: data.toString('base64'), encoding: 'base64' };
}

/** Writes raw bytes to stdout and waits until they are flushed (or queued, for pipes). */
export function writeStdout(data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
}
