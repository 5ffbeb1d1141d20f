/**
 * @module linux/completion.h
 * Completions: one side waits (`await wait_for_completion(c)`), the other signals
 * (`complete(c)`, typically from an IRQ handler or a timer). `init_completion`,
 * `DECLARE_COMPLETION`, `reinit_completion`, `wait_for_completion[_timeout|_interruptible|
 * _killable|_io...]`, `try_wait_for_completion`, `completion_done`, `complete`, `complete_all`.
 *
 * ```ts
 * reinit_completion(priv.done);
 * writel(CMD_RESET, priv.base, REG_CMD);                                // the IRQ handler calls complete(priv.done)
 * if (!await wait_for_completion_timeout(priv.done, msecs_to_jiffies(100))) return -ETIMEDOUT;
 * ```
 *
 * Counting semantics are Linux's: each `complete()` lets exactly one wait through (now or
 * later: an unconsumed complete is remembered), `complete_all()` lets every present and future
 * wait through until `reinit_completion()`. Waiters are served in FIFO order.
 *
 * Differs from Linux, and why:
 * - Waiting is awaiting (a container is one thread); waiting in atomic context is reported
 *   ("BUG: sleeping function called from invalid context"). `complete`, `complete_all`,
 *   `try_wait_for_completion` and `completion_done` never sleep and are fine in any context.
 * - Timeouts are jiffies (HZ = 1000: milliseconds). `*_timeout` resolves the jiffies left (at
 *   least 1) when completed in time and 0 on timeout, as Linux does. `MAX_SCHEDULE_TIMEOUT`
 *   waits without a timer.
 * - There are no signals: the `_interruptible`/`_killable` variants never resolve
 *   `-ERESTARTSYS`.
 * - `init_completion()`/`DECLARE_COMPLETION()` return a new completion (as
 *   `init_waitqueue_head()` does) instead of initialising one in place.
 */
import { might_sleep } from './preempt.js';
import { jiffies, kapi_after, MAX_SCHEDULE_TIMEOUT } from './time.js';

/** `done` value of a completion after complete_all (Linux: UINT_MAX). */
export const COMPLETION_ALL = 0xffffffff;

export class Completion {
  /** Completions not yet consumed; COMPLETION_ALL after complete_all. */
  done = 0;
  /** @internal FIFO of waiters; waking one hands it one completion. */
  readonly _waiters: (() => void)[] = [];
}
export type completion = Completion;

export const init_completion = (): Completion => new Completion();
export const DECLARE_COMPLETION = init_completion;
export const DECLARE_COMPLETION_ONSTACK = init_completion;

/** reinit_completion(c): back to "not done" (waiters, if any, keep waiting). */
export function reinit_completion(c: Completion): void {
  c.done = 0;
}

/** complete(c): lets one waiter through (the longest waiting), or the next wait. */
export function complete(c: Completion): void {
  if (c.done === COMPLETION_ALL) return;
  const w = c._waiters.shift();
  if (w) w();
  else c.done++;
}

/** complete_all(c): lets every waiter, present and future, through until reinit_completion. */
export function complete_all(c: Completion): void {
  c.done = COMPLETION_ALL;
  const ws = c._waiters.splice(0);
  for (const w of ws) w();
}

/** Consumes one completion if there is one. */
function take(c: Completion): boolean {
  if (c.done === 0) return false;
  if (c.done !== COMPLETION_ALL) c.done--;
  return true;
}

/** Resolves true when completed, false when `timeout` jiffies ran out. */
function wait(c: Completion, timeout: number): Promise<boolean> {
  if (take(c)) return Promise.resolve(true);
  if (timeout <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    let cancel: (() => void) | null = null;
    const w = (): void => { cancel?.(); resolve(true); };
    c._waiters.push(w);
    if (timeout < MAX_SCHEDULE_TIMEOUT) {
      cancel = kapi_after(BigInt(Math.ceil(timeout)) * 1_000_000n, () => {
        const i = c._waiters.indexOf(w);
        if (i < 0) return;
        c._waiters.splice(i, 1);
        resolve(take(c)); // completed by complete_all exactly at the deadline still counts
      });
    }
  });
}

async function waitTimeout(what: string, c: Completion, timeout: number): Promise<number> {
  might_sleep(what);
  const end = jiffies() + timeout;
  if (!await wait(c, timeout)) return 0;
  return timeout >= MAX_SCHEDULE_TIMEOUT ? timeout : Math.max(1, end - jiffies());
}

/** wait_for_completion(c): resolves once a complete() is consumed (or after complete_all). */
export async function wait_for_completion(c: Completion): Promise<void> {
  might_sleep('wait_for_completion()');
  await wait(c, MAX_SCHEDULE_TIMEOUT);
}
export const wait_for_completion_io = wait_for_completion;

/** wait_for_completion_timeout(c, jiffies): the jiffies left (>= 1) if completed, 0 on timeout. */
export const wait_for_completion_timeout = (c: Completion, timeout: number): Promise<number> =>
  waitTimeout('wait_for_completion_timeout()', c, timeout);
export const wait_for_completion_io_timeout = wait_for_completion_timeout;

/** wait_for_completion_interruptible(c): resolves 0 once completed (never -ERESTARTSYS). */
export async function wait_for_completion_interruptible(c: Completion): Promise<number> {
  might_sleep('wait_for_completion_interruptible()');
  await wait(c, MAX_SCHEDULE_TIMEOUT);
  return 0;
}
export const wait_for_completion_killable = wait_for_completion_interruptible;

/** wait_for_completion_interruptible_timeout(c, jiffies): as _timeout. */
export const wait_for_completion_interruptible_timeout = (c: Completion, timeout: number): Promise<number> =>
  waitTimeout('wait_for_completion_interruptible_timeout()', c, timeout);
export const wait_for_completion_killable_timeout = wait_for_completion_interruptible_timeout;

/** try_wait_for_completion(c): consumes a completion without waiting; false if none. */
export const try_wait_for_completion = (c: Completion): boolean => take(c);

/** completion_done(c): true if a wait would not block (does not consume). */
export const completion_done = (c: Completion): boolean => c.done > 0;
