/**
 * @module driver-runtime
 * The inside of a driver container, the same in every isolation class: it loads the driver
 * module, gives it a `DriverEnv`, keeps the id tables (nodes, open files, attributes, shared
 * regions, IRQ lines) and turns downcalls into calls of the driver's operations.
 *
 * A driver that throws (instead of returning -errno) is a driver bug: the request fails with
 * -EIO and the runtime reports a fault, upon which the host treats the container as crashed.
 */
import { pathToFileURL } from 'node:url';
import type {
  AttributeSpec, DeviceHandle, DriverEnv, DriverFile, DriverFileOps, DriverModule, LogLevel, MmioAccess, NodeSpec,
  SharedRegion, UserArg,
} from '../../framework/driver-port.js';
import { isDriverModule } from '../../framework/driver-port.js';
import type { DeviceSpec, IsolationClass } from '../../framework/platform/types.js';
import type { Credentials } from '../../framework/vfs/types.js';

const EIO = 5, ENODEV = 19, EINVAL = 22, ENOTTY = 25, ESPIPE = 29, EBADF = 9, ENXIO = 6;

/** Upcalls by id, implemented per isolation class (direct call, or RPC). */
export interface KernelLink {
  log(level: LogLevel, binding: number, message: string): void;
  registerNode(binding: number, node: number, spec: NodeSpec): Promise<{ status: number; major: number; minor: number; name?: string }>;
  unregisterNode(node: number): Promise<number>;
  pollNotify(node: number): void;
  addAttribute(binding: number, attr: number, spec: { name: string; mode: number; dir?: string }): Promise<number>;
  removeAttribute(attr: number): Promise<number>;
  /** Memory both sides see: SAB (IC0/IC1) or memfd mapping (IC2), announced to the kernel. */
  allocRegion(region: number, size: number): Promise<{ status: number; buffer: SharedArrayBuffer | null }>;
  freeRegion(region: number): Promise<number>;
  /** Device memory (DriverEnv.mapDeviceMemory): the kernel checks and registers it, the class maps it. */
  mapDeviceMemory(binding: number, region: number, addr: number, size: number): Promise<{ status: number; buffer: SharedArrayBuffer | null }>;
  requestIrq(binding: number, line: number): Promise<number>;
  freeIrq(line: number): Promise<number>;
  maskIrq(line: number, masked: boolean): void;
  /** The handler for `line` ran: let the kernel re-check the level. */
  eoi(line: number): void;
  /** DMA memory: class-specific mapping of the pages the kernel allocated. */
  dmaAlloc(binding: number, size: number, dir: number): Promise<{ status: number; addr: number; bytes: Uint8Array | null }>;
  dmaFree(binding: number, addr: number): Promise<number>;
}

type Maybe<T> = T | Promise<T>;

function then<T, R>(v: Maybe<T>, f: (t: T) => R): Maybe<R> {
  return v instanceof Promise ? v.then(f) : f(v);
}

interface OpenFile extends DriverFile { node: number; ops: DriverFileOps }

/** A driver's read result as the kernel link carries it. */
function readResult(r: number | Uint8Array, length: number, pos: number): { status: number; data: Uint8Array | null; pos: number } {
  if (typeof r === 'number') return { status: r, data: null, pos };
  return { status: Math.min(r.length, length), data: r.length > length ? r.subarray(0, length) : r, pos };
}

export class DriverRuntime {
  private driver: DriverModule | null = null;
  private readonly nodes = new Map<number, { binding: number; ops: DriverFileOps }>();
  private readonly files = new Map<number, OpenFile>();
  private readonly attrs = new Map<number, { binding: number; spec: AttributeSpec }>();
  private readonly regions = new Map<number, SharedRegion>();
  private readonly irqs = new Map<number, (line: number) => unknown>();
  private readonly devices = new Map<number, DeviceHandle>();
  private nextId = 1;
  readonly env: DriverEnv;

