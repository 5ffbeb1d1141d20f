/**
 * @module machine/machine
 * The kernel's handle on the machine: physical memory (and its DMA allocator), the machine
 * thread running the device models, MMIO ports for driver containers, DMA grants (the IOMMU),
 * and the IRQ levels the models drive.
 */
import { modelModules } from './models.js';
import { Worker } from 'node:worker_threads';
import { native } from '../native/index.js';
import { PhysicalMemory } from '../core/phys-mem.js';
import { Ring, ringBytes } from '../ipc/ring.js';
import { Endpoint, reply } from '../ipc/endpoint.js';
import { futexSignal, type SignalKind } from '../ipc/signal.js';
import { SpinBudget } from '../ipc/spin.js';
import { DMA_DIRS, MOp, type MachineConfig } from './protocol.js';
import { closeSync } from 'node:fs';
import { toRgba, type RgbaFrame, type ScanoutMode } from '../display/bochs.scanout.js';

/** 64 KiB per direction: MMIO messages are one cache line each. */
export const PORT_RING_CAPACITY = 1 << 16;

export interface PortMemory {
  buffer: SharedArrayBuffer;
  capacity: number;
  signal: SignalKind;
  /** memfd of the port, for an IC2 child to map. */
  fd?: number;
}

export interface MachineOptions {
  memoryBytes?: number;
  kernelPage: { buffer: SharedArrayBuffer; maxSpinners: number };
}

export interface MachineStats {
  devices: { name: string; model: string; dmaFaults: number }[];
  ports: { port: number; faults: number }[];
}

/** Device RAM (a BAR backed by memory, e.g. VRAM) at its bus window, as the models allocated it. */
export interface DeviceRamWindow {
  device: string;
  base: number;
  size: number;
  /** memfd of the RAM: containers map [offset, offset + size) of it. */
  fd: number;
  /** The whole RAM, as the kernel sees it. */
  buffer: SharedArrayBuffer;
}

export class Machine {
  /** Device RAM windows (filled when the machine thread is ready). */
  private ram: DeviceRamWindow[] = [];

  private irqListener: (line: number, level: boolean) => void = () => undefined;
  private logListener: (level: number, text: string) => void = () => undefined;
  private nextPort = 1;
  private closed = false;
  private pokeTimer: NodeJS.Timeout | null = null;

  private constructor(readonly config: MachineConfig, readonly memory: PhysicalMemory,
    private readonly worker: Worker, private readonly control: Endpoint) {}

