/**
 * @module platform/driver-index
 * The set of drivers available to a kernel, read from `manifest.json` files without importing
 * any driver code (Fuchsia's driver index), and matching of devices to drivers with Linux's
 * rules (of_match_device / driver_override).
 *
 * Scanning looks at `<dir>/manifest.json` and `<dir>/<sub>/manifest.json` (one level deep,
 * subdirectories in name order). Bad manifests, missing entry modules, missing directories and
 * duplicate driver names are recorded in `problems` and skipped; scanning never fails for them.
 * When two manifests name the same driver, the one found first (earlier dir) wins.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Diagnostic } from './diagnostic.js';
import { loadManifest } from './manifest.js';
import type { DeviceSpec, DriverManifest } from './types.js';

/** One candidate driver for a device, as listed by `matchAll`. */
export interface DriverMatch {
  driver: DriverManifest;
  /** 'forced': named by the device's `driver`; 'compatible': its match table has `compatible`. */
  reason: 'forced' | 'compatible';
  /** The device's compatible string that matched (for reason 'compatible'). */
  compatible?: string;
  /** Index of that string in the device's list (lower is more specific); -1 for 'forced'. */
  rank: number;
}

type MatchableDevice = Pick<DeviceSpec, 'compatible'> & { driver?: string };

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

export class DriverIndex {
  /** Everything that was skipped, and why. */
  readonly problems: Diagnostic[] = [];
  private readonly byName = new Map<string, DriverManifest>();
  /** Lower-cased compatible string -> drivers listing it, in index order. */
  private readonly byCompatible = new Map<string, DriverManifest[]>();

  /** Scans `dirs` (relative ones against the working directory) in order. */
  static async scan(dirs: readonly string[]): Promise<DriverIndex> {
    const index = new DriverIndex();
    const seen = new Set<string>();
    const seenFiles = new Set<string>(); // "samples" and "samples/hmecho" both list hmecho's manifest
    for (const d of dirs) {
      const dir = resolve(d);
      if (seen.has(dir)) continue;
      seen.add(dir);
      if (!(await isDir(dir))) {
        index.problems.push({ file: dir, path: '', message: 'driver directory does not exist or is not a directory', suggestions: ['check driverPaths'] });
        continue;
      }
      const files = (await manifestFiles(dir)).filter((f) => !seenFiles.has(f));
      for (const f of files) seenFiles.add(f);
      const results = await Promise.all(files.map((f) => loadManifest(f)));
      for (const r of results) {
        index.problems.push(...r.problems);
        if (r.manifest) index.add(r.manifest);
      }
    }
    return index;
  }

  /** An index over manifests already in memory (tests, built-in drivers); same duplicate rule. */
  static from(manifests: Iterable<DriverManifest>): DriverIndex {
    const index = new DriverIndex();
    for (const m of manifests) index.add(m);
    return index;
  }

  private add(m: DriverManifest): void {
    const first = this.byName.get(m.name);
    if (first) {
      this.problems.push({
        file: join(m.dir, 'manifest.json'),
        path: 'name',
        message: `driver ${JSON.stringify(m.name)} is already provided by ${join(first.dir, 'manifest.json')}; this one is ignored`,
        suggestions: ['rename one of the drivers, or remove one directory from the search path'],
        driver: m.name,
      });
      return;
    }
    this.byName.set(m.name, m);
    for (const c of new Set(m.compatible.map((s) => s.toLowerCase()))) {
      const list = this.byCompatible.get(c);
      if (list) list.push(m);
      else this.byCompatible.set(c, [m]);
    }
  }

  /**
   * The drivers a platform loads (Linux: the modules it inserts): only `names`, in index order.
   * Unknown names are ignored here (platform checks report them). The problems stay visible.
   */
  only(names: Iterable<string>): DriverIndex {
    const wanted = new Set(names);
    const index = DriverIndex.from(this.all().filter((m) => wanted.has(m.name)));
    index.problems.push(...this.problems);
    return index;
  }

  get(name: string): DriverManifest | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** All drivers, in the order they were found. */
  all(): DriverManifest[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Problems recorded for a driver name (why a driver that was expected is not in the index). */
  problemsFor(name: string): Diagnostic[] {
    return this.problems.filter((p) => p.driver === name);
  }

  /**
   * The driver to bind `device` to. A forced `device.driver` decides alone, as Linux's
   * driver_override does: if no driver has that name, nothing matches. Otherwise the device's
   * `compatible` list is walked most-specific first and the first driver whose match table
   * holds an entry wins; among drivers claiming the same string, the one found first wins.
   * Compatible strings compare case-insensitively (of_compat_cmp is strcasecmp).
   */
  match(device: MatchableDevice): DriverManifest | undefined {
    if (device.driver !== undefined) return this.byName.get(device.driver);
    return this.matchAll(device)[0]?.driver;
  }

  /** Every driver that could bind `device`, best first (the forced driver, if any, leads). */
  matchAll(device: MatchableDevice): DriverMatch[] {
    const out: DriverMatch[] = [];
    const taken = new Set<string>();
    if (device.driver !== undefined) {
      const forced = this.byName.get(device.driver);
      if (forced) {
        out.push({ driver: forced, reason: 'forced', rank: -1 });
        taken.add(forced.name);
      }
    }
    device.compatible.forEach((compatible, rank) => {
      for (const driver of this.byCompatible.get(compatible.toLowerCase()) ?? []) {
        if (taken.has(driver.name)) continue;
        taken.add(driver.name);
        out.push({ driver, reason: 'compatible', compatible, rank });
      }
    });
    return out;
  }
}

/** `<dir>/manifest.json` and `<dir>/<sub>/manifest.json` that exist, in a stable order. */
async function manifestFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const own = join(dir, 'manifest.json');
  if (await isFile(own)) out.push(own);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const subs = entries
    .filter((e) => e.isDirectory() || e.isSymbolicLink())
    .map((e) => e.name)
    .filter((n) => !n.startsWith('.') && n !== 'node_modules')
    .sort();
  for (const sub of subs) {
    const f = join(dir, sub, 'manifest.json');
    if (await isFile(f)) out.push(f);
  }
  return out;
}
