/**
 * @module io/pattern
 * The verify pattern: the content a verifying writer puts at every absolute byte position of a
 * file, derived from the position and a seed only, so any reader (with any block size) can tell
 * what must be there.
 *
 * Layout: a 4 KiB block of seeded random bytes repeats over the whole file, and the first 16
 * bytes of every 512-byte sector are replaced by a stamp `[u64 LE sector offset][u32 LE seed]
 * ["HMIO"]`. Random fill catches stuck or zeroed data; the stamp catches misdirected (right
 * data, wrong place) and stale-seed (data of an earlier run with another seed) writes. What no
 * pattern catches: a lost write over data that already had the same pattern (no generation).
 *
 * @example
 * const p = new VerifyPattern(seed);
 * p.fill(buf, 8192);                        // what belongs at [8192, 8192 + buf.length)
 * p.firstMismatch(readBack, 8192);          // -1, or the absolute offset of the first bad byte
 */
import { Prng } from './prng.js';

export const PATTERN_PERIOD = 4096;
export const STAMP_SECTOR = 512;
export const STAMP_BYTES = 16;
const MAGIC = [0x48, 0x4d, 0x49, 0x4f]; // "HMIO"

export interface Mismatch {
  /** Absolute byte offset of the first byte that differs. */
  offset: number;
  expected: number;
  /** The byte read; -1 when the read came back short and this byte is missing. */
  actual: number;
}

export class VerifyPattern {
  private readonly base = new Uint8Array(PATTERN_PERIOD);
  private readonly stamp = new Uint8Array(STAMP_BYTES);
  private scratch = new Uint8Array(0);

  constructor(readonly seed: number) {
    new Prng(seed ^ 0x5a5a5a5a).fill(this.base);
    const v = new DataView(this.stamp.buffer);
    v.setUint32(8, seed >>> 0, true);
    this.stamp.set(MAGIC, 12);
  }

  /** Writes the pattern for absolute range [position, position + buf.length) into `buf`. */
  fill(buf: Uint8Array, position: number): void {
    const end = position + buf.length;
    for (let a = position; a < end;) {
      const b = a % PATTERN_PERIOD;
      const n = Math.min(PATTERN_PERIOD - b, end - a);
      buf.set(this.base.subarray(b, b + n), a - position);
      a += n;
    }
    const view = new DataView(this.stamp.buffer);
    for (let s = position - (position % STAMP_SECTOR); s < end; s += STAMP_SECTOR) {
      const from = Math.max(s, position);
      const to = Math.min(s + STAMP_BYTES, end);
      if (from >= to) continue;
      view.setUint32(0, s % 2 ** 32, true);
      view.setUint32(4, Math.floor(s / 2 ** 32), true);
      buf.set(this.stamp.subarray(from - s, to - s), from - position);
    }
  }

  /** The first byte of `data` (which was read at `position`) that differs from the pattern. */
  firstMismatch(data: Uint8Array, position: number): Mismatch | undefined {
    if (this.scratch.length < data.length) this.scratch = new Uint8Array(data.length);
    const expected = this.scratch.subarray(0, data.length);
    this.fill(expected, position);
    if (Buffer.from(expected.buffer, expected.byteOffset, expected.length)
      .equals(Buffer.from(data.buffer, data.byteOffset, data.length))) return undefined;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== expected[i]) return { offset: position + i, expected: expected[i]!, actual: data[i]! };
    }
    return undefined;
  }
}