  /** @param onFault called when driver code throws: the host then restarts the container. */
  constructor(readonly isolation: IsolationClass, private readonly link: KernelLink,
    private readonly onFault: (err: unknown, where: string) => void, private readonly mmio: MmioAccess | null = null) {
    this.env = this.makeEnv();
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async init(entryPath: string, params: Record<string, unknown>): Promise<number> {
    const mod = await import(pathToFileURL(entryPath).href) as { default?: unknown };
    if (!isDriverModule(mod.default)) {
      this.link.log(3, 0, `driver module ${entryPath} has no default export implementing DriverModule`);
      return -ENXIO;
    }
    this.driver = mod.default;
    return this.guard('module_init', () => then(this.driver!.init?.(this.env, params), (r) => (typeof r === 'number' ? r : 0)));
  }

  probe(binding: number, spec: Omit<DeviceSpec, 'where'>, params: Record<string, unknown>): Maybe<number> {
    if (!this.driver) return -ENXIO;
    const dev: DeviceHandle = { binding, spec, params };
    this.devices.set(binding, dev);
    return this.guard('probe', () => then(this.driver!.probe(dev), (r) => {
      if (r !== 0) this.devices.delete(binding);
      return r;
    }));
  }

  remove(binding: number): Maybe<number> {
    const dev = this.devices.get(binding);
    if (!dev || !this.driver) return -ENODEV;
    this.devices.delete(binding);
    return this.guard('remove', () => then(this.driver!.remove?.(dev), () => 0));
  }

  async exit(): Promise<void> {
    if (this.driver?.exit) await this.guard('module_exit', () => then(this.driver!.exit!(), () => 0));
  }

  // ---- file operations ----------------------------------------------------------------------

  open(node: number, id: number, flags: number, cred: Credentials): Maybe<number> {
    const n = this.nodes.get(node);
    if (!n) return -ENODEV;
    const file: OpenFile = { id, flags, cred, node, ops: n.ops };
    if (!n.ops.open) { this.files.set(id, file); return 0; }
    return this.guard('open', () => then(n.ops.open!(file), (r) => {
      if (r === 0) this.files.set(id, file);
      return r;
    }));
  }

  release(id: number): Maybe<number> {
    const f = this.files.get(id);
    if (!f) return -EBADF;
    this.files.delete(id);
    if (!f.ops.release) return 0;
    return this.guard('release', () => then(f.ops.release!(f), (r) => (typeof r === 'number' ? r : 0)));
  }

  read(id: number, length: number, pos: number, into?: Uint8Array): Maybe<{ status: number; data: Uint8Array | null; pos: number }> {
    const f = this.files.get(id);
    if (!f) return { status: -EBADF, data: null, pos };
    if (!f.ops.read) return { status: -EINVAL, data: null, pos };
    // The hot path of every block and character read: no closures unless the driver is async.
    const p = { value: pos };
    let r: number | Uint8Array | Promise<number | Uint8Array>;
    try {
      r = f.ops.read(f, length, p, into);
    } catch (e) {
      this.onFault(e, 'read');
      return { status: -EIO, data: null, pos };
    }
    if (!(r instanceof Promise)) return readResult(r, length, p.value);
    return r.then((v) => readResult(v, length, p.value), (e: unknown) => {
      this.onFault(e, 'read');
      return { status: -EIO, data: null, pos };
    });
  }

  write(id: number, data: Uint8Array, pos: number): Maybe<{ status: number; pos: number }> {
    const f = this.files.get(id);
    if (!f) return { status: -EBADF, pos };
    if (!f.ops.write) return { status: -EINVAL, pos };
    const p = { value: pos };
    return this.guard('write', () => then(f.ops.write!(f, data, p), (r) => ({ status: r, pos: p.value })),
      (status) => ({ status, pos }));
  }

  ioctl(id: number, cmd: number, value: number, buf: Uint8Array | null): Maybe<{ status: number; out: Uint8Array | null }> {
    const f = this.files.get(id);
    if (!f) return { status: -EBADF, out: null };
    if (!f.ops.ioctl) return { status: -ENOTTY, out: null };
    const arg: UserArg = { value, in: buf, out: null };
    return this.guard('ioctl', () => then(f.ops.ioctl!(f, cmd >>> 0, arg), (r) => ({ status: r, out: arg.out })),
      (status) => ({ status, out: null }));
  }

  poll(id: number): Maybe<number> {
    const f = this.files.get(id);
    if (!f) return -EBADF;
    if (!f.ops.poll) return 0x1 | 0x4;
    return this.guard('poll', () => f.ops.poll!(f));
  }

  mmap(id: number, length: number, offset: number): Maybe<{ status: number; region: number; offset: number; length: number }> {
    const bad = (status: number) => ({ status, region: 0, offset: 0, length: 0 });
    const f = this.files.get(id);
    if (!f) return bad(-EBADF);
    if (!f.ops.mmap) return bad(-ENODEV);
    return this.guard('mmap', () => then(f.ops.mmap!(f, length, offset), (r) => typeof r === 'number'
      ? bad(r) : { status: 0, region: r.region, offset: r.offset, length: r.length }), bad);
  }

  llseek(id: number, offset: number, whence: number, pos: number): Maybe<{ status: number; pos: number }> {
    const f = this.files.get(id);
    if (!f) return { status: -EBADF, pos };
    if (!f.ops.llseek) return { status: -ESPIPE, pos };
    const p = { value: pos };
    return this.guard('llseek', () => then(f.ops.llseek!(f, offset, whence, p), (r) => ({ status: r < 0 ? r : 0, pos: r < 0 ? pos : r })),
      (status) => ({ status, pos }));
  }

  fsync(id: number): Maybe<number> {
    const f = this.files.get(id);
    if (!f) return -EBADF;
    if (!f.ops.fsync) return -EINVAL;
    return this.guard('fsync', () => f.ops.fsync!(f));
  }

  attrShow(attr: number): Maybe<{ status: number; text: string }> {
    const a = this.attrs.get(attr);
    if (!a?.spec.show) return { status: -EIO, text: '' };
    return this.guard('attr show', () => then(a.spec.show!(), (text) => ({ status: 0, text })), (status) => ({ status, text: '' }));
  }

  attrStore(attr: number, text: string): Maybe<number> {
    const a = this.attrs.get(attr);
    if (!a?.spec.store) return -EIO;
    return this.guard('attr store', () => then(a.spec.store!(text), (r) => (typeof r === 'number' && r < 0 ? r : 0)));
  }

  /** Runs the handler of `line` (hard-IRQ context: synchronous), then signals EOI. */
  irq(line: number): void {
    const h = this.irqs.get(line);
    if (!h) { this.link.eoi(line); return; }
    try { h(line); } catch (e) { this.onFault(e, `irq ${line} handler`); return; }
    // The handler's W1C write is posted: make it land before EOI, so the kernel re-checks the
    // level the device has now, not the one it had when the interrupt was raised.
    this.mmio?.sync();
    this.link.eoi(line);
  }

  // ---- env (upcalls) ------------------------------------------------------------------------

  private makeEnv(): DriverEnv {
    const link = this.link;
    return {
      isolation: this.isolation,
      mmio: this.mmio,
      reportFault: (err, where) => this.onFault(err, where),
      log: (level, message, binding = 0) => link.log(level, binding, message),
      registerNode: async (binding, spec, ops) => {
        const node = this.nextId++;
        this.nodes.set(node, { binding, ops });
        const r = await link.registerNode(binding, node, { ...spec, seekable: typeof ops.llseek === 'function' });
        if (r.status < 0) { this.nodes.delete(node); throw Object.assign(new Error(`registerNode ${spec.path}: ${r.status}`), { errno: r.status }); }
        return { node, major: r.major, minor: r.minor, ...(r.name !== undefined ? { name: r.name } : {}) };
      },
      unregisterNode: async (node) => {
        this.nodes.delete(node);
        for (const [id, f] of this.files) if (f.node === node) this.files.delete(id);
        await link.unregisterNode(node);
      },
      pollNotify: (node) => link.pollNotify(node),
      addAttribute: async (binding, spec) => {
        const attr = this.nextId++;
        this.attrs.set(attr, { binding, spec });
        const r = await link.addAttribute(binding, attr, { name: spec.name, mode: spec.mode, dir: spec.dir });
        if (r < 0) { this.attrs.delete(attr); throw Object.assign(new Error(`addAttribute ${spec.name}: ${r}`), { errno: r }); }
        return attr;
      },
      removeAttribute: async (attr) => { this.attrs.delete(attr); await link.removeAttribute(attr); },
      allocShared: async (size) => {
        const region = this.nextId++;
        const r = await link.allocRegion(region, size);
        if (r.status < 0 || !r.buffer) throw Object.assign(new Error(`allocShared(${size}): ${r.status}`), { errno: r.status });
        const reg: SharedRegion = { region, offset: 0, length: size, buffer: r.buffer };
        this.regions.set(region, reg);
        return reg;
      },
      freeShared: async (region) => { this.regions.delete(region); await link.freeRegion(region); },
      mapDeviceMemory: async (binding, addr, size) => {
        const region = this.nextId++;
        const r = await link.mapDeviceMemory(binding, region, addr, size);
        if (r.status >= 0 && !r.buffer) await link.freeRegion(region); // registered, but this side could not map it
        if (r.status < 0 || !r.buffer) {
          throw Object.assign(new Error(`mapDeviceMemory(0x${addr.toString(16)}, ${size}): ${r.status < 0 ? r.status : -14}`), { errno: r.status < 0 ? r.status : -14 });
        }
        const reg: SharedRegion = { region, offset: 0, length: size, buffer: r.buffer };
        this.regions.set(region, reg);
        return reg;
      },
      requestIrq: async (binding, line, handler) => {
        const r = await link.requestIrq(binding, line);
        if (r < 0) throw Object.assign(new Error(`requestIrq(${line}): ${r}`), { errno: r });
        this.irqs.set(line, handler);
      },
      freeIrq: async (line) => { this.irqs.delete(line); await link.freeIrq(line); },
      maskIrq: (line, masked) => { if (this.irqs.has(line)) link.maskIrq(line, masked); },
      dmaAlloc: async (binding, size, dir) => {
        const d = ['to-device', 'from-device', 'bidirectional'].indexOf(dir);
        const r = await link.dmaAlloc(binding, size, d < 0 ? 2 : d);
        if (r.status < 0 || !r.bytes) throw Object.assign(new Error(`dmaAlloc(${size}): ${r.status}`), { errno: r.status < 0 ? r.status : -12 });
        return { addr: r.addr, size, bytes: r.bytes };
      },
      dmaFree: async (binding, addr) => { await link.dmaFree(binding, addr); },
    };
  }

  /**
   * Runs driver code; a throw (sync or async) is a fault: logged, reported, answered -EIO.
   * `fail` shapes the error result for operations that return a record.
   */
  private guard<T>(where: string, fn: () => Maybe<T>, fail?: (status: number) => T): Maybe<T> {
    const onErr = (e: unknown): T => {
      this.onFault(e, where);
      return fail ? fail(-EIO) : (-EIO as unknown as T);
    };
    try {
      const r = fn();
      return r instanceof Promise ? r.catch(onErr) : r;
    } catch (e) {
      return onErr(e);
    }
  }
}
