/**
 * @module driver-port
 * The contract between a driver and the container that hosts it, whatever its isolation class.
 *
 * A driver module default-exports a `DriverModule` (linux-kapi's `module_platform_driver()`
 * builds one; a native driver implements the interface directly). The container calls it (downcalls) and
 * gives it a `DriverEnv` (upcalls into the kernel). Nothing here mentions threads or processes:
 * in IC0 the env calls the kernel directly, in IC1/IC2 it is an RPC stub.
 */
import type { Credentials, IoctlResult } from './vfs/types.js';
import type { DeviceSpec } from './platform/types.js';

/** printk levels, Linux numbering (KERN_EMERG = 0 … KERN_DEBUG = 7). */
export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** What a driver's probe receives about its device (a platform_device). */
export interface DeviceHandle {
  /** Binding id, unique per (driver × device) binding incarnation. */
  readonly binding: number;
  readonly spec: Readonly<Omit<DeviceSpec, 'where'>>;
  /** Module parameters for this driver. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** A file as a driver sees it (Linux `struct file`). */
export interface DriverFile {
  /** Kernel-wide id of the open file description. */
  readonly id: number;
  readonly flags: number;
  readonly cred: Credentials;
  /** Driver-private data (Linux `file->private_data`). */
  privateData?: unknown;
}

/** Driver-side file operations. Return values follow Linux: negative errno on failure. */
export interface DriverFileOps {
  open?(file: DriverFile): number | Promise<number>;
  release?(file: DriverFile): number | void | Promise<number | void>;
  /** Returns the bytes read (a Uint8Array, possibly empty for EOF) or a negative errno. */
  /**
   * `into`, when present (IC0, where driver and caller share a heap), is the caller's buffer of at
   * least `length` bytes: filling it and returning a view of it saves a copy. Never keep it.
   */
  read?(file: DriverFile, length: number, pos: { value: number }, into?: Uint8Array): Uint8Array | number | Promise<Uint8Array | number>;
  /** Returns the count written or a negative errno. */
  write?(file: DriverFile, data: Uint8Array, pos: { value: number }): number | Promise<number>;
  /**
   * `arg` is the user's buffer (copy_from_user/copy_to_user go through it) or an integer.
   * Returns the ioctl's value (>= 0) or a negative errno; bytes written to `user.out` are copied back.
   */
  ioctl?(file: DriverFile, cmd: number, arg: UserArg): number | Promise<number>;
  poll?(file: DriverFile): number | Promise<number>;
  /** Returns the shared region to map, or a negative errno. */
  mmap?(file: DriverFile, length: number, offset: number): SharedRegionRef | number | Promise<SharedRegionRef | number>;
  llseek?(file: DriverFile, offset: number, whence: number, pos: { value: number }): number | Promise<number>;
  fsync?(file: DriverFile): number | Promise<number>;
}

/** The user side of an ioctl: the buffer the caller passed (bounds-checked) or an integer. */
export interface UserArg {
  /** Integer value of the argument (0 for a buffer). */
  readonly value: number;
  /** The caller's buffer, or null when the caller passed an integer. Reads come from here. */
  readonly in: Uint8Array | null;
  /** Filled by copy_to_user; copied back into the caller's buffer. */
  out: Uint8Array | null;
}

/** Memory a container shares with the kernel (for mmap and, later, DMA). */
export interface SharedRegionRef {
  readonly region: number;
  readonly offset: number;
  readonly length: number;
}

export interface SharedRegion extends SharedRegionRef {
  readonly buffer: SharedArrayBuffer;
}

export interface NodeSpec {
  /**
   * Full path, e.g. "/dev/hmecho". For kind 'net': the interface name or a template, "eth%d"
   * (the kernel picks the lowest free number and answers the name; no /dev entry is made).
   */
  path: string;
  /** 'net': a network interface's link to the kernel's stack (framework/net/abi.ts). */
  kind: 'chr' | 'blk' | 'net';
  mode: number;
  /** 0 = let the kernel allocate (misc devices: major 10, dynamic minor). */
  major: number;
  minor: number;
  /** Class under /sys/class (e.g. "misc"); the name is the node's basename. */
  className?: string;
  /** Set by the runtime: the driver implements llseek (else pread/pwrite give ESPIPE). */
  seekable?: boolean;
  /** Block devices: capacity in bytes, what stat() reports (Linux bdev_nr_bytes). */
  size?: number;
}

export interface AttributeSpec {
  name: string;
  mode: number;
  /**
   * Subdirectory of the device's sysfs directory, e.g. "block/sda/queue" or "net/eth0/statistics"
   * (a class device's directory, see NodeSpec.className). Absent: the device's directory itself.
   */
  dir?: string;
  show?: () => string | Promise<string>;
  store?: (value: string) => number | void | Promise<number | void>;
}

/**
 * Register access on the machine's bus (the driver's ioremap'd windows). Writes are posted
 * (queued, in order); reads are non-posted (they wait, after every earlier write).
 */
export interface MmioAccess {
  read(addr: number, size?: 1 | 2 | 4): number;
  write(addr: number, value: number, size?: 1 | 2 | 4): boolean;
  /** A barrier: returns once every earlier write reached its device (and IRQ effects were reported). */
  sync(): void;
}

export type DmaDirection = 'to-device' | 'from-device' | 'bidirectional';

/** Coherent DMA memory: `addr` is what the device is given, the bytes are what the CPU sees. */
export interface DmaBuffer {
  /** Bus address (dma_addr_t). */
  readonly addr: number;
  readonly size: number;
  /** The CPU view: exactly the allocated pages, shared with the machine. */
  readonly bytes: Uint8Array;
}

/** Upcalls from a driver into the kernel. */
export interface DriverEnv {
  /** The container's isolation class, for diagnostics only: drivers must not depend on it. */
  readonly isolation: 'ic0' | 'ic1' | 'ic2';
  log(level: LogLevel, message: string, binding?: number): void;
  /**
   * Registers a device node served by `ops`; resolves to its node id. For a 'net' node, `name`
   * is the interface name the kernel allocated and `minor` its ifindex.
   */
  registerNode(binding: number, spec: NodeSpec, ops: DriverFileOps): Promise<{ node: number; major: number; minor: number; name?: string }>;
  unregisterNode(node: number): Promise<void>;
  /** A driver's wake_up() on a poll wait queue: pollers of this node re-poll. */
  pollNotify(node: number): void;
  /** Adds /sys/devices/platform/<dev>/<name>. */
  addAttribute(binding: number, spec: AttributeSpec): Promise<number>;
  removeAttribute(attr: number): Promise<void>;
  /** Allocates memory shared with the kernel (mmap-able by callers). */
  allocShared(size: number): Promise<SharedRegion>;
  freeShared(region: number): Promise<void>;
  /**
   * The CPU view of device memory (memremap): [addr, addr + size) inside one of the binding's
   * `reg` windows that the machine backs with RAM, such as a display's VRAM (BAR0). The bytes are
   * the device's own, not a copy, in every isolation class. The region can be returned from mmap
   * like an allocShared one, and is released by freeShared or with the binding. Rejects with
   * errno -EINVAL outside such a window (or not page-aligned in it), -ENODEV without a machine.
   */
  mapDeviceMemory(binding: number, addr: number, size: number): Promise<SharedRegion>;
  /** Allocates DMA memory the device may access in direction `dir` (granted in its IOMMU). */
  dmaAlloc(binding: number, size: number, dir: DmaDirection): Promise<DmaBuffer>;
  dmaFree(binding: number, addr: number): Promise<void>;
  /**
   * Driver code run outside a downcall (a timer, a work item) threw: contain it as a fault —
   * the container's in-flight requests fail with EIO and it is restarted.
   */
  reportFault(err: unknown, where: string): void;
  /** MMIO access to the windows of this container's devices; null when the platform has no machine models. */
  readonly mmio: MmioAccess | null;
  /**
   * Routes IRQ `line` to `handler` in this container. The line is level-triggered: after the
   * handler returns the kernel re-checks the level (EOI) and delivers again if it is still high.
   */
  requestIrq(binding: number, line: number, handler: (line: number) => unknown): Promise<void>;
  freeIrq(line: number): Promise<void>;
  /**
   * Masks (or unmasks) one of this container's lines at the interrupt controller: a masked line
   * that stays high is not delivered; unmasking delivers it if it still is (disable_irq/enable_irq).
   */
  maskIrq(line: number, masked: boolean): void;
}

/** What a driver module's default export implements. */
export interface DriverModule {
  readonly name: string;
  /** module_init: called once per container incarnation before any probe. */
  init?(env: DriverEnv, params: Readonly<Record<string, unknown>>): number | void | Promise<number | void>;
  /** Returns 0, or a negative errno (-EPROBE_DEFER to be retried later). */
  probe(dev: DeviceHandle): number | Promise<number>;
  remove?(dev: DeviceHandle): void | Promise<void>;
  /** module_exit. */
  exit?(): void | Promise<void>;
}

export function isDriverModule(x: unknown): x is DriverModule {
  return typeof x === 'object' && x !== null && typeof (x as DriverModule).probe === 'function' &&
    typeof (x as DriverModule).name === 'string';
}

export type { IoctlResult };
