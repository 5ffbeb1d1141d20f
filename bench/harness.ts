// The benchmark harness shared by every bench suite.
//
//  - runs a list of cases with mitata (full run) or mitata's `measure` with a short budget
//    (--quick / HMDRV_BENCH_QUICK=1), collecting avg/p50/p75/p99/min/max in ns;
//  - brackets each case's measured section with process.cpuUsage() (user+system of every
//    thread of this process) and, for cases with child processes, their utime+stime from
//    /proc/<pid>/stat, to report CPU time per operation next to wall time: a spinning peer
//    shows up as ~2 cores busy for one round trip in flight;
//  - prints an aligned plain-text table and a list of targets, and writes
//    bench/results/<suite>-<timestamp>.json and <suite>-latest.json with machine info.
//
// Typical suite:
//   const report = await runSuite({ suite: 'ipc', options, cases: [
//     { name: 'SAB ping-pong', fn: () => sab.roundTrip(), baseline: true },
//     { name: 'IC1 call', fn: () => ic1.call() },
//   ], targets: [ratioTarget('IC1 call / SAB ping-pong', 'IC1 call', 'SAB ping-pong', 1.5)] });

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { bench, do_not_optimize, group, measure, run, summary } from 'mitata';

import { gcFunction } from './gc.js';
import { packageRoot } from './native.js';

export { do_not_optimize };

// ---- options --------------------------------------------------------------------------------

export interface HarnessOptions {
  /** Short run: mitata's `measure` with `quickMs` per case instead of its ~0.65 s default. */
  quick: boolean;
  /** Per-case measuring budget in quick mode, ms. */
  quickMs: number;
  /** Only cases whose name matches run (--filter <regex>). */
  filter?: RegExp;
  /** Only these suites run (--suite <name>, repeatable or comma-separated); empty = all. */
  suites: string[];
  /** mitata colours; off when NO_COLOR, NODE_DISABLE_COLORS or CI is set or stdout is no TTY. */
  colors: boolean;
  /** Write JSON results (--no-write turns it off). */
  write: boolean;
  /** Where JSON goes; default <package root>/bench/results (--results-dir <dir>). */
  resultsDir: string;
  /** A failed target makes the run fail (--strict). */
  strict: boolean;
  print: (line: string) => void;
}

export const QUICK_ENV = 'HMDRV_BENCH_QUICK';

const USAGE = `usage: node dist/bench/main.js [--quick] [--filter <regex>] [--suite <name>]... [--strict]
                                [--no-write] [--results-dir <dir>] [--list]
  --quick            short run (also ${QUICK_ENV}=1)
  --filter <regex>   only benchmarks whose name matches (memory baselines: when it matches 'memory')
  --suite <name>     only this suite (repeatable, or comma-separated)
  --strict           exit 1 when a target fails
  --no-write         do not write JSON results
  --list             list suites and exit`;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
  }
}

