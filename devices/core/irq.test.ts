import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IrqLine } from './irq.js';
import { DeviceModel } from './device-model.js';

describe('IrqLine', () => {
  it('tells listeners about level changes only', () => {
    const irq = new IrqLine('t');
    const seen: boolean[] = [];
    irq.onChange((l) => seen.push(l));
    irq.set(false);
    irq.raise();
    irq.set(true);
    irq.lower();
    assert.deepEqual(seen, [true, false]);
    assert.equal(irq.level, false);
    assert.equal(irq.raises, 1);
  });

  it('pulses high then low', () => {
    const irq = new IrqLine();
    const seen: boolean[] = [];
    irq.onChange((l) => seen.push(l));
    irq.pulse();
    assert.deepEqual(seen, [true, false]);
    irq.raise();
    irq.pulse();
    assert.deepEqual(seen, [true, false, true, false], 'a high line just drops');
  });

  it('unsubscribes, even from inside a listener', () => {
    const irq = new IrqLine();
    const seen: string[] = [];
    const off = irq.onChange(() => { seen.push('a'); off(); });
    irq.onChange(() => seen.push('b'));
    irq.raise();
    irq.lower();
    assert.deepEqual(seen, ['a', 'b', 'b']);
  });
});

class Dummy extends DeviceModel {
  readonly irq = new IrqLine('dummy');
  status = 0;
  enable = 0;
  log: string[] = [];
  constructor(private readonly bad = false) {
    super('dummy0');
    this.irqs.push(this.irq);
  }
  protected override onRealize(): void {
    if (this.bad) throw new Error('dummy0: bad config');
    this.log.push('realize');
  }
  reset(): void {
    this.status = 0;
    this.log.push('reset');
    this.updateIrq();
  }
  updateIrq(): void {
    this.irq.set((this.status & this.enable) !== 0);
  }
  protected override onUnrealize(): void {
    this.log.push('unrealize');
  }
}

describe('DeviceModel', () => {
  it('runs realize → reset → unrealize, lowering its lines at the end', () => {
    const d = new Dummy();
    d.realize();
    assert.equal(d.realized, true);
    d.enable = d.status = 1;
    d.updateIrq();
    assert.equal(d.irq.level, true);
    assert.throws(() => d.realize(), /already realized/);
    d.unrealize();
    d.unrealize();
    assert.equal(d.irq.level, false);
    assert.deepEqual(d.log, ['realize', 'reset', 'unrealize']);
  });

  it('stays unrealized when config validation throws', () => {
    const d = new Dummy(true);
    assert.throws(() => d.realize(), /bad config/);
    assert.equal(d.realized, false);
    assert.deepEqual(d.log, []);
  });
});
