/**
 * @module machine/models
 * The model registry: platform files name a device's model ("tick", later "ufs", "e1000",
 * "bochs-display"); the machine thread builds it with its DMA space, scheduler and IRQ lines.
 */
import type { DeviceModel } from '../core/device-model.js';
import type { DmaSpace } from '../core/dma.js';
import type { IrqLine } from '../core/irq.js';
import type { PhysicalMemory } from '../core/phys-mem.js';
import type { Scheduler } from '../core/scheduler.js';
import { TickDevice } from '../demo/tick.model.js';
import { BochsDisplay, type BochsParams } from '../display/bochs.model.js';

export interface ModelContext {
  name: string;
  memory: PhysicalMemory;
  dma: DmaSpace;
  scheduler: Scheduler;
  irqs: IrqLine[];
  params: Record<string, unknown>;
  log: (message: string) => void;
}

export type ModelFactory = (ctx: ModelContext) => DeviceModel;

const registry = new Map<string, ModelFactory>([
  ['tick', (c) => new TickDevice({ dma: c.dma, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log })],
  ['bochs-display', (c) => new BochsDisplay({ name: c.name, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log, params: c.params as Partial<BochsParams> })],
]);

export function registerModel(name: string, factory: ModelFactory): void {
  registry.set(name, factory);
}

export function modelFactory(name: string): ModelFactory | undefined {
  return registry.get(name);
}

export function modelNames(): string[] {
  return [...registry.keys()].sort();
}