/** Parses bench command-line flags (`--x v` or `--x=v`); throws UsageError on unknown ones. */
export function parseOptions(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): HarnessOptions & { list: boolean } {
  const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
  const o: HarnessOptions & { list: boolean } = {
    quick: truthy(env[QUICK_ENV]),
    quickMs: 50,
    suites: [],
    colors: !(truthy(env.NO_COLOR) || truthy(env.NODE_DISABLE_COLORS) || truthy(env.CI)) && process.stdout.isTTY === true,
    write: true,
    resultsDir: join(packageRoot(), 'bench', 'results'),
    strict: false,
    print: (line) => console.log(line),
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = () => {
      if (eq > 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick': o.quick = true; break;
      case '--filter': {
        const src = value();
        try { o.filter = new RegExp(src); } catch (e) { throw new UsageError(`bad --filter: ${(e as Error).message}`); }
        break;
      }
      case '--suite': o.suites.push(...value().split(',').filter(Boolean)); break;
      case '--strict': o.strict = true; break;
      case '--no-write': o.write = false; break;
      case '--results-dir': o.resultsDir = value(); break;
      case '--list': o.list = true; break;
      case '--help': case '-h': throw new UsageError('');
      default: throw new UsageError(`unknown argument ${raw}`);
    }
  }
  return o;
}

// ---- cases, results, targets ----------------------------------------------------------------

export interface BenchCase {
  /** Unique within a suite; the key for ratios and targets. */
  name: string;
  /** One operation; synchronous, or returning a Promise (mitata then awaits each call). */
  fn: () => unknown;
  /** The suite's default reference for the ratio column (at most one case). */
  baseline?: boolean;
  /** Compare against this case instead of the suite's baseline. */
  vs?: string;
  /** Child processes whose CPU time this case uses (read from /proc/<pid>/stat). */
  pids?: readonly number[] | (() => readonly number[]);
  /** mitata group (also shown in the JSON). */
  group?: string;
  /**
   * Runs right before this case is warmed up and measured, outside the timing: set up what only
   * this case (or its group) needs, so it is not alive while other cases run. An error fails the
   * case, not the suite.
   */
  before?: () => Promise<void> | void;
  /** Runs right after this case was measured, outside the timing; also after a failure (of
   *  `before` too), so it must release only what exists. */
  after?: () => Promise<void> | void;
}

export interface BenchResult {
  name: string;
  group: string | null;
  /** Wall time per operation, ns. */
  avg: number; p50: number; p75: number; p99: number; min: number; max: number;
  /** Operations mitata timed (samples x batch size). */
  ticks: number;
  /** Whether samples timed batches of calls. mitata times single calls when its first calls
   *  are slow; sub-microsecond figures then include clock-read overhead. */
  batched: boolean;
  /** Calls made while measuring, warm-up included (the CPU figures divide by this). */
  calls: number;
  opsPerSec: number;
  /** CPU time of this process (all threads) per call, µs. */
  cpuUsPerOp: number;
  /** CPU time of the case's child processes per call, µs (clock-tick resolution); null without children. */
  childCpuUsPerOp: number | null;
  /** Busy cores while measuring: (process + child CPU) / wall time. */
  cores: number;
  /** Cores kept busy by everything else on the machine meanwhile (/proc/stat minus ours);
   *  above ~0.2 on a small machine, spinning figures are unreliable. null off Linux. */
  otherCores: number | null;
  /** The case this one is compared with, and avg / that case's avg. */
  vs: string | null;
  ratio: number | null;
  error?: string;
}

export interface TargetSpec {
  name: string;
  limit: number;
  /** '<=' (default): value must not exceed limit; '>=': value must reach it. */
  cmp?: '<=' | '>=';
  /** Printed after value and limit: 'x' for ratios, 'µs', 'MB'... */
  unit?: string;
  /** The measured value, or undefined when its inputs were filtered out or failed. */
  value(get: (name: string) => BenchResult | undefined, extra: Readonly<Record<string, unknown>>): number | undefined;
}

export interface TargetResult {
  name: string;
  value: number | null;
  limit: number;
  cmp: '<=' | '>=';
  unit: string;
  /** null when the value could not be computed (skipped). */
  pass: boolean | null;
}

export type Stat = 'avg' | 'p50' | 'p75' | 'p99' | 'min' | 'max';

/** a / b; for results, of the given statistic (default avg). */
export function ratio(a: number | BenchResult, b: number | BenchResult, stat: Stat = 'avg'): number {
  const x = typeof a === 'number' ? a : a[stat];
  const y = typeof b === 'number' ? b : b[stat];
  return x / y;
}

/** Target on the ratio of two cases, e.g. "IC1 round trip / SAB ping-pong <= 1.5x". */
export function ratioTarget(name: string, a: string, b: string, limit: number, opts: { stat?: Stat; cmp?: '<=' | '>=' } = {}): TargetSpec {
  return {
    name, limit, cmp: opts.cmp, unit: 'x',
    value(get) {
      const ra = get(a);
      const rb = get(b);
      return ra && rb && !ra.error && !rb.error ? ratio(ra, rb, opts.stat) : undefined;
    },
  };
}

/** Target on one case's time in µs, e.g. "SAB ping-pong avg <= 2 µs". */
export function timeTarget(name: string, bench: string, limitUs: number, opts: { stat?: Stat; cmp?: '<=' | '>=' } = {}): TargetSpec {
  return {
    name, limit: limitUs, cmp: opts.cmp, unit: ' µs',
    value(get) {
      const r = get(bench);
      return r && !r.error ? r[opts.stat ?? 'avg'] / 1000 : undefined;
    },
  };
}

export function evaluateTargets(targets: readonly TargetSpec[], results: readonly BenchResult[], extra: Readonly<Record<string, unknown>> = {}): TargetResult[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  return targets.map((t) => {
    const cmp = t.cmp ?? '<=';
    let v: number | undefined;
    try {
      v = t.value((n) => byName.get(n), extra);
    } catch {
      v = undefined;
    }
    const ok = v !== undefined && Number.isFinite(v);
    return {
      name: t.name, limit: t.limit, cmp, unit: t.unit ?? '',
      value: ok ? v! : null,
      pass: ok ? (cmp === '<=' ? v! <= t.limit : v! >= t.limit) : null,
    };
  });
}

// ---- CPU accounting -------------------------------------------------------------------------

let clkTck: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat (getconf CLK_TCK; 100 on Linux in practice). */
export function clockTicksPerSecond(): number {
  if (clkTck !== undefined) return clkTck;
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    clkTck = 100;
  }
  return clkTck;
}

