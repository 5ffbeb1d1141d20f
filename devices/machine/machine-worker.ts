/**
 * @module machine/machine-worker
 * The machine thread: device models run here, concurrently with drivers, as silicon does.
 * Drivers reach their registers through ports (one per container): writes are posted (queued
 * in order, no reply), reads are non-posted (answered after the port's earlier writes, since
 * one FIFO carries both). While ports are busy the thread polls them all (holding a spin
 * token); when they go quiet it sleeps until a doorbell rings, and model timers run on its
 * event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PhysicalMemory } from '../core/phys-mem.js';
import { DmaSpace } from '../core/dma.js';
import { IrqLine } from '../core/irq.js';
import { Scheduler } from '../core/scheduler.js';
import { RealClock, VirtualClock } from '../core/clock.js';
import type { DeviceModel, MmioRegionSpec } from '../core/device-model.js';
import { Ring, ringBytes } from '../ipc/ring.js';
import { Endpoint, reply, type Reply } from '../ipc/endpoint.js';
import { signalFor, type SignalKind } from '../ipc/signal.js';
import { SpinBudget } from '../ipc/spin.js';
import type { Message } from '../ipc/ring.js';
import { DMA_DIRS, MOp, type MachineConfig } from './protocol.js';
import { loadModelModules, modelFactory } from './models.js';
import { Switch, Wire } from '../nic/wire.js';
import type { E1000 } from '../nic/e1000.model.js';
import { closeSync } from 'node:fs';
import { native } from '../native/index.js';

interface Boot {
  config: MachineConfig;
  phys: SharedArrayBuffer;
  control: { buffer: SharedArrayBuffer; capacity: number };
  kernelPage: SharedArrayBuffer;
  maxSpinners: number;
}

interface Window { base: number; size: number; region: MmioRegionSpec; device: string }
interface Port {
  id: number;
  ep: Endpoint;
  grants: { base: number; size: number }[];
  faults: number;
  /** The window of the last access that hit: consecutive accesses mostly go to one device. */
  last: Window | null;
}

const boot = workerData as Boot;
const budget = new SpinBudget(new Int32Array(boot.kernelPage), boot.maxSpinners);
const memory = PhysicalMemory.attach(boot.phys);
const clock = boot.config.clock === 'virtual' ? new VirtualClock() : new RealClock();
const scheduler = new Scheduler(clock, { onError: (e) => log(3, `model event failed: ${e instanceof Error ? e.stack : String(e)}`) });
const windows: Window[] = [];
const models: DeviceModel[] = [];
const dmaSpaces: DmaSpace[] = [];
const ports = new Map<number, Port>();
/** The ports' endpoints, rebuilt when a port opens or closes (the hot paths iterate this). */
let portEps: Endpoint[] = [];
const refreshPortEps = (): void => { portEps = [...ports.values()].map((p) => p.ep); };
/** Device RAM (ModelContext.ram) at its bus window: memfds the kernel and containers map. */
const ramWindows: { device: string; base: number; size: number; fd: number; buffer: SharedArrayBuffer }[] = [];
/**
 * Grants for ports whose memory has not arrived yet: a port's buffer comes by postMessage while
 * grants come on the control ring, and the two channels are not ordered with each other.
 */
const early = new Map<number, { base: number; size: number }[]>();

const control = endpointOver(boot.control, 'machine-control', 'futex', (m) => controlRequest(m), () => undefined);
// Safety net against a lost wake-up: serve whatever sits in a ring while its listener sleeps.
setInterval(() => { control.poke(); for (const p of ports.values()) p.ep.poke(); }, 100);

function log(level: number, text: string): void {
  control.notify(MOp.LOG, level, 0, 0, 0, new TextEncoder().encode(text));
}

