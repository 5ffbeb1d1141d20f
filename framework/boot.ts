/**
 * @module boot
 * The composition root: builds the DI container (one tsyringe root; a child per binding),
 * reads the platform and the driver index, starts the device manager and probes everything.
 * Used by `hmdrv run`, the tests and the benchmarks.
 */
import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import { join } from 'node:path';
import type { IKernel } from './kernel-api.js';
import { IKernel as IKernelToken } from './kernel-api.js';
import type { IsolationClass, PlatformSpec } from './platform/types.js';
import type { LogLevel } from './driver-port.js';
import { IContainerHostFactory, type ContainerHostFactory } from './container-host.js';
import { IVfs } from './vfs/api.js';
import { Vfs } from './vfs/vfs.js';
import { loadPlatformWithDrivers } from './platform/platform-file.js';
import { formatDiagnostic } from './platform/diagnostic.js';
import { HmError } from './errors/hm-error.js';
import { IKernelLog, KernelLog, formatLogEntry } from './kernel/klog.js';
import { IIrqController, IrqController } from './irq/irq-controller.js';
import { DeviceManager } from './device-manager/device-manager.js';
import { Kernel } from './kernel/kernel.js';
import { NetStack } from './net/stack.js';
import { registerProcfs } from './kernel/procfs.js';
import { packageRoot } from '../devices/native/index.js';
import { KernelPage } from '../devices/ipc/kernel-page.js';
import { Machine } from '../devices/machine/machine.js';
import { modelNames } from '../devices/machine/models.js';

export interface BootOptions {
  /** Platform file path; the built-in default platform when omitted. */
  platform?: string;
  /** Override every binding's isolation class (`hmdrv run --ic`). */
  isolation?: IsolationClass;
  /** Watchdog for hung containers, ms (default: platform option, else 2000). */
  watchdogMs?: number;
  /** Where kernel log lines go (default: nowhere; `hmdrv run` prints them). */
  onLog?: (line: string) => void;
  /** Extra driver directories (besides the built-in samples and the platform's driverPaths). */
  driverPaths?: string[];
  /** Builds the container host factory over the kernel page (containers/ provides the real one). */
  hosts: (page: KernelPage) => ContainerHostFactory;
  /** Physical memory for the machine, bytes (default 64 MiB). */
  memoryBytes?: number;
}

export interface BootedKernel extends IKernel {
  /** ms from boot start to all devices probed. */
  readonly readyMs: number;
  readonly log: KernelLog;
  readonly irq: IrqController;
}

/** Built-in samples (compiled) and the default platform file shipped with the package. */
export function builtinDriverDir(): string { return join(packageRoot(), 'dist', 'samples'); }
export function defaultPlatformPath(): string { return join(packageRoot(), 'samples', 'platforms', 'default.platform.json'); }

/** Starts the machine thread when any device names a hardware model; IRQ levels go to `irq`. */
async function startMachine(platform: PlatformSpec, page: KernelPage, log: KernelLog, irq: IrqController,
  memoryBytes?: number): Promise<Machine | undefined> {
  const unknown = platform.devices.filter((d) => d.model && !modelNames().includes(d.model));
  if (unknown.length) {
    throw new HmError('EPLATFORM', `${platform.source}: ${unknown.map((d) => `${d.where}.model: unknown hardware model "${d.model}"`).join('; ')}`,
      { suggestions: [`known models: ${modelNames().join(', ')}`] });
  }
  const devices = platform.devices.filter((d) => d.model).map((d) => ({
    name: d.name, model: d.model!, windows: d.reg.map((w) => ({ base: w.base, size: w.size })), irqs: d.interrupts, params: d.properties,
  }));
  if (devices.length === 0) return undefined;
  const machine = await Machine.start({ clock: 'real', devices }, { kernelPage: { buffer: page.buffer, maxSpinners: page.maxSpinners }, memoryBytes });
  machine.onLog((level, text) => log.printk(Math.min(7, Math.max(0, level)) as LogLevel, 'machine', text));
  machine.onIrq((line, level) => irq.setLevel(line, level));
  log.info('kernel', `machine: ${devices.map((d) => `${d.name} (${d.model})`).join(', ')}`);
  return machine;
}

export async function bootKernel(opts: BootOptions): Promise<BootedKernel> {
  const t0 = performance.now();
  const di = rootContainer.createChildContainer();
  const log = new KernelLog();
  if (opts.onLog) log.subscribe((e) => opts.onLog!(formatLogEntry(e)));
  const path = opts.platform ?? defaultPlatformPath();
  // One pass: parse, scan manifests (the platform's driverPaths win over the built-in samples;
  // no driver code is loaded), and check the whole file, unknown drivers included.
  const { platform, drivers: found } = await loadPlatformWithDrivers(path, { driverDirs: [...(opts.driverPaths ?? []), builtinDriverDir()] });
  // A platform that lists its drivers loads those (and any a device names), like the modules a
  // Linux image inserts; one that lists none may bind any driver found.
  const index = platform.drivers.length === 0 ? found
    : found.only([...platform.drivers.map((d) => d.name), ...platform.devices.flatMap((d) => (d.driver ? [d.driver] : []))]);
  for (const p of index.problems) log.warn('kernel', `driver index: ${formatDiagnostic(p)}`);
  if (platform.devices.length === 0) throw new HmError('EPLATFORM', `platform ${platform.name} has no devices`);
  const vfs = new Vfs();
  const irq = new IrqController();
  const page = new KernelPage();
  const hosts = opts.hosts(page);
  const machine = await startMachine(platform, page, log, irq, opts.memoryBytes);
  di.register(IVfs, { useValue: vfs });
  di.register(IKernelLog, { useValue: log });
  di.register(IIrqController, { useValue: irq });
  di.register(IContainerHostFactory, { useValue: hosts });
  log.info('kernel', `booting platform ${platform.name} (${platform.devices.length} devices, ${index.all().length} drivers)`);
  const net = new NetStack({ vfs, log });
  const dm = new DeviceManager({
    platform, index, vfs, hosts, log, irq, di, machine, net,
    isolation: opts.isolation, watchdogMs: opts.watchdogMs ?? platform.options.watchdogMs ?? 2_000,
  });
  registerProcfs(vfs, dm, irq, log, t0);
  await dm.probeAll();
  await net.settled(); // interfaces registered during probe are up (and addressed) when boot returns
  const kernel = new Kernel(vfs, platform, dm, irq, log, performance.now() - t0, machine, net);
  di.register(IKernelToken, { useValue: kernel });
  log.info('kernel', `ready in ${kernel.readyMs.toFixed(1)} ms`);
  return kernel;
}
