/**
 * workqueue.h / tasklets / kthread.h: queueing rules, non-reentrancy, ordering and max_active,
 * flush and cancel, destroy, delayed work (virtual clock), tasklets in softirq, kthreads.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEnv } from '../framework/driver-port.js';
import { RealClock, VirtualClock } from '../devices/core/clock.js';
import { setDriverEnv } from './kernel.js';
import { kapiDebug, resetKapiBugs } from './bug.js';
import { __reset_context, enter_irq, exit_irq, in_atomic, in_softirq } from './preempt.js';
import { cancelPendingTimers, msleep, pendingTimers, setKapiClock } from './time.js';
import {
  alloc_ordered_workqueue, alloc_workqueue, cancel_delayed_work, cancel_delayed_work_sync, cancel_work_sync,
  DECLARE_DELAYED_WORK, DECLARE_TASKLET, DECLARE_WORK, delayed_work_pending, destroy_workqueue, flush_delayed_work,
  flush_work, flush_workqueue, INIT_WORK, kthread_create, kthread_run, kthread_should_stop, kthread_stop,
  mod_delayed_work, pendingWork, queue_delayed_work, queue_work, schedule_work, tasklet_disable, tasklet_enable,
  tasklet_kill, tasklet_schedule, to_delayed_work, WorkStruct, work_pending, create_singlethread_workqueue,
  type TaskStruct,
} from './workqueue.js';

const logs: string[] = [];
const env = { isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv;
setDriverEnv(env);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  __reset_context();
  resetKapiBugs();
  logs.length = 0;
  kapiDebug.onFault = null;
});
afterEach(() => { cancelPendingTimers(); setKapiClock(new RealClock()); });

describe('work items', () => {
  it('run after the queueing code returns, in process context', async () => {
    const ran: boolean[] = [];
    const w = DECLARE_WORK(() => { ran.push(in_atomic()); });
    enter_irq();
    assert.equal(schedule_work(w), true);   // the usual bottom half: queued from an IRQ handler
    assert.equal(ran.length, 0);
    exit_irq();
    assert.equal(work_pending(w), true);
    await flush_work(w);
    assert.deepEqual(ran, [false]);
    assert.equal(work_pending(w), false);
  });

  it('are queued at most once while pending', async () => {
    let n = 0;
    const w = DECLARE_WORK(() => { n++; });
    assert.equal(schedule_work(w), true);
    assert.equal(schedule_work(w), false);
    assert.equal(await flush_work(w), true);
    assert.equal(n, 1);
    assert.equal(await flush_work(w), false, 'idle: nothing to wait for');
  });

  it('may requeue while running, but never run twice at once', async () => {
    let running = 0, maxRunning = 0, runs = 0;
    const wq = alloc_workqueue('multi', 0, 4);
    const w = new WorkStruct();
    INIT_WORK(w, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (++runs === 1) assert.equal(queue_work(wq, w), true, 'not pending any more once started');
      await sleep(5);
      running--;
    });
    queue_work(wq, w);
    await turn();
    assert.equal(running, 1);
    await flush_workqueue(wq);
    await flush_work(w);
    assert.equal(runs, 2);
    assert.equal(maxRunning, 1);
  });

  it('an item requeued on another workqueue while running starts there when this run ends', async () => {
    const a = alloc_workqueue('wq-a', 0, 0), b = alloc_ordered_workqueue('wq-b', 0);
    const ev: string[] = [];
    let n = 0;
    const w = DECLARE_WORK(async () => {
      const k = ++n;
      ev.push(`start${k}`);
      if (k === 1) queue_work(b, w);
      await sleep(3);
      ev.push(`end${k}`);
    });
    queue_work(a, w);
    await flush_workqueue(a);
    await flush_workqueue(b);
    assert.deepEqual(ev, ['start1', 'end1', 'start2', 'end2']);
  });

  it('an ordered workqueue runs one item at a time, in order', async () => {
    const wq = create_singlethread_workqueue('ordered');
    const ev: string[] = [];
    let active = 0;
    const mk = (name: string, ms: number): WorkStruct => DECLARE_WORK(async () => {
      assert.equal(++active, 1);
      ev.push(name);
      await sleep(ms);
      active--;
    });
    for (const w of [mk('a', 6), mk('b', 1), mk('c', 3)]) queue_work(wq, w);
    await flush_workqueue(wq);
    assert.deepEqual(ev, ['a', 'b', 'c']);
  });

  it('max_active limits the items in flight', async () => {
    const wq = alloc_workqueue('two', 0, 2);
    let active = 0, peak = 0;
    for (let i = 0; i < 6; i++) {
      queue_work(wq, DECLARE_WORK(async () => { peak = Math.max(peak, ++active); await sleep(2); active--; }));
    }
    await flush_workqueue(wq);
    assert.equal(peak, 2);
  });

  it('cancel_work_sync removes a pending item and waits for a running one', async () => {
    let ran = 0;
    const w = DECLARE_WORK(() => { ran++; });
    schedule_work(w);
    assert.equal(await cancel_work_sync(w), true);
    await turn();
    assert.equal(ran, 0);

    let done = false;
    const slow = DECLARE_WORK(async () => { await sleep(10); done = true; });
    schedule_work(slow);
    await turn();
    assert.equal(await cancel_work_sync(slow), false, 'was running, not pending');
    assert.equal(done, true, 'waited for it');
  });

  it('pendingWork lists queued and running items by env', async () => {
    const wq = alloc_ordered_workqueue('listing', 0);
    const a = DECLARE_WORK(async function a_fn() { await sleep(5); });
    const b = DECLARE_WORK(function b_fn() {});
    queue_work(wq, a);
    queue_work(wq, b);
    await turn();
    assert.deepEqual(pendingWork(env).filter((p) => p.workqueue === 'listing').map((p) => `${p.name}:${p.state}`),
      ['a_fn:running', 'b_fn:pending']);
    await flush_workqueue(wq);
    assert.equal(pendingWork(env).filter((p) => p.workqueue === 'listing').length, 0);
  });

  it('destroy_workqueue drains (including chained work), then refuses work', async () => {
    const wq = alloc_workqueue('gone', 0, 1);
    const ev: string[] = [];
    const second = DECLARE_WORK(async () => { await sleep(2); ev.push('second'); });
    queue_work(wq, DECLARE_WORK(() => { ev.push('first'); queue_work(wq, second); }));
    await destroy_workqueue(wq);
    assert.deepEqual(ev, ['first', 'second']);
    assert.equal(queue_work(wq, DECLARE_WORK(() => {})), false);
    assert.match(logs[0]!, /^BUG: queue_work on destroyed workqueue gone/);
  });

  it('a throwing work function is a fault', async () => {
    const faults: string[] = [];
    kapiDebug.onFault = (e, where) => { faults.push(`${where}: ${(e as Error).message}`); };
    const w = DECLARE_WORK(function broken() { throw new Error('boom'); });
    schedule_work(w);
    await flush_work(w);
    assert.deepEqual(faults, ['work function broken: boom']);
  });
});

describe('delayed work', () => {
  it('queues after the delay; pending meanwhile; listed as a delayed_work timer', async () => {
    const clock = new VirtualClock();
    setKapiClock(clock);
    let ran = 0;
    const d = DECLARE_DELAYED_WORK(function poll(w) { assert.equal(to_delayed_work(w), d); ran++; });
    assert.equal(queue_delayed_work(alloc_workqueue('dw', 0, 0), d, 10), true);
    assert.equal(delayed_work_pending(d), true);
    assert.equal(queue_delayed_work(alloc_workqueue('dw2', 0, 0), d, 1), false, 'already pending');
    assert.deepEqual(pendingTimers(env).map((p) => `${p.kind}:${p.name}`), ['delayed_work:poll']);
    clock.advance(9_000_000n);
    await turn();
    assert.equal(ran, 0);
    clock.advance(1_000_000n);
    await flush_delayed_work(d);
    assert.equal(ran, 1);
  });

  it('mod_delayed_work re-arms; cancel_delayed_work stops; flush_delayed_work runs it now', async () => {
    const clock = new VirtualClock();
    setKapiClock(clock);
    const wq = alloc_workqueue('dw3', 0, 0);
    let ran = 0;
    const d = DECLARE_DELAYED_WORK(() => { ran++; });
    queue_delayed_work(wq, d, 5);
    assert.equal(mod_delayed_work(wq, d, 50), true);
    clock.advance(10_000_000n);
    await turn();
    assert.equal(ran, 0, 'moved to 50 ms');
    assert.equal(cancel_delayed_work(d), true);
    assert.equal(cancel_delayed_work(d), false);
    clock.advance(100_000_000n);
    await turn();
    assert.equal(ran, 0);
    queue_delayed_work(wq, d, 1000);
    assert.equal(await flush_delayed_work(d), true);
    assert.equal(ran, 1, 'flushed without waiting for the timer');
    queue_delayed_work(wq, d, 1000);
    assert.equal(await cancel_delayed_work_sync(d), true);
    assert.equal(pendingTimers().length, 0);
  });
});

describe('tasklets', () => {
  it('run once after the IRQ handler that scheduled them, in softirq context', async () => {
    const ctx: string[] = [];
    const t = DECLARE_TASKLET(() => { ctx.push(in_softirq() ? 'softirq' : 'task'); });
    enter_irq();
    tasklet_schedule(t);
    tasklet_schedule(t);
    exit_irq();
    assert.deepEqual(ctx, []);
    await Promise.resolve();
    assert.deepEqual(ctx, ['softirq']);
    await turn();
    assert.deepEqual(ctx, ['softirq'], 'scheduled twice, ran once');
  });

  it('a disabled tasklet waits for tasklet_enable; tasklet_kill waits for a scheduled run', async () => {
    let n = 0;
    const t = DECLARE_TASKLET(() => { n++; });
    tasklet_disable(t);
    tasklet_schedule(t);
    await turn();
    assert.equal(n, 0);
    tasklet_enable(t);
    await turn();
    assert.equal(n, 1);
    tasklet_schedule(t);
    await tasklet_kill(t);
    assert.equal(n, 2);
  });

  it('sleeping in a tasklet is reported', async () => {
    const t = DECLARE_TASKLET(function bad() { void msleep(1); });
    tasklet_schedule(t);
    await turn();
    assert.match(logs[0]!, /^BUG: sleeping function called from invalid context: msleep\(\) in softirq context/);
  });
});

describe('kthreads', () => {
  it('run until kthread_stop, which resolves the thread\'s result', async () => {
    let loops = 0;
    let gotData: unknown;
    const task = kthread_run(async (data: { name: string }, self: TaskStruct) => {
      gotData = data;
      while (!kthread_should_stop(self)) { loops++; await msleep(1); }
      return 42;
    }, { name: 'poller' }, 'hm-poll');
    assert.equal(task.comm, 'hm-poll');
    while (loops < 2) await sleep(1);
    assert.equal(await kthread_stop(task), 42);
    assert.ok(loops >= 2, `looped ${loops} times`);
    assert.deepEqual(gotData, { name: 'poller' });
  });

  it('a thread stopped before it ever ran does not run: -EINTR', async () => {
    let ran = false;
    const task = kthread_create(() => { ran = true; return 0; }, null, 'never');
    assert.equal(await kthread_stop(task), -4);
    await turn();
    assert.equal(ran, false);
  });
});
