/**
 * @module kernel-api
 * What the running kernel exposes to tools: the control socket serves exactly this, and the
 * CLI's attach commands are thin clients of it.
 */
import type { InjectionToken } from 'tsyringe';
import type { IVfs } from './vfs/api.js';
import type { IoctlDecl, IsolationClass, MmioWindow, PlatformSpec } from './platform/types.js';
import type { ExportNbdParams, ExportNbdResult } from './nbd/exports.js';
import type { NetStack } from './net/stack.js';

export type DeviceState = 'unbound' | 'probing' | 'bound' | 'deferred' | 'failed' | 'restarting';
export type ContainerState = 'starting' | 'running' | 'crashed' | 'restarting' | 'stopped';

export interface DeviceInfo {
  name: string;
  compatible: string[];
  reg: MmioWindow[];
  irqs: number[];
  state: DeviceState;
  driver?: string;
  isolation?: IsolationClass;
  /** Container id serving the binding. */
  container?: string;
  /** /dev (and other) nodes the driver registered for this device. */
  nodes: string[];
  /** Last probe error, e.g. "-EPROBE_DEFER" or a message. */
  error?: string;
}

export interface DriverInfo {
  name: string;
  description?: string;
  compatible: string[];
  kind: 'linux' | 'native';
  isolation: IsolationClass;
  devices: string[];
  ioctls: IoctlDecl[];
}

export interface IpcStats {
  calls: number;          // kernel -> container requests
  upcalls: number;        // container -> kernel requests
  notifications: number;  // one-way messages, both directions
  errors: number;         // requests completed with an error
  spinHits: number;       // replies that arrived while spinning
  sleeps: number;         // waits that had to block/arm a doorbell
  wakeups: number;        // doorbell rings sent
  inflight: number;
}

export interface ContainerInfo {
  id: string;
  driver: string;
  isolation: IsolationClass;
  state: ContainerState;
  pid?: number;
  threadId?: number;
  restarts: number;
  devices: string[];
  ipc: IpcStats;
  lastError?: string;
}

/** One kernel log record (printk), as `dmesg` shows it. */
export interface KernelLogRecord {
  seq: number;
  /** Seconds since boot. */
  time: number;
  /** 0 emerg … 7 debug. */
  level: number;
  source: string;
  message: string;
}

export interface IKernel {
  readonly vfs: IVfs;
  readonly platform: PlatformSpec;
  devices(): DeviceInfo[];
  drivers(): DriverInfo[];
  containers(): ContainerInfo[];
  /** Binds `device` (to `driver`, or to the best match). */
  bind(device: string, driver?: string): Promise<void>;
  unbind(device: string): Promise<void>;
  /** The ioctl declarations of the driver behind a device node path, if any. */
  ioctlsFor(path: string): Promise<IoctlDecl[]>;
  /** Kernel log records after `sinceSeq` (the ring keeps the most recent ones). */
  dmesg(sinceSeq?: number): KernelLogRecord[];
  /** Resolves when a record after `sinceSeq` exists, or after `timeoutMs`. */
  waitLog(sinceSeq: number, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Serves a block device over NBD (newstyle fixed) so real clients can use it. */
  exportNbd(params: ExportNbdParams): Promise<ExportNbdResult>;
  /** Current NBD exports. */
  nbdExports(): ExportNbdResult[];
  /**
   * What the display behind a device node (e.g. /dev/fb0) shows now: its model's scanout, as
   * RGBA rows; a string says why nothing is shown (display off, mode not displayable). Throws
   * SystemError ENODEV for a node without a display model. Absent on kernels without a machine.
   */
  scanout?(path: string): Promise<{ width: number; height: number; rgba: Uint8Array } | string>;
  /** The network stack (interfaces, packet sockets, ping); see framework/net. */
  readonly net?: NetStack;
  /**
   * Plugs (true) or unplugs a NIC device's cable in the machine, as a person would: the link goes
   * down at both ends of its wire and the drivers see a link-change interrupt.
   */
  setCable?(device: string, plugged: boolean): Promise<void>;
  /** Unbinds everything, stops containers, closes fds. */
  shutdown(): Promise<void>;
}

export const IKernel: InjectionToken<IKernel> = Symbol('IKernel');
