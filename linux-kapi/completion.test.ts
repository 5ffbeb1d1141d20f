/**
 * completion.h: Linux's counting semantics, FIFO wake-up, complete_all, timeouts in jiffies
 * (over a virtual clock), and the atomic-context report.
 */
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEnv } from '../framework/driver-port.js';
import { RealClock, VirtualClock } from '../devices/core/clock.js';
import { setDriverEnv } from './kernel.js';
import { resetKapiBugs } from './bug.js';
import { __reset_context, enter_irq, exit_irq } from './preempt.js';
import { setKapiClock, MAX_SCHEDULE_TIMEOUT } from './time.js';
import {
  complete, complete_all, completion_done, init_completion, reinit_completion, try_wait_for_completion,
  wait_for_completion, wait_for_completion_interruptible, wait_for_completion_timeout,
} from './completion.js';

const logs: string[] = [];
setDriverEnv({ isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv);
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

beforeEach(() => {
  __reset_context();
  resetKapiBugs();
  logs.length = 0;
});
after(() => setKapiClock(new RealClock()));

describe('struct completion', () => {
  it('remembers each complete() for one later wait', async () => {
    const c = init_completion();
    assert.equal(completion_done(c), false);
    complete(c);
    complete(c);
    assert.equal(completion_done(c), true);
    await wait_for_completion(c);
    assert.equal(try_wait_for_completion(c), true);
    assert.equal(try_wait_for_completion(c), false, 'both consumed');
    assert.equal(completion_done(c), false);
  });

  it('wakes one waiter per complete(), oldest first', async () => {
    const c = init_completion();
    const woke: number[] = [];
    const ws = [1, 2, 3].map((i) => wait_for_completion(c).then(() => woke.push(i)));
    complete(c);
    await flush();
    assert.deepEqual(woke, [1]);
    complete(c);
    complete(c);
    await Promise.all(ws);
    assert.deepEqual(woke, [1, 2, 3]);
    assert.equal(c.done, 0, 'handed over, not accumulated');
  });

  it('complete_all releases every waiter and every later wait until reinit', async () => {
    const c = init_completion();
    const ws = [wait_for_completion(c), wait_for_completion_interruptible(c)];
    complete_all(c);
    assert.deepEqual(await Promise.all(ws), [undefined, 0]);
    await wait_for_completion(c);
    assert.equal(try_wait_for_completion(c), true);
    assert.equal(completion_done(c), true, 'still done');
    reinit_completion(c);
    assert.equal(completion_done(c), false);
  });

  it('wait_for_completion_timeout: jiffies left when completed, 0 on timeout', async () => {
    const clock = new VirtualClock();
    setKapiClock(clock);
    const c = init_completion();
    const w = wait_for_completion_timeout(c, 10);
    clock.advance(4_000_000n);
    complete(c);
    assert.equal(await w, 6);

    const late = wait_for_completion_timeout(c, 10);
    clock.advance(9_000_000n);
    await flush();
    let res = -1;
    void late.then((r) => { res = r; });
    await flush();
    assert.equal(res, -1, 'still waiting at 9 ms');
    clock.advance(1_000_000n);
    assert.equal(await late, 0);
    assert.equal(c._waiters.length, 0, 'the timed-out waiter left the queue');
    complete(c);
    assert.equal(try_wait_for_completion(c), true, 'a later complete is not lost to the timed-out waiter');

    complete(c);
    assert.equal(await wait_for_completion_timeout(c, 0), 1, 'already done: at least 1, even with no time');
    assert.equal(await wait_for_completion_timeout(c, 0), 0);
    const forever = wait_for_completion_timeout(c, MAX_SCHEDULE_TIMEOUT);
    assert.equal(clock.pending, 0, 'no timer for MAX_SCHEDULE_TIMEOUT');
    complete(c);
    assert.equal(await forever, MAX_SCHEDULE_TIMEOUT);
  });

  it('complete() is fine in an IRQ handler; waiting there is reported', async () => {
    const c = init_completion();
    enter_irq();
    complete(c);
    const p = wait_for_completion(c);
    exit_irq();
    await p;
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^BUG: sleeping function called from invalid context: wait_for_completion\(\) in hardirq context/);
    assert.match(logs[0]!, /completion\.test\.js:\d+/);
  });
});