function endpointOver(mem: { buffer: SharedArrayBuffer; capacity: number }, name: string, signal: SignalKind,
  onRequest: (m: Message) => Reply | Promise<Reply>, onNotify: (m: Message) => void): Endpoint {
  // Machine side consumes the "down" ring (requests from the client) and produces "up".
  const down = new Ring(mem.buffer, 0, mem.capacity);
  const up = new Ring(mem.buffer, ringBytes(mem.capacity), mem.capacity);
  return new Endpoint({
    name, tx: up, rx: down, signal: signalFor(signal), budget, copyMessages: false,
    onRequest: (m) => { kick(); return onRequest(m); },
    onNotify: (m) => { kick(); onNotify(m); },
  });
}

// ---- interrupt levels -----------------------------------------------------------------------

/*
 * Level changes are reported at the end of the model work that made them (one scheduler pass,
 * one message drain), not the moment a model sets its line: a completion batch then raises one
 * interrupt the driver's handler reads after the batch, instead of a handler whose first
 * register read waits behind the rest of the batch. Reports still precede every MMIO answer
 * (flushIrqs in portRequest), so a read or sync orders the level changes of earlier writes as
 * PCIe orders an MSI after the writes before it. A line that goes up and down within one pass
 * reports only its final level (a pulse no level-triggered CPU could have seen either).
 */
/** The poll loop is running (it flushes level changes after every turn). */
let polling = false;
const irqLevel: boolean[] = [];
const irqQueued: boolean[] = [];
const irqDirty: number[] = [];
let irqFlushQueued = false;

function irqChanged(n: number, level: boolean): void {
  irqLevel[n] = level;
  if (!irqQueued[n]) { irqQueued[n] = true; irqDirty.push(n); }
  // Outside the poll loop (a timer or a listener ran the model): report after this task. The
  // poll loop flushes after every turn itself (and every answer flushes first).
  if (!polling && !irqFlushQueued) { irqFlushQueued = true; queueMicrotask(flushIrqs); }
}

function flushIrqs(): void {
  irqFlushQueued = false;
  if (irqDirty.length === 0) return;
  for (const n of irqDirty) {
    irqQueued[n] = false;
    control.notify(MOp.IRQ_LEVEL, n, 0, 0, irqLevel[n] ? 1 : 0);
  }
  irqDirty.length = 0;
}

// ---- models --------------------------------------------------------------------------------

