import { it } from 'node:test';
import assert from 'node:assert/strict';
import { IrqController } from './irq-controller.js';

const flush = () => new Promise((r) => setImmediate(r));

it('a masked line that stays high is not delivered; unmasking delivers it once', async () => {
  const irq = new IrqController();
  const got: number[] = [];
  irq.request(9, { container: 'c', device: 'd', deliver: (n) => { got.push(n); irq.eoi(n); } });
  irq.mask(9);
  irq.setLevel(9, true);
  await flush(); await flush();
  assert.deepEqual(got, []);
  assert.match(irq.procInterrupts(new Map()), /9:\s+0 .* \(masked\)/);
  irq.unmask(9);
  assert.deepEqual(got, [9]);
  irq.setLevel(9, false);
  await flush(); await flush();
  assert.deepEqual(got, [9], 'a line lowered by the handler is not delivered again');
});

it('a level still high after EOI is delivered again, one turn later', async () => {
  const irq = new IrqController();
  let n = 0;
  irq.request(3, { container: 'c', device: 'd', deliver: (l) => { n++; if (n === 2) irq.setLevel(3, false); irq.eoi(l); } });
  irq.setLevel(3, true);
  assert.equal(n, 1);
  await flush(); await flush();
  assert.equal(n, 2);
  await flush(); await flush();
  assert.equal(n, 2);
  assert.deepEqual(irq.counts().get(3), 2);
});
