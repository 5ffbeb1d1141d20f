/**
 * @module io/units
 * Sizes, durations and rates as people type and read them (fio/dd conventions): `4k`, `128k`,
 * `64m`, `1g` with binary (KiB = 1024) semantics; `10`, `500ms`, `2m` for durations; IOPS and
 * bandwidth printed fio-style (`12.3k`, `48.0MiB/s (50.3MB/s)`).
 *
 * @example
 * parseSize('4k');        // 4096
 * parseSize('1.5m');      // 1572864
 * parseDuration('10');    // 10000 (ms; a bare number is seconds)
 * formatBytes(49152);     // '48KiB'
 */
import { HmError } from '../errors/hm-error.js';

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
const SIZE_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:([kmgtp])(?:i?b)?|(b))?\s*$/i;

/**
 * Parses a byte count: digits with an optional suffix k, m, g, t, p (also written K, KiB, kb:
 * all binary, 1k = 1024, as fio and dd do). Fractions are allowed when the result is whole
 * bytes (`1.5k` = 1536). Throws EINVAL (an HmError naming `what`) otherwise.
 */
export function parseSize(text: string | number, what = 'size'): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw badSize(String(text), what);
  }
  const m = SIZE_RE.exec(text);
  if (!m) throw badSize(text, what);
  const unit = SIZE_UNITS[(m[2] ?? m[3] ?? '').toLowerCase()]!;
  const value = Number(m[1]) * unit;
  if (!Number.isSafeInteger(value)) throw badSize(text, what, 'not a whole number of bytes');
  return value;
}

function badSize(text: string, what: string, why?: string): HmError {
  return new HmError('EINVAL', `invalid ${what} '${text}'${why ? `: ${why}` : ''}`, {
    suggestions: ['a number of bytes with an optional k, m, g or t suffix (1k = 1024), e.g. 4k, 128k, 64m, 1g'],
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, min: 60_000, h: 3_600_000 };
const DURATION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|min|m|h)?\s*$/i;

/** Parses a duration into milliseconds: a bare number is seconds (fio's runtime=10); ms, s, m, h suffixes. */
export function parseDuration(text: string | number, what = 'duration'): number {
  const m = typeof text === 'number' ? [String(text), String(text), ''] : DURATION_RE.exec(text);
  const value = m ? Number(m[1]) * DURATION_UNITS[(m[2] ?? '').toLowerCase()]! : NaN;
  if (!Number.isFinite(value) || value < 0) {
    throw new HmError('EINVAL', `invalid ${what} '${text}'`, { suggestions: ['seconds (10), or with a unit: 500ms, 10s, 2m, 1h'] });
  }
  return Math.round(value);
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const SI = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

function scaled(n: number, base: number, units: string[]): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= base && i < units.length - 1) { v /= base; i++; }
  if (i === 0) return `${Math.round(v)}${units[0]}`;
  // Whole values print bare (4KiB, 64MiB); others with three significant digits (48.3MiB, 1.25GiB).
  const text = Number.isInteger(v) ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${text}${units[i]}`;
}

/** A byte count in binary units: 4096 → '4KiB', 1.5 MiB → '1.50MiB'. */
export function formatBytes(n: number): string { return scaled(n, 1024, IEC); }

/** A byte count in decimal units (dd's "1.0 MB" side): 1e6 → '1MB'. */
export function formatBytesSi(n: number): string { return scaled(n, 1000, SI); }

/** A bandwidth fio-style: '48.0MiB/s (50.3MB/s)'. */
export function formatBandwidth(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s (${formatBytesSi(bytesPerSec)}/s)`;
}

/** A count fio-style: 950, 12.3k, 1.25M. */
export function formatCount(n: number): string {
  if (n < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0);
  const units = ['', 'k', 'M', 'G'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${units[i]}`;
}

/** Seconds with a sensible number of decimals: 0.000123 → '123us', 1.5 → '1.50s'. */
export function formatSeconds(s: number): string {
  if (s < 1e-3) return `${Math.round(s * 1e6)}us`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : s < 0.1 ? 1 : 0)}ms`;
  return `${s.toFixed(s < 10 ? 2 : 1)}s`;
}
