/**
 * @module vfs/poll
 * poll(2): check every fd, and if none is ready sleep until a polled node is notified
 * (notifyPoll, revokeOpenFiles) or the timeout passes, then check again.
 */
import type { PollRequest, PollResult } from './api.js';
import { POLL } from './types.js';
import type { OpenFile } from './open-file.js';

/** Reported whether asked for or not. */
const ALWAYS_REPORTED = POLL.ERR | POLL.HUP | POLL.NVAL;

/** Wait queues keyed by node: notifyPoll wakes everyone sleeping on that node. */
export class PollHub {
  private readonly queues = new Map<object, Set<() => void>>();

  /** Adds `wake` to `key`'s queue; returns the function that removes it. */
  subscribe(key: object, wake: () => void): () => void {
    let queue = this.queues.get(key);
    if (queue === undefined) this.queues.set(key, queue = new Set());
    queue.add(wake);
    return () => {
      queue.delete(wake);
      if (queue.size === 0 && this.queues.get(key) === queue) this.queues.delete(key);
    };
  }

  wake(key: object): void {
    const queue = this.queues.get(key);
    if (queue !== undefined) for (const wake of [...queue]) wake();
  }

  /** Number of sleepers (for tests and leak checks). */
  get sleepers(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }
}

export interface PollSource {
  readonly hub: PollHub;
  lookup(fd: number): OpenFile | undefined;
  /** Current readiness of an open file (POLL.*). */
  mask(file: OpenFile): Promise<number>;
}

async function pollOnce(reqs: readonly PollRequest[], src: PollSource): Promise<PollResult[]> {
  return Promise.all(reqs.map(async ({ fd, events }): Promise<PollResult> => {
    if (fd < 0) return { fd, revents: 0 }; // ignored, as poll(2) ignores negative fds
    const file = src.lookup(fd);
    if (file === undefined) return { fd, revents: POLL.NVAL };
    const mask = await src.mask(file);
    return { fd, revents: mask & (events | ALWAYS_REPORTED) };
  }));
}

/**
 * Polls `reqs`; `timeoutMs` 0 checks once, negative or undefined waits forever.
 * Returns one result per request, in order (revents 0 = not ready).
 */
export async function pollFds(reqs: readonly PollRequest[], timeoutMs: number | undefined, src: PollSource): Promise<PollResult[]> {
  const forever = timeoutMs === undefined || timeoutMs < 0;
  const deadline = forever ? Infinity : Date.now() + timeoutMs;
  let notified = false;
  let wakeSleeper: (() => void) | undefined;
  const onWake = (): void => {
    notified = true;
    wakeSleeper?.();
  };

  const unsubscribe: (() => void)[] = [];
  const nodes = new Set<object>();
  for (const { fd } of reqs) {
    const file = fd >= 0 ? src.lookup(fd) : undefined;
    if (file !== undefined) nodes.add(file.node);
  }
  // Subscribe before the first check so a notification during it is not lost.
  for (const node of nodes) unsubscribe.push(src.hub.subscribe(node, onWake));

  const sleep = (ms: number): Promise<boolean> => new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(() => { wakeSleeper = undefined; resolve(false); }, ms) : undefined;
    wakeSleeper = () => {
      if (timer !== undefined) clearTimeout(timer);
      wakeSleeper = undefined;
      resolve(true);
    };
  });

  try {
    while (true) {
      notified = false;
      const results = await pollOnce(reqs, src);
      if (timeoutMs === 0 || results.some((r) => r.revents !== 0)) return results;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return results;
      if (!notified && !(await sleep(remaining))) return results;
    }
  } finally {
    for (const off of unsubscribe) off();
  }
}
