/**
 * @module container-host
 * The kernel's view of a driver container, implemented three ways in containers/ (IC0
 * in-process, IC1 worker thread, IC2 child process). Downcalls go through `ContainerOps`;
 * upcalls arrive at a `KernelServices` the device manager provides.
 */
import type { InjectionToken } from 'tsyringe';
import type { IsolationClass, DeviceSpec } from './platform/types.js';
import type { Credentials } from './vfs/types.js';
import type { LogLevel, NodeSpec } from './driver-port.js';
import type { IpcStats } from './kernel-api.js';

export type MaybePromise<T> = T | Promise<T>;

/** Downcalls into a container. Results carry Linux-style status (>= 0 or -errno). */
export interface ContainerOps {
  probe(binding: number, spec: Omit<DeviceSpec, 'where'>, params: Record<string, unknown>): Promise<number>;
  remove(binding: number): Promise<number>;
  open(node: number, file: number, flags: number, cred: Credentials): Promise<number>;
  release(file: number): Promise<number>;
  /** `into`: the caller's memory for the result, usable by hosts that share the kernel's heap (IC0). */
  read(file: number, length: number, pos: number, into?: Uint8Array): Promise<{ status: number; data: Uint8Array | null; pos: number }>;
  write(file: number, data: Uint8Array, pos: number): Promise<{ status: number; pos: number }>;
  ioctl(file: number, cmd: number, intArg: number, buf: Uint8Array | null): Promise<{ status: number; out: Uint8Array | null }>;
  poll(file: number): Promise<number>;
  mmap(file: number, length: number, offset: number): Promise<{ status: number; region: number; offset: number; length: number }>;
  llseek(file: number, offset: number, whence: number, pos: number): Promise<{ status: number; pos: number }>;
  fsync(file: number): Promise<number>;
  attrShow(attr: number): Promise<{ status: number; text: string }>;
  attrStore(attr: number, text: string): Promise<number>;
  irq(line: number): void;
  /** Round trip used by benchmarks and liveness checks; blocks the caller (spin, then sleep). */
  pingSync(value: number): number;
  ping(value: number): Promise<number>;
}

/** Upcalls from a container, as the kernel handles them. */
export interface KernelServices {
  log(container: string, level: LogLevel, binding: number, message: string): void;
  /** `name`: the interface name allocated for a 'net' node. */
  registerNode(container: string, binding: number, node: number, spec: NodeSpec): Promise<{ status: number; major: number; minor: number; name?: string }>;
  unregisterNode(container: string, node: number): Promise<number>;
  pollNotify(container: string, node: number): void;
  addAttribute(container: string, binding: number, attr: number, spec: { name: string; mode: number; dir?: string }): Promise<number>;
  removeAttribute(container: string, attr: number): Promise<number>;
  registerRegion(container: string, region: number, buffer: SharedArrayBuffer): number;
  freeRegion(container: string, region: number): number;
  /**
   * DriverEnv.mapDeviceMemory: checks that [addr, addr + size) lies in a RAM-backed window of the
   * binding's device, registers the kernel's view of it as `region`, and says where the container
   * maps the same bytes from: `buffer` (a thread of this process) or the memfd `fd` at `offset`.
   */
  mapDeviceMemory(container: string, binding: number, region: number, addr: number, size: number):
    { status: number; buffer: SharedArrayBuffer | null; fd: number; offset: number };
  requestIrq(container: string, binding: number, line: number): number;
  freeIrq(container: string, line: number): number;
  /** The container's handler for `line` returned: re-evaluate the (level-triggered) line. */
  eoi(container: string, line: number): void;
  /** disable_irq/enable_irq of a line the container owns (others are ignored). */
  maskIrq(container: string, line: number, masked: boolean): void;
  /** Allocates `size` bytes of physical memory for a binding's device and grants it DMA access. */
  dmaAlloc(container: string, binding: number, size: number, dir: number): Promise<{ status: number; addr: number }>;
  dmaFree(container: string, binding: number, addr: number): Promise<number>;
  /** The machine's physical memory (for mapping DMA buffers into containers), if there is a machine. */
  physicalMemory(): { buffer: SharedArrayBuffer; fd: number } | null;
}

/** The container's MMIO port memory (see devices/machine): a ring pair to the machine thread. */
export interface MmioPortMemory {
  buffer: SharedArrayBuffer;
  capacity: number;
  signal: 'atomics' | 'futex';
  /** memfd of the port, for IC2 children. */
  fd?: number;
}

export interface ContainerExit {
  /** 'crash' (threw or died), 'hang' (watchdog), 'stopped' (asked to). */
  reason: 'crash' | 'hang' | 'stopped';
  detail: string;
}

export interface ContainerStartOptions {
  id: string;
  driverName: string;
  /** Absolute path of the driver module (compiled JS). */
  entryPath: string;
  params: Record<string, unknown>;
  services: KernelServices;
  /** Called once when the container dies or is stopped. */
  onExit: (exit: ContainerExit) => void;
  /** MMIO port to the machine thread, when the platform has device models. */
  mmio?: MmioPortMemory;
}

export interface IContainerHost {
  readonly id: string;
  readonly isolation: IsolationClass;
  readonly ops: ContainerOps;
  readonly pid?: number;
  readonly threadId?: number;
  /** Starts the container and runs module_init; rejects with an HmError on failure. */
  start(): Promise<void>;
  /** Graceful: module_exit, then stop. */
  stop(): Promise<void>;
  /** Immediate: terminate the worker / SIGKILL the process (watchdog, crash recovery). */
  kill(reason: ContainerExit): void;
  /** Requests still unanswered, and the age of the oldest (ms). */
  inflight(): { count: number; oldestMs: number };
  /** Serves messages that arrived without a wake-up (a periodic safety net). */
  poke?(): void;
  /** Milliseconds since the container last showed life (heartbeat or message). */
  silentMs(): number;
  stats(): IpcStats;
}

export type ContainerHostFactory = (isolation: IsolationClass, opts: ContainerStartOptions) => IContainerHost;
export const IContainerHostFactory: InjectionToken<ContainerHostFactory> = Symbol('IContainerHostFactory');
