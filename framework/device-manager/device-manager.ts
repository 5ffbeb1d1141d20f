/**
 * @module device-manager
 * Binds drivers to devices: match (driver index, without loading driver code), start the
 * driver's container in its isolation class, probe, retry deferred probes, unbind and rebind,
 * and serve the container's upcalls (device nodes, sysfs attributes, shared regions, IRQs).
 * Every resource a binding acquires goes into its devm scope and is released in reverse order
 * on unbind or failed probe.
 */
import type { DependencyContainer } from 'tsyringe';
import type { ContainerExit, ContainerHostFactory, KernelServices } from '../container-host.js';
import type { DeviceInfo, DriverInfo, ContainerInfo } from '../kernel-api.js';
import type { NodeSpec } from '../driver-port.js';
import type { DriverIndex } from '../platform/driver-index.js';
import type { DeviceSpec, DriverManifest, IsolationClass, PlatformSpec } from '../platform/types.js';
import type { IVfs } from '../vfs/api.js';
import { DisposableStore, toDisposable } from '../lifecycle/disposable.js';
import { HmError, SystemError } from '../errors/hm-error.js';
import { errnoName, Errno } from '../errors/errno.js';
import type { KernelLog } from '../kernel/klog.js';
import type { IrqController } from '../irq/irq-controller.js';
import { makeNodeOps } from './node-proxy.js';
import type { BindingRecord, ContainerRecord, DeviceRecord, NodeRecord } from './records.js';
import { addClassDevice, addDeviceDir, addDriverDir, createSkeleton, devicePath, linkBinding } from './sysfs-layout.js';
import { Supervisor } from './supervisor.js';
import type { Machine } from '../../devices/machine/machine.js';
import type { NetStack } from '../net/stack.js';
import { closeSync } from 'node:fs';
import { native } from '../../devices/native/index.js';

export interface DeviceManagerOptions {
  platform: PlatformSpec;
  index: DriverIndex;
  vfs: IVfs;
  hosts: ContainerHostFactory;
  log: KernelLog;
  irq: IrqController;
  di: DependencyContainer;
  /** `hmdrv run --ic`: overrides every other choice of class. */
  isolation?: IsolationClass;
  /** The machine thread running the platform's device models, if any. */
  machine?: Machine;
  /** The network stack that takes the 'net' nodes drivers register (register_netdev). */
  net?: NetStack;
  watchdogMs: number;
}

/** Dynamic character majors are handed out downwards from here (Linux: 254 … 234). */
const DYNAMIC_MAJOR_TOP = 254;
const MISC_MAJOR = 10;

export class DeviceManager {
  readonly devices = new Map<string, DeviceRecord>();
  readonly containers = new Map<string, ContainerRecord>();
  private nextBinding = 1;
  /** Dynamically allocated numbers in use: freed with their node, reused lowest-first as Linux does. */
  private readonly usedMajors = new Set<number>();
  private readonly usedMiscMinors = new Set<number>();
  private readonly deferred = new Set<string>();
  readonly supervisor: Supervisor;
  private readonly services: KernelServices;
  private shuttingDown = false;

  /** The machine running the device models, if the platform has any. */
  get machine(): Machine | undefined { return this.o.machine; }

  constructor(private readonly o: DeviceManagerOptions) {
    this.services = this.makeServices();
    this.supervisor = new Supervisor(this, o.log, o.watchdogMs);
    createSkeleton(o.vfs);
    for (const spec of o.platform.devices) {
      this.devices.set(spec.name, { spec, state: 'unbound', carryover: new Map() });
      addDeviceDir(o.vfs, spec);
    }
    for (const drv of o.index.all()) {
      addDriverDir(o.vfs, drv, (dev) => this.bindFromSysfs(dev, drv.name), (dev) => this.unbindFromSysfs(dev, drv.name));
    }
  }