/** utime + stime of a process in clock ticks (all its threads), or null if it is gone. */
export function procCpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": comm may contain spaces, so split after the last ')'.
    // Field 3 (state) is index 0, so utime (14) and stime (15) are indices 11 and 12.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Busy ticks of the whole machine (all CPUs) from /proc/stat, or null off Linux. */
function machineBusyTicks(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  } catch {
    return null;
  }
}

interface CpuSnap { wallMs: number; cpuUs: number; childTicks: number | null; busyTicks: number | null }

function snap(pids: readonly number[]): CpuSnap {
  let childTicks: number | null = null;
  for (const pid of pids) {
    const t = procCpuTicks(pid);
    if (t === null) { childTicks = null; break; }
    childTicks = (childTicks ?? 0) + t;
  }
  const u = process.cpuUsage();
  return { wallMs: performance.now(), cpuUs: u.user + u.system, childTicks, busyTicks: machineBusyTicks() };
}

interface CpuRecord { calls: number; cpuUs: number; childUs: number | null; wallMs: number; machineUs: number | null }

function cpuDelta(a: CpuSnap, b: CpuSnap, calls: number): CpuRecord {
  const us = (t0: number | null, t1: number | null) => (t0 !== null && t1 !== null ? ((t1 - t0) * 1e6) / clockTicksPerSecond() : null);
  return {
    calls,
    cpuUs: b.cpuUs - a.cpuUs,
    childUs: us(a.childTicks, b.childTicks),
    wallMs: b.wallMs - a.wallMs,
    machineUs: us(a.busyTicks, b.busyTicks),
  };
}

// ---- measuring ------------------------------------------------------------------------------

interface Stats { avg: number; p50: number; p75: number; p99: number; min: number; max: number; ticks: number; samples: readonly number[] }

