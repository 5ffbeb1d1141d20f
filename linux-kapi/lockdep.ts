/**
 * @module lockdep (Linux CONFIG_PROVE_LOCKING, kernel/locking/lockdep.c), debug mode only
 * Lock-order validation: every acquisition of a spinlock, rwlock, mutex or rw_semaphore adds
 * "held → new" edges between lock **classes** to one graph; an acquisition that closes a cycle
 * is "WARNING: possible circular locking dependency detected", printed with both chains (the
 * order established earlier, with the call sites that established it, and the new one). Also
 * "possible recursive locking detected" (a second lock of the same class, or the same mutex
 * again) and "inconsistent lock state" (a spinlock taken in hardirq/softirq context and
 * elsewhere with IRQs/bottom halves enabled). Each is reported once per pair of classes.
 *
 * Differs from Linux, and why:
 * - **A lock class is the call site that initialised the lock** (`spin_lock_init`,
 *   `mutex_init`... — Linux's static `lock_class_key` per init site), captured when the debug
 *   mode is on at creation; a lock created before that (a module-level `DEFINE_MUTEX` with the
 *   mode turned on at probe) is a class of its own. `mutex_lock_nested(m, subclass)` /
 *   `spin_lock_nested(l, subclass)` annotate nesting of one class as on Linux.
 * - **There are no tasks, so a "task" is one entry into the driver**: a file operation, probe,
 *   remove, a work item, a kthread, a threaded IRQ handler (the kapi gives each its own
 *   AsyncLocalStorage context in the debug mode). Sleeping locks held across awaits belong to
 *   the entry that took them; spinlocks (never held across an await) to whatever runs now.
 *   Turning on AsyncLocalStorage makes every promise in the process a little slower: another
 *   reason this is a debug mode.
 * - Trylocks are recorded as held but add no edge (a trylock cannot deadlock), as on Linux.
 *   Semaphores are not tracked (no owner), as on Linux.
 * - Unlike Linux, the validator keeps running after the first report.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DriverEnv } from '../framework/driver-port.js';
import { callerSite, kapi_report, kapiDebug } from './bug.js';
import { kapi_debug_enabled } from './debug.js';
import { currentDriverEnv } from './kernel.js';
import { held_locks, in_hardirq, in_serving_softirq, in_softirq, irqs_disabled } from './preempt.js';

export interface LockClass {
  /** Init site (or a unique name for locks created outside the debug mode). */
  readonly key: string;
  readonly name: string;
  /** Usage, for the inconsistent-state check: where first seen in each state. */
  inHardirq: string | null;
  inSoftirq: string | null;
  hardirqOn: string | null;
  softirqOn: string | null;
}

/** What lockdep needs of a lock (SpinLock, RwLock, Mutex, RwSemaphore). */
export interface LockdepLock {
  readonly name: string;
  readonly dep_map: LockClass;
  readonly env?: DriverEnv | null;
  heldSite: string;
}

interface Held { readonly lock: LockdepLock; readonly cls: string; readonly site: string }
interface Task { readonly held: Held[]; readonly name: string }
interface Edge { readonly fromSite: string; readonly toSite: string }

const classes = new Map<string, LockClass>();
/** graph.get(a).get(b): a was held when b was taken. */
const graph = new Map<string, Map<string, Edge>>();
const als = new AsyncLocalStorage<Task>();
/** The task each sleeping lock was credited to (for a release from another entry). */
const owners = new WeakMap<LockdepLock, Task>();
/** @internal mutex.ts: sleeping locks held now (debug mode). */
export const heldSleeping = new Set<LockdepLock>();
const rootTask: Task = { held: [], name: 'event loop' };
let unique = 1;

const enabledFor = (l: { env?: DriverEnv | null }): boolean => kapi_debug_enabled(l.env ?? currentDriverEnv());

/** The class of a lock created now: its init site in the debug mode, else a class of its own. */
export function lockdep_class(name: string, subclass = 0): LockClass {
  const site = kapiDebug.lockSites ? callerSite() : '';
  const key = site ? `${site}${subclass ? `/${subclass}` : ''}` : `${name}#${unique++}`;
  let c = classes.get(key);
  if (!c) {
    c = { key, name, inHardirq: null, inSoftirq: null, hardirqOn: null, softirqOn: null };
    classes.set(key, c);
  }
  return c;
}