  /** Binds every device that has a driver; deferred probes are retried until nothing changes. */
  async probeAll(): Promise<void> {
    for (const dev of this.devices.values()) {
      if (dev.state === 'unbound') await this.bind(dev.spec.name).catch(() => undefined);
    }
    await this.retryDeferred();
  }

  // ---- bind / unbind ------------------------------------------------------------------------

  async bind(name: string, driverName?: string): Promise<void> {
    const dev = this.devices.get(name);
    if (!dev) throw new HmError('ENODEV', `no device named ${name}`, { suggestions: [`known devices: ${[...this.devices.keys()].join(', ')}`] });
    if (dev.binding) throw new HmError('EBUSY', `device ${name} is already bound to ${dev.driver?.name}`, { suggestions: [`unbind it first: hmdrv unbind ${name}`] });
    const forced = driverName ?? dev.spec.driver;
    const drv = forced ? this.o.index.get(forced) : this.o.index.match(dev.spec);
    if (!drv) {
      if (forced) throw new HmError('ENOENT', `no driver named ${forced}`, { suggestions: [`known drivers: ${this.o.index.names().join(', ')}`] });
      return; // no driver for it: stays unbound, like Linux
    }
    const status = await this.probe(dev, drv);
    if (status === 0) await this.retryDeferred();
    else if (status !== -Errno.EPROBE_DEFER) {
      throw new HmError('EPROBE', `probe of ${name} by ${drv.name} failed with -${errnoName(status) ?? status}`);
    }
  }

  async unbind(name: string): Promise<void> {
    const dev = this.devices.get(name);
    if (!dev) throw new HmError('ENODEV', `no device named ${name}`);
    const b = dev.binding;
    if (!b) { this.deferred.delete(name); dev.state = 'unbound'; return; }
    if (b.container.state === 'running') await b.container.host!.ops.remove(b.id);
    await this.releaseBinding(b, 'ENODEV');
    dev.state = 'unbound';
    dev.error = undefined;
    this.o.log.info('kernel', `${b.container.driver.name} ${name}: unbound`);
    if (b.container.bindings.size === 0 && !this.shuttingDown) await this.stopContainer(b.container);
  }

  /** One probe attempt. Returns the driver's status (0, -EPROBE_DEFER, -errno). */
  private async probe(dev: DeviceRecord, drv: DriverManifest): Promise<number> {
    const isolation = this.isolationFor(dev.spec, drv);
    dev.state = 'probing';
    dev.driver = drv;
    dev.isolation = isolation;
    let c: ContainerRecord;
    try {
      c = await this.containerFor(drv, isolation);
    } catch (e) {
      dev.state = 'failed';
      dev.error = e instanceof Error ? e.message : String(e);
      this.o.log.err('kernel', `${drv.name} ${dev.spec.name}: cannot start container: ${dev.error}`);
      return -Errno.EIO;
    }
    const b = this.newBinding(dev, c);
    await this.grantWindows(b);
    const { where: _where, ...spec } = dev.spec;
    const status = await c.host!.ops.probe(b.id, spec, c.params);
    if (status === 0) {
      for (const d of linkBinding(this.o.vfs, dev.spec.name, drv.name)) b.scope.add(d);
      dev.state = 'bound';
      dev.error = undefined;
      this.deferred.delete(dev.spec.name);
      await this.dropCarryover(dev);
      this.o.log.info('kernel', `${drv.name} ${dev.spec.name}: bound (${isolation}, container ${c.id})`);
      return 0;
    }
    await this.releaseBinding(b, 'ENODEV');
    if (status === -Errno.EPROBE_DEFER) {
      dev.state = 'deferred';
      dev.error = '-EPROBE_DEFER';
      this.deferred.add(dev.spec.name);
      this.o.log.info('kernel', `${drv.name} ${dev.spec.name}: probe deferred`);
    } else {
      dev.state = 'failed';
      dev.error = `probe failed with -${errnoName(status) ?? status}`;
      await this.dropCarryover(dev);
      this.o.log.err('kernel', `${drv.name} ${dev.spec.name}: ${dev.error}`);
    }
    return status;
  }

