/**
 * jiffies.h / ktime.h / delay.h / timer.h / hrtimer.h over a virtual clock (deterministic) and
 * the real one (sleeps, busy-waits, and timers not keeping the process alive).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverEnv } from '../framework/driver-port.js';
import { RealClock, VirtualClock } from '../devices/core/clock.js';
import { setDriverEnv } from './kernel.js';
import { resetKapiBugs } from './bug.js';
import { __reset_context, in_atomic, in_irq, in_softirq, irqs_disabled } from './preempt.js';
import {
  add_timer, cancelPendingTimers, del_timer, del_timer_sync, HRTIMER_MODE_ABS, HRTIMER_MODE_REL, HRTIMER_MODE_REL_SOFT,
  HRTIMER_NORESTART, HRTIMER_RESTART, HrTimer, hrtimer_active, hrtimer_cancel, hrtimer_forward, hrtimer_forward_now,
  hrtimer_get_expires, hrtimer_init, hrtimer_setup, hrtimer_start, HZ, INITIAL_JIFFIES, jiffies, jiffies_to_msecs,
  ktime_add_ns, ktime_get, ktime_get_ns, ktime_get_real, ktime_ms_delta, ktime_to_ns, ktime_to_us, ktime_us_delta, mdelay,
  mod_timer, ms_to_ktime, msecs_to_jiffies, msleep, msleep_interruptible, ndelay, pendingTimers, setKapiClock,
  time_after, time_after_eq, time_before, time_in_range, timer_pending, timer_setup, timer_shutdown_sync, TIMER_IRQSAFE,
  TimerList, udelay, usecs_to_jiffies, usleep_range, CLOCK_MONOTONIC, CLOCK_REALTIME, get_jiffies_64, timer_reduce,
} from './time.js';

const logs: string[] = [];
const env = { isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv;
setDriverEnv(env);
const MS = 1_000_000n;
let clock: VirtualClock;

beforeEach(() => {
  __reset_context();
  resetKapiBugs();
  logs.length = 0;
  clock = new VirtualClock();
  setKapiClock(clock);
});
afterEach(() => { cancelPendingTimers(); setKapiClock(new RealClock()); });

describe('jiffies and ktime', () => {
  it('HZ is 1000: a jiffy is a millisecond', () => {
    assert.equal(HZ, 1000);
    assert.equal(msecs_to_jiffies(250), 250);
    assert.equal(usecs_to_jiffies(1), 1, 'rounded up');
    assert.equal(jiffies_to_msecs(7), 7);
  });

  it('jiffies starts at INITIAL_JIFFIES and follows the clock', () => {
    assert.equal(jiffies(), INITIAL_JIFFIES);
    assert.equal(INITIAL_JIFFIES % 2 ** 32, 2 ** 32 - 300_000, 'low 32 bits wrap 5 minutes in');
    clock.advance(5_500_000n);
    assert.equal(jiffies(), INITIAL_JIFFIES + 5);
    assert.equal(get_jiffies_64(), BigInt(INITIAL_JIFFIES + 5));
  });

  it('time_after and friends', () => {
    const now = jiffies();
    assert.equal(time_after(now + 1, now), true);
    assert.equal(time_before(now, now + 1), true);
    assert.equal(time_after_eq(now, now), true);
    assert.equal(time_after(now, now), false);
    assert.equal(time_in_range(now + 5, now, now + 10), true);
  });

  it('ktime_t is bigint nanoseconds', () => {
    clock.advance(1_234_567n);
    const t = ktime_get();
    assert.equal(typeof t, 'bigint');
    assert.equal(ktime_to_ns(t), 1_234_567n);
    assert.equal(ktime_get_ns(), t);
    const later = ktime_add_ns(t, 2_000_000);
    assert.equal(ktime_us_delta(later, t), 2000);
    assert.equal(ktime_ms_delta(later, t), 2);
    assert.equal(ktime_to_us(ms_to_ktime(3)), 3000);
    const offset = ktime_get_real() - ktime_get();
    assert.ok(ktime_get_real() > 1_600_000_000n * 1_000_000_000n, 'wall-clock ns since the epoch');
    clock.advance(1_000_000n);
    assert.equal(ktime_get_real() - ktime_get(), offset, 'realtime moves with the kapi clock');
  });
});

describe('timer_list', () => {
  it('fires once at its expiry, in softirq context', () => {
    const t = new TimerList();
    const seen: { j: number; softirq: boolean; atomic: boolean }[] = [];
    timer_setup(t, () => { seen.push({ j: jiffies(), softirq: in_softirq(), atomic: in_atomic() }); }, 0);
    const start = jiffies();
    assert.equal(mod_timer(t, start + 10), 0);
    assert.equal(mod_timer(t, start + 10), 1, 'was pending');
    assert.equal(timer_pending(t), true);
    assert.equal(pendingTimers(env).length, 1);
    clock.advance(9n * MS);
    assert.equal(seen.length, 0);
    clock.advance(MS);
    assert.deepEqual(seen, [{ j: start + 10, softirq: true, atomic: true }]);
    assert.equal(timer_pending(t), false);
    assert.equal(pendingTimers().length, 0);
    assert.equal(in_atomic(), false);
    clock.advance(100n * MS);
    assert.equal(seen.length, 1);
  });

  it('mod_timer moves it; del_timer stops it; add_timer on a pending timer is reported', () => {
    let fired = 0;
    const t = new TimerList();
    timer_setup(t, () => { fired++; }, 0);
    t.expires = jiffies() + 5;
    add_timer(t);
    mod_timer(t, jiffies() + 20);
    clock.advance(10n * MS);
    assert.equal(fired, 0, 'moved later');
    assert.equal(timer_reduce(t, jiffies() + 1), 1);
    clock.advance(MS);
    assert.equal(fired, 1, 'timer_reduce moved it earlier');
    mod_timer(t, jiffies() + 5);
    assert.equal(del_timer(t), 1);
    assert.equal(del_timer(t), 0);
    clock.advance(10n * MS);
    assert.equal(fired, 1);
    add_timer(t);
    add_timer(t);
    assert.match(logs[0]!, /^BUG: add_timer\(\) on a pending timer/);
  });

  it('a periodic timer re-arms itself from its callback', () => {
    let n = 0;
    const t = new TimerList();
    timer_setup(t, () => { if (++n < 3) mod_timer(t, jiffies() + 10); }, 0);
    mod_timer(t, jiffies() + 10);
    clock.advance(100n * MS);
    assert.equal(n, 3);
  });

  it('TIMER_IRQSAFE callbacks run with IRQs disabled', () => {
    let off = false;
    const t = new TimerList();
    timer_setup(t, () => { off = irqs_disabled(); }, TIMER_IRQSAFE);
    mod_timer(t, jiffies() + 1);
    clock.advance(MS);
    assert.equal(off, true);
    assert.equal(irqs_disabled(), false);
  });

  it('sleeping in a timer callback is reported', () => {
    const t = new TimerList();
    timer_setup(t, function watchdog() { void msleep(1); }, 0);
    mod_timer(t, jiffies() + 1);
    clock.advance(MS);
    assert.match(logs[0]!, /^BUG: sleeping function called from invalid context: msleep\(\) in softirq context/);
    assert.match(logs[0]!, /watchdog .*time\.test\.js:\d+/);
  });

  it('bugs in two different callbacks are both logged (dedupe is per callback)', () => {
    const a = new TimerList(), b = new TimerList();
    timer_setup(a, async function first() {}, 0);
    timer_setup(b, async function second() {}, 0);
    mod_timer(a, jiffies() + 1);
    mod_timer(b, jiffies() + 1);
    clock.advance(MS);
    mod_timer(a, jiffies() + 1);
    clock.advance(MS);
    assert.equal(logs.length, 2);
    assert.match(logs[0]!, /timer callback first is async/);
    assert.match(logs[1]!, /timer callback second is async/);
  });

  it('an async callback is reported and del_timer_sync waits for it', async () => {
    let release!: () => void;
    let finished = false;
    const t = new TimerList();
    timer_setup(t, async function slow() { await new Promise<void>((r) => { release = r; }); finished = true; }, 0);
    mod_timer(t, jiffies() + 1);
    clock.advance(MS);
    assert.match(logs[0]!, /^BUG: timer callback slow is async/);
    let synced = false;
    const p = del_timer_sync(t).then((r) => { synced = true; return r; });
    await new Promise((r) => setImmediate(r));
    assert.equal(synced, false, 'waits for the running callback');
    release();
    assert.equal(await p, 0);
    assert.equal(finished, true);
  });

  it('timer_shutdown_sync keeps it off; del_timer_sync in its own callback is reported', async () => {
    let fired = 0;
    const t = new TimerList();
    timer_setup(t, () => { fired++; void del_timer_sync(t); }, 0);
    mod_timer(t, jiffies() + 1);
    clock.advance(MS);
    assert.match(logs[0]!, /del_timer_sync\(\) called from the timer's own callback/);
    mod_timer(t, jiffies() + 1);
    assert.equal(await timer_shutdown_sync(t), 1);
    assert.equal(mod_timer(t, jiffies() + 1), 0);
    clock.advance(10n * MS);
    assert.equal(fired, 1);
  });

  it('pendingTimers lists armed timers by env; cancelPendingTimers stops them', () => {
    const t = new TimerList();
    timer_setup(t, function leaked() {}, 0);
    mod_timer(t, jiffies() + 50);
    const [p] = pendingTimers(env);
    assert.equal(p!.kind, 'timer_list');
    assert.equal(p!.name, 'leaked');
    assert.equal(p!.expires_ns, 50n * MS);
    assert.equal(pendingTimers({} as DriverEnv).length, 0);
    assert.equal(cancelPendingTimers(env).length, 1);
    assert.equal(timer_pending(t), false);
  });
});

describe('hrtimer', () => {
  it('a periodic hrtimer with hrtimer_forward_now, in hardirq context', () => {
    const t = new HrTimer();
    const at: bigint[] = [];
    let irq = false;
    hrtimer_setup(t, (tm) => {
      at.push(ktime_get());
      irq = in_irq();
      if (at.length === 3) return HRTIMER_NORESTART;
      hrtimer_forward_now(tm, 250_000n);
      return HRTIMER_RESTART;
    }, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
    hrtimer_start(t, 250_000n, HRTIMER_MODE_REL);
    assert.equal(hrtimer_active(t), true);
    clock.advance(10n * MS);
    assert.deepEqual(at, [250_000n, 500_000n, 750_000n]);
    assert.equal(irq, true);
    assert.equal(hrtimer_active(t), false);
  });

  it('soft mode runs in softirq; ABS mode; hrtimer_cancel', () => {
    const t = new HrTimer();
    let ctx = '';
    hrtimer_init(t, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
    t.function = () => { ctx = in_softirq() ? 'softirq' : in_irq() ? 'hardirq' : 'task'; return HRTIMER_NORESTART; };
    hrtimer_start(t, 3n * MS, HRTIMER_MODE_REL_SOFT);
    clock.advance(3n * MS);
    assert.equal(ctx, 'softirq');
    hrtimer_start(t, 10n * MS, HRTIMER_MODE_ABS);
    assert.equal(hrtimer_get_expires(t), 10n * MS);
    assert.equal(hrtimer_cancel(t), 1);
    assert.equal(hrtimer_cancel(t), 0);
  });

  it('a CLOCK_REALTIME absolute expiry is converted', () => {
    const t = new HrTimer();
    let fired = false;
    hrtimer_setup(t, () => { fired = true; return HRTIMER_NORESTART; }, CLOCK_REALTIME, HRTIMER_MODE_ABS);
    hrtimer_start(t, ktime_get_real() + 2n * MS, HRTIMER_MODE_ABS);
    clock.advance(MS);
    assert.equal(fired, false);
    clock.advance(MS);
    assert.equal(fired, true);
  });

  it('hrtimer_forward counts overruns as Linux does', () => {
    const t = new HrTimer();
    hrtimer_setup(t, () => HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
    hrtimer_start(t, 1000n, HRTIMER_MODE_ABS);
    assert.equal(hrtimer_forward(t, 500n, 100n), 0, 'not expired yet');
    assert.equal(hrtimer_forward(t, 1000n, 100n), 1);
    assert.equal(hrtimer_get_expires(t), 1100n);
    assert.equal(hrtimer_forward(t, 1555n, 100n), 5);
    assert.equal(hrtimer_get_expires(t), 1600n);
    hrtimer_cancel(t);
  });

  it('HRTIMER_RESTART without forwarding is reported, not a storm', () => {
    const t = new HrTimer();
    let n = 0;
    hrtimer_setup(t, function stuck() { n++; return HRTIMER_RESTART; }, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
    hrtimer_start(t, MS, HRTIMER_MODE_REL);
    clock.advance(5n * MS);
    assert.equal(n, 1);
    assert.match(logs[0]!, /^BUG: hrtimer callback stuck returned HRTIMER_RESTART without moving the expiry/);
  });
});

describe('sleeps and delays on the real clock', () => {
  beforeEach(() => setKapiClock(new RealClock()));

  it('msleep and usleep_range sleep at least the time asked', async () => {
    let t0 = performance.now();
    await msleep(15);
    assert.ok(performance.now() - t0 >= 14.9, `msleep(15) took ${performance.now() - t0}`);
    t0 = performance.now();
    assert.equal(await msleep_interruptible(5), 0);
    assert.ok(performance.now() - t0 >= 4.9);
    t0 = performance.now();
    await usleep_range(300, 500);
    assert.ok(performance.now() - t0 >= 0.29);
    assert.deepEqual(logs, []);
  });

  it('udelay/ndelay/mdelay busy-wait at least the time asked', () => {
    let t0 = performance.now();
    udelay(2000);
    assert.ok(performance.now() - t0 >= 1.99);
    ndelay(500);
    t0 = performance.now();
    mdelay(3);
    assert.ok(performance.now() - t0 >= 2.99);
    assert.deepEqual(logs, []);
  });

  it('over-long busy-waits are capped and reported (a stepping clock measures the spin)', () => {
    let t = 0n;
    setKapiClock({ kind: 'real', now: () => (t += 10_000n) });     // 10 µs per clock read
    let before = t;
    udelay(25_000);
    assert.ok(t - before >= 20_000_000n && t - before <= 20_020_000n, `spun ${t - before} ns`);
    assert.match(logs[0]!, /^WARNING: udelay\(25000\) busy-waits too long \(capped at 20000 us\)/);
    before = t;
    mdelay(5000);
    assert.ok(t - before >= 1_000_000_000n && t - before <= 1_000_020_000n, `spun ${t - before} ns`);
    assert.match(logs[1]!, /^WARNING: mdelay\(5000\) busy-waits too long \(capped at 1000 ms\)/);
    before = t;
    udelay(150);
    assert.ok(t - before >= 150_000n && t - before <= 170_000n);
  });

  it('busy-waits take no virtual time', () => {
    setKapiClock(clock);
    const t0 = performance.now();
    mdelay(500);
    assert.ok(performance.now() - t0 < 50);
    assert.equal(ktime_get(), 0n);
  });

  it('an armed timer or a cancelled timeout does not keep the process alive; a sleep does', async () => {
    const url = new URL('./time.js', import.meta.url).href;
    const run = (code: string): Promise<number> => new Promise((resolve, reject) => {
      const t0 = performance.now();
      execFile(process.execPath, ['--input-type=module', '-e', `import * as k from ${JSON.stringify(url)};\n${code}`],
        { cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 5000 }, (err) => (err ? reject(err) : resolve(performance.now() - t0)));
    });
    const [armed, slept, cancelled] = await Promise.all([
      run('const t = new k.TimerList(); k.timer_setup(t, () => {}, 0); k.mod_timer(t, k.jiffies() + 60_000);'),
      run('await k.msleep(300); if (k.ktime_get() < 300_000_000n) process.exit(1);'),
      run('const cancel = k.kapi_after(60_000_000_000n, () => {}); cancel();'),
    ]);
    assert.ok(armed < 2000, `exited with a 60 s timer armed (took ${armed} ms)`);
    assert.ok(slept >= 300);
    assert.ok(cancelled < 2000, `a cancelled 60 s timeout held the process (${cancelled} ms)`);
  });
});
