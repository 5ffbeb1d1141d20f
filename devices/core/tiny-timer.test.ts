/**
 * The README example: a tiny countdown timer declared with the register DSL, tested as a black
 * box the way QEMU's qtests test models: only MMIO accesses, virtual time and the IRQ line.
 *
 * hmdrv interface: MMIO window 0 = registers (0x20 bytes); IRQ 0 = expiry.
 * CTRL.EN starts a countdown of LOAD ns; on expiry STATUS.EXPIRED is set (W1C) and the IRQ is
 * raised while CTRL.IE is set. With CTRL.PERIODIC it reloads; expiries while EXPIRED was still
 * set count in MISSED (read-clear). COUNT reads the ns left.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { DeviceModel } from './device-model.js';
import { IrqLine } from './irq.js';
import { RegisterFile } from './register-file.js';
import { defineRegisterMap, type SpecsOf } from './regmap.js';
import { Scheduler, type Cancel } from './scheduler.js';

// ---- tiny-timer.regs.ts: pure data, shared by model, driver and tests ----
const TIMER_REGS = defineRegisterMap('tiny-timer', {
  CTRL: {
    offset: 0x00,
    fields: {
      EN: { bit: 0, access: 'rw', doc: 'count down while set' },
      IE: { bit: 1, access: 'rw', doc: 'raise the IRQ while STATUS.EXPIRED' },
      PERIODIC: { bit: 2, access: 'rw', doc: 'reload LOAD on expiry' },
    },
  },
  STATUS: { offset: 0x04, fields: { EXPIRED: { bit: 0, access: 'w1c' } } },
  LOAD: { offset: 0x08, reset: 1000, doc: 'countdown, ns' },
  COUNT: { offset: 0x0c, access: 'ro', doc: 'ns left (computed on read)' },
  MISSED: { offset: 0x10, access: 'rc', doc: 'expiries while EXPIRED was set' },
  ID: { offset: 0x1c, access: 'ro', reset: 0x544d5231 /* 'TMR1' */ },
});

// ---- tiny-timer.model.ts ----
class TinyTimer extends DeviceModel {
  readonly irq = new IrqLine('timer0');
  readonly regs: RegisterFile<SpecsOf<typeof TIMER_REGS>>;
  private deadline = 0n;
  private stopCountdown: Cancel | undefined;

  constructor(private readonly sched: Scheduler, log: (msg: string) => void) {
    super('timer0');
    this.regs = new RegisterFile(TIMER_REGS, {
      name: 'timer0',
      log,
      onWrite: { CTRL: () => this.program(), STATUS: () => this.updateIrq() },
      onRead: { COUNT: () => this.remaining() },
    });
    this.regions.push(this.regs);
    this.irqs.push(this.irq);
  }

  reset(): void {
    this.stopCountdown?.();
    this.stopCountdown = undefined;
    this.regs.reset();
    this.updateIrq();
  }

  updateIrq(): void {
    const r = this.regs;
    this.irq.set(r.getField('STATUS', 'EXPIRED') === 1 && r.getField('CTRL', 'IE') === 1);
  }

  protected override onUnrealize(): void {
    this.stopCountdown?.();
  }

  /** CTRL written: (re)arm or stop the countdown. Only schedules; expiry does the work. */
  private program(): void {
    this.stopCountdown?.();
    this.stopCountdown = undefined;
    if (this.regs.getField('CTRL', 'EN') === 1) {
      const load = BigInt(this.regs.value('LOAD'));
      this.deadline = this.sched.now() + load;
      const periodic = this.regs.getField('CTRL', 'PERIODIC') === 1;
      this.stopCountdown = periodic ? this.sched.every(load, () => this.expire(load)) : this.sched.after(load, () => this.expire(0n));
    }
    this.updateIrq();
  }

  private expire(reload: bigint): void {
    const r = this.regs;
    if (r.getField('STATUS', 'EXPIRED') === 1) r.setValue('MISSED', r.value('MISSED') + 1);
    r.setField('STATUS', 'EXPIRED', 1);
    if (reload > 0n) this.deadline = this.sched.now() + reload;
    else r.setField('CTRL', 'EN', 0);
    this.updateIrq();
  }

  private remaining(): number {
    if (this.regs.getField('CTRL', 'EN') === 0) return 0;
    const left = this.deadline - this.sched.now();
    return left > 0n ? Number(left) : 0;
  }
}

// ---- tiny-timer.test.ts ----
function boot() {
  const clock = new VirtualClock();
  const logs: string[] = [];
  const timer = new TinyTimer(new Scheduler(clock), (m) => logs.push(m));
  timer.realize();
  const mmio = timer.regions[0]!;
  const irqEdges: boolean[] = [];
  timer.irqs[0]!.onChange((l) => irqEdges.push(l));
  const { offsets: A, bits: B } = TIMER_REGS;
  return { clock, logs, mmio, irq: timer.irqs[0]!, irqEdges, timer, A, B };
}

