/**
 * @module records
 * The device manager's bookkeeping: a device (from the platform), a container (one per driver
 * and isolation class, serving all its devices), a binding (driver × device, one per probe),
 * and the device nodes a binding registered.
 */
import type { DependencyContainer } from 'tsyringe';
import type { IContainerHost } from '../container-host.js';
import type { DeviceState, ContainerState } from '../kernel-api.js';
import type { DeviceSpec, DriverManifest, IsolationClass } from '../platform/types.js';
import type { DisposableStore } from '../lifecycle/disposable.js';
import type { DeviceFileOperations } from '../vfs/types.js';
import type { MmioPortMemory } from '../container-host.js';

export interface NodeRecord {
  /** Container-side node id (changes with each container incarnation). */
  node: number;
  path: string;
  /** 'net': a network interface (no /dev entry; path is /sys/class/net/<name>, minor its ifindex). */
  kind: 'chr' | 'blk' | 'net';
  major: number;
  minor: number;
  className?: string;
  /** Block devices: capacity in bytes (NodeSpec.size), reported by stat. */
  size?: number;
  /** The VFS-facing operations object; stable across restarts so open paths keep working. */
  ops: DeviceFileOperations;
  container: ContainerRecord;
  binding: BindingRecord;
  /** Removes the node, its /sys/class entry and links. */
  remove: () => Promise<void>;
}

export interface BindingRecord {
  id: number;
  device: DeviceRecord;
  container: ContainerRecord;
  /** devm: everything acquired for this binding, released in reverse order. */
  scope: DisposableStore;
  /** Child DI container of the binding (its services are ContainerScoped). */
  di: DependencyContainer;
  nodes: Map<number, NodeRecord>;
  /** DMA buffers by bus address, with their release (revoke grant, free pages). */
  dma: Map<number, { dispose(): void | Promise<void> }>;
}

export interface DeviceRecord {
  spec: DeviceSpec;
  state: DeviceState;
  driver?: DriverManifest;
  isolation?: IsolationClass;
  binding?: BindingRecord;
  error?: string;
  /** Nodes kept across a container restart, re-attached when the driver registers them again. */
  carryover: Map<string, NodeRecord>;
}

export interface ContainerRecord {
  id: string;
  driver: DriverManifest;
  isolation: IsolationClass;
  params: Record<string, unknown>;
  host: IContainerHost | null;
  state: ContainerState;
  restarts: number;
  /** Crashes since the container last ran long enough to be called stable. */
  consecutiveCrashes: number;
  startedAt: number;
  lastError?: string;
  bindings: Map<number, BindingRecord>;
  nodes: Map<number, NodeRecord>;
  attrs: Map<number, { binding: BindingRecord; path: string; remove: () => Promise<void> }>;
  regions: Map<number, SharedArrayBuffer>;
  irqs: Set<number>;
  /** The incarnation's MMIO port to the machine thread, if the platform has device models. */
  port?: { id: number; memory: MmioPortMemory };
  /** Resolves when the container is running (again); waiters use it during a restart. */
  ready: Promise<void>;
  markReady: () => void;
  restartTimer?: NodeJS.Timeout;
}
