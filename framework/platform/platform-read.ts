/**
 * @module platform/platform-read
 * Reads a located JSON document into a PlatformSpec, checking each value on its own (types,
 * required fields, unknown keys, number syntax, ranges, unique names). Values that fail are
 * left out and reported; cross-device checks (overlaps, shared IRQs, driver names) run later
 * over what could be read (platform-checks.ts), so one run reports every problem.
 */
import { basename, resolve } from 'node:path';
import type { JsonChecker } from './json-check.js';
import { childPath } from './json-locate.js';
import { ISOLATION_CLASSES, type DeviceSpec, type DriverRef, type IsolationClass, type MmioWindow, type PlatformSpec } from './types.js';

/** Physical addresses are 48 bits wide (as on x86-64 and arm64 with 4-level tables). */
export const PHYS_ADDR_LIMIT = 1n << 48n;
/** IRQ numbers of the simulated interrupt controller: 0..1023 (GICv2 has 1020 usable). */
export const IRQ_MAX = 1023;

/** An MMIO window that was read successfully, with where it came from. */
export interface ReadWindow {
  path: string;
  device: DeviceSpec;
  base: number;
  size: number;
}

export interface ReadIrq {
  path: string;
  device: DeviceSpec;
  irq: number;
}

export interface ReadPlatform {
  spec: PlatformSpec;
  windows: ReadWindow[];
  irqs: ReadIrq[];
}

const TOP_KEYS = ['name', 'options', 'driverPaths', 'drivers', 'devices'] as const;
const OPTION_KEYS = ['isolation', 'watchdogMs'] as const;
const DRIVER_KEYS = ['name', 'isolation', 'params'] as const;
const DEVICE_KEYS = ['name', 'compatible', 'reg', 'interrupts', 'properties', 'isolation', 'driver', 'model'] as const;
const REG_KEYS = ['base', 'size', 'name'] as const;
/** Device names become /sys/devices/platform/<name>: no "/", no spaces. */
const DEVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/;

export function readPlatform(c: JsonChecker, root: unknown, source: string, baseDir: string): ReadPlatform {
  const defaultName = source === '<inline>' ? 'inline' : basename(source).replace(/\.json$/i, '');
  const spec: PlatformSpec = {
    name: defaultName,
    source: source === '<inline>' ? source : resolve(source),
    devices: [],
    drivers: [],
    driverPaths: [],
    options: {},
  };
  const out: ReadPlatform = { spec, windows: [], irqs: [] };
  const obj = c.object('', root);
  if (!obj) return out;
  c.keys('', obj, TOP_KEYS);

  if (obj.name !== undefined) spec.name = c.string('name', obj.name) ?? defaultName;
  if (obj.options !== undefined) spec.options = readOptions(c, obj.options);
  if (obj.driverPaths !== undefined) {
    const arr = c.array('driverPaths', obj.driverPaths) ?? [];
    arr.forEach((p, i) => {
      const s = c.string(childPath('driverPaths', i), p);
      if (s !== undefined) spec.driverPaths.push(resolve(baseDir, s));
    });
  }
  if (obj.drivers !== undefined) spec.drivers = readDrivers(c, obj.drivers);
  if (obj.devices !== undefined) {
    const arr = c.array('devices', obj.devices) ?? [];
    const names = new Map<string, string>();
    arr.forEach((d, i) => {
      const dev = readDevice(c, childPath('devices', i), d, out);
      if (!dev) return;
      if (dev.name !== '') {
        const first = names.get(dev.name);
        if (first !== undefined) {
          c.error(childPath(dev.where, 'name'), `duplicate device name ${JSON.stringify(dev.name)} (already used by ${first})`, {
            suggestions: [`rename it, e.g. to ${JSON.stringify(nextFreeName(dev.name, names))}`],
          });
        } else names.set(dev.name, dev.where);
      }
      spec.devices.push(dev);
    });
  }
  return out;
}

function readOptions(c: JsonChecker, v: unknown): PlatformSpec['options'] {
  const options: PlatformSpec['options'] = {};
  const obj = c.object('options', v);
  if (!obj) return options;
  c.keys('options', obj, OPTION_KEYS);
  const isolation = readIsolation(c, 'options.isolation', obj.isolation);
  if (isolation !== undefined) options.isolation = isolation;
  if (obj.watchdogMs !== undefined) {
    const ms = c.integer('options.watchdogMs', obj.watchdogMs, 1, 0x7fffffff, 'a positive integer (milliseconds)');
    if (ms !== undefined) options.watchdogMs = ms;
  }
  return options;
}

function readIsolation(c: JsonChecker, path: string, v: unknown): IsolationClass | undefined {
  return v === undefined ? undefined : c.oneOf(path, v, ISOLATION_CLASSES, 'isolation class');
}

function readDrivers(c: JsonChecker, v: unknown): DriverRef[] {
  const arr = c.array('drivers', v) ?? [];
  const out: DriverRef[] = [];
  const seen = new Map<string, string>();
  arr.forEach((item, i) => {
    const where = childPath('drivers', i);
    let ref: DriverRef | undefined;
    if (typeof item === 'string') {
      if (c.string(where, item) !== undefined) ref = { name: item, where };
    } else if (c.isObject(item)) {
      c.keys(where, item, DRIVER_KEYS, ['name']);
      const name = item.name === undefined ? undefined : c.string(childPath(where, 'name'), item.name);
      if (name !== undefined) {
        ref = { name, where };
        const isolation = readIsolation(c, childPath(where, 'isolation'), item.isolation);
        if (isolation !== undefined) ref.isolation = isolation;
        if (item.params !== undefined) {
          const params = c.object(childPath(where, 'params'), item.params);
          if (params) ref.params = params;
        }
      }
    } else {
      c.expected(where, 'a driver name or an object { "name", "isolation", "params" }', item);
    }
    if (!ref) return;
    const first = seen.get(ref.name);
    if (first !== undefined) {
      c.error(typeof item === 'string' ? where : childPath(where, 'name'), `driver ${JSON.stringify(ref.name)} is already listed at ${first}`, {
        suggestions: ['list each driver once; put its isolation and params in one entry'],
      });
      return;
    }
    seen.set(ref.name, where);
    out.push(ref);
  });
  return out;
}

