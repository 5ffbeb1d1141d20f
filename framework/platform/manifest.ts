/**
 * @module platform/manifest
 * Driver manifests: what a driver is, what it matches and how to call its ioctls, as data that
 * can be read and validated without importing the driver's code (Linux's of_match_table and
 * modinfo; Fuchsia's driver index). Format (`manifest.json` next to the compiled driver):
 *
 *   {
 *     "name": "hmecho",                        // required; letters, digits, "_" and "-"
 *     "description": "echo device driver",     // optional
 *     "compatible": ["hmdrv,echo"],            // required match table (string or array)
 *     "entry": "./hmecho.js",                  // required; relative to the manifest's directory
 *     "kind": "linux",                         // required: "linux" | "native"
 *     "isolation": "ic1",                      // optional default class: ic0 | ic1 | ic2 (ic1)
 *     "ioctls": [                              // optional
 *       { "name": "ECHO_GET_SIZE", "dir": "read", "type": "E", "nr": 1, "size": 4,
 *         "format": "u32", "description": "buffer size" } ],
 *     "params": {                              // optional module parameters
 *       "buffer_size": { "type": "uint", "default": 4096, "description": "bytes" } }
 *   }
 *
 * ioctl `dir` is none | read | write | readwrite (_IO, _IOR, _IOW, _IOWR); `type` is one
 * character or 0..255; `nr` 0..255; `size` 0..16383 bytes (may be left out when `dir` is
 * "none", or when `format` is a fixed layout such as "u32" or "u64,u64"). `format` is a comma
 * list of u8/u16/u32/u64/i8/i16/i32/i64, or "bytes" for a raw buffer.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { syntaxDiagnostic, type Diagnostic } from './diagnostic.js';
import { JsonChecker } from './json-check.js';
import { childPath, JsonSyntaxError, parseJsonLocated } from './json-locate.js';
import { IOC_SIZE_MAX, IOCTL_DIRS, ioctlFormatSize, ioctlNumber } from './ioctl.js';
import { ISOLATION_CLASSES, type DriverManifest, type IoctlDecl } from './types.js';

export { decodeIoctl, ioctlNumber, type DecodedIoctl } from './ioctl.js';

export type ParamType = 'int' | 'uint' | 'bool' | 'charp';
export type ParamDecl = NonNullable<DriverManifest['params']>[string];
export const PARAM_TYPES: readonly ParamType[] = ['int', 'uint', 'bool', 'charp'];

export interface ManifestResult {
  /** The manifest, when it has no problems. */
  manifest?: DriverManifest;
  problems: Diagnostic[];
}

const MANIFEST_KEYS = ['name', 'description', 'compatible', 'entry', 'kind', 'isolation', 'ioctls', 'params'] as const;
const IOCTL_KEYS = ['name', 'dir', 'type', 'nr', 'size', 'format', 'description'] as const;
const PARAM_KEYS = ['type', 'default', 'description'] as const;
const DRIVER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const C_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether `v` is a valid value for a module parameter of `type`; returns what was expected
 * when it is not (Linux param_set_int/uint/bool/charp ranges).
 */
export function checkParamValue(type: ParamType, v: unknown): string | undefined {
  switch (type) {
    case 'int':
      return Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff ? undefined : 'a 32-bit signed integer';
    case 'uint':
      return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff ? undefined : 'a 32-bit unsigned integer';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'charp':
      return typeof v === 'string' ? undefined : 'a string';
  }
}