function toResult(c: BenchCase, stats: Stats | undefined, cpu: CpuRecord | undefined, error: unknown): BenchResult {
  const calls = cpu?.calls ?? 0;
  const perCall = (us: number) => (calls > 0 ? us / calls : NaN);
  const busyUs = (cpu?.cpuUs ?? 0) + (cpu?.childUs ?? 0);
  const r: BenchResult = {
    name: c.name,
    group: c.group ?? null,
    avg: stats?.avg ?? NaN, p50: stats?.p50 ?? NaN, p75: stats?.p75 ?? NaN,
    p99: stats?.p99 ?? NaN, min: stats?.min ?? NaN, max: stats?.max ?? NaN,
    ticks: stats?.ticks ?? 0,
    batched: stats ? stats.ticks > stats.samples.length : false,
    calls,
    opsPerSec: stats ? 1e9 / stats.avg : NaN,
    cpuUsPerOp: perCall(cpu?.cpuUs ?? NaN),
    childCpuUsPerOp: cpu?.childUs != null ? perCall(cpu.childUs) : null,
    cores: cpu && cpu.wallMs > 0 ? busyUs / (cpu.wallMs * 1000) : NaN,
    otherCores: cpu && cpu.machineUs !== null && cpu.wallMs > 0 ? Math.max(0, cpu.machineUs - busyUs) / (cpu.wallMs * 1000) : null,
    vs: null,
    ratio: null,
  };
  if (error !== undefined || !stats) r.error = error instanceof Error ? error.message : String(error ?? 'no statistics');
  return r;
}

/** Calls `fn` for at least `ms` (and 3 calls): JIT-compiles it and wakes sleeping peers
 *  before the CPU bracket opens, so neither is charged to the measured operations. */