await loadModelModules(boot.config.modelModules ?? [], (m) => log(3, m));
for (const [index, cfg] of boot.config.devices.entries()) {
  const factory = modelFactory(cfg.model);
  if (!factory) { log(3, `${cfg.name}: unknown model "${cfg.model}"`); continue; }
  const irqs = cfg.irqs.map((n) => {
    const line = new IrqLine(`${cfg.name}.irq${n}`);
    line.onChange((level) => irqChanged(n, level));
    return line;
  });
  const dma = new DmaSpace(memory, cfg.name, {
    onFault: (f) => log(4, `${cfg.name}: IOMMU fault: ${f.kind} ${f.dir} at 0x${f.addr.toString(16)} len ${f.len}`),
  });
  dmaSpaces[index] = dma;
  const ram: { fd: number; size: number; buffer: SharedArrayBuffer }[] = [];
  const allocRam = (size: number): SharedArrayBuffer => {
    const fd = native().memfdCreate(`hmdrv-${cfg.name}-ram${ram.length}`, size);
    const buffer = native().mapFd(fd, size);
    ram.push({ fd, size, buffer });
    return buffer;
  };
  try {
    const model = factory({ name: cfg.name, memory, dma, scheduler, irqs, params: cfg.params, log: (m) => log(6, `${cfg.name}: ${m}`), ram: allocRam });
    model.realize();
    models[index] = model;
    model.regions.forEach((region, i) => {
      const w = cfg.windows[i];
      if (w) windows.push({ base: w.base, size: Math.min(w.size, region.size), region, device: cfg.name });
    });
    // Device RAM answers at the windows after the MMIO regions; the CPU maps it, no port access.
    ram.forEach((r, i) => {
      const w = cfg.windows[model.regions.length + i];
      if (w) ramWindows.push({ device: cfg.name, base: w.base, size: Math.min(w.size, r.size), fd: r.fd, buffer: r.buffer });
      else { log(4, `${cfg.name}: device RAM ${i} (${r.size} bytes) has no reg window: the CPU cannot map it`); closeSync(r.fd); }
    });
  } catch (e) {
    for (const r of ram) closeSync(r.fd);
    log(3, `${cfg.name}: model ${cfg.model} failed to realize: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---- networks: NICs whose platform entry says "wire": "<name>" share that segment -----------

const segments = new Map<string, E1000[]>();
/** Per NIC device index: plugs or unplugs its cable (CABLE). */
const cables = new Map<number, (up: boolean) => void>();
for (const [index, cfg] of boot.config.devices.entries()) {
  const wire = cfg.params.wire;
  if (cfg.model === 'e1000' && typeof wire === 'string' && models[index]) {
    segments.set(wire, [...(segments.get(wire) ?? []), models[index] as E1000]);
  }
}
for (const [name, nics] of segments) {
  const indexOf = (n: E1000) => models.indexOf(n);
  if (nics.length === 2) {
    const w = new Wire({ scheduler, name });
    nics[0]!.attach(w.a);
    nics[1]!.attach(w.b);
    // One cable: pulling it at either end takes both ends' link down.
    for (const n of nics) cables.set(indexOf(n), (up) => w.setConnected(up));
  } else if (nics.length > 2) {
    const sw = new Switch({ scheduler, name, ports: nics.length });
    nics.forEach((n, i) => { n.attach(sw.port(i)); cables.set(indexOf(n), (up) => sw.setLink(i, up)); });
  }
  log(6, `network ${name}: ${nics.length === 1 ? 'one NIC, no peer' : nics.length === 2 ? 'point-to-point wire' : `switch with ${nics.length} ports`}`);
}

function decode(addr: number): Window | undefined {
  for (const w of windows) if (addr >= w.base && addr < w.base + w.size) return w;
  return undefined;
}

function granted(p: Port, addr: number, size: number): boolean {
  return p.grants.some((g) => addr >= g.base && addr + size <= g.base + g.size);
}

function mmioFault(p: Port, what: string, addr: number, size: number): void {
  p.faults++;
  log(4, `port ${p.id}: MMIO ${what} of ${size} bytes at 0x${addr.toString(16)} outside its mapped windows`);
}

/** The window `addr` decodes to, if this port was granted it; the last hit is tried first. */
function resolve(p: Port, addr: number, size: number): Window | undefined {
  const l = p.last;
  if (l && addr >= l.base && addr + size <= l.base + l.size) return l;
  const w = granted(p, addr, size) ? decode(addr) : undefined;
  if (w && addr + size <= w.base + w.size) p.last = w;
  return w;
}

/** A read of an interrupt status (write-1-to-clear) register was answered: a burst follows. */
let statusRead = false;
/** A port's read was answered (ends a register burst). */
let answered = false;

function portRequest(p: Port, m: Message): Reply {
  // The level changes of earlier writes reach the control ring before this answer.
  if (m.op === MOp.MMIO_SYNC) { flushIrqs(); return reply(0); }
  if (m.op !== MOp.MMIO_READ) return reply(-38);
  const addr = m.a1, size = m.a3;
  const w = resolve(p, addr, size);
  if (!w) { flushIrqs(); mmioFault(p, 'read', addr, size); return reply(0, null, size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1); }
  const value = w.region.read(addr - w.base, size) >>> 0;
  answered = true;
  if (w.region.lastReadW1c === true) statusRead = true;
  flushIrqs();
  return reply(0, null, value);
}

function portNotify(p: Port, m: Message): void {
  if (m.op !== MOp.MMIO_WRITE) return;
  const addr = m.a1, size = m.a3;
  const w = resolve(p, addr, size);
  if (!w) { mmioFault(p, 'write', addr, size); return; }
  w.region.write(addr - w.base, size, m.a2 >>> 0);
}

// ---- control -------------------------------------------------------------------------------

function controlRequest(m: Message): Reply {
  switch (m.op) {
    case MOp.GRANT_WINDOW: {
      const grants = ports.get(m.a0)?.grants ?? early.get(m.a0) ?? [];
      grants.push({ base: m.a1, size: m.a2 });
      if (!ports.has(m.a0)) early.set(m.a0, grants);
      return reply(0);
    }
    case MOp.REVOKE_WINDOW: {
      const p = ports.get(m.a0);
      if (p) { p.grants = p.grants.filter((g) => g.base !== m.a1); p.last = null; }
      else early.set(m.a0, (early.get(m.a0) ?? []).filter((g) => g.base !== m.a1));
      return reply(0);
    }
    case MOp.GRANT_DMA: {
      const d = dmaSpaces[m.a0];
      if (!d) return reply(-19);
      try { d.grant(m.a1, m.a2, DMA_DIRS[m.a3] ?? 'bidirectional'); return reply(0); } catch { return reply(-22); }
    }
    case MOp.REVOKE_DMA: {
      const d = dmaSpaces[m.a0];
      if (!d) return reply(-19);
      d.revoke(m.a1);
      return reply(0);
    }
    case MOp.CLOSE_PORT: {
      const p = ports.get(m.a0);
      if (p) { p.ep.close(); ports.delete(m.a0); refreshPortEps(); }
      early.delete(m.a0);
      return reply(0);
    }
    case MOp.RESET_DEVICE: {
      const model = models[m.a0];
      if (!model) return reply(-19);
      dmaSpaces[m.a0]?.revokeAll();
      model.reset();
      return reply(0);
    }
    case MOp.SCANOUT: {
      const model = models[m.a0] as (DeviceModel & { currentMode?: () => unknown }) | undefined;
      if (!model) return reply(-19);
      if (typeof model.currentMode !== 'function') return reply(-95);
      return reply(0, new TextEncoder().encode(JSON.stringify(model.currentMode())));
    }
    case MOp.CABLE: {
      const plug = cables.get(m.a0);
      if (!plug) return reply(models[m.a0] ? -95 : -19); // EOPNOTSUPP: not on a wire
      plug(m.a1 !== 0);
      return reply(0);
    }
    case MOp.STATS:
      // Port faults (accesses outside every window granted to a port) belong to the port's
      // container, not to a device: they are reported per port.
      return reply(0, new TextEncoder().encode(JSON.stringify({
        devices: boot.config.devices.map((d, i) => ({ name: d.name, model: d.model, dmaFaults: sumValues(dmaSpaces[i]?.faults) })),
        ports: [...ports.values()].map((p) => ({ port: p.id, faults: p.faults })),
      })));
    default:
      return reply(-38);
  }
}

parentPort!.on('message', (msg: { type: string; port: number; buffer: SharedArrayBuffer; capacity: number; signal: SignalKind }) => {
  if (msg.type !== 'port') return;
  const port: Port = { id: msg.port, grants: early.get(msg.port) ?? [], faults: 0, ep: null as never, last: null };
  early.delete(msg.port);
  port.ep = endpointOver(msg, `port${msg.port}`, msg.signal, (m) => portRequest(port, m), (m) => portNotify(port, m));
  ports.set(msg.port, port);
  refreshPortEps();
  port.ep.start();
});

// ---- the busy loop ---------------------------------------------------------------------------

/** How long the loop keeps polling after the last MMIO access before it sleeps (ns). */
const POLL_LINGER_NS = 50_000n;
/**
 * After answering a read of an interrupt status register (one with write-1-to-clear bits), keep
 * serving the ports before model work until the next read is answered, the port stays quiet
 * REGISTER_BURST_MS (ms), or REGISTER_BURST_MAX_MS pass. A handler that read a status clears it
 * and reads on at once (UFS: IS, its W1C, UTRLDBR), and silicon answers those while its DMA
 * engines work; this machine runs both on one thread, so it lets the burst go first, briefly.
 * Measured: IC0 /dev/sda 4K randread ~285k -> ~305k IOPS (the handler's second read no longer
 * waits behind the completion work its first read let start). Not after every read: a driver
 * that polls a register, or reads a read-to-clear status (e1000 ICR) and goes on in memory,
 * would only keep the model waiting (e1000 64-byte frames: 353k -> 151k frames/s).
 */
const REGISTER_BURST_MS = 0.005;
const REGISTER_BURST_MAX_MS = 0.02;
/** Yield to the event loop at least this often so model timers run (ns). */
const POLL_SLICE_NS = 1_000_000n;
let pollQueued = false;

/** Called whenever a port's listener fires: switch to polling all ports until they go quiet. */
function kick(): void {
  if (polling || pollQueued) return;
  pollQueued = true;
  setImmediate(pollLoop);
}

/** Serves the ports after a status read (see REGISTER_BURST_MS); the messages handled. */
function serveRegisterBurst(eps: readonly Endpoint[]): number {
  const start = performance.now();
  let until = start + REGISTER_BURST_MS;
  let n = 0;
  for (;;) {
    answered = statusRead = false;
    let k = 0;
    for (const ep of eps) k += ep.drain();
    n += k;
    const now = performance.now();
    if (statusRead) until = now + REGISTER_BURST_MS;       // another status: its burst follows
    else if (answered) return n;                            // the burst's closing read
    else if (k > 0) until = now + REGISTER_BURST_MS;        // its clear: the read comes next
    if (now >= until || now - start >= REGISTER_BURST_MAX_MS) return n;
  }
}

/** Serves every message waiting on the ports, then a status read's burst; the messages handled. */
function serveWaiting(eps: readonly Endpoint[]): number {
  let n = 0;
  statusRead = false;
  for (const ep of eps) n += ep.drain();
  if (statusRead) n += serveRegisterBurst(eps);
  return n;
}

/**
 * Register accesses that arrive while a model's bottom half runs are answered at its preemption
 * points (Scheduler.preemptionPoint: between the requests of a UFS fetch pass or completion
 * batch), not after the whole pass: a handler's read of IS no longer waits for the data movement
 * of requests submitted after its interrupt. Level changes made so far are reported before any
 * answer, as always (portRequest). The UFS model publishes a batch's completions at its end, so
 * the interrupt for them still comes once.
 */
scheduler.setAccessService(() => {
  const eps = portEps;
  let pending = false;
  for (let i = 0; i < eps.length && !pending; i++) pending = eps[i]!.hasPending();
  if (pending) serveWaiting(eps);
});

function pollLoop(): void {
  pollQueued = false;
  if (!budget.acquire()) return; // no free core: stay interrupt-driven (doorbells)
  polling = true;
  const eps = portEps;
  for (const ep of eps) ep.enterPolling();
  const start = process.hrtime.bigint();
  let last = start;
  let again = false;
  // Work seen since the clock was last read: the clock is read every 16 busy turns, and work on
  // any of them (not only the 16th) keeps the loop polling.
  let active = false;
  try {
    for (let i = 1; ; i++) {
      let n = serveWaiting(eps);
      // Model bottom halves and timers must run while we poll, or a polling driver waits on them.
      if (scheduler.runDue()) n++;
      if (irqDirty.length) flushIrqs();
      if (n > 0) active = true;
      if (n > 0 && (i & 15) !== 0) continue;
      const now = process.hrtime.bigint();
      if (active) { last = now; active = false; }
      if (now - last > POLL_LINGER_NS) break;
      if (now - start > POLL_SLICE_NS) { again = true; break; }
    }
  } finally {
    for (const ep of eps) ep.leavePolling();
    polling = false;
    budget.release();
  }
  if (again) kick();
}

control.start();
parentPort!.postMessage({ type: 'ready', devices: boot.config.devices.map((d, i) => ({ name: d.name, ok: models[i] !== undefined })), ram: ramWindows });

function sumValues(r: Record<string, number> | undefined): number {
  return r ? Object.values(r).reduce((a, b) => a + b, 0) : 0;
}