/** Runs `fn` as its own lockdep task (a driver entry) when the debug mode is on for `env`. */
export function lockdep_task<T>(env: DriverEnv | null, name: string, fn: () => T): T {
  if (!kapi_debug_enabled(env)) return fn();
  return als.run({ held: [], name }, fn);
}

/** @internal The task running now (tests). */
export const lockdep_current_task = (): Task => als.getStore() ?? rootTask;

const label = (l: LockdepLock, subclass = 0): string => `${l.name}${subclass ? `/${subclass}` : ''}`;
const clsName = (key: string): string => classes.get(key)?.name ?? key;
const at = (site: string): string => (site ? ` at ${site}` : '');

/** Path from `from` to `to` in the graph (breadth first), as a list of [a, b] edges, or null. */
function findPath(from: string, to: string): [string, string, Edge][] | null {
  const prev = new Map<string, [string, Edge]>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length) {
    const a = queue.shift()!;
    for (const [b, e] of graph.get(a) ?? []) {
      if (seen.has(b)) continue;
      prev.set(b, [a, e]);
      if (b === to) {
        const path: [string, string, Edge][] = [];
        for (let x = to; x !== from;) { const [p, pe] = prev.get(x)!; path.unshift([p, x, pe]); x = p; }
        return path;
      }
      seen.add(b);
      queue.push(b);
    }
  }
  return null;
}

/** All locks held now: this task's sleeping locks, then the spinlocks (held synchronously). */
function heldNow(): Held[] {
  const task = als.getStore() ?? rootTask;
  const out = [...task.held];
  for (const h of held_locks()) {
    const l = h as unknown as LockdepLock;
    if (l.dep_map) out.push({ lock: l, cls: l.dep_map.key, site: l.heldSite });
  }
  return out;
}

function checkIrqState(l: LockdepLock, site: string): void {
  const c = l.dep_map;
  const hard = in_hardirq();
  const soft = !hard && in_serving_softirq();
  const irqsOn = !hard && !irqs_disabled();
  const bhOn = irqsOn && !in_softirq();
  if (hard) c.inHardirq ??= site;
  if (soft) c.inSoftirq ??= site;
  if (irqsOn && !hard) c.hardirqOn ??= site;
  if (bhOn) c.softirqOn ??= site;
  if (c.inHardirq !== null && c.hardirqOn !== null) {
    kapi_report('lockdep-irq-state', 4, `WARNING: inconsistent lock state: inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.\n`
      + `  lock ${c.name} was taken in hardirq context${at(c.inHardirq)}\n`
      + `  and with IRQs enabled${at(c.hardirqOn)}\n`
      + '  an IRQ arriving while it is held there deadlocks on Linux: take it with spin_lock_irqsave() outside the handler',
    { site: '', key: `${c.key}:hard`, env: l.env ?? null });
  } else if (c.inSoftirq !== null && c.softirqOn !== null) {
    kapi_report('lockdep-irq-state', 4, `WARNING: inconsistent lock state: inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage.\n`
      + `  lock ${c.name} was taken in softirq context (timer, tasklet)${at(c.inSoftirq)}\n`
      + `  and with bottom halves enabled${at(c.softirqOn)}\n`
      + '  a softirq arriving while it is held there deadlocks on Linux: use spin_lock_bh() in process context',
    { site: '', key: `${c.key}:soft`, env: l.env ?? null });
  }
}

/**
 * Called before a lock is taken (before waiting for a sleeping lock): checks and records the
 * order against every lock held now. `site` is where it is being taken.
 */
