/**
 * @module rpc-host
 * Kernel side of an IC1/IC2 container: ContainerOps as messages on the channel, upcalls
 * dispatched to KernelServices, statistics, heartbeat tracking and exit handling. Subclasses
 * only know how to start and kill their worker or process.
 */
import { closeSync, openSync } from 'node:fs';
import type {
  ContainerExit, ContainerOps, ContainerStartOptions, IContainerHost,
} from '../../framework/container-host.js';
import type { IpcStats } from '../../framework/kernel-api.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import type { NodeSpec, LogLevel } from '../../framework/driver-port.js';
import { HmError } from '../../framework/errors/hm-error.js';
import { errnoName } from '../../framework/errors/errno.js';
import { native } from '../../devices/native/index.js';
import { createChannelMemory, openEndpoint, type ChannelMemory } from '../ipc/channel.js';
import { reply, type Endpoint, type Reply } from '../../devices/ipc/endpoint.js';
import { Op, bytesJson, bytesText, jsonBytes, textBytes } from '../ipc/ops.js';
import { HEARTBEAT, ringBytes, type Message } from '../../devices/ipc/ring.js';
import { signalFor, type SignalKind } from '../../devices/ipc/signal.js';
import type { KernelPage } from '../../devices/ipc/kernel-page.js';

export const HEARTBEAT_MS = 100;

export abstract class RpcHost implements IContainerHost {
  readonly ops: ContainerOps;
  protected readonly mem: ChannelMemory;
  protected readonly endpoint: Endpoint;
  private readonly upCtrl: Int32Array;
  private lastBeat = 0;
  private lastBeatAt = performance.now();
  private exited = false;
  /** IC1 regions posted by the worker before (or after) their REGION upcall. */
  private readonly postedRegions = new Map<number, SharedArrayBuffer>();
  private readonly regionWaiters = new Map<number, (b: SharedArrayBuffer) => void>();

  constructor(readonly isolation: IsolationClass, protected readonly opts: ContainerStartOptions,
    protected readonly page: KernelPage, signal: SignalKind, shared: 'thread' | 'process') {
    this.mem = createChannelMemory(shared);
    this.endpoint = openEndpoint(this.mem, 'kernel', {
      name: opts.id,
      signal: signalFor(signal),
      budget: page.budget,
      onRequest: (m) => this.upcall(m),
      onNotify: (m) => this.notification(m),
      onCorrupt: (e) => this.kill({ reason: 'crash', detail: `channel corrupted: ${e.message}` }),
    });
    this.upCtrl = new Int32Array(this.mem.buffer, ringBytes(this.mem.capacity), 48);
    this.ops = this.makeOps();
  }

  get id(): string { return this.opts.id; }
  abstract get pid(): number | undefined;
  abstract get threadId(): number | undefined;
  protected abstract spawn(): Promise<void>;
  protected abstract terminate(): void;

  async start(): Promise<void> {
    await this.spawn();
    this.endpoint.start();
    const r = await this.endpoint.request(Op.INIT, 0, 0, 0, 0, jsonBytes({ entryPath: this.opts.entryPath, params: this.opts.params }));
    if (r.status < 0) {
      this.kill({ reason: 'stopped', detail: 'module_init failed' });
      throw new HmError('EINIT', `driver ${this.opts.driverName}: module_init failed with -${errnoName(r.status) ?? r.status} in ${this.isolation}`);
    }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const bye = this.endpoint.request(Op.EXIT);
    const t = new Promise<void>((res) => setTimeout(res, 2_000).unref());
    await Promise.race([bye, t]);
    this.kill({ reason: 'stopped', detail: 'stopped' });
  }

  kill(exit: ContainerExit): void {
    if (this.exited) return;
    this.exited = true;
    this.endpoint.close(-5);
    this.terminate();
    if (this.mem.fd !== undefined) { try { closeSync(this.mem.fd); } catch { /* already closed */ } }
    this.opts.onExit(exit);
  }

