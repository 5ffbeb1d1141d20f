// Raw round-trip and memory baselines: what a thread, a process and Node's own IPC cost with
// nothing of hmdrv in between. Container benchmarks measure against these in the same run.
//
// Each round-trip baseline is an async setup that returns a started peer:
//   sync:  { roundTrip(): void, close(): Promise<void> }          (spinning shared-memory peers)
//   async: { roundTripAsync(): Promise<void>, close(): Promise<void> }   (message-based peers)
// close() stops the peer, waits for it to exit, and rejects if it did not exit with code 0
// (after killing it, so nothing keeps spinning once a benchmark is over).

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { gcFunction } from './gc.js';
import { loadNative } from './native.js';
import { BYTES, DEFAULT_IDLE_SPIN_MS, PING, PingPongCaller, PONG, READY, SLEEPING, SLEEPS } from './pingpong.js';

const WORKER_URL = new URL('./baseline-worker.js', import.meta.url);
const CHILD_PATH = fileURLToPath(new URL('./baseline-child.js', import.meta.url));

/** How long a peer may take to start, and to exit once asked to. */
const START_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;
const MiB = 1024 * 1024;

/** A peer answered synchronously through shared memory. */
export interface SyncRoundTrip {
  readonly name: string;
  /** Child process ids whose CPU time belongs to this baseline (empty for threads). */
  readonly pids: readonly number[];
  roundTrip(): void;
  close(): Promise<void>;
}

/** A peer answered through messages or a socket. */
export interface AsyncRoundTrip {
  readonly name: string;
  readonly pids: readonly number[];
  roundTripAsync(): Promise<void>;
  close(): Promise<void>;
}

/** A spin-then-sleep ping-pong peer. */
export interface PingPongRoundTrip extends SyncRoundTrip {
  /** True while the peer is blocked in wait (it went idle). */
  readonly peerSleeping: boolean;
  /** How many times the peer has gone to sleep so far. */
  readonly peerSleeps: number;
}

export interface PingPongOptions {
  /** 'spin' (default): both sides spin; the peer sleeps after `idleSpinMs` without pings and
   *  the caller wakes it. 'block': neither side spins; each waits on its word at once, so every
   *  round trip is two sleep/wake hand-offs (the cost of a call when nobody spins). */
  mode?: 'spin' | 'block';
  /** Spin mode: how long the peer spins after its last ping before sleeping. Default 50 ms. */
  idleSpinMs?: number;
  /** A round trip throws if no answer arrives within this time. Default 5000 ms. */
  timeoutMs?: number;
}

/** Peer idle spin and caller spin budget for a mode. */
function spinOf(opts: PingPongOptions): { mode: 'spin' | 'block'; idleSpinMs: number; callerSpinUs: number } {
  const mode = opts.mode ?? 'spin';
  return mode === 'block'
    ? { mode, idleSpinMs: 0, callerSpinUs: 0 }
    : { mode, idleSpinMs: opts.idleSpinMs ?? DEFAULT_IDLE_SPIN_MS, callerSpinUs: Infinity };
}

// ---- helpers --------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Exit { code: number | null; signal: string | null }

/** Resolves when the child exits; set up right after spawn so the event is never missed. */
function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function workerExitOf(worker: Worker): Promise<Exit> {
  return new Promise((resolve) => worker.once('exit', (code) => resolve({ code, signal: null })));
}

/** Races `p` against a timer; the timer is cleared so it never keeps the process alive. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for a child to exit; kills it after EXIT_TIMEOUT_MS. Rejects unless it exited 0. */
async function reapChild(what: string, child: ChildProcess, exit: Promise<Exit>): Promise<void> {
  let r = await within(exit, EXIT_TIMEOUT_MS);
  if (r === 'timeout') {
    child.kill('SIGKILL');
    r = await exit;
    throw new Error(`${what}: child ${child.pid} did not exit within ${EXIT_TIMEOUT_MS} ms; killed`);
  }
  if (r.code !== 0) throw new Error(`${what}: child ${child.pid} exited with ${r.code ?? r.signal}`);
}

