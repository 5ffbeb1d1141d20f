/**
 * @module linux/bug.h (+ the kapi's debug reports)
 * `WARN_ON`, `WARN_ON_ONCE`, `WARN`, `BUG_ON`, `BUG`, and the one place where the kapi reports
 * driver bugs it detects ("BUG: spinlock recursion", "BUG: sleeping function called from
 * invalid context", "refcount_t: underflow; use-after-free."...). This is the seed of the debug
 * mode: every report is logged through printk (the driver's env) with the driver's call site,
 * recorded in `kapiBugs()`, and passed to `kapiDebug.onBug`.
 *
 * Differs from Linux, and why:
 * - `BUG()`/`BUG_ON(true)` log "kernel BUG at <site>" and then **throw**: a thrown error is
 *   what a driver bug is in hmdrv (the call fails with EIO and the container is restarted),
 *   the closest thing to an oops that kills the task.
 * - Bugs the kapi detects are logged once per (kind, call site); repeats are only counted
 *   (`kapiBugs()[i].count`), so a bug in a hot path cannot flood the kernel log. `WARN_ON`
 *   logs every time, `WARN_ON_ONCE` once per call site, as on Linux.
 * - The call site is the first stack frame outside linux-kapi (`new Error().stack`), printed
 *   as V8 prints it (`fn (file:line:col)`), instead of a symbolised instruction pointer.
 * - A callback the kapi runs on its own (timer, hrtimer, tasklet, work item, kthread) that
 *   throws is a fault: `kapiDebug.onFault` gets it (the lead wires it to the container's fault
 *   path); without a handler it is logged and rethrown asynchronously, as an unhandled error.
 */
import type { DriverEnv, LogLevel } from '../framework/driver-port.js';
import { currentDriverEnv, driverEnv } from './kernel.js';

export interface KapiBug {
  /** Short class of the bug, e.g. 'spinlock-recursion', 'sleep-in-atomic', 'refcount'. */
  readonly kind: string;
  /** The first logged message. */
  readonly message: string;
  /** Driver call site (first frame outside linux-kapi), or '' when unknown. */
  readonly site: string;
  /** How many times it happened (logged only the first time). */
  count: number;
}

export interface KapiDebug {
  /**
   * Record the call site of every spinlock/rwlock/mutex acquisition, so that a recursion or a
   * lock held across an await names where the lock was taken. Costs a stack capture (a few µs)
   * per acquisition: off by default, on in the debug mode.
   */
  lockSites: boolean;
  /** Called for every detected bug (first occurrence and repeats). */
  onBug: ((bug: KapiBug, repeat: boolean) => void) | null;
  /** Called when a callback run by the kapi (timer, work, tasklet, kthread) throws or rejects. */
  onFault: ((err: unknown, where: string) => void) | null;
}

export const kapiDebug: KapiDebug = { lockSites: false, onBug: null, onFault: null };

const MAX_RECORDS = 1000;
const bugs = new Map<string, KapiBug>();

/** The bugs detected since start (or the last resetKapiBugs), oldest first. */
export function kapiBugs(): KapiBug[] {
  return [...bugs.values()];
}

export function resetKapiBugs(): void {
  bugs.clear();
}

/** The env of the driver entered last, or null outside a container (unit tests). */
export function currentEnvOrNull(): DriverEnv | null {
  try { return driverEnv(); } catch { return null; }
}

/** printk that never throws: through `env` (or the current env), else to stderr. */
export function kapi_log(level: LogLevel, message: string, env: DriverEnv | null = null, binding?: number): void {
  const e = env ?? currentEnvOrNull();
  if (e) e.log(level, message, binding);
  else console.error(message);
}

// A frame is inside the kapi when it is in a linux-kapi/<file>.js|ts other than a test.
const KAPI_FRAME = /[/\\]linux-kapi[/\\][^/\\:()]+\.[cm]?[jt]s:\d+/;
const TEST_FRAME = /\.test\.[cm]?[jt]s:\d+/;

/** The first stack frame outside linux-kapi and Node's internals (the driver's call site). */
export function callerSite(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const lines = stack.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!l.startsWith('at ')) continue;
    if (l.includes('node:internal') || l.includes('(native)')) continue;
    if (KAPI_FRAME.test(l) && !TEST_FRAME.test(l)) continue;
    return l.slice(3);
  }
  return '';
}

/**
 * Reports a bug the kapi detected: logged once per (kind, site, key), counted always.
 * `site` defaults to the caller's call site; `key` tells apart bugs reported without a site
 * (from a callback: the callback's name). Returns the record.
 */
export function kapi_report(kind: string, level: LogLevel, message: string,
  opts: { site?: string; env?: DriverEnv | null; key?: string; binding?: number } = {}): KapiBug {
  const site = opts.site ?? callerSite();
  const key = `${kind}\0${site}\0${opts.key ?? ''}`;
  const old = bugs.get(key);
  if (old) {
    old.count++;
    kapiDebug.onBug?.(old, true);
    return old;
  }
  const text = site ? `${message} at ${site}` : message;
  const rec: KapiBug = { kind, message: text, site, count: 1 };
  if (bugs.size >= MAX_RECORDS) bugs.delete(bugs.keys().next().value!);
  bugs.set(key, rec);
  kapi_log(level, text, opts.env ?? null, opts.binding);
  kapiDebug.onBug?.(rec, false);
  return rec;
}

/** A callback run by the kapi threw: hand it to the fault handler (see the module comment). */
export function kapi_fault(err: unknown, where: string, env: DriverEnv | null = null): void {
  if (kapiDebug.onFault) { kapiDebug.onFault(err, where); return; }
  const msg = err instanceof Error ? err.message : String(err);
  kapi_log(2, `BUG: ${where} threw: ${msg}`, env);
  // Contained like a throwing file operation: the container fails its in-flight requests with
  // EIO and is restarted. Never rethrown: in IC0 that would take the kernel down with the driver.
  const target = env ?? currentDriverEnv();
  if (target) target.reportFault(err, where);
  else process.nextTick(() => { throw err; });
}

/** WARN_ON(cond): logs "WARNING: at <site>" when `cond` holds; returns `cond`. */
export function WARN_ON(cond: unknown): boolean {
  if (cond) kapi_log(4, `WARNING: at ${callerSite() || 'unknown site'}`);
  return !!cond;
}

/** WARN(cond, msg): WARN_ON with a message. */
export function WARN(cond: unknown, msg: string): boolean {
  if (cond) kapi_log(4, `WARNING: ${msg} at ${callerSite() || 'unknown site'}`);
  return !!cond;
}

/** WARN_ON_ONCE(cond): as WARN_ON, logged once per call site. */
export function WARN_ON_ONCE(cond: unknown): boolean {
  if (cond) kapi_report('warn-once', 4, 'WARNING: WARN_ON_ONCE');
  return !!cond;
}

/** WARN_ONCE(cond, msg). */
export function WARN_ONCE(cond: unknown, msg: string): boolean {
  if (cond) kapi_report('warn-once', 4, `WARNING: ${msg}`);
  return !!cond;
}

/** BUG(): logs "kernel BUG at <site>" and throws (the container treats it as a crash). */
export function BUG(): never {
  const site = callerSite() || 'unknown site';
  kapi_log(0, `kernel BUG at ${site}!`);
  throw new Error(`kernel BUG at ${site}!`);
}

/** BUG_ON(cond): BUG() when `cond` holds. */
export function BUG_ON(cond: unknown): void {
  if (cond) BUG();
}
