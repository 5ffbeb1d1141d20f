/**
 * @module kernel
 * The kernel facade: VFS, device manager, IRQ controller and log, behind IKernel.
 */
import type { IKernel, DeviceInfo, DriverInfo, ContainerInfo, KernelLogRecord } from '../kernel-api.js';
import type { IVfs } from '../vfs/api.js';
import type { IoctlDecl, PlatformSpec } from '../platform/types.js';
import type { DeviceManager } from '../device-manager/device-manager.js';
import type { IrqController } from '../irq/irq-controller.js';
import type { KernelLog } from './klog.js';
import type { Machine } from '../../devices/machine/machine.js';
import { NbdExports, type ExportNbdParams, type ExportNbdResult } from '../nbd/exports.js';
import type { NetStack } from '../net/stack.js';
import { SystemError } from '../errors/hm-error.js';
import type { RgbaFrame } from '../../devices/display/bochs.scanout.js';

export class Kernel implements IKernel {
  private down = false;
  private readonly nbd: NbdExports;
  constructor(readonly vfs: IVfs, readonly platform: PlatformSpec, readonly dm: DeviceManager,
    readonly irq: IrqController, readonly log: KernelLog, readonly readyMs: number,
    readonly machine?: Machine, readonly net?: NetStack) {
    this.nbd = new NbdExports(vfs, (line) => log.info('nbd', line));
  }

  exportNbd(params: ExportNbdParams): Promise<ExportNbdResult> { return this.nbd.export(params); }
  nbdExports(): ExportNbdResult[] { return this.nbd.list(); }

  devices(): DeviceInfo[] { return this.dm.deviceInfo(); }
  drivers(): DriverInfo[] { return this.dm.driverInfo(); }
  containers(): ContainerInfo[] { return this.dm.containerInfo(); }
  bind(device: string, driver?: string): Promise<void> { return this.dm.bind(device, driver); }
  unbind(device: string): Promise<void> { return this.dm.unbind(device); }

  dmesg(sinceSeq = 0): KernelLogRecord[] { return this.log.entries(sinceSeq); }

  waitLog(sinceSeq: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.log.entries(sinceSeq).length) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(t); off(); signal?.removeEventListener('abort', done); resolve(); };
      const t = setTimeout(done, timeoutMs);
      const off = this.log.subscribe(done);
      signal?.addEventListener('abort', done);
    });
  }

  async ioctlsFor(path: string): Promise<IoctlDecl[]> {
    const real = await this.vfs.realpath(path).catch(() => path);
    return this.dm.driverForNode(real)?.ioctls ?? [];
  }

  async scanout(path: string): Promise<RgbaFrame | string> {
    const real = await this.vfs.realpath(path).catch(() => path);
    const device = this.dm.deviceForNode(real);
    if (!device || !this.machine?.hasModel(device)) throw new SystemError('ENODEV', 'scanout', path, 'not a node of a device with a hardware model');
    try {
      return await this.machine.scanout(device);
    } catch (e) {
      throw SystemError.fromErrno((e as { errno?: number }).errno ?? -5, 'scanout', path, `${device} is not a display`);
    }
  }

  async setCable(device: string, plugged: boolean): Promise<void> {
    if (!this.machine?.hasModel(device)) throw new SystemError('ENODEV', 'cable', device, 'not a device with a hardware model');
    const r = await this.machine.setCable(device, plugged);
    if (r < 0) throw SystemError.fromErrno(r, 'cable', device, `${device} has no cable (not a NIC on a wire)`);
  }

  async shutdown(): Promise<void> {
    if (this.down) return;
    this.down = true;
    this.log.info('kernel', 'shutting down');
    await this.nbd.closeAll(); // let NBD clients' in-flight requests finish while drivers are alive
    await this.dm.shutdown();
    await this.machine?.close();
    for (const fd of this.vfs.openFds()) await this.vfs.close(fd).catch(() => undefined);
  }
}