/** Parses and validates manifest text. `file` should be absolute: `dir` and `entryPath` derive from it. */
export function parseManifest(text: string, file: string): ManifestResult {
  let json;
  try {
    json = parseJsonLocated(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return { problems: [syntaxDiagnostic(file, e)] };
    throw e;
  }
  const c = new JsonChecker(file, json);
  c.reportDuplicateKeys();
  const m = readManifest(c, json.value, file);
  // Attribute every problem to the driver when its name could be read, for "why is X missing".
  const name = c.isObject(json.value) && typeof json.value.name === 'string' ? json.value.name : undefined;
  if (name !== undefined) for (const d of c.diagnostics) d.driver = name;
  return c.diagnostics.length === 0 && m ? { manifest: m, problems: [] } : { problems: c.diagnostics };
}

/** Reads `file`, validates it, and checks that its entry module exists. Never throws for bad input. */
export async function loadManifest(file: string): Promise<ManifestResult> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { problems: [{ file: abs, path: '', message: `cannot read manifest: ${msg}`, suggestions: [] }] };
  }
  const res = parseManifest(text, abs);
  if (!res.manifest) return res;
  const m = res.manifest;
  const isFile = await stat(m.entryPath).then((s) => s.isFile(), () => false);
  if (isFile) return res;
  const json = parseJsonLocated(text);
  const c = new JsonChecker(abs, json);
  c.error('entry', `entry module ${m.entryPath} does not exist`, {
    driver: m.name,
    suggestions: [`build the driver (npx tsc) or fix "entry"; it is resolved relative to ${m.dir}`],
  });
  return { problems: c.diagnostics };
}

function readManifest(c: JsonChecker, root: unknown, file: string): DriverManifest | undefined {
  const obj = c.object('', root);
  if (!obj) return undefined;
  c.keys('', obj, MANIFEST_KEYS, ['name', 'compatible', 'entry', 'kind']);

  let name: string | undefined;
  if (obj.name !== undefined) {
    name = c.string('name', obj.name);
    if (name !== undefined && !DRIVER_NAME.test(name)) {
      c.error('name', `driver name ${JSON.stringify(name)} may contain only letters, digits, "_" and "-"`);
    }
  }
  const description = obj.description === undefined ? undefined : c.string('description', obj.description, false);
  const compatible = obj.compatible === undefined ? undefined : c.stringList('compatible', obj.compatible, true);
  const entry = obj.entry === undefined ? undefined : c.string('entry', obj.entry);
  const kind = obj.kind === undefined ? undefined : c.oneOf('kind', obj.kind, ['linux', 'native'] as const, 'kind');
  const isolation = obj.isolation === undefined ? 'ic1' : c.oneOf('isolation', obj.isolation, ISOLATION_CLASSES, 'isolation class');
  const ioctls = obj.ioctls === undefined ? undefined : readIoctls(c, obj.ioctls);
  const params = obj.params === undefined ? undefined : readParams(c, obj.params);

  if (name === undefined || compatible === undefined || entry === undefined || kind === undefined || isolation === undefined) return undefined;
  const dir = dirname(file);
  const m: DriverManifest = { name, compatible, entry, kind, isolation, dir, entryPath: resolve(dir, entry) };
  if (description !== undefined) m.description = description;
  if (ioctls !== undefined) m.ioctls = ioctls;
  if (params !== undefined) m.params = params;
  return m;
}

function readIoctls(c: JsonChecker, v: unknown): IoctlDecl[] | undefined {
  const arr = c.array('ioctls', v);
  if (!arr) return undefined;
  const out: IoctlDecl[] = [];
  const names = new Map<string, string>();
  const numbers = new Map<number, string>();
  arr.forEach((item, i) => {
    const path = childPath('ioctls', i);
    // Names are checked even on otherwise broken declarations, so every duplicate is reported.
    const name = c.isObject(item) && typeof item.name === 'string' ? item.name : undefined;
    if (name !== undefined) {
      const sameName = names.get(name);
      if (sameName !== undefined) c.error(childPath(path, 'name'), `ioctl ${name} is already declared at ${sameName}`);
      else names.set(name, path);
    }
    const decl = readIoctl(c, path, item);
    if (!decl) return;
    const cmd = ioctlNumber(decl);
    const sameCmd = numbers.get(cmd);
    if (sameCmd !== undefined) c.error(path, `ioctl number 0x${cmd.toString(16)} is already used by ${sameCmd}`);
    else numbers.set(cmd, `${path} (${decl.name})`);
    out.push(decl);
  });
  return out.length === arr.length ? out : undefined;
}