async function reapWorker(what: string, worker: Worker, exit: Promise<Exit>): Promise<void> {
  let r = await within(exit, EXIT_TIMEOUT_MS);
  if (r === 'timeout') {
    await worker.terminate();
    r = await exit;
    throw new Error(`${what}: worker did not exit within ${EXIT_TIMEOUT_MS} ms; terminated`);
  }
  if (r.code !== 0) throw new Error(`${what}: worker exited with code ${r.code}`);
}

/**
 * Waits for `ready`; throws if the peer exits, emits 'error' or takes longer than
 * START_TIMEOUT_MS first. Built without rejected promises so a later exit (at close) never
 * surfaces as an unhandled rejection.
 */
async function startOrFail<T>(what: string, ready: Promise<T>, exit: Promise<Exit>, failed: Promise<Error>): Promise<T> {
  type Outcome = { ok: true; value: T } | { ok: false; error: Error };
  const r = await within(
    Promise.race<Outcome>([
      ready.then((value) => ({ ok: true, value }), (error: Error) => ({ ok: false, error })),
      exit.then((e) => ({ ok: false, error: new Error(`${what}: peer exited during start-up (${e.code ?? e.signal})`) })),
      failed.then((error) => ({ ok: false, error })),
    ]),
    START_TIMEOUT_MS,
  );
  if (r === 'timeout') throw new Error(`${what}: peer not ready within ${START_TIMEOUT_MS} ms`);
  if (!r.ok) throw r.error;
  return r.value;
}

/** Makes close() idempotent: later calls return the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

// ---- shared-memory ping-pong ----------------------------------------------------------------

/**
 * Main thread <-> worker_threads worker over a SharedArrayBuffer. Both sides spin with
 * Atomics.load; the worker sleeps in Atomics.wait after `idleSpinMs` without pings and the
 * caller wakes it with Atomics.notify when the SLEEPING word says so. `mode: 'block'`: both
 * sides Atomics.wait at once (Node allows Atomics.wait on the main thread).
 */