async function warmUp(fn: () => unknown, ms: number): Promise<void> {
  const end = performance.now() + ms;
  for (let i = 0; i < 3 || performance.now() < end; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
}

/**
 * Wraps a case for mitata: an async generator whose code before/after `yield` brackets the
 * measured section with CPU snapshots, and a counting wrapper so CPU time divides by the
 * exact number of calls (mitata's tick count leaves out warm-up and trimmed samples).
 */
function instrument(c: BenchCase, gc: (() => void) | undefined, warmupMs: number, out: Map<string, CpuRecord>) {
  const fn = c.fn;
  const pidsOf = typeof c.pids === 'function' ? c.pids : () => (c.pids as readonly number[] | undefined) ?? [];
  return async function* () {
    try {
      await c.before?.();
      // GC here, outside the bracket, instead of mitata's own, which without --expose-gc
      // would allocate a 1 GiB buffer to force one. Warm up after it, right before mitata's
      // first call: mitata decides from its first calls whether to time batches of 4096 calls
      // or single calls (a slow first call, > 0.5 ms, means single calls, too coarse for a
      // sub-microsecond operation).
      gc?.();
      await warmUp(fn, warmupMs);
      let calls = 0;
      const counted = () => {
        calls++;
        return fn();
      };
      const pids = pidsOf();
      const s0 = snap(pids);
      yield counted;
      out.set(c.name, cpuDelta(s0, snap(pids), calls));
    } finally {
      await c.after?.();
    }
  };
}

/** Measures cases in order; returns one result per case (errors recorded, not thrown). */
/** Runs a suite's cleanups in reverse order; a failing one is reported and the rest still run. */
export async function runClosers(closers: (() => Promise<void> | void)[], say: (m: string) => void): Promise<void> {
  for (const c of closers.reverse()) {
    try {
      await c();
    } catch (err) {
      say(`cleanup: ${(err as Error).message}`);
    }
  }
}

export async function measureCases(cases: readonly BenchCase[], options: Pick<HarnessOptions, 'quick' | 'quickMs' | 'colors' | 'print'>): Promise<BenchResult[]> {
  const gc = gcFunction();
  const cpu = new Map<string, CpuRecord>();
  const results: BenchResult[] = [];
  if (options.quick) {
    for (const c of cases) {
      let stats: Stats | undefined;
      let error: unknown;
      try {
        stats = await measure(instrument(c, gc, Math.min(20, options.quickMs), cpu), { gc: false, min_cpu_time: options.quickMs * 1e6 });
      } catch (err) {
        error = err;
      }
      results.push(toResult(c, stats, cpu.get(c.name), error));
    }
    return results;
  }
  // Full run: register with mitata (one summary per group, so mitata prints "x faster than"
  // against the baseline) and let it print its own report before ours.
  const groups = new Map<string | undefined, BenchCase[]>();
  for (const c of cases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  for (const [name, list] of groups) {
    const register = () => summary(() => {
      for (const c of list) bench(c.name, instrument(c, gc, 100, cpu)).gc(false).baseline(c.baseline === true);
    });
    if (name === undefined) register();
    else group(name, register);
  }
  const out = await run({ colors: options.colors, print: options.print, throw: false });
  const byName = new Map(out.benchmarks.map((t) => [t.alias, t.runs[0]]));
  for (const c of cases) {
    const r = byName.get(c.name);
    results.push(toResult(c, r?.stats, cpu.get(c.name), r ? r.error : 'not run'));
  }
  return results;
}

/**
 * Measures one case by calling it `iterations` times and timing each call (smoke tests:
 * exact call counts, no mitata budget). Per-call clock reads add ~0.1 µs, so do not quote
 * sub-microsecond figures from this.
 */
export async function measureByLoop(c: BenchCase, iterations: number): Promise<BenchResult> {
  const times: number[] = new Array(iterations);
  let error: unknown;
  let pids: readonly number[] = [];
  let s0 = snap(pids);
  let done = 0;
  try {
    await c.before?.();
    pids = typeof c.pids === 'function' ? c.pids() : c.pids ?? [];
    s0 = snap(pids);
    for (; done < iterations; done++) {
      const t0 = performance.now();
      const r = c.fn();
      if (r instanceof Promise) await r;
      times[done] = (performance.now() - t0) * 1e6;
    }
  } catch (err) {
    error = err;
  }
  const cpu = cpuDelta(s0, snap(pids), done);
  try {
    await c.after?.();
  } catch (err) {
    error ??= err;
  }
  times.length = done;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.floor(q * (times.length - 1))]!;
  const stats: Stats | undefined = done === 0 ? undefined : {
    avg: times.reduce((a, b) => a + b, 0) / done,
    p50: at(0.5), p75: at(0.75), p99: at(0.99), min: times[0]!, max: times[done - 1]!, ticks: done, samples: times,
  };
  return toResult(c, stats, cpu, error);
}

/** Fills `vs`/`ratio`: each case against its `vs`, else the suite's baseline case. */
export function applyRatios(cases: readonly BenchCase[], results: BenchResult[]): void {
  const byName = new Map(results.map((r) => [r.name, r]));
  const base = cases.find((c) => c.baseline)?.name;
  for (const c of cases) {
    const r = byName.get(c.name);
    const vs = c.vs ?? base;
    if (!r || vs === undefined) continue;
    const b = byName.get(vs);
    r.vs = vs;
    r.ratio = b && !b.error && !r.error ? ratio(r, b) : null;
  }
}

// ---- machine info, report, JSON -------------------------------------------------------------

export interface MachineInfo {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpus: { count: number; model: string; mhz: number };
  loadavg: number[];
  totalMemMB: number;
  freeMemMB: number;
  clkTck: number;
  gc: boolean;
  execArgv: string[];
  git: { commit: string | null; dirty: boolean | null };
  date: string;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: packageRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpus: { count: cpus.length, model: cpus[0]?.model ?? 'unknown', mhz: cpus[0]?.speed ?? 0 },
    loadavg: os.loadavg(),
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    freeMemMB: Math.round(os.freemem() / 2 ** 20),
    clkTck: clockTicksPerSecond(),
    gc: gcFunction() !== undefined,
    execArgv: process.execArgv,
    git: { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 },
    date: new Date().toISOString(),
  };
}

export interface SuiteReport {
  schema: 1;
  suite: string;
  date: string;
  quick: boolean;
  filter: string | null;
  machine: MachineInfo;
  /** The suite's default baseline case, if any. */
  baseline: string | null;
  results: BenchResult[];
  targets: TargetResult[];
  /** Suite-specific figures that are not per-operation timings (e.g. memory). */
  extra: Record<string, unknown>;
}

