/**
 * mutex.h / semaphore.h / rwsem.h: FIFO hand-over, trylock, counting, reader/writer fairness,
 * and the "sleeping function called from invalid context" report.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEnv } from '../framework/driver-port.js';
import { setDriverEnv } from './kernel.js';
import { resetKapiBugs } from './bug.js';
import { __reset_context, enter_irq, exit_irq } from './preempt.js';
import { spin_lock, spin_lock_init, spin_unlock } from './spinlock.js';
import {
  DEFINE_MUTEX, down, down_read, down_read_trylock, down_timeout, down_trylock, down_write, down_write_trylock,
  downgrade_write, init_rwsem, mutex_destroy, mutex_is_locked, mutex_lock, mutex_lock_interruptible, mutex_trylock,
  mutex_unlock, sema_init, up, up_read, up_write,
} from './mutex.js';

const logs: string[] = [];
setDriverEnv({ isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv);
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

beforeEach(() => {
  __reset_context();
  resetKapiBugs();
  logs.length = 0;
});

describe('struct mutex', () => {
  it('serialises async sections in FIFO order', async () => {
    const m = DEFINE_MUTEX('m');
    const order: string[] = [];
    let inside = 0;
    const section = async (name: string): Promise<void> => {
      await mutex_lock(m);
      inside++;
      assert.equal(inside, 1, 'one holder at a time');
      order.push(`${name}+`);
      await settle();
      order.push(`${name}-`);
      inside--;
      mutex_unlock(m);
    };
    await Promise.all([section('a'), section('b'), section('c')]);
    assert.deepEqual(order, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    assert.equal(mutex_is_locked(m), false);
    assert.deepEqual(logs, []);
  });

  it('hands the lock to the waiter: trylock fails before the waiter resumes', async () => {
    const m = DEFINE_MUTEX();
    await mutex_lock(m);
    let got = false;
    const w = mutex_lock_interruptible(m).then((r) => { got = true; return r; });
    mutex_unlock(m);
    assert.equal(mutex_trylock(m), 0, 'already the waiter\'s');
    assert.equal(await w, 0);
    assert.equal(got, true);
    assert.equal(mutex_is_locked(m), true);
    mutex_unlock(m);
    assert.equal(mutex_trylock(m), 1);
    mutex_unlock(m);
  });

  it('reports an unlock of an unlocked mutex', () => {
    const m = DEFINE_MUTEX('idle');
    mutex_unlock(m);
    assert.match(logs[0]!, /^BUG: bad unlock balance: mutex_unlock\(idle\) of a mutex that is not locked/);
    assert.equal(mutex_is_locked(m), false);
  });

  it('reports mutex_lock with a spinlock held, naming the caller and the lock', async () => {
    const l = spin_lock_init('irq_lock');
    const m = DEFINE_MUTEX();
    spin_lock(l);
    const p = mutex_lock(m);
    spin_unlock(l);
    await p;
    mutex_unlock(m);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^BUG: sleeping function called from invalid context: mutex_lock\(\) in task context/);
    assert.match(logs[0]!, /held spinlocks: irq_lock/);
    assert.match(logs[0]!, /at .*mutex\.test\.js:\d+/);
  });

  it('reports mutex_lock in an IRQ handler and mutex_destroy of a held mutex', async () => {
    const m = DEFINE_MUTEX('d');
    enter_irq();
    const p = mutex_lock(m);
    exit_irq();
    await p;
    assert.match(logs[0]!, /mutex_lock\(\) in hardirq context/);
    mutex_destroy(m);
    assert.match(logs[1]!, /mutex_destroy\(d\) of a locked mutex/);
    mutex_unlock(m);
  });
});

describe('struct semaphore', () => {
  it('counts: N downs pass, the next waits for up', async () => {
    const s = sema_init(2);
    await down(s);
    await down(s);
    assert.equal(down_trylock(s), 1, 'none left (1 = failure, as Linux)');
    let got = false;
    const p = down(s).then(() => { got = true; });
    await settle();
    assert.equal(got, false);
    up(s);
    await p;
    assert.equal(got, true);
    assert.equal(s.count, 0);
    up(s);
    assert.equal(down_trylock(s), 0);
  });

  it('down_timeout resolves -ETIME when no unit comes in time, 0 when one does', async () => {
    const s = sema_init(0);
    const t0 = performance.now();
    assert.equal(await down_timeout(s, 15), -62);
    assert.ok(performance.now() - t0 >= 14);
    assert.equal(s._waiters.length, 0, 'the timed-out waiter is gone');
    const p = down_timeout(s, 1000);
    up(s);
    assert.equal(await p, 0);
  });

  it('up is fine in an IRQ handler; down there is reported', async () => {
    const s = sema_init(0);
    enter_irq();
    up(s);
    const p = down(s);
    exit_irq();
    await p;
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /down\(\) in hardirq context/);
  });
});

describe('struct rw_semaphore', () => {
  it('readers share, a writer excludes, and a waiting writer blocks new readers', async () => {
    const s = init_rwsem('rw');
    const ev: string[] = [];
    await down_read(s);
    await down_read(s);
    assert.equal(s.readers, 2);
    const w = down_write(s).then(() => ev.push('w'));
    const r = down_read(s).then(() => ev.push('r3'));
    assert.equal(down_read_trylock(s), 0, 'a writer is waiting');
    await settle();
    assert.deepEqual(ev, []);
    up_read(s);
    up_read(s);
    await w;
    assert.deepEqual(ev, ['w']);
    assert.equal(down_write_trylock(s), 0);
    up_write(s);
    await r;
    assert.deepEqual(ev, ['w', 'r3']);
    up_read(s);
    assert.equal(down_write_trylock(s), 1);
    up_write(s);
    assert.deepEqual(logs, []);
  });

  it('downgrade_write lets queued readers in; bad unlocks are reported', async () => {
    const s = init_rwsem('dg');
    await down_write(s);
    let read = false;
    const r = down_read(s).then(() => { read = true; });
    downgrade_write(s);
    await r;
    assert.equal(read, true);
    assert.equal(s.readers, 2);
    up_read(s);
    up_read(s);
    up_read(s);
    up_write(s);
    assert.match(logs[0]!, /up_read\(dg\) of an rwsem that is not read-held/);
    assert.match(logs[1]!, /up_write\(dg\) of an rwsem that is not write-held/);
  });
});
