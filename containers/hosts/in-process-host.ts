/**
 * @module in-process-host
 * IC0: the driver runs in the kernel's own isolate; downcalls and upcalls are function calls.
 * There is no memory isolation: a throwing driver is still contained (its requests fail with
 * EIO and it is re-probed), but a driver that busy-loops stops the kernel with it, as IC0
 * does in HongMeng. Choose IC1 or IC2 for drivers you do not trust.
 */
import type {
  ContainerExit, ContainerOps, ContainerStartOptions, IContainerHost,
} from '../../framework/container-host.js';
import type { IpcStats } from '../../framework/kernel-api.js';
import { HmError } from '../../framework/errors/hm-error.js';
import { errnoName } from '../../framework/errors/errno.js';
import { DriverRuntime, type KernelLink } from '../runtime/driver-runtime.js';
import { MmioPort } from '../../devices/machine/mmio-port.js';
import type { SpinBudget } from '../../devices/ipc/spin.js';

/** What a read gives when the container is gone (or its runtime threw). */
const DEAD_READ = Object.freeze({ status: -5, data: null, pos: 0 });

/** A downcall in flight: what it resolves with if the container dies first. */
interface PendingCall {
  readonly resolve: (v: unknown) => void;
  readonly dead: unknown;
  readonly started: number;
  prev: PendingCall | null;
  next: PendingCall | null;
  live: boolean;
}

/** The in-flight downcalls, as an intrusive list. */
class PendingList {
  head: PendingCall | null = null;
  size = 0;

  add(resolve: (v: unknown) => void, dead: unknown): PendingCall {
    const c: PendingCall = { resolve, dead, started: performance.now(), prev: null, next: this.head, live: true };
    if (this.head) this.head.prev = c;
    this.head = c;
    this.size++;
    return c;
  }

  /** Takes `c` out; false if it was already out (the container died and it was failed). */
  remove(c: PendingCall): boolean {
    if (!c.live) return false;
    c.live = false;
    if (c.prev) c.prev.next = c.next; else this.head = c.next;
    if (c.next) c.next.prev = c.prev;
    this.size--;
    return true;
  }

  /** Resolves every call with its `dead` value. */
  failAll(): void {
    for (let c = this.head; c; c = this.head) {
      this.remove(c);
      c.resolve(c.dead);
    }
  }
}

export class InProcessHost implements IContainerHost {
  readonly isolation = 'ic0' as const;
  readonly ops: ContainerOps;
  readonly pid = undefined;
  readonly threadId = undefined;
  private readonly runtime: DriverRuntime;
  private readonly counters: IpcStats = { calls: 0, upcalls: 0, notifications: 0, errors: 0, spinHits: 0, sleeps: 0, wakeups: 0, inflight: 0 };
  /** Downcalls in flight (a set without hash-table churn: one insert and delete per read). */
  private readonly pending = new PendingList();
  private dead = false;

  private readonly mmio: MmioPort | null;

