/**
 * @module machine/mmio-port
 * A driver container's side of its MMIO port. `write` is posted: it queues the access and
 * returns at once. `read` is non-posted: it waits (spin, then sleep) for the value, which the
 * machine produces only after every earlier write of this port, as PCIe orders them.
 */
import { Endpoint, reply } from '../ipc/endpoint.js';
import { Ring, ringBytes } from '../ipc/ring.js';
import { signalFor, type SignalKind } from '../ipc/signal.js';
import type { SpinBudget } from '../ipc/spin.js';
import { MOp } from './protocol.js';

export class MmioPort {
  private readonly ep: Endpoint;
  /** Writes posted since the last answered read or sync: a sync has something to wait for. */
  private posted = false;

  constructor(mem: { buffer: SharedArrayBuffer; capacity: number; signal: SignalKind }, budget: SpinBudget, name = 'mmio') {
    this.ep = new Endpoint({
      name, tx: new Ring(mem.buffer, 0, mem.capacity), rx: new Ring(mem.buffer, ringBytes(mem.capacity), mem.capacity),
      signal: signalFor(mem.signal), budget, onRequest: () => reply(-38), onNotify: () => undefined,
    });
  }

  /** Reads `size` (1, 2 or 4) bytes at bus address `addr`; all ones if the machine does not answer. */
  read(addr: number, size: 1 | 2 | 4 = 4): number {
    const r = this.ep.requestSync(MOp.MMIO_READ, 0, addr, 0, size, null, 1_000);
    // The answer comes after every earlier write took effect (and their IRQ level changes were
    // reported): as good as a sync.
    if (r.status >= 0) this.posted = false;
    return r.status < 0 ? (size === 4 ? 0xffffffff : (1 << (size * 8)) - 1) : r.a1 >>> 0;
  }

  /** Posted; stalls only while the port's queue is full. False if the machine stopped answering. */
  write(addr: number, value: number, size: 1 | 2 | 4 = 4): boolean {
    this.posted = true;
    return this.ep.post(MOp.MMIO_WRITE, 0, addr, value >>> 0, size);
  }

  /**
   * Waits until every earlier write has reached its device, and the device's resulting IRQ
   * level is reported to the kernel (used before EOI, so a handler's W1C is seen first).
   */
  sync(): void {
    if (!this.posted) return; // nothing since the last read, which already was a barrier
    if (this.ep.requestSync(MOp.MMIO_SYNC, 0, 0, 0, 0, null, 1_000).status >= 0) this.posted = false;
  }

  get stats(): Endpoint['stats'] { return this.ep.stats; }

  close(): void { this.ep.close(); }
}
