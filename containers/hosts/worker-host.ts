/**
 * @module worker-host
 * IC1: the driver runs in a worker thread with its own V8 heap. It shares with the kernel only
 * the SharedArrayBuffers it is handed (channel, kernel page) or allocates and posts (regions).
 */
import { Worker } from 'node:worker_threads';
import type { ContainerStartOptions } from '../../framework/container-host.js';
import { RpcHost, HEARTBEAT_MS } from './rpc-host.js';
import { native } from '../../devices/native/index.js';
import type { KernelPage } from '../../devices/ipc/kernel-page.js';

const ENTRY = new URL('./worker-entry.js', import.meta.url);

export class WorkerHost extends RpcHost {
  private worker: Worker | null = null;
  private exitedFlag = false;

  constructor(opts: ContainerStartOptions, page: KernelPage) {
    // Doorbells are native futexes here too: Atomics.waitAsync in a freshly started worker was
    // seen to miss wake-ups after another worker's termination (about 1 rebind in 30).
    super('ic1', opts, page, 'futex', 'thread');
  }

  get pid(): number | undefined { return undefined; }
  get threadId(): number | undefined { return this.worker?.threadId; }

  protected spawn(): Promise<void> {
    const w = new Worker(ENTRY, {
      workerData: {
        id: this.id, isolation: 'ic1', signal: 'futex', channel: { buffer: this.mem.buffer, capacity: this.mem.capacity },
        kernelPage: this.page.buffer, maxSpinners: this.page.maxSpinners, heartbeatMs: HEARTBEAT_MS,
        mmio: this.opts.mmio && { buffer: this.opts.mmio.buffer, capacity: this.opts.mmio.capacity, signal: this.opts.mmio.signal },
      },
      // A worker's heap is its own; cap it so a leaking driver dies alone (contained as a crash).
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    this.worker = w;
    w.on('message', (m: { type?: string; region?: number; buffer?: SharedArrayBuffer }) => {
      if (m?.type === 'region' && m.region !== undefined && m.buffer) this.regionPosted(m.region, m.buffer);
    });
    w.on('error', (e) => { this.exitedFlag = true; this.died(`worker threw: ${e.message}`); });
    w.on('exit', (code) => { this.exitedFlag = true; this.died(`worker exited with code ${code}`); });
    return new Promise((resolve, reject) => {
      w.once('online', () => resolve());
      w.once('error', reject);
    });
  }

  /** Posts an alias of exactly the allocated pages: the worker sees nothing else of memory. */
  protected override dmaMapped(addr: number, size: number): void {
    const phys = this.opts.services.physicalMemory();
    if (!phys || !this.worker) return;
    this.worker.postMessage({ type: 'dma', addr, buffer: native().mapFd(phys.fd, size, addr) });
  }

  protected terminate(): void {
    if (this.worker && !this.exitedFlag) void this.worker.terminate();
  }

  protected alive(): boolean {
    return !this.exitedFlag;
  }
}