/** Writes <dir>/<suite>-<timestamp>.json and <dir>/<suite>-latest.json; returns both paths. */
export function writeReport(report: SuiteReport, dir: string): { file: string; latest: string } {
  mkdirSync(dir, { recursive: true });
  // ISO 8601 with ':' and '.' made file-name safe: 2026-11-24T17-15-03-123Z.
  const stamp = report.date.replace(/[:.]/g, '-');
  const text = `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  const file = join(dir, `${report.suite}-${stamp}.json`);
  const latest = join(dir, `${report.suite}-latest.json`);
  writeFileSync(file, text);
  writeFileSync(latest, text);
  return { file, latest };
}

// ---- formatting -----------------------------------------------------------------------------

const sig = (x: number, digits = 3) => {
  if (!Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(x)));
  return x.toFixed(Math.max(0, digits - 1 - mag));
};

/** ns -> "212 ns", "0.21 µs"-style: three significant digits in the largest fitting unit. */
export function formatTime(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${sig(ns)} ns`;
  if (ns < 1e6) return `${sig(ns / 1e3)} µs`;
  if (ns < 1e9) return `${sig(ns / 1e6)} ms`;
  return `${sig(ns / 1e9)} s`;
}

function formatRate(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 1e6) return `${sig(x / 1e6)}M`;
  if (x >= 1e3) return `${sig(x / 1e3)}k`;
  return sig(x);
}

/** Plain-text table; first column left-aligned, the rest right-aligned. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatResults(results: readonly BenchResult[], baseline: string | null): string {
  const rows = results.map((r) => {
    let rel = '-';
    if (r.error) rel = `ERROR: ${r.error}`;
    else if (r.name === r.vs) rel = 'baseline';
    else if (r.ratio !== null) rel = `${sig(r.ratio)}x${r.vs !== baseline ? ` vs ${r.vs}` : ''}`;
    return [
      r.name, formatTime(r.avg), formatTime(r.p50), formatTime(r.p99), formatRate(r.opsPerSec),
      sig(r.cpuUsPerOp), r.childCpuUsPerOp === null ? '-' : sig(r.childCpuUsPerOp), sig(r.cores, 2),
      r.otherCores === null ? '-' : r.otherCores.toFixed(2), rel,
    ];
  });
  const header = ['benchmark', 'avg', 'p50', 'p99', 'ops/s', 'cpu µs/op', 'child µs/op', 'cores', 'other', baseline ? `ratio vs ${baseline}` : 'ratio'];
  return renderTable(header, rows);
}

export function formatTarget(t: TargetResult): string {
  const limit = `${t.cmp === '>=' ? '>= ' : ''}${sig(t.limit)}${t.unit}`;
  if (t.value === null) return `${t.name} = n/a (limit ${limit}) SKIP`;
  return `${t.name} = ${sig(t.value)}${t.unit} (limit ${limit}) ${t.pass ? 'PASS' : 'FAIL'}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One line per object of plain values (`key: a=1 b=2`); nested objects get `key.sub:` lines. */
function formatExtra(extra: Readonly<Record<string, unknown>>, prefix = ''): string[] {
  const lines: string[] = [];
  const value = (v: unknown) => (typeof v === 'number' ? sig(v) : Array.isArray(v) ? JSON.stringify(v.map((x) => (typeof x === 'number' ? Number(sig(x)) : x))) : String(v));
  for (const [k, v] of Object.entries(extra)) {
    const key = `${prefix}${k}`;
    if (isRecord(v)) {
      const flat = Object.entries(v).filter(([, vv]) => !isRecord(vv));
      if (flat.length) lines.push(`${key}: ${flat.map(([kk, vv]) => `${kk}=${value(vv)}`).join(' ')}`);
      const nested = Object.fromEntries(Object.entries(v).filter(([, vv]) => isRecord(vv)));
      lines.push(...formatExtra(nested, `${key}.`));
    } else {
      lines.push(`${key}: ${typeof v === 'number' ? sig(v) : JSON.stringify(v)}`);
    }
  }
  return lines;
}

