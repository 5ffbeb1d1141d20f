/**
 * @module container-main
 * Boot of an IC1 or IC2 container, given its channel memory and kernel page: open the
 * container-side endpoint, create the runtime, start the heartbeat, serve until EXIT.
 */
import { openEndpoint } from '../ipc/channel.js';
import { Op, textBytes } from '../ipc/ops.js';
import { HEARTBEAT, ringBytes } from '../../devices/ipc/ring.js';
import { signalFor, type SignalKind } from '../../devices/ipc/signal.js';
import { SpinBudget } from '../../devices/ipc/spin.js';
import { DriverRuntime } from './driver-runtime.js';
import { MmioPort } from '../../devices/machine/mmio-port.js';
import { rpcKernelLink, serveDowncall } from './rpc-server.js';
import type { Endpoint } from '../../devices/ipc/endpoint.js';
import type { IsolationClass } from '../../framework/platform/types.js';

export interface ContainerBoot {
  id: string;
  isolation: IsolationClass;
  signal: SignalKind;
  channel: { buffer: SharedArrayBuffer; capacity: number };
  kernelPage: SharedArrayBuffer;
  /** MMIO port to the machine thread (when the platform has device models). */
  mmio?: { buffer: SharedArrayBuffer; capacity: number; signal: SignalKind };
  maxSpinners: number;
  heartbeatMs: number;
  /** Class-specific mapping of DMA pages the kernel allocated at bus address `addr`. */
  mapDma: (addr: number, size: number) => Promise<Uint8Array | null>;
  /** Class-specific mapping of device memory: `size` bytes at `offset` of the kernel's memfd `fd` (null: failed). */
  mapDevMem: (fd: number, offset: number, size: number) => SharedArrayBuffer | null;
  /** Class-specific shared-memory allocation (SAB posted to the kernel, or a memfd). */
  allocRegion: (ep: Endpoint, region: number, size: number) => Promise<{ status: number; buffer: SharedArrayBuffer | null }>;
  exit: (code: number) => void;
}

export function runContainer(boot: ContainerBoot): { endpoint: Endpoint; runtime: DriverRuntime } {
  const budget = new SpinBudget(new Int32Array(boot.kernelPage), boot.maxSpinners);
  // eslint-disable-next-line prefer-const -- assigned after the endpoint that its closures capture
  let runtime!: DriverRuntime;
  const exitNow = (): void => shutdown(0);
  let turns = 0;
  const upCtrl = new Int32Array(boot.channel.buffer, ringBytes(boot.channel.capacity), 48);
  const endpoint: Endpoint = openEndpoint(boot.channel, 'container', {
    name: boot.id,
    signal: signalFor(boot.signal),
    budget,
    idleSpin: true,
    copyMessages: false, // serveDowncall reads every field before it awaits anything
    onRequest: (m) => serveDowncall(runtime, m, exitNow),
    onNotify: (m) => { if (m.op === Op.IRQ) runtime.irq(m.a0); },
    onCorrupt: () => shutdown(71),
    onServiceTurn: () => { if (++turns % 1024 === 0) Atomics.add(upCtrl, HEARTBEAT, 1); },
  });
  const link = rpcKernelLink(endpoint, (region, size) => boot.allocRegion(endpoint, region, size), boot.mapDma, boot.mapDevMem);
  const mmio = boot.mmio ? new MmioPort(boot.mmio, budget, `${boot.id}-mmio`) : null;
  runtime = new DriverRuntime(boot.isolation, link, (err, where) => {
    const text = `${where}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    endpoint.notify(Op.FAULT, 0, 0, 0, 0, textBytes(text));
  }, mmio);
  const beat = setInterval(() => { Atomics.add(upCtrl, HEARTBEAT, 1); endpoint.poke(); }, boot.heartbeatMs);
  function shutdown(code: number): void {
    clearInterval(beat);
    endpoint.close();
    boot.exit(code);
  }
  endpoint.start();
  return { endpoint, runtime };
}
