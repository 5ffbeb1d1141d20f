import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBandwidth, formatBytes, formatCount, formatSeconds, parseDuration, parseSize } from './units.js';
import { HISTOGRAM_PRECISION, LatencyHistogram } from './histogram.js';
import { Prng } from './prng.js';
import { VerifyPattern } from './pattern.js';

describe('io units', () => {
  it('parses sizes with binary suffixes', () => {
    assert.equal(parseSize('4k'), 4096);
    assert.equal(parseSize('4K'), 4096);
    assert.equal(parseSize('4KiB'), 4096);
    assert.equal(parseSize('128kb'), 128 * 1024);
    assert.equal(parseSize('64m'), 64 << 20);
    assert.equal(parseSize('1g'), 2 ** 30);
    assert.equal(parseSize('2t'), 2 * 2 ** 40);
    assert.equal(parseSize('512'), 512);
    assert.equal(parseSize('512b'), 512);
    assert.equal(parseSize('1.5k'), 1536);
    assert.equal(parseSize(8192), 8192);
    for (const bad of ['', 'k', '4x', '-1', '1.3', '4 kk', '0x10']) {
      assert.throws(() => parseSize(bad, 'bs'), { code: 'EINVAL', message: new RegExp(`invalid bs '${bad.replace('.', '\\.')}'`) }, bad);
    }
  });

  it('parses durations: bare numbers are seconds', () => {
    assert.equal(parseDuration('10'), 10_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.throws(() => parseDuration('soon'), { code: 'EINVAL' });
  });

  it('formats bytes, rates and counts fio-style', () => {
    assert.equal(formatBytes(512), '512B');
    assert.equal(formatBytes(4096), '4KiB');
    assert.equal(formatBytes(48.3 * 2 ** 20), '48.3MiB');
    assert.equal(formatBytes(1.25 * 2 ** 30), '1.25GiB');
    assert.equal(formatBandwidth(50_331_648), '48MiB/s (50.3MB/s)');
    assert.equal(formatCount(950), '950');
    assert.equal(formatCount(12_345), '12.3k');
    assert.equal(formatCount(1_250_000), '1.25M');
    assert.equal(formatSeconds(0.000123), '123us');
    assert.equal(formatSeconds(0.5), '500ms');
    assert.equal(formatSeconds(12.34), '12.3s');
  });
});

describe('LatencyHistogram', () => {
  it('gives percentiles within its precision; min, max and mean exactly', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v * 1000); // 1 us .. 100 ms
    assert.equal(h.count, 100_000);
    assert.equal(h.min, 1000);
    assert.equal(h.max, 100_000_000);
    assert.equal(h.mean, 50_000_500);
    for (const [p, exact] of [[50, 50_000_000], [90, 90_000_000], [99, 99_000_000], [99.9, 99_900_000]] as const) {
      const got = h.percentile(p);
      assert.ok(got >= exact, `p${p} ${got} >= ${exact}`);
      assert.ok(got <= exact * (1 + HISTOGRAM_PRECISION), `p${p} ${got} within precision of ${exact}`);
    }
    const s = h.summary();
    assert.ok(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
    assert.equal(s.p999 <= 100_000, true);
  });

  it('is exact for small values, handles huge ones, and merges', () => {
    const a = new LatencyHistogram();
    for (const v of [0, 1, 2, 255]) a.record(v);
    assert.equal(a.percentile(50), 1);
    assert.equal(a.percentile(100), 255);
    const b = new LatencyHistogram();
    b.record(2 ** 52);
    a.merge(b);
    assert.equal(a.count, 5);
    assert.equal(a.percentile(100), 2 ** 52);
    assert.equal(new LatencyHistogram().percentile(50), 0);
  });
});

describe('Prng and VerifyPattern', () => {
  it('the PRNG is deterministic per seed and below() stays in range', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const sa = Array.from({ length: 8 }, () => a.u32());
    assert.deepEqual(sa, Array.from({ length: 8 }, () => b.u32()));
    assert.notDeepEqual(sa, Array.from({ length: 8 }, () => c.u32()));
    const r = new Prng(1);
    for (let i = 0; i < 1000; i++) {
      const v = r.below(10);
      assert.ok(v >= 0 && v < 10 && Number.isInteger(v));
      const w = r.below(2 ** 40 + 3);
      assert.ok(w >= 0 && w < 2 ** 40 + 3 && Number.isInteger(w));
    }
  });

  it('the pattern depends on position and seed only, whatever the block size', () => {
    const p = new VerifyPattern(99);
    const whole = new Uint8Array(16384);
    p.fill(whole, 4096);
    const part = new Uint8Array(1000);
    p.fill(part, 4096 + 3000);
    assert.deepEqual(part, whole.subarray(3000, 4000));
    assert.equal(p.firstMismatch(part, 4096 + 3000), undefined);
    // each sector is stamped with its own offset: the same data elsewhere is a mismatch
    // The random fill repeats every 4 KiB, but every sector's stamp holds its offset: data that
    // belongs at 4096 read back at 8192 differs in the stamp.
    const moved = p.firstMismatch(whole.subarray(0, 4096), 8192);
    assert.ok(moved !== undefined && moved.offset >= 8192 && moved.offset < 8192 + 8, 'misdirected data is caught in the stamp');
    const other = new VerifyPattern(100);
    assert.notEqual(other.firstMismatch(whole, 4096), undefined);
    const corrupted = Uint8Array.from(whole);
    corrupted[777] = corrupted[777]! ^ 0xff;
    assert.deepEqual(p.firstMismatch(corrupted, 4096), { offset: 4096 + 777, expected: whole[777], actual: whole[777]! ^ 0xff });
  });
});
