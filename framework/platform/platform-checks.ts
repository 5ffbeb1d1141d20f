/**
 * @module platform/platform-checks
 * Checks across the devices of a platform: MMIO windows must not overlap, an IRQ line belongs
 * to one device, and every driver named (in `drivers[]` or a device's `driver`) must exist in
 * the driver index, with module parameters the driver declares.
 */
import { describeValue, formatDiagnostic } from './diagnostic.js';
import type { DriverIndex } from './driver-index.js';
import type { JsonChecker } from './json-check.js';
import { childPath } from './json-locate.js';
import { checkParamValue } from './manifest.js';
import { hex, type ReadIrq, type ReadWindow } from './platform-read.js';
import { didYouMean } from './suggest.js';
import type { PlatformSpec } from './types.js';

const label = (w: { device: { name: string } }) => (w.device.name === '' ? '' : ` (${w.device.name})`);
const range = (w: ReadWindow) => `[${hex(w.base)}..${hex(w.base + w.size - 1)}]`;

/** Each window that overlaps an earlier one is reported once, against the first it overlaps. */
export function checkWindows(c: JsonChecker, windows: readonly ReadWindow[]): void {
  // Sorted by base, a window can only overlap windows that start before it ends; scanning the
  // sorted list keeps this O(n log n + overlaps) while reporting in file order.
  const sorted = windows.map((w, i) => ({ w, i })).sort((a, b) => a.w.base - b.w.base || a.i - b.i);
  const firstOverlap = new Map<number, number>(); // later index -> earliest earlier index it overlaps
  for (let x = 0; x < sorted.length; x++) {
    const a = sorted[x]!;
    for (let y = x + 1; y < sorted.length && sorted[y]!.w.base < a.w.base + a.w.size; y++) {
      const b = sorted[y]!;
      const [early, late] = a.i < b.i ? [a.i, b.i] : [b.i, a.i];
      const known = firstOverlap.get(late);
      if (known === undefined || early < known) firstOverlap.set(late, early);
    }
  }
  for (const [late, early] of [...firstOverlap].sort((p, q) => p[0] - q[0])) {
    const w = windows[late]!;
    const o = windows[early]!;
    c.error(w.path, `${range(w)} overlaps ${o.path}${label(o)} ${range(o)}`, {
      suggestions: [`move ${w.path} to a free range, e.g. base ${hex(freeBase(windows))}`],
    });
  }
}

/** An IRQ number may appear once in the whole platform. */
export function checkIrqs(c: JsonChecker, irqs: readonly ReadIrq[]): void {
  const owner = new Map<number, ReadIrq>();
  for (const r of irqs) {
    const first = owner.get(r.irq);
    if (!first) {
      owner.set(r.irq, r);
      continue;
    }
    const msg = first.device === r.device
      ? `IRQ ${r.irq} is listed twice (first at ${first.path})`
      : `IRQ ${r.irq} is already used by ${first.device.where}${label(first)}`;
    c.error(r.path, msg, { suggestions: [`use a free IRQ, e.g. ${freeIrq(owner)}`] });
  }
}

/** Driver names and module parameters against the index. */
export function checkDrivers(c: JsonChecker, spec: PlatformSpec, index: DriverIndex): void {
  for (const ref of spec.drivers) {
    const path = c.json.locations.get(childPath(ref.where, 'name')) ? childPath(ref.where, 'name') : ref.where;
    const m = index.get(ref.name);
    if (!m) {
      unknownDriver(c, path, ref.name, index);
      continue;
    }
    for (const [key, value] of Object.entries(ref.params ?? {})) {
      const ppath = childPath(childPath(ref.where, 'params'), key);
      const decl = m.params && Object.hasOwn(m.params, key) ? m.params[key] : undefined;
      if (!decl) {
        const declared = Object.keys(m.params ?? {});
        const hint = didYouMean(key, declared);
        c.error(ppath, `driver ${m.name} has no parameter ${JSON.stringify(key)}${hint ? ` (${hint})` : ''}`, {
          at: 'key',
          suggestions: [hint ?? (declared.length ? `its parameters: ${declared.join(', ')}` : `${m.name} declares no parameters`)],
        });
        continue;
      }
      const want = checkParamValue(decl.type, value);
      if (want !== undefined) c.error(ppath, `expected ${want} (parameter ${key} of ${m.name} is ${decl.type}), got ${describeValue(value)}`);
    }
  }
  for (const dev of spec.devices) {
    if (dev.driver !== undefined && !index.has(dev.driver)) unknownDriver(c, childPath(dev.where, 'driver'), dev.driver, index);
  }
}

function unknownDriver(c: JsonChecker, path: string, name: string, index: DriverIndex): void {
  const hint = didYouMean(name, index.names());
  const suggestions: string[] = [];
  if (hint) suggestions.push(hint);
  for (const p of index.problemsFor(name)) suggestions.push(`driver ${name} was skipped: ${formatDiagnostic(p)}`);
  if (!hint) {
    const names = index.names();
    if (names.length === 0) suggestions.push('no drivers were found; check driverPaths');
    else suggestions.push(`known drivers: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}`);
  }
  c.error(path, `unknown driver ${JSON.stringify(name)}${hint ? ` (${hint})` : ''}`, { suggestions, driver: name });
}

/** Lowest page-aligned base above every window, for suggestions. */
function freeBase(windows: readonly ReadWindow[]): number {
  const top = windows.reduce((m, w) => Math.max(m, w.base + w.size), 0);
  const page = 0x1000;
  return Math.ceil(top / page) * page;
}

function freeIrq(owner: Map<number, unknown>): number {
  let n = 32; // below 32 are SGIs/PPIs on a GIC; shared peripheral interrupts start at 32
  while (owner.has(n)) n++;
  return n;
}
