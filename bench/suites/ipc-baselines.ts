// Suite "ipc-baselines": the raw cost of a round trip through each mechanism hmdrv's isolation
// classes build on (SAB between threads for IC1, shared memory + futex between processes for
// IC2, and Node's own IPC and sockets for comparison), plus the memory of an idle worker/child.
//
// Container suites reuse createBaselineCases() so that their IC0/IC1/IC2 calls and these
// baselines are measured in the same run, on the same machine state.

import {
  childProcessIpc, memoryBaselines, sabPingPongThread, shmPingPongProcess, unixSocketRoundTrip,
} from '../baselines.js';
import { ratioTarget, runSuite, timeTarget, type BenchCase, type Suite, type TargetSpec } from '../harness.js';

/** Case names, for ratios and targets in other suites. */
export const BASELINE = {
  /** Both sides spin: the fast path of an IC1 call (~0.2 µs here). */
  sabSpin: 'SAB ping-pong thread (spin)',
  /** Neither side spins (Atomics.wait both ways): two thread wakes per call. */
  sabBlock: 'SAB ping-pong thread (block: Atomics.wait)',
  /** Both sides spin on memfd shared memory: the fast path of an IC2 call. */
  shmSpin: 'shm ping-pong process (spin)',
  /** Neither side spins (native futex both ways): two cross-process wakes per call. */
  shmBlock: 'shm ping-pong process (block: futex)',
  ipc: 'child_process IPC (fork, json)',
  uds: 'unix socket 8-byte echo',
} as const;

export interface BaselineCases {
  /** Bench cases, SAB spin marked as the baseline. */
  cases: BenchCase[];
  /** Stops every peer; rejects (after stopping all) if one did not exit cleanly. */
  close(): Promise<void>;
}

/**
 * Starts the baseline peers whose case names pass `filter` (all if none) and returns them as
 * bench cases. Idle spinning peers sleep after 50 ms, so they do not steal a core from other
 * cases measured in the same run.
 */
export async function createBaselineCases(filter?: RegExp): Promise<BaselineCases> {
  const want = (name: string) => !filter || filter.test(name);
  const closers: (() => Promise<void>)[] = [];
  const cases: BenchCase[] = [];
  const close = async () => {
    const results = await Promise.allSettled(closers.splice(0).reverse().map((c) => c()));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length) throw new AggregateError(errors, `baselines: ${errors.length} peer(s) did not exit cleanly`);
  };
  try {
    if (want(BASELINE.sabSpin)) {
      const b = await sabPingPongThread();
      closers.push(b.close);
      cases.push({ name: BASELINE.sabSpin, fn: b.roundTrip, baseline: true });
    }
    if (want(BASELINE.sabBlock)) {
      const b = await sabPingPongThread({ mode: 'block' });
      closers.push(b.close);
      cases.push({ name: BASELINE.sabBlock, fn: b.roundTrip });
    }
    if (want(BASELINE.shmSpin)) {
      const b = await shmPingPongProcess();
      closers.push(b.close);
      cases.push({ name: BASELINE.shmSpin, fn: b.roundTrip, pids: b.pids });
    }
    if (want(BASELINE.shmBlock)) {
      const b = await shmPingPongProcess({ mode: 'block' });
      closers.push(b.close);
      cases.push({ name: BASELINE.shmBlock, fn: b.roundTrip, pids: b.pids });
    }
    if (want(BASELINE.ipc)) {
      const b = await childProcessIpc();
      closers.push(b.close);
      cases.push({ name: BASELINE.ipc, fn: b.roundTripAsync, pids: b.pids });
    }
    if (want(BASELINE.uds)) {
      const b = await unixSocketRoundTrip();
      closers.push(b.close);
      cases.push({ name: BASELINE.uds, fn: b.roundTripAsync, pids: b.pids });
    }
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  return { cases, close };
}

/** Sanity targets: what the reference measurements (dependencies.md §3) lead us to expect. */
export const baselineTargets: readonly TargetSpec[] = [
  timeTarget(`${BASELINE.sabSpin} avg`, BASELINE.sabSpin, 2),
  ratioTarget(`${BASELINE.shmSpin} / ${BASELINE.sabSpin}`, BASELINE.shmSpin, BASELINE.sabSpin, 3),
  ratioTarget(`${BASELINE.ipc} / ${BASELINE.sabSpin}`, BASELINE.ipc, BASELINE.sabSpin, 20, { cmp: '>=' }),
  ratioTarget(`${BASELINE.uds} / ${BASELINE.ipc}`, BASELINE.uds, BASELINE.ipc, 1.5),
];

const suite: Suite = {
  name: 'ipc-baselines',
  description: 'raw round trips (SAB thread, shm process, fork IPC, unix socket) and idle worker/child memory',
  async run(options) {
    // Memory first, before any spinning peer exists to disturb RSS or timing.
    const memory = !options.filter || options.filter.test('memory') ? await memoryBaselines() : undefined;
    const base = await createBaselineCases(options.filter);
    try {
      return await runSuite({
        suite: 'ipc-baselines', options, cases: base.cases, targets: baselineTargets,
        extra: memory ? { memory } : {},
      });
    } finally {
      await base.close();
    }
  },
};

export default suite;