describe('tiny timer (README example), black box', () => {
  it('identifies itself and comes out of reset idle', () => {
    const { mmio, irq, A } = boot();
    assert.equal(mmio.read(A.ID, 4), 0x544d5231);
    assert.equal(mmio.read(A.LOAD, 4), 1000);
    assert.equal(mmio.read(A.STATUS, 4), 0);
    assert.equal(irq.level, false);
  });

  it('expires after LOAD ns once enabled, raises the IRQ, and W1C clears it', () => {
    const { clock, mmio, irq, irqEdges, A, B } = boot();
    mmio.write(A.LOAD, 4, 5000);
    mmio.write(A.CTRL, 4, B.CTRL.EN | B.CTRL.IE);
    clock.advance(2000);
    assert.equal(mmio.read(A.COUNT, 4), 3000);
    assert.equal(irq.level, false);
    clock.advance(3000);
    assert.equal(mmio.read(A.STATUS, 4), B.STATUS.EXPIRED);
    assert.equal(irq.level, true);
    assert.equal(mmio.read(A.CTRL, 4) & B.CTRL.EN, 0, 'one-shot: EN drops');
    mmio.write(A.STATUS, 4, 0);
    assert.equal(irq.level, true, 'writing 0 does not clear');
    mmio.write(A.STATUS, 4, B.STATUS.EXPIRED);
    assert.equal(mmio.read(A.STATUS, 4), 0);
    assert.deepEqual(irqEdges, [true, false]);
  });

  it('keeps the IRQ low while IE is clear, and raises it when IE is set on a pending status', () => {
    const { clock, mmio, irq, A, B } = boot();
    mmio.write(A.CTRL, 4, B.CTRL.EN);
    clock.advance(1000);
    assert.equal(mmio.read(A.STATUS, 4), 1);
    assert.equal(irq.level, false);
    mmio.write(A.CTRL, 4, B.CTRL.IE);
    assert.equal(irq.level, true);
  });

  it('counts missed periodic expiries in a read-clear register', () => {
    const { clock, mmio, A, B } = boot();
    mmio.write(A.CTRL, 4, B.CTRL.EN | B.CTRL.PERIODIC);
    clock.advance(3500);
    assert.equal(mmio.read(A.MISSED, 4), 2, 'three expiries, the first still pending');
    assert.equal(mmio.read(A.MISSED, 4), 0, 'read-clear');
    assert.equal(mmio.read(A.COUNT, 4), 500);
    mmio.write(A.CTRL, 4, 0);
    clock.advance(10_000);
    assert.equal(mmio.read(A.MISSED, 4), 0, 'stopped');
  });

  it('logs an unmapped access and reads 0', () => {
    const { mmio, logs, timer } = boot();
    assert.equal(mmio.read(0x14, 4), 0);
    mmio.write(0x40, 4, 1);
    assert.deepEqual(logs, ['timer0: unhandled read at 0x14 (size 4)', 'timer0: unhandled write at 0x40 (size 4)']);
    assert.equal(timer.regs.stats.unhandledReads, 1);
  });

  it('logs accesses of the wrong size and ignores them', () => {
    const { clock, mmio, logs, irq, A, B } = boot();
    mmio.write(A.CTRL, 1, B.CTRL.EN | B.CTRL.IE);
    clock.advance(5000);
    assert.equal(irq.level, false, 'the byte write did not start the timer');
    assert.equal(mmio.read(A.ID, 2), 0);
    assert.match(logs[0]!, /^timer0: guest error: write of CTRL at 0x0 with unsupported size 1/);
    assert.match(logs[1]!, /^timer0: guest error: read of ID at 0x1c with unsupported size 2/);
  });

  it('logs writes to read-only registers and keeps their value', () => {
    const { mmio, logs, A } = boot();
    mmio.write(A.ID, 4, 0);
    assert.equal(mmio.read(A.ID, 4), 0x544d5231);
    assert.match(logs[0]!, /write 0x0 to ID tries to change read-only bits/);
  });

  it('reset stops the countdown and restores the registers; unrealize drops the line', () => {
    const { clock, mmio, irq, timer, A, B } = boot();
    mmio.write(A.CTRL, 4, B.CTRL.EN | B.CTRL.IE | B.CTRL.PERIODIC);
    clock.advance(1000);
    assert.equal(irq.level, true);
    timer.reset();
    assert.equal(irq.level, false);
    clock.advance(5000);
    assert.equal(mmio.read(A.STATUS, 4), 0);
    mmio.write(A.CTRL, 4, B.CTRL.EN | B.CTRL.IE);
    clock.advance(1000);
    timer.unrealize();
    assert.equal(irq.level, false);
    assert.equal(clock.pending, 0);
  });
});