  /** Linux retries deferred probes whenever a probe succeeds; loop until a round binds nothing. */
  async retryDeferred(): Promise<void> {
    let progress = true;
    while (progress && this.deferred.size) {
      progress = false;
      for (const name of [...this.deferred]) {
        const dev = this.devices.get(name)!;
        if (dev.binding || !dev.driver) { this.deferred.delete(name); continue; }
        this.deferred.delete(name);
        if (await this.probe(dev, dev.driver) === 0) progress = true;
      }
    }
  }

  /** The driver may touch its device's MMIO windows (ioremap), for as long as it is bound. */
  private async grantWindows(b: BindingRecord): Promise<void> {
    const m = this.o.machine;
    const port = b.container.port;
    if (!m || !port || !m.hasModel(b.device.spec.name)) return;
    for (const w of b.device.spec.reg) {
      await m.grantWindow(port.id, w.base, w.size);
      b.scope.add(toDisposable(async () => { await m.revokeWindow(port.id, w.base); }));
    }
  }

  /** After a crash the hardware may be mid-operation: reset it before the driver re-probes. */
  async resetDevices(devices: DeviceRecord[]): Promise<void> {
    const m = this.o.machine;
    if (!m) return;
    for (const d of devices) if (m.hasModel(d.spec.name)) await m.resetDevice(d.spec.name);
  }

  private openPort(c: ContainerRecord): void {
    const m = this.o.machine;
    if (!m) return;
    c.port = m.openPort(c.isolation === 'ic2' ? 'process' : 'thread');
  }

  private closePort(c: ContainerRecord): void {
    const port = c.port;
    if (!port || !this.o.machine) return;
    c.port = undefined;
    void this.o.machine.closePort(port.id);
    if (port.memory.fd !== undefined) { try { closeSync(port.memory.fd); } catch { /* closed */ } }
  }

  private isolationFor(spec: DeviceSpec, drv: DriverManifest): IsolationClass {
    const ref = this.o.platform.drivers.find((d) => d.name === drv.name);
    return this.o.isolation ?? spec.isolation ?? ref?.isolation ?? this.o.platform.options.isolation ?? drv.isolation;
  }

  private newBinding(dev: DeviceRecord, c: ContainerRecord): BindingRecord {
    const scope = new DisposableStore(`binding ${c.driver.name}:${dev.spec.name}`);
    const di = this.o.di.createChildContainer();
    const b: BindingRecord = { id: this.nextBinding++, device: dev, container: c, scope, di, nodes: new Map(), dma: new Map() };
    scope.add(toDisposable(() => di.dispose()));
    c.bindings.set(b.id, b);
    dev.binding = b;
    return b;
  }

