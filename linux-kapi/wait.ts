/**
 * @module linux/wait.h + linux/poll.h
 * Wait queues. `wait_event_interruptible` is async (a driver "sleeps" by awaiting); a
 * `wake_up` resolves sleepers whose condition now holds and tells pollers (poll_wait) to
 * re-poll. Differs from Linux: no task sleeps, the container's event loop keeps running.
 */
import type { DriverEnv } from '../framework/driver-port.js';
import type { File } from './fs.js';
import { might_sleep } from './preempt.js';

export class WaitQueueHead {
  private readonly sleepers = new Set<() => void>();
  /** Device nodes whose pollers wait on this queue (poll_wait), with the env to notify. */
  readonly pollers = new Map<number, DriverEnv>();

  wake(): void {
    for (const s of [...this.sleepers]) s();
    for (const [node, env] of this.pollers) env.pollNotify(node);
  }

  sleep(cond: () => boolean, timeoutMs = -1): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        if (!cond()) return;
        this.sleepers.delete(check);
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.sleepers.add(check);
      // Beyond setTimeout's 2^31-1 ms limit (MAX_SCHEDULE_TIMEOUT) the wait has no timer, as in Linux.
      if (timeoutMs >= 0 && timeoutMs <= 0x7fffffff) timer = setTimeout(() => { this.sleepers.delete(check); resolve(cond()); }, timeoutMs);
      check();
    });
  }
}

export const init_waitqueue_head = (): WaitQueueHead => new WaitQueueHead();
export const DECLARE_WAIT_QUEUE_HEAD = init_waitqueue_head;

/** Resolves 0 once `cond()` holds (Linux returns -ERESTARTSYS on a signal; none here). */
export async function wait_event_interruptible(wq: WaitQueueHead, cond: () => boolean): Promise<number> {
  might_sleep('wait_event_interruptible()');      // as Linux's wait_event*, even when cond() already holds
  await wq.sleep(cond);
  return 0;
}

/** Resolves with the ms left (at least 1) if `cond()` held in time, 0 on timeout (Linux: jiffies left). */
export async function wait_event_interruptible_timeout(wq: WaitQueueHead, cond: () => boolean, timeoutMs: number): Promise<number> {
  might_sleep('wait_event_interruptible_timeout()');
  const end = performance.now() + timeoutMs;
  return (await wq.sleep(cond, timeoutMs)) ? Math.max(1, Math.ceil(end - performance.now())) : 0;
}

/** wait_event(wq, cond): resolves once `cond()` holds (uninterruptible; no signals here either way). */
export async function wait_event(wq: WaitQueueHead, cond: () => boolean): Promise<void> {
  might_sleep('wait_event()');
  await wq.sleep(cond);
}

/**
 * wait_event_timeout(wq, cond, timeout): as wait_event_interruptible_timeout (the timeout in
 * jiffies, which are milliseconds with HZ = 1000): the jiffies left (at least 1) if `cond()`
 * held in time, 0 on timeout.
 */
export async function wait_event_timeout(wq: WaitQueueHead, cond: () => boolean, timeout: number): Promise<number> {
  might_sleep('wait_event_timeout()');
  const end = performance.now() + timeout;
  return (await wq.sleep(cond, timeout)) ? Math.max(1, Math.ceil(end - performance.now())) : 0;
}

/** wait_event_killable(wq, cond): 0 once `cond()` holds (no fatal signals here). */
export async function wait_event_killable(wq: WaitQueueHead, cond: () => boolean): Promise<number> {
  might_sleep('wait_event_killable()');
  await wq.sleep(cond);
  return 0;
}

export const wake_up = (wq: WaitQueueHead): void => wq.wake();
export const wake_up_interruptible = (wq: WaitQueueHead): void => wq.wake();
export const wake_up_all = (wq: WaitQueueHead): void => wq.wake();

/** poll_table is opaque in drivers; here it only carries the file being polled. */
export interface PollTable { readonly file: File }

/** Registers the file's node as a poller of `wq`: a later wake_up makes the VFS re-poll. */
export function poll_wait(filp: File, wq: WaitQueueHead, _pt: PollTable | null): void {
  if (filp.node > 0) wq.pollers.set(filp.node, filp.env);
}

export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20,
  POLLRDNORM = 0x40, POLLWRNORM = 0x100;
export const EPOLLIN = POLLIN, EPOLLOUT = POLLOUT, EPOLLRDNORM = POLLRDNORM, EPOLLWRNORM = POLLWRNORM;
