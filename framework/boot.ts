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
import type { IsolationClass } from './platform/types.js';
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
import { registerProcfs } from './kernel/procfs.js';
import { packageRoot } from '../devices/native/index.js';

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
  /** The container host factory (containers/ registers the real one; tests may substitute). */
  hosts: ContainerHostFactory;
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

export async function bootKernel(opts: BootOptions): Promise<BootedKernel> {
  const t0 = performance.now();
  const di = rootContainer.createChildContainer();
  const log = new KernelLog();
  if (opts.onLog) log.subscribe((e) => opts.onLog!(formatLogEntry(e)));
  const path = opts.platform ?? defaultPlatformPath();
  // One pass: parse, scan manifests (the platform's driverPaths win over the built-in samples;
  // no driver code is loaded), and check the whole file, unknown drivers included.
  const { platform, drivers: index } = await loadPlatformWithDrivers(path, { driverDirs: [...(opts.driverPaths ?? []), builtinDriverDir()] });
  for (const p of index.problems) log.warn('kernel', `driver index: ${formatDiagnostic(p)}`);
  if (platform.devices.length === 0) throw new HmError('EPLATFORM', `platform ${platform.name} has no devices`);
  const vfs = new Vfs();
  const irq = new IrqController();
  di.register(IVfs, { useValue: vfs });
  di.register(IKernelLog, { useValue: log });
  di.register(IIrqController, { useValue: irq });
  di.register(IContainerHostFactory, { useValue: opts.hosts });
  log.info('kernel', `booting platform ${platform.name} (${platform.devices.length} devices, ${index.all().length} drivers)`);
  const dm = new DeviceManager({
    platform, index, vfs, hosts: opts.hosts, log, irq, di,
    isolation: opts.isolation, watchdogMs: opts.watchdogMs ?? platform.options.watchdogMs ?? 2_000,
  });
  registerProcfs(vfs, dm, irq, log, t0);
  await dm.probeAll();
  const kernel = new Kernel(vfs, platform, dm, irq, log, performance.now() - t0);
  di.register(IKernelToken, { useValue: kernel });
  log.info('kernel', `ready in ${kernel.readyMs.toFixed(1)} ms`);
  return kernel;
}
