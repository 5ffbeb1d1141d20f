/**
 * @module platform/platform-file
 * Platform files: the machine to boot, as a device tree in JSON.
 *
 *   {
 *     "name": "default",                                  // optional; default: file name
 *     "options": { "isolation": "ic1", "watchdogMs": 2000 },   // optional global options
 *     "driverPaths": ["./drivers"],                       // optional; relative to the file's dir
 *     "drivers": [                                        // optional; drivers to load
 *       "hmecho",                                         //   by name, or
 *       { "name": "hmuart", "isolation": "ic2", "params": { "buffer_size": 4096 } } ],
 *     "devices": [
 *       { "name": "echo0",                                // required, unique
 *         "compatible": ["hmdrv,echo"],                   // required; string or array, most specific first
 *         "reg": [{ "base": "0x10000000", "size": "0x1000" }],   // or [["0x10000000", 4096]]
 *         "interrupts": [32],                             // IRQ numbers 0..1023, unique in the platform
 *         "properties": { "buffer-size": 4096 },          // free-form, read by the driver
 *         "isolation": "ic1",                             // optional override: ic0 | ic1 | ic2
 *         "driver": "hmecho",                             // optional: force this driver (driver_override)
 *         "model": "echo" } ]                             // optional hardware model to instantiate
 *   }
 *
 * Numbers in `reg` may be JSON integers or strings "0x1000" / "4096". Windows must be non-empty,
 * end within the 48-bit physical address space and not overlap. Unknown keys are errors. With a
 * driver index, every driver name must exist and `params` must be parameters the driver
 * declares, with values of their type. Every problem is collected and thrown as one
 * PlatformError whose lines read `file:line:col: path: message`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HmError } from '../errors/hm-error.js';
import { formatDiagnostic, syntaxDiagnostic, type Diagnostic } from './diagnostic.js';
import { DriverIndex } from './driver-index.js';
import { JsonChecker } from './json-check.js';
import { JsonSyntaxError, parseJsonLocated } from './json-locate.js';
import { checkDrivers, checkIrqs, checkWindows } from './platform-checks.js';
import { hex, readPlatform } from './platform-read.js';
import type { PlatformSpec } from './types.js';

export interface PlatformParseOptions {
  /** Check driver names (and their params) against this index. */
  driverIndex?: DriverIndex;
  /** Directory `driverPaths` are relative to; default: the file's directory (or the cwd for "<inline>"). */
  baseDir?: string;
}

/** A platform file with problems; `diagnostics` lists them in file order. */
export class PlatformError extends HmError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], opts: { cause?: unknown } = {}) {
    const sorted = [...diagnostics].sort(byPosition);
    const n = sorted.length;
    const lines = sorted.map((d) => `  ${formatDiagnostic(d, '      ')}`);
    const suggestions = [...new Set(sorted.flatMap((d) => d.suggestions.map((s) => (d.path ? `${d.path}: ${s}` : s))))];
    super('EPLATFORM', [`platform file has ${n} error${n === 1 ? '' : 's'}`, ...lines].join('\n'), { suggestions, cause: opts.cause });
    this.diagnostics = sorted;
  }
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0);
}

/** A parsed platform whose per-file checks are done, waiting for the driver checks. */
interface Analysis {
  spec: PlatformSpec;
  checker?: JsonChecker;
  diagnostics: Diagnostic[];
}

function analyze(text: string, source: string, baseDir: string | undefined): Analysis {
  const dir = baseDir ?? (source === '<inline>' ? process.cwd() : dirname(resolve(source)));
  let json;
  try {
    json = parseJsonLocated(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const spec: PlatformSpec = { name: '', source, devices: [], drivers: [], driverPaths: [], options: {} };
    return { spec, diagnostics: [syntaxDiagnostic(source, e)] };
  }
  const c = new JsonChecker(source, json);
  c.reportDuplicateKeys();
  const read = readPlatform(c, json.value, source, dir);
  checkWindows(c, read.windows);
  checkIrqs(c, read.irqs);
  return { spec: read.spec, checker: c, diagnostics: c.diagnostics };
}

function finish(a: Analysis, index: DriverIndex | undefined): PlatformSpec {
  if (index && a.checker) checkDrivers(a.checker, a.spec, index);
  if (a.diagnostics.length > 0) throw new PlatformError(a.diagnostics);
  return a.spec;
}

/**
 * Parses and validates platform-file text. `source` names it in messages (a path, or
 * "<inline>"); `spec.source` is its absolute form. Throws PlatformError listing every problem.
 */
export function parsePlatform(text: string, source: string, opts: PlatformParseOptions = {}): PlatformSpec {
  return finish(analyze(text, source, opts.baseDir), opts.driverIndex);
}

async function readPlatformText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new PlatformError([{ file: path, path: '', message: `cannot read platform file: ${msg}`, suggestions: ['check the path'] }], { cause: e });
  }
}

/** Reads and validates a platform file (see the format above). */
export async function loadPlatformFile(path: string, opts: PlatformParseOptions = {}): Promise<PlatformSpec> {
  return parsePlatform(await readPlatformText(path), path, opts);
}

/**
 * Reads a platform file and builds the driver index it needs: its own `driverPaths` first (so a
 * platform can override a built-in driver), then `driverDirs`. Driver names are checked against
 * that index. Index problems (bad manifests) are not errors here; they are in `drivers.problems`
 * and show up as suggestions when a driver the platform names is missing because of them.
 */
export async function loadPlatformWithDrivers(
  path: string,
  opts: { driverDirs?: readonly string[]; baseDir?: string } = {},
): Promise<{ platform: PlatformSpec; drivers: DriverIndex }> {
  const a = analyze(await readPlatformText(path), path, opts.baseDir);
  // Unparsable JSON: nothing to check drivers against; finish() throws the syntax error.
  const drivers = a.checker ? await DriverIndex.scan([...a.spec.driverPaths, ...(opts.driverDirs ?? [])]) : DriverIndex.from([]);
  return { platform: finish(a, drivers), drivers };
}

/** A platform as platform-file JSON (addresses as hex strings); parsing it gives `spec` back. */
export function platformToJson(spec: PlatformSpec): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (spec.options.isolation !== undefined) options.isolation = spec.options.isolation;
  if (spec.options.watchdogMs !== undefined) options.watchdogMs = spec.options.watchdogMs;
  return {
    name: spec.name,
    options,
    driverPaths: [...spec.driverPaths],
    drivers: spec.drivers.map((d) => {
      if (d.isolation === undefined && d.params === undefined) return d.name;
      const o: Record<string, unknown> = { name: d.name };
      if (d.isolation !== undefined) o.isolation = d.isolation;
      if (d.params !== undefined) o.params = d.params;
      return o;
    }),
    devices: spec.devices.map((d) => {
      const o: Record<string, unknown> = {
        name: d.name,
        compatible: [...d.compatible],
        reg: d.reg.map((w) => (w.name === undefined ? { base: hex(w.base), size: hex(w.size) } : { base: hex(w.base), size: hex(w.size), name: w.name })),
        interrupts: [...d.interrupts],
        properties: d.properties,
      };
      if (d.isolation !== undefined) o.isolation = d.isolation;
      if (d.driver !== undefined) o.driver = d.driver;
      if (d.model !== undefined) o.model = d.model;
      return o;
    }),
  };
}
