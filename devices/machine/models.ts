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
import { UfsHostController, type UfsParams } from '../ufs/ufs.model.js';

/** "256M", "1G", 4096 … -> bytes. */
function bytes(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return fallback;
  const m = /^(\d+)\s*([KMGT]?)i?B?$/i.exec(v.trim());
  if (!m) return fallback;
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
}

/** Platform-file properties of a UFS device -> model params (luns, timing, slots). */
function ufsParams(p: Record<string, unknown>): UfsParams {
  const luns = Array.isArray(p.luns) ? p.luns as Record<string, unknown>[] : [{}];
  return {
    nutrs: typeof p.nutrs === 'number' ? p.nutrs : undefined,
    timing: (p.timing as UfsParams['timing']) ?? 'zero',
    luns: luns.map((l) => ({
      sizeBytes: bytes(l.size ?? l.sizeBytes, 256 << 20),
      blockSize: typeof l['block-size'] === 'number' ? l['block-size'] as number : 4096,
      backingFile: typeof l['backing-file'] === 'string' ? l['backing-file'] as string : undefined,
    })),
  };
}

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
  ['ufs', (c) => new UfsHostController({ name: c.name, memory: c.dma, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log, params: ufsParams(c.params) })],
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