  /** Subclasses call this when the worker/process dies on its own. */
  protected died(detail: string): void {
    this.kill({ reason: 'crash', detail });
  }

  inflight(): { count: number; oldestMs: number } {
    return { count: this.endpoint.inflight, oldestMs: this.endpoint.oldestPendingMs() };
  }

  /** Serves anything queued but unnoticed (see Endpoint.poke); the supervisor calls it. */
  poke(): void { this.endpoint.poke(); }

  silentMs(): number {
    const beat = Atomics.load(this.upCtrl, HEARTBEAT);
    const now = performance.now();
    if (beat !== this.lastBeat) { this.lastBeat = beat; this.lastBeatAt = now; }
    return now - this.lastBeatAt;
  }

  stats(): IpcStats {
    const s = this.endpoint.stats;
    return {
      calls: s.calls, upcalls: s.served, notifications: s.notificationsSent + s.notificationsReceived,
      errors: s.errors, spinHits: s.spinHits, sleeps: s.sleeps, wakeups: s.wakeups, inflight: this.endpoint.inflight,
    };
  }

  /** IC1 posts the DMA page window to the worker; IC2 children map it themselves. */
  protected dmaMapped(_addr: number, _size: number): void {}

  /** IC1: the worker posts region buffers through its MessagePort. */
  protected regionPosted(region: number, buffer: SharedArrayBuffer): void {
    const w = this.regionWaiters.get(region);
    if (w) { this.regionWaiters.delete(region); w(buffer); } else this.postedRegions.set(region, buffer);
  }

  // ---- upcalls ------------------------------------------------------------------------------

  private upcall(m: Message): Reply | Promise<Reply> {
    const svc = this.opts.services;
    const id = this.id;
    switch (m.op) {
      case Op.REGISTER_NODE:
        return svc.registerNode(id, m.a0, m.a1, bytesJson<NodeSpec>(m.payload)).then((r) => reply(r.status, r.name ? textBytes(r.name) : null, r.major, r.minor));
      case Op.UNREGISTER_NODE: return svc.unregisterNode(id, m.a0).then((s) => reply(s));
      case Op.ADD_ATTR: return svc.addAttribute(id, m.a0, m.a1, bytesJson<{ name: string; mode: number; dir?: string }>(m.payload)).then((s) => reply(s));
      case Op.REMOVE_ATTR: return svc.removeAttribute(id, m.a0).then((s) => reply(s));
      case Op.REGION: return this.mapRegion(m.a0, m.a1, m.a2);
      case Op.FREE_REGION: return reply(svc.freeRegion(id, m.a0));
      case Op.REQUEST_IRQ: return reply(svc.requestIrq(id, m.a0, m.a1));
      case Op.FREE_IRQ: return reply(svc.freeIrq(id, m.a0));
      case Op.DMA_ALLOC: {
        const binding = m.a0, size = m.a1, dir = m.a3;
        return svc.dmaAlloc(id, binding, size, dir).then((r) => {
          if (r.status >= 0) this.dmaMapped(r.addr, size);
          return reply(r.status, null, r.addr);
        });
      }
      case Op.DMA_FREE: return svc.dmaFree(id, m.a0, m.a1).then((s) => reply(s));
      case Op.MAP_DEVMEM: {
        const r = svc.mapDeviceMemory(id, m.a0, m.a1, m.a2, m.a3);
        return reply(r.status, null, r.fd, r.offset);
      }
      default: return reply(-38);
    }
  }

