// Smoke test of the block bench suite: a quick run of its IC0 4K case and the model-only 4K case
// (every read of the suite checks its length; the suite itself boots the UFS platform, fills the
// LU and measures through /dev/sda). Never asserts on speed: this VM is shared.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseOptions } from './harness.js';
import suite, { BLOCK_CASE } from './suites/block.js';

test('block suite: the IC0 /dev/sda and model-only 4K cases run and report IOPS and their ratio', { timeout: 180_000 }, async () => {
  const options = parseOptions(['--quick', '--no-write', '--filter', '^(ic0 /dev/sda 4K|model-only 4K)']);
  const lines: string[] = [];
  options.print = (l) => lines.push(l);
  options.quickMs = 20;
  const report = await suite.run(options);
  const names = report.results.map((r) => r.name).sort();
  assert.deepEqual(names, [BLOCK_CASE.rand4k('ic0'), BLOCK_CASE.model4k].sort());
  for (const r of report.results) assert.equal(r.error, undefined, `${r.name}: ${r.error}`);
  const figures = report.extra.figures as Record<string, { IOPS: number }>;
  assert.ok(figures[BLOCK_CASE.rand4k('ic0')]!.IOPS > 0);
  const ratio = (report.extra.vsModelOnly as Record<string, { rand4kIops?: number }>).ic0!.rand4kIops;
  assert.ok(ratio !== undefined && ratio > 0);
  assert.ok((report.extra.completionsPerIrq as Record<string, number>).ic0! >= 1);
  assert.ok(lines.some((l) => l.includes('ic0 /dev/sda 4K randread IOPS / model-only')));
});
