import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock, toNs, VirtualClock } from './clock.js';
import { Scheduler } from './scheduler.js';

/** A little model-like workload: timers that schedule timers and defers, traced with times. */
function workload(): string[] {
  const clock = new VirtualClock();
  const s = new Scheduler(clock);
  const trace: string[] = [];
  const log = (m: string) => trace.push(`${clock.now()}:${m}`);
  s.after(300, () => log('c'));
  s.after(100, () => { log('a'); s.defer(() => log('a-bh')); s.after(50, () => log('a+50')); });
  s.after(100, () => log('b'));
  const stop = s.every(120, () => log('tick'));
  s.at(500, () => { log('stop'); stop(); });
  clock.runUntil(1000);
  return trace;
}

describe('VirtualClock + Scheduler', () => {
  it('starts at 0 and moves only when told', () => {
    const clock = new VirtualClock();
    assert.equal(clock.now(), 0n);
    clock.advance(10);
    assert.equal(clock.now(), 10n);
    clock.runUntil(5);
    assert.equal(clock.now(), 10n, 'never backwards');
  });

  it('runs events in time order, then scheduling order, at their own time', () => {
    assert.deepEqual(workload(), [
      '100:a', '100:b', '100:a-bh', '120:tick', '150:a+50', '240:tick', '300:c', '360:tick', '480:tick', '500:stop',
    ]);
  });

  it('is deterministic: the same calls give the same trace', () => {
    assert.deepEqual(workload(), workload());
  });

  it('runUntil runs events scheduled during the run when they are due, and leaves later ones', () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock);
    const seen: bigint[] = [];
    s.after(10, () => { seen.push(clock.now()); s.after(10, () => seen.push(clock.now())); s.after(100, () => seen.push(clock.now())); });
    assert.equal(clock.runUntil(50), 2);
    assert.deepEqual(seen, [10n, 20n]);
    assert.equal(clock.now(), 50n);
    assert.equal(clock.nextEventTime(), 110n);
    assert.equal(s.pending, 1);
  });

  it('defer runs after the current access returns, on the next run, at the current time', () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock);
    const order: string[] = [];
    const mmioWrite = () => { order.push('write'); s.defer(() => order.push('bh')); order.push('write returns'); };
    clock.advance(7);
    mmioWrite();
    assert.deepEqual(order, ['write', 'write returns']);
    clock.runUntil(clock.now());
    assert.deepEqual(order, ['write', 'write returns', 'bh']);
    assert.equal(clock.now(), 7n);
  });

  it('cancels one-shot, periodic and deferred events, singly or all at once', () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock);
    const other = new Scheduler(clock);
    let n = 0;
    const c1 = s.after(10, () => n++);
    const c2 = s.defer(() => n++);
    const c3 = s.every(5, () => n++);
    c1(); c2(); c3(); c1();
    assert.equal(clock.advance(100), 0);
    s.after(10, () => n++);
    s.every(10, () => n++);
    other.after(10, () => n += 100);
    s.cancelAll();
    assert.equal(s.pending, 0);
    clock.runUntilIdle();
    assert.equal(n, 100, 'another scheduler on the same clock is unaffected');
  });

  it('periodic events stay on their grid and can cancel themselves', () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock);
    const at: bigint[] = [];
    const stop = s.every(1_000_000n, () => { at.push(clock.now()); if (at.length === 3) stop(); });
    clock.advance(10_000_000n);
    assert.deepEqual(at, [1_000_000n, 2_000_000n, 3_000_000n]);
    assert.equal(clock.pending, 0);
    assert.throws(() => s.every(0, () => {}), RangeError);
  });

  it('runUntilIdle drains one-shots and refuses to spin forever on periodic ones', () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock);
    s.after(5, () => s.after(5, () => {}));
    assert.equal(clock.runUntilIdle(), 2);
    assert.equal(clock.now(), 10n);
    s.every(1, () => {});
    assert.throws(() => clock.runUntilIdle(50), /still busy after 50 events/);
  });

  it('refuses nested runs and lets event exceptions propagate with state consistent', () => {
    const clock = new VirtualClock();
    const s = new Scheduler(clock);
    s.after(1, () => clock.runUntil(5));
    assert.throws(() => clock.advance(2), /run called from inside an event/);
    s.after(1, () => { throw new Error('model bug'); });
    s.after(2, () => {});
    assert.throws(() => clock.advance(10), /model bug/);
    assert.equal(clock.now(), 2n, 'stopped at the failing event');
    assert.equal(clock.advance(10), 1, 'the rest still runs');
  });

  it('converts times: numbers round up, negatives clamp to 0', () => {
    assert.equal(toNs(1.2), 2n);
    assert.equal(toNs(-3), 0n);
    assert.equal(toNs(-3n), 0n);
    assert.throws(() => toNs(NaN), RangeError);
  });
});

