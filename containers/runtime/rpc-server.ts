/**
 * @module rpc-server
 * Container side of an IC1/IC2 channel: downcall messages -> DriverRuntime, and a KernelLink
 * whose upcalls are messages. Synchronous driver results are answered synchronously, so a
 * spinning kernel gets its reply without a trip through either event loop.
 */
import type { Endpoint, Reply } from '../../devices/ipc/endpoint.js';
import { reply } from '../../devices/ipc/endpoint.js';
import { Op, bytesJson, bytesText, jsonBytes, textBytes } from '../ipc/ops.js';
import type { Message } from '../../devices/ipc/ring.js';
import type { DriverRuntime, KernelLink } from './driver-runtime.js';
import type { LogLevel, NodeSpec } from '../../framework/driver-port.js';
import type { Credentials } from '../../framework/vfs/types.js';
import type { DeviceSpec } from '../../framework/platform/types.js';

type Maybe<T> = T | Promise<T>;
const map = <T>(v: Maybe<T>, f: (t: T) => Reply): Maybe<Reply> => (v instanceof Promise ? v.then(f) : f(v));

/** Turns one downcall message into a runtime call. */
export function serveDowncall(rt: DriverRuntime, m: Message, onExit: () => void): Maybe<Reply> {
  switch (m.op) {
    case Op.PING: return reply(m.a0);
    case Op.INIT: {
      const { entryPath, params } = bytesJson<{ entryPath: string; params: Record<string, unknown> }>(m.payload);
      return rt.init(entryPath, params).then((s) => reply(s));
    }
    case Op.PROBE: {
      const { binding, spec, params } = bytesJson<{ binding: number; spec: Omit<DeviceSpec, 'where'>; params: Record<string, unknown> }>(m.payload);
      return map(rt.probe(binding, spec, params), (s) => reply(s));
    }
    case Op.REMOVE: return map(rt.remove(m.a0), (s) => reply(s));
    case Op.OPEN: return map(rt.open(m.a0, m.a1, m.a3, bytesJson<Credentials>(m.payload)), (s) => reply(s));
    case Op.RELEASE: return map(rt.release(m.a0), (s) => reply(s));
    case Op.READ: return map(rt.read(m.a0, m.a1, m.a2), (r) => reply(r.status, r.data, r.pos));
    case Op.WRITE: return map(rt.write(m.a0, m.payload ?? new Uint8Array(0), m.a2), (r) => reply(r.status, null, r.pos));
    case Op.IOCTL: return map(rt.ioctl(m.a0, m.a1, m.a2, m.a3 ? (m.payload ?? new Uint8Array(0)) : null), (r) => reply(r.status, r.out));
    case Op.POLL: return map(rt.poll(m.a0), (s) => reply(s));
    case Op.MMAP: return map(rt.mmap(m.a0, m.a1, m.a2), (r) => reply(r.status, null, r.region, r.offset, r.length));
    case Op.LLSEEK: return map(rt.llseek(m.a0, m.a1, m.a3, m.a2), (r) => reply(r.status, null, r.pos));
    case Op.FSYNC: return map(rt.fsync(m.a0), (s) => reply(s));
    case Op.ATTR_SHOW: return map(rt.attrShow(m.a0), (r) => reply(r.status, textBytes(r.text)));
    case Op.ATTR_STORE: return map(rt.attrStore(m.a0, bytesText(m.payload)), (s) => reply(s));
    case Op.EXIT: return rt.exit().then(() => { setImmediate(onExit); return reply(0); });
    default: return reply(-38 /* ENOSYS */);
  }
}

/** Upcalls over the channel. `allocRegion` is class-specific and supplied by the entry. */
export function rpcKernelLink(ep: Endpoint,
  allocRegion: (region: number, size: number) => Promise<{ status: number; buffer: SharedArrayBuffer | null }>,
  mapDma: (addr: number, size: number) => Promise<Uint8Array | null>,
  mapDevMem: (fd: number, offset: number, size: number) => SharedArrayBuffer | null): KernelLink {
  return {
    log: (level: LogLevel, binding, message) => ep.notify(Op.LOG, level, binding, 0, 0, textBytes(message)),
    registerNode: async (binding, node, spec: NodeSpec) => {
      const r = await ep.request(Op.REGISTER_NODE, binding, node, 0, 0, jsonBytes(spec));
      return { status: r.status, major: r.a1, minor: r.a2, ...(r.payload?.length ? { name: bytesText(r.payload) } : {}) };
    },
    unregisterNode: async (node) => (await ep.request(Op.UNREGISTER_NODE, node)).status,
    pollNotify: (node) => ep.notify(Op.POLL_NOTIFY, node),
    addAttribute: async (binding, attr, spec) => (await ep.request(Op.ADD_ATTR, binding, attr, 0, 0, jsonBytes(spec))).status,
    removeAttribute: async (attr) => (await ep.request(Op.REMOVE_ATTR, attr)).status,
    allocRegion,
    freeRegion: async (region) => (await ep.request(Op.FREE_REGION, region)).status,
    requestIrq: async (binding, line) => (await ep.request(Op.REQUEST_IRQ, binding, line)).status,
    freeIrq: async (line) => (await ep.request(Op.FREE_IRQ, line)).status,
    eoi: (line) => ep.notify(Op.EOI, line),
    maskIrq: (line, masked) => ep.notify(Op.MASK_IRQ, line, masked ? 1 : 0),
    dmaAlloc: async (binding, size, dir) => {
      const r = await ep.request(Op.DMA_ALLOC, binding, size, 0, dir);
      if (r.status < 0) return { status: r.status, addr: 0, bytes: null };
      const bytes = await mapDma(r.a1, size);
      return { status: bytes ? 0 : -14, addr: r.a1, bytes };
    },
    dmaFree: async (binding, addr) => (await ep.request(Op.DMA_FREE, binding, addr)).status,
    mapDeviceMemory: async (binding, region, addr, size) => {
      const r = await ep.request(Op.MAP_DEVMEM, binding, region, addr, size);
      return { status: r.status, buffer: r.status < 0 ? null : mapDevMem(r.a1, r.a2, size) };
    },
  };
}
