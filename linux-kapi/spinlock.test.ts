/**
 * spinlock.h / preempt.h: atomic-context bookkeeping, bug reports (recursion, bad unlock,
 * held across an await), IRQ disabling and the IRQ gate.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DriverEnv } from '../framework/driver-port.js';
import { setDriverEnv } from './kernel.js';
import { kapiBugs, kapiDebug, resetKapiBugs } from './bug.js';
import { __reset_context, in_softirq, local_bh_enable, preempt_count, preempt_disable, preempt_enable, X86_EFLAGS_IF } from './preempt.js';
import {
  DEFINE_RWLOCK, enter_irq, exit_irq, in_atomic, in_interrupt, in_irq, irqs_disabled, kapiIrqGate, local_irq_restore,
  local_irq_save, lockdep_assert_held, read_lock, read_unlock, spin_is_locked, spin_lock, spin_lock_bh, spin_lock_init,
  spin_lock_irqsave, spin_trylock, spin_unlock, spin_unlock_bh, spin_unlock_irqrestore, write_lock, write_trylock,
  write_unlock, read_trylock,
} from './spinlock.js';

const logs: string[] = [];
setDriverEnv({ isolation: 'ic0', log: (_l: number, m: string) => { logs.push(m); } } as unknown as DriverEnv);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

beforeEach(() => {
  __reset_context();
  resetKapiBugs();
  logs.length = 0;
  kapiDebug.lockSites = false;
});

describe('spinlock_t', () => {
  it('marks atomic context while held', () => {
    const l = spin_lock_init('a');
    assert.equal(in_atomic(), false);
    spin_lock(l);
    assert.equal(in_atomic(), true);
    assert.equal(spin_is_locked(l), true);
    assert.equal(preempt_count(), 1);
    spin_unlock(l);
    assert.equal(in_atomic(), false);
    assert.equal(spin_is_locked(l), false);
    assert.deepEqual(logs, []);
  });

  it('reports recursion with the call site and keeps going; balanced unlocks free it', () => {
    const l = spin_lock_init('rec');
    spin_lock(l);
    spin_lock(l);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^BUG: spinlock recursion: rec is already held/);
    assert.match(logs[0]!, /spinlock\.test\.js:\d+/);
    spin_unlock(l);
    assert.equal(spin_is_locked(l), true);
    spin_unlock(l);
    assert.equal(in_atomic(), false);
    assert.equal(kapiBugs()[0]!.kind, 'spinlock-recursion');
  });

  it('names where the lock was taken with kapiDebug.lockSites', () => {
    kapiDebug.lockSites = true;
    const l = spin_lock_init('sited');
    spin_lock(l);
    spin_lock(l);
    assert.match(logs[0]!, /\(taken at .*spinlock\.test\.js:\d+/);
    spin_unlock(l);
    spin_unlock(l);
  });

  it('reports a bad unlock and ignores it', () => {
    const l = spin_lock_init('bad');
    spin_unlock(l);
    assert.match(logs[0]!, /^BUG: bad unlock: spin_unlock\(bad\) of a lock that is not held/);
    assert.equal(in_atomic(), false);
  });

  it('logs a repeated bug at one site once and counts it', () => {
    const l = spin_lock_init('rep');
    for (let i = 0; i < 3; i++) spin_unlock(l);
    assert.equal(logs.length, 1);
    assert.equal(kapiBugs()[0]!.count, 3);
  });

  it('spin_trylock fails on a held lock without a report', () => {
    const l = spin_lock_init();
    assert.equal(spin_trylock(l), 1);
    assert.equal(spin_trylock(l), 0);
    spin_unlock(l);
    assert.deepEqual(logs, []);
  });

  it('irqsave disables IRQs; nested saves restore in order', () => {
    const a = spin_lock_init('a'), b = spin_lock_init('b');
    const fa = spin_lock_irqsave(a);
    assert.equal(fa, X86_EFLAGS_IF);
    assert.equal(irqs_disabled(), true);
    const fb = spin_lock_irqsave(b);
    assert.equal(fb, 0);
    spin_unlock_irqrestore(b, fb);
    assert.equal(irqs_disabled(), true, 'inner restore keeps IRQs off');
    spin_unlock_irqrestore(a, fa);
    assert.equal(irqs_disabled(), false);
  });

  it('_bh variants disable bottom halves', () => {
    const l = spin_lock_init();
    spin_lock_bh(l);
    assert.equal(in_softirq(), true);
    spin_unlock_bh(l);
    assert.equal(in_softirq(), false);
  });

  it('reports a spinlock held across an await and resets the context', async () => {
    const l = spin_lock_init('held');
    spin_lock(l);
    await tick();
    assert.match(logs[0]!, /^BUG: scheduling while atomic: .*holding held; context reset/);
    assert.equal(in_atomic(), false, 'other code must not be blamed');
    spin_lock(l);
    assert.match(logs[1]!, /spinlock recursion/, 'the lock itself stays held');
    spin_unlock(l);
    spin_unlock(l);
    assert.equal(logs.length, 2, 'the late unlocks are accepted');
    assert.equal(in_atomic(), false);
  });

  it('a section that ends before the stack unwinds is fine', async () => {
    const l = spin_lock_init();
    spin_lock(l);
    spin_unlock(l);
    preempt_disable();
    preempt_enable();
    await tick();
    assert.deepEqual(logs, []);
  });

  it('forgives a reset preempt_disable, but reports an unbalanced enable', async () => {
    preempt_disable();
    await tick();
    assert.match(logs[0]!, /scheduling while atomic: .*preempt_count 1/);
    preempt_enable();
    assert.equal(logs.length, 1);
    preempt_enable();
    assert.match(logs[1]!, /preempt_enable\(\) without preempt_disable/);
    local_bh_enable();
    assert.match(logs[2]!, /local_bh_enable\(\) without/);
  });

  it('lockdep_assert_held reports a lock that is not held', () => {
    const l = spin_lock_init('must');
    spin_lock(l);
    lockdep_assert_held(l);
    spin_unlock(l);
    assert.deepEqual(logs, []);
    lockdep_assert_held(l);
    assert.match(logs[0]!, /lockdep_assert_held\(must\) failed/);
  });
});

describe('rwlock_t', () => {
  it('readers nest; a writer is exclusive', () => {
    const l = DEFINE_RWLOCK('rw');
    read_lock(l);
    read_lock(l);
    assert.equal(preempt_count(), 2);
    assert.equal(write_trylock(l), 0);
    read_unlock(l);
    read_unlock(l);
    assert.equal(write_trylock(l), 1);
    assert.equal(read_trylock(l), 0);
    write_unlock(l);
    assert.equal(in_atomic(), false);
    assert.deepEqual(logs, []);
  });

  it('reports write_lock while read-held and bad unlocks', () => {
    const l = DEFINE_RWLOCK('rw2');
    read_lock(l);
    write_lock(l);
    assert.match(logs[0]!, /^BUG: rwlock recursion: write_lock\(rw2\) while it is read-held/);
    write_unlock(l);
    read_unlock(l);
    read_unlock(l);
    assert.match(logs[1]!, /^BUG: bad unlock: read_unlock\(rw2\)/);
    assert.equal(in_atomic(), false);
  });
});

describe('IRQ context and the IRQ gate', () => {
  it('enter_irq/exit_irq mark hardirq context', () => {
    assert.equal(in_irq(), false);
    enter_irq();
    assert.equal(in_irq(), true);
    assert.equal(in_interrupt(), true);
    assert.equal(in_atomic(), true);
    exit_irq();
    assert.equal(in_interrupt(), false);
  });

  it('delivers at once when IRQs are on', () => {
    let ran = 0;
    assert.equal(kapiIrqGate.deliver(() => { ran++; }), true);
    assert.equal(ran, 1);
  });

  it('defers delivery while IRQs are disabled, delivering in order after restore', async () => {
    const order: number[] = [];
    const flags = local_irq_save();
    assert.equal(kapiIrqGate.isBlocked(), true);
    assert.equal(kapiIrqGate.deliver(() => order.push(1)), false);
    kapiIrqGate.defer(() => order.push(2));
    assert.equal(kapiIrqGate.pending, 2);
    assert.deepEqual(order, [], 'nothing runs while IRQs are off');
    local_irq_restore(flags);
    assert.deepEqual(order, [], 'delivered after the enabling section');
    await Promise.resolve();
    assert.deepEqual(order, [1, 2]);
    assert.equal(kapiIrqGate.pending, 0);
    assert.deepEqual(logs, []);
  });

  it('IRQs left disabled across an await are reported and re-enabled, delivering what waited', async () => {
    let ran = false;
    local_irq_save();
    kapiIrqGate.defer(() => { ran = true; });
    await tick();
    assert.match(logs[0]!, /scheduling while atomic: .*IRQs disabled/);
    assert.equal(irqs_disabled(), false);
    assert.equal(ran, true);
  });

  it('coalesces deferred deliveries of one line', async () => {
    const ran: string[] = [];
    const flags = local_irq_save();
    kapiIrqGate.deliver(() => ran.push('irq5'), 5);
    kapiIrqGate.deliver(() => ran.push('irq5 again'), 5);
    kapiIrqGate.deliver(() => ran.push('irq7'), 7);
    assert.equal(kapiIrqGate.pending, 2);
    local_irq_restore(flags);
    await Promise.resolve();
    assert.deepEqual(ran, ['irq5', 'irq7']);
  });

  it('defers delivery during a hardirq handler until exit_irq', async () => {
    let ran = false;
    enter_irq();
    kapiIrqGate.deliver(() => { ran = true; });
    exit_irq();
    await Promise.resolve();
    assert.equal(ran, true);
  });
});
