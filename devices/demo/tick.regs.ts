/**
 * @module demo/tick.regs
 * Register map of "tick", a small demonstration device used to test the machine end to end:
 * a periodic timer with a level interrupt, a read-only counter and a DMA engine that writes the
 * counter into memory. Pure data: the model, drivers and tests share it.
 */
import { defineRegisterMap } from '../core/regmap.js';

export const TICK_REGS = defineRegisterMap('tick', {
  ID: { offset: 0x00, access: 'ro', reset: 0x7469636b /* "tick" */ },
  CTRL: { offset: 0x04, fields: { EN: { bit: 0, access: 'rw' }, RESET_COUNT: { bit: 1, access: 'w1s' } } },
  PERIOD_US: { offset: 0x08, access: 'rw', reset: 1000 },
  COUNT: { offset: 0x0c, access: 'ro' },
  IS: { offset: 0x10, fields: { TICK: { bit: 0, access: 'w1c' }, DMA_DONE: { bit: 1, access: 'w1c' }, DMA_ERR: { bit: 2, access: 'w1c' } } },
  IE: { offset: 0x14, fields: { TICK: { bit: 0, access: 'rw' }, DMA_DONE: { bit: 1, access: 'rw' }, DMA_ERR: { bit: 2, access: 'rw' } } },
  DMA_ADDR: { offset: 0x18, access: 'rw' },
  DMA_GO: { offset: 0x1c, fields: { GO: { bit: 0, access: 'w1s' } } },
  SCRATCH: { offset: 0x20, access: 'rw' },
}, { size: 0x100 });