export async function sabPingPongThread(opts: PingPongOptions = {}): Promise<PingPongRoundTrip> {
  const { mode, idleSpinMs, callerSpinUs } = spinOf(opts);
  const name = `SAB ping-pong thread (${mode})`;
  const sab = new SharedArrayBuffer(BYTES);
  const words = new Int32Array(sab);
  // execArgv [] keeps test-runner or inspector flags out of the worker.
  const worker = new Worker(WORKER_URL, { workerData: { mode: 'pingpong', sab, idleSpinMs }, execArgv: [] });
  const exit = workerExitOf(worker);
  const failed = new Promise<Error>((r) => worker.once('error', r));
  const ready = new Promise<void>((r) => worker.once('message', () => r()));
  try {
    await startOrFail(name, ready, exit, failed);
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const caller = new PingPongCaller(words, {
    wake: () => void Atomics.notify(words, PING, 1),
    sleep: (expected, ms) => void Atomics.wait(words, PONG, expected, ms),
    spinUs: callerSpinUs,
    timeoutMs: opts.timeoutMs,
    what: name,
  });
  return {
    name,
    pids: [],
    roundTrip: () => caller.roundTrip(),
    get peerSleeping() { return Atomics.load(words, SLEEPING) !== 0; },
    get peerSleeps() { return Atomics.load(words, SLEEPS); },
    close: once(async () => {
      caller.stop();
      await reapWorker(name, worker, exit);
    }),
  };
}

/**
 * Main process <-> child process over native shared memory (memfd passed as fd 3, mapped
 * MAP_SHARED on both sides). Both spin; the child sleeps on a plain futex after `idleSpinMs`
 * and the caller wakes it with a native FUTEX_WAKE (Atomics.notify does not cross processes).
 * `mode: 'block'`: both sides futex-wait at once.
 */
export async function shmPingPongProcess(opts: PingPongOptions = {}): Promise<PingPongRoundTrip> {
  const { mode, idleSpinMs, callerSpinUs } = spinOf(opts);
  const name = `shm ping-pong process (${mode})`;
  const native = loadNative();
  const size = 4096;
  const fd = native.memfdCreate('hmdrv-bench-pingpong', size);
  let words: Int32Array;
  let child: ChildProcess;
  try {
    words = new Int32Array(native.mapFd(fd, size), 0, BYTES / 4);
    child = spawn(process.execPath, [CHILD_PATH, 'shm', String(size), String(idleSpinMs)], {
      stdio: ['ignore', 'inherit', 'inherit', fd],
    });
  } finally {
    // The mapping and the child's fd 3 keep the memory alive; our fd is no longer needed.
    closeSync(fd);
  }
  const exit = exitOf(child);
  const failed = new Promise<Error>((r) => child.once('error', r));
  // The child cannot message us (no IPC channel), so poll its READY word.
  const ready = (async () => {
    while (Atomics.load(words, READY) === 0 && child.exitCode === null) await sleep(1);
  })();
  try {
    await startOrFail(name, ready, exit, failed);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const caller = new PingPongCaller(words, {
    wake: () => void native.futexWake(words, PING, 1),
    sleep: (expected, ms) => void native.futexWait(words, PONG, expected, ms),
    spinUs: callerSpinUs,
    timeoutMs: opts.timeoutMs,
    what: name,
  });
  return {
    name,
    pids: [child.pid!],
    roundTrip: () => caller.roundTrip(),
    get peerSleeping() { return Atomics.load(words, SLEEPING) !== 0; },
    get peerSleeps() { return Atomics.load(words, SLEEPS); },
    close: once(async () => {
      caller.stop();
      await reapChild(name, child, exit);
    }),
  };
}

// ---- message-based round trips --------------------------------------------------------------

export interface IpcOptions {
  /** fork()'s serialization; 'advanced' uses the structured clone algorithm. Default 'json'. */
  serialization?: 'json' | 'advanced';
}

/** child_process.fork + process.send round trip: send a small number, wait for the echo. */
export async function childProcessIpc(opts: IpcOptions = {}): Promise<AsyncRoundTrip> {
  const serialization = opts.serialization ?? 'json';
  const name = `child_process IPC (${serialization})`;
  const child = fork(CHILD_PATH, ['ipc'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization });
  const exit = exitOf(child);
  const failed = new Promise<Error>((r) => child.once('error', r));
  let pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  child.on('message', () => {
    const p = pending;
    pending = null;
    p?.resolve();
  });
  void exit.then((e) => pending?.reject(new Error(`${name}: child exited (${e.code ?? e.signal}) mid round trip`)));
  const roundTripAsync = () =>
    new Promise<void>((resolve, reject) => {
      if (pending) throw new Error(`${name}: one round trip at a time`);
      pending = { resolve, reject };
      child.send(1);
    });
  try {
    // The first echo proves the child is up, so start-up is not measured.
    await startOrFail(name, roundTripAsync(), exit, failed);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    name,
    pids: [child.pid!],
    roundTripAsync,
    close: once(async () => {
      if (child.connected) child.disconnect();
      await reapChild(name, child, exit);
    }),
  };
}

let socketSerial = 0;

/** An 8-byte echo over a unix domain socket (node:net) to a child process. */
export async function unixSocketRoundTrip(): Promise<AsyncRoundTrip> {
  const name = 'unix socket 8-byte echo';
  const path = join(tmpdir(), `hmdrv-bench-${process.pid}-${socketSerial++}.sock`);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  const child = spawn(process.execPath, [CHILD_PATH, 'uds', path], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exit = exitOf(child);
  const failed = new Promise<Error>((r) => child.once('error', r));
  let sock: Socket;
  try {
    sock = await startOrFail(name, new Promise<Socket>((r) => server.once('connection', r)), exit, failed);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    // One connection is all we need; closing the listener also unlinks the socket path.
    server.close();
  }
  const payload = Buffer.alloc(8, 0x5a);
  let received = 0;
  let pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  sock.on('data', (chunk) => {
    received += chunk.length;
    if (received >= payload.length && pending) {
      received -= payload.length;
      const p = pending;
      pending = null;
      p.resolve();
    }
  });
  sock.on('error', (err) => pending?.reject(err));
  sock.on('close', () => pending?.reject(new Error(`${name}: connection closed mid round trip`)));
  return {
    name,
    pids: [child.pid!],
    roundTripAsync: () =>
      new Promise<void>((resolve, reject) => {
        if (pending) throw new Error(`${name}: one round trip at a time`);
        pending = { resolve, reject };
        sock.write(payload);
      }),
    close: once(async () => {
      sock.end();
      try {
        await reapChild(name, child, exit);
      } finally {
        sock.destroy();
      }
    }),
  };
}

// ---- memory ---------------------------------------------------------------------------------

export interface MemoryBaselines {
  /** Process RSS growth per idle worker thread, MiB. */
  workerRssMB: number;
  /** An idle child's own VmRSS (includes shared pages such as the node binary), MiB. */
  childRssMB: number;
  /** An idle child's anonymous resident memory (RssAnon: heap, stacks), MiB. */
  childRssAnonMB: number;
  /** An idle child's proportional set size (shared pages divided among sharers), MiB. */
  childPssMB: number | null;
  workers: number;
  children: number;
  /** Whether a full GC ran before each reading. */
  gc: boolean;
}

export interface MemoryOptions {
  workers?: number;
  children?: number;
  /** Time given to peers to finish start-up before reading RSS. Default 200 ms. */
  settleMs?: number;
}

/** Reads one `Key:   123 kB` line of a /proc file, in KiB. */
function procKb(file: string, key: string): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Resident memory of an idle worker thread (process RSS delta over N workers / N, GC'd when a
 * GC function is available) and of an idle child process (its own /proc/<pid>/status VmRSS).
 */
export async function memoryBaselines(opts: MemoryOptions = {}): Promise<MemoryBaselines> {
  const nWorkers = opts.workers ?? 4;
  const nChildren = opts.children ?? 2;
  const settleMs = opts.settleMs ?? 200;
  const gc = gcFunction();

  gc?.();
  await sleep(settleMs / 4);
  gc?.();
  const before = process.memoryUsage().rss;
  const workers = Array.from({ length: nWorkers }, () => new Worker(WORKER_URL, { workerData: { mode: 'idle' }, execArgv: [] }));
  const wExits = workers.map(workerExitOf);
  let workerRssMB = NaN;
  try {
    await Promise.all(workers.map((w, i) =>
      startOrFail('idle worker', new Promise<void>((r) => w.once('message', () => r())), wExits[i]!, new Promise<Error>((r) => w.once('error', r)))));
    await sleep(settleMs);
    gc?.();
    workerRssMB = (process.memoryUsage().rss - before) / nWorkers / MiB;
  } finally {
    for (const w of workers) w.postMessage('stop');
    await Promise.all(workers.map((w, i) => reapWorker('idle worker', w, wExits[i]!)));
  }

  const children = Array.from({ length: nChildren }, () =>
    fork(CHILD_PATH, ['idle'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const cExits = children.map(exitOf);
  const rss: number[] = [];
  const anon: number[] = [];
  const pss: number[] = [];
  try {
    await Promise.all(children.map((c, i) =>
      startOrFail('idle child', new Promise<void>((r) => c.once('message', () => r())), cExits[i]!, new Promise<Error>((r) => c.once('error', r)))));
    await sleep(settleMs);
    for (const c of children) {
      rss.push((procKb(`/proc/${c.pid}/status`, 'VmRSS') ?? NaN) / 1024);
      anon.push((procKb(`/proc/${c.pid}/status`, 'RssAnon') ?? NaN) / 1024);
      const p = procKb(`/proc/${c.pid}/smaps_rollup`, 'Pss');
      if (p !== null) pss.push(p / 1024);
    }
  } finally {
    for (const c of children) if (c.connected) c.disconnect();
    await Promise.all(children.map((c, i) => reapChild('idle child', c, cExits[i]!)));
  }
  return {
    workerRssMB,
    childRssMB: avg(rss),
    childRssAnonMB: avg(anon),
    childPssMB: pss.length === children.length ? avg(pss) : null,
    workers: nWorkers,
    children: nChildren,
    gc: gc !== undefined,
  };
}
