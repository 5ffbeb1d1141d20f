/**
 * @module io/prng
 * A small seeded PRNG (xoshiro128**, seeded through splitmix32) for reproducible random
 * offsets, read/write mixes and buffer contents: the same seed gives the same sequence on any
 * machine and any Node version (pure 32-bit integer arithmetic).
 *
 * @example
 * const rng = new Prng(42);
 * rng.below(1000); // uniform integer in [0, 1000)
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  float(): number { return this.u32() / 2 ** 32; }

  /** Uniform integer in [0, n), unbiased (rejection sampling), n up to 2^53. */
  below(n: number): number {
    if (n <= 1) return 0;
    if (n <= 2 ** 32) {
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const v = this.u32();
        if (v < limit) return v % n;
      }
    }
    const bits = Math.ceil(Math.log2(n));
    const hiBits = bits - 32;
    for (;;) {
      const v = (this.u32() % 2 ** hiBits) * 2 ** 32 + this.u32();
      if (v < n) return v;
    }
  }

  /** Fills `buf` with pseudo-random bytes. */
  fill(buf: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) {
      const v = this.u32();
      buf[i] = v & 0xff; buf[i + 1] = (v >>> 8) & 0xff; buf[i + 2] = (v >>> 16) & 0xff; buf[i + 3] = v >>> 24;
    }
    if (i < buf.length) {
      let v = this.u32();
      for (; i < buf.length; i++, v >>>= 8) buf[i] = v & 0xff;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
