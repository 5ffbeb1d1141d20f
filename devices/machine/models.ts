/**
 * @module machine/models
 * The model registry: platform files name a device's model ("tick", later "ufs", "e1000",
 * "bochs-display"); the machine thread builds it with its DMA space, scheduler and IRQ lines.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeviceModel } from '../core/device-model.js';
import type { DmaSpace } from '../core/dma.js';
import type { IrqLine } from '../core/irq.js';
import type { PhysicalMemory } from '../core/phys-mem.js';
import type { Scheduler } from '../core/scheduler.js';
import { TickDevice } from '../demo/tick.model.js';
import { BochsDisplay, type BochsParams } from '../display/bochs.model.js';
import { BOCHS_VRAM } from '../display/bochs.regs.js';
import { UfsHostController, type UfsParams } from '../ufs/ufs.model.js';
import { E1000, type E1000Params } from '../nic/e1000.model.js';

/** "256M", "1G", 4096 … -> bytes. */
function bytes(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return fallback;
  const m = /^(\d+)\s*([KMGT]?)i?B?$/i.exec(v.trim());
  if (!m) return fallback;
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
}

/** A locally administered MAC derived from the device name unless the platform gives one. */
function e1000Params(c: ModelContext): E1000Params {
  const p = c.params;
  let h = 0;
  for (const ch of c.name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const mac = typeof p.mac === 'string' ? p.mac
    : `52:54:00:${[(h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
  return { mac, rate: (p.rate as E1000Params['rate']) ?? 'unlimited' };
}

/**
 * Where relative backing files live: $HMDRV_STATE_DIR, else $XDG_STATE_HOME/hmdrv, else
 * ~/.local/state/hmdrv (created on first use). A platform file can then say
 * `"backing-file": "ufs0-lu0.img"` and keep its disk across runs without naming a machine path.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HMDRV_STATE_DIR || join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'hmdrv');
}

function statePath(p: string): string {
  if (isAbsolute(p)) return p;
  const dir = stateDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, p);
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
      backingFile: typeof l['backing-file'] === 'string' ? statePath(l['backing-file'] as string) : undefined,
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
  /**
   * Memory of the device's own that the CPU maps directly (a BAR backed by RAM, such as VRAM),
   * shared with the kernel and the driver containers of every class (a memfd). The i-th buffer
   * answers at the `reg` window that follows the model's MMIO regions (`regions.length + i`).
   * Absent outside the machine thread.
   */
  ram?: (size: number) => SharedArrayBuffer;
}

/** Bochs VRAM (BAR0) as device RAM; a size realize() would refuse is left for it to report. */
function bochsVram(c: ModelContext): SharedArrayBuffer | undefined {
  const n = (c.params as Partial<BochsParams>).vramBytes ?? BOCHS_VRAM.DEFAULT_BYTES;
  const ok = Number.isSafeInteger(n) && n >= BOCHS_VRAM.MIN_BYTES && n <= BOCHS_VRAM.MAX_BYTES && (n & (n - 1)) === 0;
  return ok && c.ram ? c.ram(n) : undefined;
}

export type ModelFactory = (ctx: ModelContext) => DeviceModel;

const registry = new Map<string, ModelFactory>([
  ['tick', (c) => new TickDevice({ dma: c.dma, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log })],
  ['ufs', (c) => new UfsHostController({ name: c.name, memory: c.dma, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log, params: ufsParams(c.params) })],
  ['e1000', (c) => new E1000({ name: c.name, memory: c.dma, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log, params: e1000Params(c) })],
  ['bochs-display', (c) => new BochsDisplay({ name: c.name, scheduler: c.scheduler, irq: c.irqs[0]!, log: c.log, params: c.params as Partial<BochsParams>, vram: bochsVram(c) })],
]);

/** A model that lives in a module of its own: the machine thread imports it by URL. */
export interface ModelModule {
  name: string;
  /** A file: URL (or an absolute path) of an ES module. */
  module: string;
  /** The export that is the ModelFactory. Default: "default". */
  export: string;
}

const external = new Map<string, ModelModule>();

/**
 * Adds a model that platform files can name. Models run in the machine thread, which cannot be
 * handed a function: give the module that exports the factory, and the machine imports it there.
 * Register before booting the platform that uses it.
 */
export function registerModel(name: string, module: string | URL, exportName = 'default'): void {
  if (registry.has(name)) throw new Error(`model "${name}" is built in`);
  const href = module instanceof URL ? module.href : module.startsWith('file:') ? module : pathToFileURL(module).href;
  external.set(name, { name, module: href, export: exportName });
}

/** The external models registered so far (sent to the machine thread at start). */
export function modelModules(): ModelModule[] {
  return [...external.values()];
}

/** In the machine thread: imports external model modules and adds their factories. */
export async function loadModelModules(mods: readonly ModelModule[], log: (m: string) => void): Promise<void> {
  for (const m of mods) {
    try {
      const ns = await import(m.module) as Record<string, unknown>;
      const f = ns[m.export];
      if (typeof f !== 'function') { log(`model ${m.name}: ${m.module} has no function export "${m.export}"`); continue; }
      registry.set(m.name, f as ModelFactory);
    } catch (e) {
      log(`model ${m.name}: cannot import ${m.module}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

export function modelFactory(name: string): ModelFactory | undefined {
  return registry.get(name);
}

export function modelNames(): string[] {
  return [...new Set([...registry.keys(), ...external.keys()])].sort();
}