function readDevice(c: JsonChecker, where: string, v: unknown, out: ReadPlatform): DeviceSpec | undefined {
  const obj = c.object(where, v);
  if (!obj) return undefined;
  const at = (k: string) => childPath(where, k);
  c.keys(where, obj, DEVICE_KEYS, ['name', 'compatible']);
  const dev: DeviceSpec = { name: '', compatible: [], reg: [], interrupts: [], properties: {}, where };

  if (obj.name !== undefined) {
    const name = c.string(at('name'), obj.name);
    if (name !== undefined && !DEVICE_NAME.test(name)) {
      c.error(at('name'), `device name ${JSON.stringify(name)} may contain only letters, digits and "_.:@+-" (it becomes /sys/devices/platform/<name>)`);
    } else if (name !== undefined) dev.name = name;
  }
  if (obj.compatible !== undefined) dev.compatible = c.stringList(at('compatible'), obj.compatible) ?? [];
  if (obj.reg !== undefined) {
    const regs = c.array(at('reg'), obj.reg) ?? [];
    regs.forEach((r, j) => {
      const w = readWindow(c, childPath(at('reg'), j), r);
      if (!w) return;
      dev.reg.push(w);
      out.windows.push({ path: childPath(at('reg'), j), device: dev, base: w.base, size: w.size });
    });
  }
  if (obj.interrupts !== undefined) {
    const irqs = c.array(at('interrupts'), obj.interrupts) ?? [];
    irqs.forEach((n, j) => {
      const path = childPath(at('interrupts'), j);
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        c.expected(path, 'an integer IRQ number', n);
      } else if (n < 0 || n > IRQ_MAX) {
        c.error(path, `IRQ ${n} is out of range (0..${IRQ_MAX})`);
      } else {
        dev.interrupts.push(n);
        out.irqs.push({ path, device: dev, irq: n });
      }
    });
  }
  if (obj.properties !== undefined) dev.properties = c.object(at('properties'), obj.properties) ?? {};
  const isolation = readIsolation(c, at('isolation'), obj.isolation);
  if (isolation !== undefined) dev.isolation = isolation;
  if (obj.driver !== undefined) {
    const driver = c.string(at('driver'), obj.driver);
    if (driver !== undefined) dev.driver = driver;
  }
  if (obj.model !== undefined) {
    const model = c.string(at('model'), obj.model);
    if (model !== undefined) dev.model = model;
  }
  return dev;
}

/** A `reg` entry: `{ "base", "size", "name"? }` or `[base, size]`. */
function readWindow(c: JsonChecker, path: string, v: unknown): MmioWindow | undefined {
  let basePath: string;
  let sizePath: string;
  let baseV: unknown;
  let sizeV: unknown;
  let name: string | undefined;
  if (Array.isArray(v)) {
    if (v.length !== 2) return c.expected(path, 'a [base, size] pair', v);
    [basePath, sizePath, baseV, sizeV] = [childPath(path, 0), childPath(path, 1), v[0], v[1]];
  } else if (c.isObject(v)) {
    if (!c.keys(path, v, REG_KEYS, ['base', 'size'])) return undefined;
    [basePath, sizePath, baseV, sizeV] = [childPath(path, 'base'), childPath(path, 'size'), v.base, v.size];
    if (v.name !== undefined) name = c.string(childPath(path, 'name'), v.name);
  } else {
    return c.expected(path, 'an object { "base", "size" } or a [base, size] pair', v);
  }
  const base = parseUnsigned(baseV);
  const size = parseUnsigned(sizeV);
  if (base === undefined) c.expected(basePath, 'a non-negative integer or hex string', baseV);
  if (size === undefined) c.expected(sizePath, 'a positive integer or hex string', sizeV);
  else if (size === 0n) c.error(sizePath, 'zero-size MMIO window', { suggestions: ['give the window its size in bytes, e.g. "0x1000"'] });
  if (base === undefined || size === undefined || size === 0n) return undefined;
  if (base + size > PHYS_ADDR_LIMIT) {
    c.error(path, `window [${hex(base)}..${hex(base + size - 1n)}] extends beyond the 48-bit physical address space (last address ${hex(PHYS_ADDR_LIMIT - 1n)})`);
    return undefined;
  }
  const w: MmioWindow = { base: Number(base), size: Number(size) };
  if (name !== undefined) w.name = name;
  return w;
}

/** A JSON integer >= 0, or a string "0x1f"/"31". Anything else (negative, fraction, "1e3") is undefined. */
export function parseUnsigned(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? BigInt(v) : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(v) || /^[0-9]+$/.test(v)) return BigInt(v);
  return undefined;
}

export function hex(n: bigint | number): string {
  return `0x${n.toString(16)}`;
}

function nextFreeName(name: string, names: Map<string, string>): string {
  const stem = name.replace(/[0-9]+$/, '');
  for (let i = 0; ; i++) if (!names.has(`${stem}${i}`)) return `${stem}${i}`;
}