export function lockdep_acquire(l: LockdepLock,
  opts: { trylock?: boolean; subclass?: number; site?: string; irqCheck?: boolean; read?: boolean } = {}): void {
  if (!enabledFor(l)) return;
  const site = opts.site ?? callerSite();
  const sub = opts.subclass ?? 0;
  const newCls = sub ? `${l.dep_map.key}/${sub}` : l.dep_map.key;
  if (sub && !classes.has(newCls)) classes.set(newCls, { ...l.dep_map, key: newCls, name: label(l, sub) });
  if (opts.irqCheck) checkIrqState(l, site);
  if (opts.trylock) return;
  for (const h of heldNow()) {
    if (h.lock === l && h.cls === newCls) {
      if (opts.read) continue;                                  // recursive read locking is allowed
      kapi_report('lockdep-recursive', 4, `WARNING: possible recursive locking detected\n`
        + `  trying to acquire ${label(l, sub)}${at(site)}\n`
        + `  but it is already held, taken${at(h.site)}\n`
        + '  on one thread this deadlocks', { site: '', key: `self:${newCls}:${site}`, env: l.env ?? null });
      continue;
    }
    if (h.cls === newCls) {
      kapi_report('lockdep-recursive', 4, `WARNING: possible recursive locking detected\n`
        + `  trying to acquire ${label(l, sub)}${at(site)}\n`
        + `  but a lock of the same class is already held: ${h.lock.name}, taken${at(h.site)}\n`
        + '  (two locks initialised at the same place; annotate a deliberate nesting with mutex_lock_nested / spin_lock_nested)',
      { site: '', key: `same:${newCls}`, env: l.env ?? null });
      continue;
    }
    const edges = graph.get(h.cls);
    if (edges?.has(newCls)) continue;
    const back = findPath(newCls, h.cls);
    if (back) {
      const chain = back.map(([a, b, e], i) => `  -> #${back.length - i}: ${clsName(b)} taken${at(e.toSite)}\n`
        + `       while holding ${clsName(a)} (taken${at(e.fromSite)})`).reverse().join('\n');
      kapi_report('lockdep-circular', 4, `WARNING: possible circular locking dependency detected\n`
        + `  ${(als.getStore() ?? rootTask).name} is trying to acquire lock ${label(l, sub)}${at(site)}\n`
        + `  but already holds lock ${h.lock.name}, taken${at(h.site)}\n`
        + `  which lock already depends on the new lock.\n`
        + `  the existing dependency chain (in reverse order) is:\n${chain}\n`
        + `  new chain: ${h.lock.name} (taken${at(h.site)}) -> ${label(l, sub)}${at(site)}\n`
        + `  possible deadlock: one task takes ${clsName(newCls)} then ${clsName(h.cls)}, another ${clsName(h.cls)} then ${clsName(newCls)}`,
      { site: '', key: `${h.cls}->${newCls}`, env: l.env ?? null });
      continue;
    }
    let m = edges;
    if (!m) { m = new Map(); graph.set(h.cls, m); }
    m.set(newCls, { fromSite: h.site, toSite: site });
  }
}

/** A sleeping lock was obtained (after any wait): it is held by the task that asked for it. */
export function lockdep_held(l: LockdepLock, task: Task | null, site: string, subclass = 0): void {
  if (!task) return;
  task.held.push({ lock: l, cls: subclass ? `${l.dep_map.key}/${subclass}` : l.dep_map.key, site });
}

/** The task to credit a sleeping lock to (captured before waiting), or null outside the debug mode. */
export function lockdep_task_now(l: { env?: DriverEnv | null }): Task | null {
  return enabledFor(l) ? (als.getStore() ?? rootTask) : null;
}

/** A sleeping lock was released: removed from whichever task holds it. */
export function lockdep_release(l: LockdepLock): void {
  const task = als.getStore() ?? rootTask;
  if (dropFrom(task, l)) return;
  const owner = owners.get(l);
  if (owner) dropFrom(owner, l);
}

function dropFrom(task: Task, l: LockdepLock): boolean {
  for (let i = task.held.length - 1; i >= 0; i--) {
    if (task.held[i]!.lock === l) { task.held.splice(i, 1); return true; }
  }
  return false;
}

/** @internal mutex.ts: remember the owning task of a sleeping lock. */
export function lockdep_set_owner(l: LockdepLock, task: Task | null): void {
  if (task) owners.set(l, task);
}

/** Sleeping locks held now by any task of `env` (the debug mode's unbind check). */
export function held_sleeping_locks(env: DriverEnv): { name: string; site: string }[] {
  return [...heldSleeping].filter((l) => l.env === env).map((l) => ({ name: l.name, site: l.heldSite }));
}

/** @internal tests: forget the graph and classes. */
export function __lockdep_reset(): void {
  graph.clear();
  classes.clear();
  rootTask.held.length = 0;
}