function readIoctl(c: JsonChecker, path: string, v: unknown): IoctlDecl | undefined {
  const obj = c.object(path, v);
  if (!obj) return undefined;
  const before = c.diagnostics.length;
  c.keys(path, obj, IOCTL_KEYS, ['name', 'dir', 'type', 'nr']);
  const at = (k: string) => childPath(path, k);
  let name: string | undefined;
  if (obj.name !== undefined) {
    name = c.string(at('name'), obj.name);
    if (name !== undefined && !C_IDENT.test(name)) c.error(at('name'), `ioctl name ${JSON.stringify(name)} must be an identifier (letters, digits, "_")`);
  }
  const dir = obj.dir === undefined ? undefined : c.oneOf(at('dir'), obj.dir, IOCTL_DIRS, 'ioctl dir');
  let type: string | number | undefined;
  if (typeof obj.type === 'string' && obj.type.length === 1 && obj.type.charCodeAt(0) <= 0xff) type = obj.type;
  else if (obj.type !== undefined) type = c.integer(at('type'), obj.type, 0, 0xff, 'one character or an integer in 0..255');
  const nr = obj.nr === undefined ? undefined : c.integer(at('nr'), obj.nr, 0, 0xff);
  const format = obj.format === undefined ? undefined : c.string(at('format'), obj.format);
  const description = obj.description === undefined ? undefined : c.string(at('description'), obj.description, false);

  let formatSize: number | null | undefined;
  if (format !== undefined) {
    formatSize = ioctlFormatSize(format);
    if (formatSize === undefined) {
      c.error(at('format'), `unknown format ${JSON.stringify(format)} (expected a comma list of u8, u16, u32, u64, i8, i16, i32, i64, or "bytes")`);
    }
  }
  let size: number | undefined;
  if (obj.size !== undefined) size = c.integer(at('size'), obj.size, 0, IOC_SIZE_MAX);
  else if (dir === 'none') size = 0;
  else if (typeof formatSize === 'number') size = formatSize;
  else if (dir !== undefined) c.error(path, 'missing required field "size" (bytes of the argument)');

  if (dir !== undefined && size !== undefined && obj.size !== undefined) {
    if (dir === 'none' && size !== 0) c.error(at('size'), `an ioctl with dir "none" (_IO) carries no argument; size must be 0, got ${size}`);
    if (dir !== 'none' && size === 0) c.error(at('size'), `an ioctl with dir "${dir}" needs the argument size in bytes, got 0`);
    if (typeof formatSize === 'number' && formatSize !== size) {
      c.error(at('size'), `size ${size} does not match format ${JSON.stringify(format)} (${formatSize} bytes)`);
    }
  }
  if (c.diagnostics.length !== before) return undefined;
  if (name === undefined || dir === undefined || type === undefined || nr === undefined || size === undefined) return undefined;
  const decl: IoctlDecl = { name, dir, type, nr, size };
  if (format !== undefined) decl.format = format;
  if (description !== undefined) decl.description = description;
  return decl;
}

function readParams(c: JsonChecker, v: unknown): Record<string, ParamDecl> | undefined {
  const obj = c.object('params', v);
  if (!obj) return undefined;
  const before = c.diagnostics.length;
  const out: Record<string, ParamDecl> = {};
  for (const [key, decl] of Object.entries(obj)) {
    const path = childPath('params', key);
    if (!C_IDENT.test(key)) c.error(path, `parameter name ${JSON.stringify(key)} must be an identifier (letters, digits, "_")`, { at: 'key' });
    const d = c.object(path, decl);
    if (!d) continue;
    c.keys(path, d, PARAM_KEYS, ['type', 'default']);
    const type = d.type === undefined ? undefined : c.oneOf(childPath(path, 'type'), d.type, PARAM_TYPES, 'parameter type');
    const description = d.description === undefined ? undefined : c.string(childPath(path, 'description'), d.description, false);
    if (type !== undefined && Object.hasOwn(d, 'default')) {
      const want = checkParamValue(type, d.default);
      if (want !== undefined) c.expected(childPath(path, 'default'), `${want} (type ${type})`, d.default);
    }
    if (type === undefined) continue;
    const p: ParamDecl = { type, default: d.default };
    if (description !== undefined) p.description = description;
    Object.defineProperty(out, key, { value: p, enumerable: true, writable: true, configurable: true });
  }
  return c.diagnostics.length === before ? out : undefined;
}