/** Above this many cores busy elsewhere, a result is flagged as measured on a noisy machine. */
export const NOISY_OTHER_CORES = 0.2;

/** The full plain-text report: header, table, extra figures, targets. */
export function formatReport(report: SuiteReport): string {
  const m = report.machine;
  const out = [
    `== ${report.suite}${report.quick ? ' (quick)' : ''} — node ${m.node}, ${m.cpus.count} x ${m.cpus.model}, load ${m.loadavg.map((x) => x.toFixed(2)).join(' ')}, ${m.git.commit?.slice(0, 10) ?? 'no git'}${m.git.dirty ? '+dirty' : ''}`,
    formatResults(report.results, report.baseline),
    'cpu µs/op: this process, all threads; child µs/op: its child processes (/proc, 10 ms ticks);',
    'cores: cores these kept busy while measuring; other: cores the rest of the machine kept busy meanwhile',
  ];
  const unbatched = report.results.filter((r) => !r.error && !r.batched && r.avg < 5000);
  if (unbatched.length) {
    out.push(`note: ${unbatched.map((r) => `"${r.name}"`).join(', ')} timed per call, not in batches; sub-µs figures include ~0.1 µs of clock reads`);
  }
  const noisy = report.results.filter((r) => (r.otherCores ?? 0) > NOISY_OTHER_CORES);
  if (noisy.length) {
    out.push(`warning: other processes kept > ${NOISY_OTHER_CORES} core busy during ${noisy.map((r) => `"${r.name}"`).join(', ')}; ` +
      `spinning round trips degrade sharply when free cores < spinners`);
  }
  const extra = formatExtra(report.extra);
  if (extra.length) out.push('', ...extra);
  if (report.targets.length) out.push('', 'targets:', ...report.targets.map((t) => `  ${formatTarget(t)}`));
  return out.join('\n');
}

// ---- suites ---------------------------------------------------------------------------------

export interface SuiteSpec {
  suite: string;
  options: HarnessOptions;
  cases: readonly BenchCase[];
  targets?: readonly TargetSpec[];
  /** Extra figures for the JSON and the printout; may be computed after measuring, from the results. */
  extra?: Record<string, unknown> | ((results: readonly BenchResult[]) => Record<string, unknown> | Promise<Record<string, unknown>>);
}

export interface SuiteRun extends SuiteReport {
  /** Paths written, if any. */
  files: { file: string; latest: string } | null;
}

/** Filters, measures, computes ratios and targets, prints and writes a suite's report. */
export async function runSuite(spec: SuiteSpec): Promise<SuiteRun> {
  const { options } = spec;
  const names = new Set<string>();
  for (const c of spec.cases) {
    if (names.has(c.name)) throw new Error(`bench suite ${spec.suite}: duplicate case name "${c.name}"`);
    names.add(c.name);
  }
  const cases = spec.cases.filter((c) => !options.filter || options.filter.test(c.name));
  const results = cases.length ? await measureCases(cases, options) : [];
  applyRatios(cases, results);
  const extra = typeof spec.extra === 'function' ? await spec.extra(results) : spec.extra ?? {};
  const report: SuiteReport = {
    schema: 1,
    suite: spec.suite,
    date: new Date().toISOString(),
    quick: options.quick,
    filter: options.filter?.source ?? null,
    machine: machineInfo(),
    baseline: cases.find((c) => c.baseline)?.name ?? null,
    results,
    targets: evaluateTargets(spec.targets ?? [], results, extra),
    extra,
  };
  options.print('');
  options.print(formatReport(report));
  // An empty run (everything filtered out) must not replace the suite's latest results.
  const files = options.write && results.length ? writeReport(report, options.resultsDir) : null;
  if (files) options.print(`results: ${files.file}`);
  return { ...report, files };
}

/** A suite as registered in bench/main.ts. */
export interface Suite {
  name: string;
  description: string;
  run(options: HarnessOptions): Promise<SuiteRun>;
}