  private mapRegion(region: number, size: number, fd: number): Reply | Promise<Reply> {
    const svc = this.opts.services;
    if (this.isolation === 'ic2') {
      // The child's memfd, reached through procfs: shared memory without SCM_RIGHTS.
      let kfd = -1;
      try {
        kfd = openSync(`/proc/${this.pid}/fd/${fd}`, 'r+');
        return reply(svc.registerRegion(this.id, region, native().mapFd(kfd, size)));
      } catch {
        return reply(-14 /* EFAULT */);
      } finally {
        if (kfd >= 0) closeSync(kfd);
      }
    }
    const have = this.postedRegions.get(region);
    if (have) { this.postedRegions.delete(region); return reply(svc.registerRegion(this.id, region, have)); }
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => { this.regionWaiters.delete(region); resolve(reply(-14)); }, 5_000);
      this.regionWaiters.set(region, (b) => { clearTimeout(timer); resolve(reply(svc.registerRegion(this.id, region, b))); });
    });
  }

  private notification(m: Message): void {
    const svc = this.opts.services;
    switch (m.op) {
      case Op.LOG: svc.log(this.id, m.a0 as LogLevel, m.a1, bytesText(m.payload)); return;
      case Op.POLL_NOTIFY: svc.pollNotify(this.id, m.a0); return;
      case Op.EOI: svc.eoi(this.id, m.a0); return;
      case Op.MASK_IRQ: svc.maskIrq(this.id, m.a0, m.a1 !== 0); return;
      case Op.FAULT: {
        const text = bytesText(m.payload); // m is reused by the ring reader: copy before deferring
        svc.log(this.id, 2, 0, `driver fault: ${text}`);
        // Contain it: fail what is in flight and restart (a throw is a driver bug, like an oops).
        setImmediate(() => this.kill({ reason: 'crash', detail: text.split('\n')[0] ?? 'fault' }));
        return;
      }
      default:
    }
  }

  // ---- downcalls ----------------------------------------------------------------------------

  private makeOps(): ContainerOps {
    const ep = this.endpoint;
    return {
      probe: async (binding, spec, params) => (await ep.request(Op.PROBE, 0, 0, 0, 0, jsonBytes({ binding, spec, params }))).status,
      remove: async (binding) => (await ep.request(Op.REMOVE, binding)).status,
      open: async (node, file, flags, cred) => (await ep.request(Op.OPEN, node, file, 0, flags, jsonBytes(cred))).status,
      release: async (file) => (await ep.request(Op.RELEASE, file)).status,
      // The answer's bytes land in the caller's buffer straight from the ring (one copy).
      read: async (file, length, pos, into) => {
        const r = await ep.request(Op.READ, file, length, pos, 0, null, into);
        return { status: r.status, data: r.payload, pos: r.a1 };
      },
      write: async (file, data, pos) => {
        const r = await ep.request(Op.WRITE, file, 0, pos, 0, data);
        return { status: r.status, pos: r.a1 };
      },
      ioctl: async (file, cmd, intArg, buf) => {
        const r = await ep.request(Op.IOCTL, file, cmd, intArg, buf ? 1 : 0, buf);
        return { status: r.status, out: r.payload };
      },
      poll: async (file) => (await ep.request(Op.POLL, file)).status,
      mmap: async (file, length, offset) => {
        const r = await ep.request(Op.MMAP, file, length, offset);
        return { status: r.status, region: r.a1, offset: r.a2, length: r.a3 };
      },
      llseek: async (file, offset, whence, pos) => {
        const r = await ep.request(Op.LLSEEK, file, offset, pos, whence);
        return { status: r.status, pos: r.a1 };
      },
      fsync: async (file) => (await ep.request(Op.FSYNC, file)).status,
      attrShow: async (attr) => {
        const r = await ep.request(Op.ATTR_SHOW, attr);
        return { status: r.status, text: bytesText(r.payload) };
      },
      attrStore: async (attr, text) => (await ep.request(Op.ATTR_STORE, attr, 0, 0, 0, textBytes(text))).status,
      irq: (line) => ep.notify(Op.IRQ, line),
      pingSync: (value) => ep.requestSync(Op.PING, value, 0, 0, 0, null, 5_000, () => this.alive()).status,
      ping: async (value) => (await ep.request(Op.PING, value)).status,
    };
  }

  /** Cheap liveness check usable while the event loop is blocked (requestSync). */
  protected abstract alive(): boolean;
}
