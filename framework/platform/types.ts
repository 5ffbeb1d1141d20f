/**
 * @module platform/types
 * A platform is a device tree in JSON; drivers carry manifests whose match tables are data.
 * Both are read and validated without loading any driver code (Fuchsia's driver index,
 * Linux's of_match_table).
 */

export type IsolationClass = 'ic0' | 'ic1' | 'ic2';
export const ISOLATION_CLASSES: readonly IsolationClass[] = ['ic0', 'ic1', 'ic2'];

/** One MMIO window (`reg` in a device tree). Numbers are bytes; JSON may give "0x..." strings. */
export interface MmioWindow {
  base: number;
  size: number;
  name?: string;
}

export interface DeviceSpec {
  /** Unique name, e.g. "echo0"; becomes /sys/devices/platform/<name>. */
  name: string;
  /** Most specific first, as in a device tree. */
  compatible: string[];
  reg: MmioWindow[];
  interrupts: number[];
  /** Free-form properties the driver reads (of_property_read_*). */
  properties: Record<string, unknown>;
  /** Force a particular driver (by name) instead of matching on `compatible`. */
  driver?: string;
  /** Override the isolation class for this device's binding. */
  isolation?: IsolationClass;
  /** Model to instantiate for this device (hardware model name), if any. */
  model?: string;
  /** Where in the platform file this came from, for error messages ("devices[2]"). */
  where: string;
}

export interface DriverRef {
  name: string;
  isolation?: IsolationClass;
  /** Module parameters (Linux module_param), passed to the driver. */
  params?: Record<string, unknown>;
  where: string;
}

export interface PlatformSpec {
  name: string;
  /** Absolute path of the file, or "<inline>". */
  source: string;
  devices: DeviceSpec[];
  /** Drivers to load (Linux: modules). A name not found in the index is an error. */
  drivers: DriverRef[];
  /** Extra directories searched for driver manifests, absolute. */
  driverPaths: string[];
  /** Global options. */
  options: { isolation?: IsolationClass; watchdogMs?: number };
}

/** An ioctl the driver declares, so tools can call it by name and decode its result. */
export interface IoctlDecl {
  name: string;
  /** 'none' | 'read' | 'write' | 'readwrite' (_IO, _IOR, _IOW, _IOWR). */
  dir: 'none' | 'read' | 'write' | 'readwrite';
  /** The ioctl type ("magic") character or number. */
  type: string | number;
  nr: number;
  size: number;
  /** Layout of the argument, e.g. "u32" or "u64,u64,u64,u64"; used by the CLI to encode/decode. */
  format?: string;
  description?: string;
}

export interface DriverManifest {
  name: string;
  description?: string;
  /** Match table: compatible strings (of_match_table). */
  compatible: string[];
  /** Module to load, relative to the manifest's directory (compiled JS). */
  entry: string;
  /** 'linux' drivers use linux-kapi; 'native' drivers use hmdrv's own driver API. */
  kind: 'linux' | 'native';
  /** Default isolation class. */
  isolation: IsolationClass;
  ioctls?: IoctlDecl[];
  /** Declared module parameters with defaults. */
  params?: Record<string, { type: 'int' | 'uint' | 'bool' | 'charp'; default: unknown; description?: string }>;
  /** Absolute directory the manifest was read from. */
  dir: string;
  /** Absolute path of `entry`. */
  entryPath: string;
}
