// Smoke test of the bench harness and raw baselines: every baseline completes a few hundred
// round trips (called directly, not through a full mitata run), idle peers sleep and are
// woken, peers exit cleanly on close(), and the JSON report has the expected shape.
// Never asserts on speed: this VM is shared and has 2 vCPUs.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import {
  childProcessIpc, memoryBaselines, sabPingPongThread, shmPingPongProcess, unixSocketRoundTrip,
  type AsyncRoundTrip, type PingPongRoundTrip,
} from './baselines.js';
import {
  applyRatios, evaluateTargets, formatReport, machineInfo, measureByLoop, measureCases, parseOptions, ratio,
  ratioTarget, runSuite, writeReport, type BenchCase, type BenchResult, type SuiteReport,
} from './harness.js';

const SPIN_ITERATIONS = 200;
const ITERATIONS = 300;

const results: BenchResult[] = [];
const cases: BenchCase[] = [];
const dir = mkdtempSync(join(tmpdir(), 'hmdrv-bench-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** True once `pid` no longer exists (ESRCH); a reaped child is gone, a zombie is not. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

/** Round trips, then idle until the peer sleeps, then one more round trip (the wake path). */
async function exercisePingPong(b: PingPongRoundTrip, name: string, iterations: number): Promise<void> {
  const c: BenchCase = { name, fn: b.roundTrip, pids: b.pids, baseline: cases.length === 0 };
  const r = await measureByLoop(c, iterations);
  assert.equal(r.error, undefined);
  assert.equal(r.calls, iterations);
  assert.ok(r.avg > 0 && r.p99 >= r.p50);
  results.push(r);
  cases.push(c);
}

async function exerciseAsync(b: AsyncRoundTrip, name: string): Promise<void> {
  const c: BenchCase = { name, fn: b.roundTripAsync, pids: b.pids };
  const r = await measureByLoop(c, ITERATIONS);
  assert.equal(r.error, undefined);
  assert.equal(r.calls, ITERATIONS);
  if (b.pids.length) assert.notEqual(r.childCpuUsPerOp, null);
  results.push(r);
  cases.push(c);
}

describe('baselines', () => {
  test('SAB ping-pong thread (spin): round trips, sleeps when idle, is woken, exits 0', async () => {
    const b = await sabPingPongThread({ idleSpinMs: 20 });
    try {
      await exercisePingPong(b, 'sab spin', SPIN_ITERATIONS);
      assert.ok(await until(() => b.peerSleeping, 3000), 'worker should go to Atomics.wait when idle');
      b.roundTrip(); // must wake it with Atomics.notify
      assert.ok(b.peerSleeps >= 1, 'the worker counts a sleep once woken');
      assert.equal(b.peerSleeping, false);
    } finally {
      await b.close();
    }
    await b.close(); // idempotent
  });

  test('SAB ping-pong thread (block)', async () => {
    const b = await sabPingPongThread({ mode: 'block' });
    try {
      await exercisePingPong(b, 'sab block', ITERATIONS);
    } finally {
      await b.close();
    }
  });

  test('shm ping-pong process (spin): round trips, futex sleep and wake, child exits 0', async () => {
    const b = await shmPingPongProcess({ idleSpinMs: 20 });
    const pid = b.pids[0]!;
    try {
      await exercisePingPong(b, 'shm spin', SPIN_ITERATIONS);
      assert.ok(await until(() => b.peerSleeping, 3000), 'child should futex-wait when idle');
      b.roundTrip(); // must wake it with a native FUTEX_WAKE
      assert.ok(b.peerSleeps >= 1);
    } finally {
      await b.close();
    }
    assert.ok(gone(pid), 'child reaped');
  });

  test('shm ping-pong process (block)', async () => {
    const b = await shmPingPongProcess({ mode: 'block' });
    try {
      await exercisePingPong(b, 'shm block', ITERATIONS);
    } finally {
      await b.close();
    }
    assert.ok(gone(b.pids[0]!));
  });

  test('child_process IPC round trip', async () => {
    const b = await childProcessIpc();
    try {
      await exerciseAsync(b, 'ipc');
    } finally {
      await b.close();
    }
    assert.ok(gone(b.pids[0]!));
  });

  test('unix socket 8-byte echo', async () => {
    const b = await unixSocketRoundTrip();
    try {
      await exerciseAsync(b, 'uds');
    } finally {
      await b.close();
    }
    assert.ok(gone(b.pids[0]!));
  });

  test('memory baselines return positive MB figures', async () => {
    const m = await memoryBaselines({ workers: 2, children: 1, settleMs: 50 });
    assert.ok(Number.isFinite(m.workerRssMB));
    assert.ok(m.childRssMB > 1 && m.childRssAnonMB > 0);
  });
});

describe('harness', () => {
  test('options: flags and environment', () => {
    const o = parseOptions(['--quick', '--filter', 'SAB', '--suite=a,b', '--no-write'], { NO_COLOR: '1' });
    assert.equal(o.quick, true);
    assert.equal(o.filter?.source, 'SAB');
    assert.deepEqual(o.suites, ['a', 'b']);
    assert.equal(o.write, false);
    assert.equal(o.colors, false);
    assert.equal(parseOptions([], { HMDRV_BENCH_QUICK: '1' }).quick, true);
    assert.throws(() => parseOptions(['--bogus'], {}));
  });

  test('report JSON from the baseline results has the expected keys', () => {
    assert.ok(results.length >= 1, 'baseline tests ran first');
    applyRatios(cases, results);
    const base = results[0]!;
    const report: SuiteReport = {
      schema: 1, suite: 'smoke', date: new Date().toISOString(), quick: true, filter: null,
      machine: machineInfo(), baseline: base.name, results,
      targets: evaluateTargets([ratioTarget('self', base.name, base.name, 1.01), ratioTarget('missing', 'nope', base.name, 1)], results),
      extra: { note: 'smoke' },
    };
    assert.equal(base.ratio, 1);
    assert.equal(report.targets[0]!.pass, true);
    assert.equal(report.targets[1]!.pass, null);
    assert.match(formatReport(report), /self = 1\.00x \(limit 1\.01x\) PASS/);
    const { file, latest } = writeReport(report, dir);
    for (const path of [file, latest]) {
      const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
      for (const k of ['schema', 'suite', 'date', 'quick', 'machine', 'baseline', 'results', 'targets', 'extra']) assert.ok(k in json, k);
      for (const k of ['node', 'cpus', 'loadavg', 'date', 'git']) assert.ok(k in json.machine, `machine.${k}`);
      for (const r of json.results) {
        for (const k of ['name', 'avg', 'p50', 'p75', 'p99', 'min', 'max', 'opsPerSec', 'cpuUsPerOp', 'childCpuUsPerOp', 'ratio']) assert.ok(k in r, `result.${k}`);
      }
    }
    assert.match(file, /smoke-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/);
    assert.match(latest, /smoke-latest\.json$/);
  });

  test('runSuite in quick mode measures with mitata, prints and writes', async () => {
    const lines: string[] = [];
    let x = 0;
    const run = await runSuite({
      suite: 'smoke-run',
      options: { ...parseOptions([], {}), quick: true, quickMs: 5, resultsDir: dir, print: (l) => lines.push(l) },
      cases: [
        { name: 'add', fn: () => (x += 1), baseline: true },
        { name: 'add twice', fn: () => (x += 2, x += 1) },
        { name: 'async tick', fn: () => Promise.resolve(x++) },
      ],
      targets: [ratioTarget('add twice / add', 'add twice', 'add', 1000)],
    });
    assert.equal(run.results.length, 3);
    for (const r of run.results) {
      assert.equal(r.error, undefined);
      assert.ok(r.calls > 0 && r.avg > 0);
    }
    assert.ok(run.files);
    const json = JSON.parse(readFileSync(run.files.latest, 'utf8')) as SuiteReport;
    assert.equal(json.results[0]!.name, 'add');
    assert.equal(json.targets[0]!.pass, true);
    assert.ok(lines.join('\n').includes('ratio vs add'));
    assert.equal(ratio(4, 2), 2);
  });
});

describe('case hooks', () => {
  test('before runs once before the first call and after once after the last, in mitata (quick) and in the loop; a failing before fails only its case', async () => {
    const log: string[] = [];
    const hooked = (name: string): BenchCase => ({
      name,
      before: async () => { await new Promise((r) => setTimeout(r, 1)); log.push(`${name}:before`); },
      fn: () => { if (log.at(-1) !== `${name}:call`) log.push(`${name}:call`); },
      after: () => { log.push(`${name}:after`); },
    });
    const broken: BenchCase = { name: 'broken', before: () => { throw new Error('no device'); }, fn: () => log.push('broken:call'), after: () => { log.push('broken:after'); } };
    const quick = { quick: true, quickMs: 5, colors: false, print: () => {} };
    const rs = await measureCases([hooked('a'), broken, hooked('b')], quick);
    assert.deepEqual(log, ['a:before', 'a:call', 'a:after', 'broken:after', 'b:before', 'b:call', 'b:after']);
    assert.equal(rs[0]!.error, undefined);
    assert.match(String(rs[1]!.error), /no device/);
    assert.equal(rs[2]!.error, undefined);
    log.length = 0;
    const r = await measureByLoop(hooked('c'), 10);
    assert.equal(r.calls, 10);
    assert.deepEqual(log, ['c:before', 'c:call', 'c:after']);
  });
});