describe('RealClock + Scheduler', () => {
  it('reads monotonic time from 0', async () => {
    const c = new RealClock();
    const t0 = c.now();
    assert.ok(t0 >= 0n && t0 < 1_000_000_000n);
    await new Promise((r) => setTimeout(r, 2));
    assert.ok(c.now() - t0 >= 1_000_000n);
  });

  it('fires timers in order, never early', async () => {
    const s = new Scheduler(new RealClock());
    const seen: [string, bigint][] = [];
    // Deadlines from one base: separate after() calls could straddle a descheduling on a busy VM.
    const t0 = s.now();
    const done = new Promise<void>((resolve) => {
      s.at(t0 + 3_000_000n, () => { seen.push(['3ms', s.now()]); resolve(); });
      s.at(t0 + 200_000n, () => seen.push(['200us', s.now()]));
      s.at(t0 + 1_500_000n, () => seen.push(['1.5ms', s.now()]));
      s.at(0, () => seen.push(['past', s.now()]));
    });
    await done;
    assert.deepEqual(seen.map(([n]) => n), ['past', '200us', '1.5ms', '3ms']);
    assert.ok(seen[1]![1] >= t0 + 200_000n);
    assert.ok(seen[2]![1] >= t0 + 1_500_000n);
    assert.ok(seen[3]![1] >= t0 + 3_000_000n);
  });

  it('defer runs after the current synchronous code, before timers; re-defers yield a loop turn', async () => {
    const s = new Scheduler(new RealClock());
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      s.after(0, () => { order.push('timer'); resolve(); });
      s.defer(() => { order.push('bh1'); s.defer(() => order.push('bh2')); });
      order.push('sync');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['sync', 'bh1', 'timer', 'bh2'], 'bh2 waited for the next loop turn');
  });

  it('cancels real timers, deferred work and periodic ticks', async () => {
    const s = new Scheduler(new RealClock());
    let n = 0;
    s.after(1_000_000n, () => n++)();
    s.defer(() => n++)();
    let ticks = 0;
    const stop = s.every(500_000n, () => { if (++ticks === 3) stop(); });
    s.after(2_000_000n, () => n++);
    s.cancelAll();
    const s2 = new Scheduler(new RealClock());
    let ticks2 = 0;
    await new Promise<void>((resolve) => {
      const stop2 = s2.every(300_000n, () => { if (++ticks2 === 3) { stop2(); resolve(); } });
    });
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(n, 0);
    assert.equal(ticks, 0);
    assert.equal(ticks2, 3);
    assert.equal(s2.pending, 0);
  });

  it('reports exceptions to onError and keeps running the other events', async () => {
    const errors: unknown[] = [];
    const s = new Scheduler(new RealClock(), { onError: (e) => errors.push(e) });
    await new Promise<void>((resolve) => {
      s.after(0, () => { throw new Error('boom'); });
      s.after(0, () => resolve());
    });
    assert.equal((errors[0] as Error).message, 'boom');
  });

  it('preemptionPoint: nothing without an access service; with one, calls it once per point and never from inside itself', () => {
    const s = new Scheduler(new RealClock());
    s.preemptionPoint(); // no service installed: a no-op
    let calls = 0;
    s.setAccessService(() => {
      calls++;
      s.preemptionPoint(); // a handler that reaches a preemption point again is not re-entered
    });
    s.preemptionPoint();
    s.preemptionPoint();
    assert.equal(calls, 2);
    s.setAccessService(() => { throw new Error('service failed'); });
    assert.throws(() => s.preemptionPoint(), /service failed/);
    s.setAccessService(() => { calls++; });
    s.preemptionPoint();
    assert.equal(calls, 3, 'a throwing service does not leave the point marked busy');
    s.setAccessService(undefined);
    s.preemptionPoint();
    assert.equal(calls, 3);
  });
});