  static async start(config: MachineConfig, opts: MachineOptions): Promise<Machine> {
    // 256 MiB of guest RAM: a memfd, so untouched pages cost nothing; room for a 4 MiB swiotlb
    // pool per DMA-capable device plus rings and coherent buffers.
    const memory = new PhysicalMemory({ size: opts.memoryBytes ?? 256 << 20, name: 'hmdrv-phys' });
    const capacity = PORT_RING_CAPACITY;
    const buffer = new SharedArrayBuffer(2 * ringBytes(capacity));
    const worker = new Worker(new URL('./machine-worker.js', import.meta.url), {
      workerData: { config: { ...config, modelModules: config.modelModules ?? modelModules() }, phys: memory.buffer, control: { buffer, capacity }, kernelPage: opts.kernelPage.buffer, maxSpinners: opts.kernelPage.maxSpinners },
    });
    // eslint-disable-next-line prefer-const -- assigned after the endpoint whose handlers capture it
    let m!: Machine;
    const control = new Endpoint({
      name: 'machine', tx: new Ring(buffer, 0, capacity), rx: new Ring(buffer, ringBytes(capacity), capacity),
      signal: futexSignal, budget: new SpinBudget(new Int32Array(opts.kernelPage.buffer), opts.kernelPage.maxSpinners),
      onRequest: () => reply(-38),
      onNotify: (msg) => {
        if (msg.op === MOp.IRQ_LEVEL) m.irqListener(msg.a0, msg.a3 !== 0);
        else if (msg.op === MOp.LOG) m.logListener(msg.a0, new TextDecoder().decode(msg.payload ?? new Uint8Array()));
      },
    });
    m = new Machine(config, memory, worker, control);
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (msg: { ram?: DeviceRamWindow[] }) => { m.ram = msg.ram ?? []; resolve(); });
      worker.once('error', reject);
    });
    worker.on('error', (e) => m.logListener(2, `machine thread crashed: ${e.message}`));
    control.start();
    m.pokeTimer = setInterval(() => control.poke(), 100);
    m.pokeTimer.unref();
    return m;
  }

  onIrq(fn: (line: number, level: boolean) => void): void { this.irqListener = fn; }

  /** Processes the level reports already queued (before an EOI re-check: see MmioPort.sync). */
  drainReports(): void { this.control.drain(); }

  /**
   * Busy-polls the machine's reports (interrupt levels, logs) on this thread until `done()` or
   * `maxMs` pass; true if done. Meanwhile the machine sees this thread awake and sends no
   * wake-ups. For a register-level loop that owns a core; the caller holds a spin token.
   */
  pollReports(done: () => boolean, maxMs: number): boolean {
    const c = this.control;
    c.enterPolling();
    try {
      const end = performance.now() + maxMs;
      for (let i = 0; ; i++) {
        c.drain();
        if (done()) return true;
        if ((i & 63) === 63 && performance.now() > end) return false;
      }
    } finally {
      c.leavePolling();
    }
  }

  onLog(fn: (level: number, text: string) => void): void { this.logListener = fn; }

  deviceIndex(name: string): number {
    return this.config.devices.findIndex((d) => d.name === name);
  }

  hasModel(name: string): boolean {
    return this.deviceIndex(name) >= 0;
  }

  /** A new MMIO port: 'thread' for IC0/IC1 clients, 'process' (memfd + futex) for IC2. */
  openPort(shared: 'thread' | 'process'): { id: number; memory: PortMemory } {
    const id = this.nextPort++;
    const capacity = PORT_RING_CAPACITY;
    const bytes = 2 * ringBytes(capacity);
    let memory: PortMemory;
    if (shared === 'thread') {
      // Futex doorbells even within the process: Atomics.waitAsync was seen to miss wake-ups.
      memory = { buffer: new SharedArrayBuffer(bytes), capacity, signal: 'futex' };
    } else {
      const fd = native().memfdCreate('hmdrv-mmio-port', bytes);
      memory = { buffer: native().mapFd(fd, bytes), capacity, signal: 'futex', fd };
    }
    this.worker.postMessage({ type: 'port', port: id, buffer: memory.buffer, capacity, signal: memory.signal });
    return { id, memory };
  }

  async closePort(id: number): Promise<void> {
    await this.control.request(MOp.CLOSE_PORT, id);
  }

  async grantWindow(port: number, base: number, size: number): Promise<number> {
    return (await this.control.request(MOp.GRANT_WINDOW, port, base, size)).status;
  }

  async revokeWindow(port: number, base: number): Promise<number> {
    return (await this.control.request(MOp.REVOKE_WINDOW, port, base)).status;
  }

  async grantDma(device: string, addr: number, size: number, dir: (typeof DMA_DIRS)[number]): Promise<number> {
    const i = this.deviceIndex(device);
    if (i < 0) return -19;
    return (await this.control.request(MOp.GRANT_DMA, i, addr, size, DMA_DIRS.indexOf(dir))).status;
  }

  async revokeDma(device: string, addr: number): Promise<number> {
    const i = this.deviceIndex(device);
    if (i < 0) return -19;
    return (await this.control.request(MOp.REVOKE_DMA, i, addr)).status;
  }

  /** Puts a device back in its reset state and revokes its DMA grants (after a driver crash). */
  async resetDevice(device: string): Promise<number> {
    const i = this.deviceIndex(device);
    if (i < 0) return -19;
    return (await this.control.request(MOp.RESET_DEVICE, i)).status;
  }

  /**
   * The device RAM window holding [addr, addr + size) for `device`, and the offset of `addr` in
   * its memfd; null when no RAM window of that device contains the whole range.
   */
  deviceRam(device: string, addr: number, size: number): { window: DeviceRamWindow; offset: number } | null {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(size) || size <= 0) return null;
    const w = this.ram.find((r) => r.device === device && addr >= r.base && addr + size <= r.base + r.size);
    return w ? { window: w, offset: addr - w.base } : null;
  }

  /**
   * What a display model shows now, as RGBA read from its RAM (the frame the model latched, at
   * its offsets); a string says why nothing is shown. Rejects with an errno-carrying Error:
   * -ENODEV (no model), -EOPNOTSUPP (not a display).
   */
  async scanout(device: string): Promise<RgbaFrame | string> {
    const i = this.deviceIndex(device);
    const r = i < 0 ? { status: -19, payload: null } : await this.control.request(MOp.SCANOUT, i);
    if (r.status < 0) throw Object.assign(new Error(`${device}: no scanout (${r.status})`), { errno: r.status });
    const mode = JSON.parse(new TextDecoder().decode(r.payload ?? new Uint8Array())) as ScanoutMode | string;
    if (typeof mode === 'string') return mode;
    const vram = this.ram.find((w) => w.device === device);
    if (!vram) return `${device} has no device RAM mapped`;
    return toRgba(new Uint8Array(vram.buffer), mode);
  }

  /** Plugs (true) or unplugs a NIC's cable: the link changes as on real hardware (LSC interrupt). */
  async setCable(device: string, plugged: boolean): Promise<number> {
    const i = this.deviceIndex(device);
    if (i < 0) return -19;
    return (await this.control.request(MOp.CABLE, i, plugged ? 1 : 0)).status;
  }

  /** Fault counters: DMA (IOMMU) faults per device, MMIO faults per container port. */
  async stats(): Promise<MachineStats> {
    const r = await this.control.request(MOp.STATS);
    return JSON.parse(new TextDecoder().decode(r.payload ?? new Uint8Array()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pokeTimer) clearInterval(this.pokeTimer);
    this.control.close();
    await this.worker.terminate();
    this.memory.close();
    for (const w of this.ram) { try { closeSync(w.fd); } catch { /* closed */ } }
    this.ram = [];
  }
}