  /** devm release: everything the binding acquired, newest first. */
  async releaseBinding(b: BindingRecord, revoke: 'EIO' | 'ENODEV'): Promise<void> {
    for (const n of b.nodes.values()) this.o.vfs.revokeOpenFiles(n.ops, revoke);
    b.container.bindings.delete(b.id);
    if (b.device.binding === b) b.device.binding = undefined;
    try { await b.scope.dispose(); } catch (e) {
      this.o.log.err('kernel', `releasing binding ${b.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async dropCarryover(dev: DeviceRecord): Promise<void> {
    for (const n of dev.carryover.values()) await n.remove();
    dev.carryover.clear();
  }

  private async bindFromSysfs(device: string, driver: string): Promise<void> {
    const dev = this.devices.get(device);
    if (!dev || dev.binding) throw new SystemError('ENODEV', 'write', `/sys/bus/platform/drivers/${driver}/bind`);
    await this.bind(device, driver).catch((e) => {
      throw new SystemError('ENODEV', 'write', `/sys/bus/platform/drivers/${driver}/bind`, e instanceof Error ? e.message : undefined);
    });
  }

  private async unbindFromSysfs(device: string, driver: string): Promise<void> {
    const dev = this.devices.get(device);
    if (!dev?.binding || dev.driver?.name !== driver) throw new SystemError('ENODEV', 'write', `/sys/bus/platform/drivers/${driver}/unbind`);
    await this.unbind(device);
  }

  // ---- containers ---------------------------------------------------------------------------

  private async containerFor(drv: DriverManifest, isolation: IsolationClass): Promise<ContainerRecord> {
    const id = `${drv.name}.${isolation}`;
    let c = this.containers.get(id);
    if (!c) {
      let markReady!: () => void;
      const ready = new Promise<void>((r) => { markReady = r; });
      c = {
        id, driver: drv, isolation, params: this.paramsFor(drv), host: null, state: 'stopped', restarts: 0,
        consecutiveCrashes: 0, startedAt: 0, bindings: new Map(), nodes: new Map(), attrs: new Map(),
        regions: new Map(), irqs: new Set(), ready, markReady,
      };
      this.containers.set(id, c);
    }
    if (c.state === 'running') return c;
    if (c.state === 'starting' || c.state === 'restarting') { await c.ready; return c; }
    await this.startContainer(c);
    return c;
  }

  private paramsFor(drv: DriverManifest): Record<string, unknown> {
    const params: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(drv.params ?? {})) params[k] = p.default;
    Object.assign(params, this.o.platform.drivers.find((d) => d.name === drv.name)?.params ?? {});
    return params;
  }

  /**
   * Starts (or restarts) a container's host and runs module_init. A restart marks the container
   * ready only after its devices are re-probed (see Supervisor), so waiting opens see the nodes.
   */
  async startContainer(c: ContainerRecord, markReady = true): Promise<void> {
    c.state = c.restarts > 0 ? 'restarting' : 'starting';
    this.closePort(c);
    this.openPort(c);
    const host = this.o.hosts(c.isolation, {
      id: c.id, driverName: c.driver.name, entryPath: c.driver.entryPath, params: c.params,
      services: this.services, onExit: (exit) => this.onContainerExit(c, host, exit), mmio: c.port?.memory,
    });
    c.host = host;
    try {
      await host.start();
    } catch (e) {
      c.state = 'crashed';
      c.host = null;
      c.lastError = e instanceof Error ? e.message : String(e);
      throw e;
    }
    c.state = 'running';
    c.startedAt = performance.now();
    if (markReady) c.markReady();
    this.o.log.info('kernel', `container ${c.id} started${host.pid ? ` (pid ${host.pid})` : host.threadId ? ` (thread ${host.threadId})` : ''}`);
  }

  private async stopContainer(c: ContainerRecord): Promise<void> {
    const host = c.host;
    c.state = 'stopped';
    c.host = null;
    this.resetReady(c);
    await host?.stop();
    this.closePort(c);
    this.containers.delete(c.id);
  }

  resetReady(c: ContainerRecord): void {
    c.ready = new Promise<void>((r) => { c.markReady = r; });
  }

  private onContainerExit(c: ContainerRecord, host: NonNullable<ContainerRecord['host']>, exit: ContainerExit): void {
    if (c.host !== host) return; // an older incarnation
    if (exit.reason === 'stopped' || this.shuttingDown) return;
    void this.supervisor.crashed(c, exit);
  }

  /** Re-probes the devices a crashed container served, keeping their /dev nodes in place. */
  async reprobe(c: ContainerRecord, devices: DeviceRecord[]): Promise<void> {
    for (const dev of devices) {
      if (dev.binding) continue;
      await this.probe(dev, c.driver);
    }
  }

  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.supervisor.dispose();
    for (const dev of this.devices.values()) {
      if (dev.binding) await this.unbind(dev.spec.name).catch(() => undefined);
    }
    for (const c of [...this.containers.values()]) await this.stopContainer(c).catch(() => undefined);
  }

  // ---- upcalls (KernelServices) -------------------------------------------------------------

  private bindingOf(containerId: string, binding: number): BindingRecord | undefined {
    return this.containers.get(containerId)?.bindings.get(binding);
  }

  private makeServices(): KernelServices {
    const vfs = this.o.vfs;
    const log = this.o.log;
    return {
      log: (cid, level, binding, message) => {
        const b = binding ? this.bindingOf(cid, binding) : undefined;
        log.printk(level, b ? `${b.container.driver.name} ${b.device.spec.name}` : cid, message);
      },
      registerNode: async (cid, binding, node, spec) => {
        const b = this.bindingOf(cid, binding);
        if (!b) return { status: -Errno.ENODEV, major: 0, minor: 0 };
        return this.registerNode(b, node, spec);
      },
      unregisterNode: async (cid, node) => {
        const c = this.containers.get(cid);
        const n = c?.nodes.get(node);
        if (!n) return -Errno.ENOENT;
        vfs.revokeOpenFiles(n.ops, 'ENODEV');
        await n.remove();
        return 0;
      },
      pollNotify: (cid, node) => {
        const n = this.containers.get(cid)?.nodes.get(node);
        if (n?.kind === 'net') this.o.net?.notify(n.path.slice(n.path.lastIndexOf('/') + 1));
        else if (n) vfs.notifyPoll(n.path);
      },
      addAttribute: async (cid, binding, attr, spec) => {
        const b = this.bindingOf(cid, binding);
        if (!b) return -Errno.ENODEV;
        if (!/^[A-Za-z0-9_.:-]+$/.test(spec.name)) return -Errno.EINVAL;
        const dir = spec.dir ?? '';
        if (dir !== '' && !/^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/.test(dir)) return -Errno.EINVAL;
        if (dir.split('/').some((s) => s === '.' || s === '..')) return -Errno.EINVAL;
        const c = b.container;
        const base = devicePath(b.device.spec.name);
        const path = dir ? `${base}/${dir}/${spec.name}` : `${base}/${spec.name}`;
        try {
          // Subdirectories created for the attribute go with the binding (a class device's own
          // directory is removed with its node, taking these along).
          if (dir) {
            let prefix = base;
            for (const s of dir.split('/')) {
              prefix += `/${s}`;
              if (!vfs.exists(prefix)) { const d = vfs.mkdir(prefix); b.scope.add(d); }
            }
          }
          const reg = vfs.addAttribute(path, {
            show: async () => {
              const r = await c.host!.ops.attrShow(attr);
              if (r.status < 0) throw SystemError.fromErrno(r.status, 'read', path);
              return r.text;
            },
            store: async (v) => {
              const s = await c.host!.ops.attrStore(attr, v);
              if (s < 0) throw SystemError.fromErrno(s, 'write', path);
            },
          }, { mode: spec.mode & 0o777 });
          const remove = toDisposable(() => { c.attrs.delete(attr); return reg.dispose(); });
          c.attrs.set(attr, { binding: b, path, remove: async () => { b.scope.delete(remove); await remove.dispose(); } });
          b.scope.add(remove);
          return 0;
        } catch (e) {
          return e instanceof SystemError ? e.errno : -Errno.EINVAL;
        }
      },
      removeAttribute: async (cid, attr) => {
        const c = this.containers.get(cid);
        const a = c?.attrs.get(attr);
        if (!a) return -Errno.ENOENT;
        await a.remove();
        return 0;
      },
      registerRegion: (cid, region, buffer) => {
        const c = this.containers.get(cid);
        if (!c) return -Errno.ENODEV;
        c.regions.set(region, buffer);
        return 0;
      },
      freeRegion: (cid, region) => (this.containers.get(cid)?.regions.delete(region) ? 0 : -Errno.EINVAL),
      mapDeviceMemory: (cid, binding, region, addr, size) => {
        const fail = (status: number) => ({ status, buffer: null, fd: -1, offset: 0 });
        const b = this.bindingOf(cid, binding);
        const m = this.o.machine;
        if (!b || !m) return fail(-Errno.ENODEV);
        // Only memory of the binding's own device, inside one of its reg windows, page-aligned.
        const inReg = b.device.spec.reg.some((w) => addr >= w.base && addr + size <= w.base + w.size);
        const ram = inReg ? m.deviceRam(b.device.spec.name, addr, size) : null;
        if (!ram || ram.offset % 4096 !== 0) return fail(-Errno.EINVAL);
        let buffer: SharedArrayBuffer;
        try { buffer = native().mapFd(ram.window.fd, size, ram.offset); } catch { return fail(-Errno.ENOMEM); }
        const c = b.container;
        c.regions.set(region, buffer);
        b.scope.add(toDisposable(() => { c.regions.delete(region); }));
        return { status: 0, buffer, fd: ram.window.fd, offset: ram.offset };
      },
      requestIrq: (cid, binding, line) => {
        const b = this.bindingOf(cid, binding);
        if (!b) return -Errno.ENODEV;
        if (!b.device.spec.interrupts.includes(line)) return -Errno.EINVAL;
        const c = b.container;
        const r = this.o.irq.request(line, { container: cid, device: b.device.spec.name, deliver: (l) => c.host?.ops.irq(l) });
        if (r === 0) { c.irqs.add(line); b.scope.add(toDisposable(() => { c.irqs.delete(line); this.o.irq.free(line, cid); })); }
        return r;
      },
      freeIrq: (cid, line) => {
        this.containers.get(cid)?.irqs.delete(line);
        return this.o.irq.free(line, cid);
      },
      eoi: (_cid, line) => { this.o.machine?.drainReports(); this.o.irq.eoi(line); },
      maskIrq: (cid, line, masked) => {
        if (!this.containers.get(cid)?.irqs.has(line)) return;
        if (masked) this.o.irq.mask(line); else { this.o.machine?.drainReports(); this.o.irq.unmask(line); }
      },
      physicalMemory: () => (this.o.machine ? { buffer: this.o.machine.memory.buffer, fd: this.o.machine.memory.fd! } : null),
      dmaAlloc: async (cid, binding, size, dir) => {
        const b = this.bindingOf(cid, binding);
        const m = this.o.machine;
        if (!b || !m) return { status: -Errno.ENODEV, addr: 0 };
        if (!Number.isInteger(size) || size <= 0 || size > m.memory.size / 2) return { status: -Errno.EINVAL, addr: 0 };
        const a = m.memory.alloc(size, 4096, `${cid}/${b.device.spec.name}`);
        if (!a) return { status: -Errno.ENOMEM, addr: 0 };
        const dirName = (['to-device', 'from-device', 'bidirectional'] as const)[dir] ?? 'bidirectional';
        const s = await m.grantDma(b.device.spec.name, a.addr, a.size, dirName);
        if (s < 0) { m.memory.free(a.addr); return { status: s, addr: 0 }; }
        const release = toDisposable(async () => { b.dma.delete(a.addr); await m.revokeDma(b.device.spec.name, a.addr); m.memory.free(a.addr); });
        b.dma.set(a.addr, release);
        b.scope.add(release);
        return { status: 0, addr: a.addr };
      },
      dmaFree: async (cid, binding, addr) => {
        const b = this.bindingOf(cid, binding);
        const r = b?.dma.get(addr);
        if (!b || !r) return -Errno.EINVAL;
        b.scope.delete(r);
        await r.dispose();
        return 0;
      },
    };
  }

  private async registerNode(b: BindingRecord, node: number, spec: NodeSpec): Promise<{ status: number; major: number; minor: number; name?: string }> {
    const c = b.container;
    const dev = b.device;
    if (spec.kind === 'net') return this.registerNetNode(b, node, spec);
    if (!/^\/dev\/[A-Za-z0-9_.+-]+(\/[A-Za-z0-9_.+-]+)*$/.test(spec.path)) return { status: -Errno.EINVAL, major: 0, minor: 0 };
    const kept = dev.carryover.get(spec.path);
    if (kept) {
      // Same device, new incarnation: re-attach the node that stayed in /dev during the restart.
      dev.carryover.delete(spec.path);
      c.nodes.delete(kept.node);
      kept.node = node;
      kept.size = spec.size;
      kept.binding = b;
      kept.container = c;
      c.nodes.set(node, kept);
      b.nodes.set(node, kept);
      b.scope.add(toDisposable(() => this.detachNode(kept)));
      return { status: 0, major: kept.major, minor: kept.minor };
    }
    let { major, minor } = spec;
    if (major === 0) {
      if (spec.className === 'misc') { major = MISC_MAJOR; minor = takeLowest(this.usedMiscMinors, 64, 255, 1); } else { major = takeLowest(this.usedMajors, DYNAMIC_MAJOR_TOP, 234, -1); minor = 0; }
      if (major < 0 || minor < 0) return { status: -Errno.EBUSY, major: 0, minor: 0 };
    }
    const store = new DisposableStore(`node ${spec.path}`);
    if (spec.major === 0) {
      const set = spec.className === 'misc' ? this.usedMiscMinors : this.usedMajors;
      const n = spec.className === 'misc' ? minor : major;
      store.add(toDisposable(() => { set.delete(n); }));
    }
    const rec: NodeRecord = {
      node, path: spec.path, kind: spec.kind, major, minor, className: spec.className, size: spec.size, container: c, binding: b,
      ops: undefined as never, remove: () => store.dispose(),
    };
    rec.ops = makeNodeOps(() => rec, spec.seekable === true);
    try {
      this.o.vfs.mkdirp(spec.path.slice(0, spec.path.lastIndexOf('/')) || '/');
      store.add(this.o.vfs.mknod(spec.path, { major, minor, ops: rec.ops, block: spec.kind === 'blk', mode: spec.mode & 0o7777 }));
      if (spec.className) store.add(addClassDevice(this.o.vfs, spec.className, spec.path.slice(spec.path.lastIndexOf('/') + 1), dev.spec.name, major, minor));
    } catch (e) {
      await store.dispose();
      return { status: e instanceof SystemError ? e.errno : -Errno.EINVAL, major: 0, minor: 0 };
    }
    store.add(toDisposable(() => { rec.container.nodes.delete(rec.node); rec.binding.nodes.delete(rec.node); }));
    c.nodes.set(node, rec);
    b.nodes.set(node, rec);
    b.scope.add(toDisposable(() => this.detachNode(rec)));
    return { status: 0, major, minor };
  }

  /**
   * A network interface (register_netdev): no /dev entry; the net stack names it ("eth%d"),
   * makes /sys/class/net/<name> and talks to the driver through the node. After a crash the
   * device's kept interface is re-attached under its old name.
   */
  private async registerNetNode(b: BindingRecord, node: number, spec: NodeSpec): Promise<{ status: number; major: number; minor: number; name?: string }> {
    const net = this.o.net;
    const c = b.container;
    const dev = b.device;
    if (!net) return { status: -Errno.EOPNOTSUPP, major: 0, minor: 0 };
    const kept = [...dev.carryover.values()].find((n) => n.kind === 'net');
    const attach = (rec: NodeRecord, name: string): void => {
      c.nodes.set(rec.node, rec);
      b.nodes.set(rec.node, rec);
      b.scope.add(toDisposable(() => this.detachNode(rec)));
      b.scope.add(net.driverScope(name));
    };
    if (kept) {
      dev.carryover.delete(kept.path);
      c.nodes.delete(kept.node);
      Object.assign(kept, { node, binding: b, container: c });
      const name = kept.path.slice(kept.path.lastIndexOf('/') + 1);
      attach(kept, name);
      net.reattach(name);
      return { status: 0, major: 0, minor: kept.minor, name };
    }
    const store = new DisposableStore(`net ${spec.path}`);
    const rec: NodeRecord = {
      node, path: '', kind: 'net', major: 0, minor: 0, className: 'net', container: c, binding: b,
      ops: undefined as never, remove: () => store.dispose(),
    };
    rec.ops = makeNodeOps(() => rec, false);
    try {
      const r = net.register({ template: spec.path, device: dev.spec.name, driver: c.driver.name, properties: dev.spec.properties, ops: rec.ops });
      store.add(r.registration);
      rec.path = `/sys/class/net/${r.name}`;
      rec.minor = r.ifindex;
    } catch (e) {
      await store.dispose();
      return { status: e instanceof SystemError ? e.errno : -Errno.EINVAL, major: 0, minor: 0 };
    }
    store.add(toDisposable(() => { rec.container.nodes.delete(rec.node); rec.binding.nodes.delete(rec.node); }));
    attach(rec, rec.path.slice(rec.path.lastIndexOf('/') + 1));
    return { status: 0, major: 0, minor: rec.minor, name: rec.path.slice(rec.path.lastIndexOf('/') + 1) };
  }

  /** On unbind the node goes; on a crash it stays (carried over) until the re-probe decides. */
  private async detachNode(n: NodeRecord): Promise<void> {
    const dev = n.binding.device;
    if (n.container.state === 'crashed' || n.container.state === 'restarting') {
      n.container.nodes.delete(n.node);
      dev.carryover.set(n.path, n);
      return;
    }
    await n.remove();
  }

  // ---- queries ------------------------------------------------------------------------------

  deviceInfo(): DeviceInfo[] {
    return [...this.devices.values()].map((d) => ({
      name: d.spec.name, compatible: d.spec.compatible, reg: d.spec.reg, irqs: d.spec.interrupts, state: d.state,
      driver: d.driver?.name, isolation: d.isolation, container: d.binding?.container.id,
      nodes: [...(d.binding?.nodes.values() ?? []), ...d.carryover.values()].map((n) => n.path).sort(),
      error: d.error,
    }));
  }

  driverInfo(): DriverInfo[] {
    return this.o.index.all().map((m) => ({
      name: m.name, description: m.description, compatible: m.compatible, kind: m.kind, isolation: m.isolation,
      devices: [...this.devices.values()].filter((d) => d.binding && d.driver?.name === m.name).map((d) => d.spec.name),
      ioctls: m.ioctls ?? [],
    }));
  }

  containerInfo(): ContainerInfo[] {
    return [...this.containers.values()].map((c) => ({
      id: c.id, driver: c.driver.name, isolation: c.isolation, state: c.state, pid: c.host?.pid, threadId: c.host?.threadId,
      restarts: c.restarts, devices: [...c.bindings.values()].map((b) => b.device.spec.name),
      ipc: c.host?.stats() ?? { calls: 0, upcalls: 0, notifications: 0, errors: 0, spinHits: 0, sleeps: 0, wakeups: 0, inflight: 0 },
      lastError: c.lastError,
    }));
  }

  /** The device whose binding registered a /dev path. */
  deviceForNode(path: string): string | undefined {
    for (const c of this.containers.values()) for (const n of c.nodes.values()) if (n.path === path) return n.binding.device.spec.name;
    for (const d of this.devices.values()) if (d.carryover.has(path)) return d.spec.name;
    return undefined;
  }

  /** The driver manifest behind a /dev path. */
  driverForNode(path: string): DriverManifest | undefined {
    for (const c of this.containers.values()) for (const n of c.nodes.values()) if (n.path === path) return c.driver;
    for (const d of this.devices.values()) if (d.carryover.has(path)) return d.driver;
    return undefined;
  }
}

/** The first number from `from` towards `to` (step ±1) not in `used`, marked used; -1 if none. */
function takeLowest(used: Set<number>, from: number, to: number, step: 1 | -1): number {
  for (let n = from; step > 0 ? n <= to : n >= to; n += step) {
    if (!used.has(n)) { used.add(n); return n; }
  }
  return -1;
}