  /** `budget`: the machine-wide spin budget (an IC0 driver spins on MMIO reads like any other). */
  constructor(private readonly opts: ContainerStartOptions, budget: SpinBudget) {
    this.mmio = opts.mmio ? new MmioPort(opts.mmio, budget, `${opts.id}-mmio`) : null;
    this.runtime = new DriverRuntime('ic0', this.link(), (err, where) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      opts.services.log(opts.id, 2, 0, `driver fault: ${where}: ${text}`);
      queueMicrotask(() => this.kill({ reason: 'crash', detail: `${where}: ${err instanceof Error ? err.message : String(err)}` }));
    }, this.mmio);
    this.ops = this.makeOps();
  }

  get id(): string { return this.opts.id; }

  async start(): Promise<void> {
    const r = await this.runtime.init(this.opts.entryPath, this.opts.params);
    if (r < 0) throw new HmError('EINIT', `driver ${this.opts.driverName}: module_init failed with -${errnoName(r) ?? r} in ic0`);
  }

  async stop(): Promise<void> {
    if (this.dead) return;
    await this.runtime.exit();
    this.kill({ reason: 'stopped', detail: 'stopped' });
  }

  kill(exit: ContainerExit): void {
    if (this.dead) return;
    this.dead = true;
    this.mmio?.close();
    this.pending.failAll();
    this.opts.onExit(exit);
  }

  inflight(): { count: number; oldestMs: number } {
    const now = performance.now();
    let oldest = 0;
    for (let p = this.pending.head; p; p = p.next) oldest = Math.max(oldest, now - p.started);
    return { count: this.pending.size, oldestMs: oldest };
  }

  silentMs(): number { return 0; }

  stats(): IpcStats { return { ...this.counters, inflight: this.pending.size }; }

  /**
   * Runs a downcall; if the container dies while it is pending, it completes with `dead`
   * (the same EIO the other classes give) instead of hanging.
   */
  private call<T>(fn: () => T | Promise<T>, dead: T): Promise<T> {
    if (!this.begin()) return Promise.resolve(dead);
    let r: T | Promise<T>;
    try { r = fn(); } catch { return Promise.resolve(dead); }
    return this.settle(r, dead);
  }

  /** A downcall starts: false when the container is gone. */
  private begin(): boolean {
    if (this.dead) return false;
    this.counters.calls++;
    return true;
  }

  /** The downcall's answer; an async one completes with `dead` if the container dies first. */
  private settle<T>(r: T | Promise<T>, dead: T): Promise<T> {
    if (!(r instanceof Promise)) return Promise.resolve(r);
    const list = this.pending;
    return new Promise<T>((resolve) => {
      const call = list.add(resolve as (v: unknown) => void, dead);
      r.then((v) => { if (list.remove(call)) resolve(v); }, () => { if (list.remove(call)) resolve(dead); });
    });
  }

  private makeOps(): ContainerOps {
    const rt = this.runtime;
    const EIO = -5;
    return {
      probe: (b, spec, params) => this.call(() => rt.probe(b, spec, params), EIO),
      remove: (b) => this.call(() => rt.remove(b), EIO),
      open: (node, file, flags, cred) => this.call(() => rt.open(node, file, flags, cred), EIO),
      release: (file) => this.call(() => rt.release(file), EIO),
      // Same heap as the kernel: the driver may read straight into the caller's buffer.
      // Every read of every device node: no closure per call (the kernel ignores a failed read's pos).
      read: (file, len, pos, into) => {
        if (!this.begin()) return Promise.resolve(DEAD_READ);
        let r: ReturnType<typeof rt.read>;
        try { r = rt.read(file, len, pos, into); } catch { return Promise.resolve(DEAD_READ); }
        return this.settle(r, DEAD_READ);
      },
      write: (file, data, pos) => this.call(() => rt.write(file, data, pos), { status: EIO, pos }),
      ioctl: (file, cmd, v, buf) => this.call(() => rt.ioctl(file, cmd, v, buf), { status: EIO, out: null }),
      poll: (file) => this.call(() => rt.poll(file), EIO),
      mmap: (file, len, off) => this.call(() => rt.mmap(file, len, off), { status: EIO, region: 0, offset: 0, length: 0 }),
      llseek: (file, off, whence, pos) => this.call(() => rt.llseek(file, off, whence, pos), { status: EIO, pos }),
      fsync: (file) => this.call(() => rt.fsync(file), EIO),
      attrShow: (attr) => this.call(() => rt.attrShow(attr), { status: EIO, text: '' }),
      attrStore: (attr, text) => this.call(() => rt.attrStore(attr, text), EIO),
      irq: (line) => { if (!this.dead) rt.irq(line); },
      pingSync: (v) => { this.counters.calls++; return this.dead ? EIO : v; },
      ping: (v) => this.call(() => v, EIO),
    };
  }

  private link(): KernelLink {
    const svc = this.opts.services;
    const id = this.opts.id;
    const up = <T>(v: T): T => { this.counters.upcalls++; return v; };
    return {
      log: (level, binding, message) => svc.log(id, level, binding, message),
      registerNode: (binding, node, spec) => up(svc.registerNode(id, binding, node, spec)),
      unregisterNode: (node) => up(svc.unregisterNode(id, node)),
      pollNotify: (node) => svc.pollNotify(id, node),
      addAttribute: (binding, attr, spec) => up(svc.addAttribute(id, binding, attr, spec)),
      removeAttribute: (attr) => up(svc.removeAttribute(id, attr)),
      allocRegion: async (region, size) => {
        const buffer = new SharedArrayBuffer(size);
        const status = up(svc.registerRegion(id, region, buffer));
        return { status, buffer: status < 0 ? null : buffer };
      },
      freeRegion: async (region) => up(svc.freeRegion(id, region)),
      mapDeviceMemory: async (binding, region, addr, size) => {
        const r = up(svc.mapDeviceMemory(id, binding, region, addr, size));
        return { status: r.status, buffer: r.buffer };
      },
      requestIrq: async (binding, line) => up(svc.requestIrq(id, binding, line)),
      freeIrq: async (line) => up(svc.freeIrq(id, line)),
      eoi: (line) => svc.eoi(id, line),
      maskIrq: (line, masked) => svc.maskIrq(id, line, masked),
      dmaAlloc: async (binding, size, dir) => {
        const r = up(await svc.dmaAlloc(id, binding, size, dir));
        const phys = svc.physicalMemory();
        return { status: r.status, addr: r.addr, bytes: r.status < 0 || !phys ? null : new Uint8Array(phys.buffer, r.addr, size) };
      },
      dmaFree: (binding, addr) => svc.dmaFree(id, binding, addr),
    };
  }
}
