/**
 * @module cli/lib/io-format
 * What `hmdrv io` prints: fio-style summaries of a load run, dd-style summaries of a copy, and
 * the one-line progress shown on stderr while a job runs.
 *
 * @example
 * for (const line of formatLoadResult(result)) console.log(line);
 * // /dev/sda: rw=randread, bs=4KiB, iodepth=32, size=64MiB, seed=1752000879
 * //   read: IOPS=12.3k, BW=48MiB/s (50.3MB/s)(480MiB/10.0s)
 * //     lat (usec): min=12.0, max=5400, avg=250, stdev=30.2
 * //     lat percentiles (usec): 50.00th=[230], 90.00th=[400], 99.00th=[900], 99.90th=[2000]
 */
import type { CopyProgress, CopySummary } from '../../framework/io/copy.js';
import type { IoJobParams, IoJobStatus } from '../../framework/io/jobs.js';
import type { DirectionResult, LoadProgress, LoadResult } from '../../framework/io/loadgen.js';
import type { LatencySummary } from '../../framework/io/histogram.js';
import { formatBandwidth, formatBytes, formatBytesSi, formatCount, formatSeconds } from '../../framework/io/units.js';

/** A latency number: whole above 100, else up to two decimals (fio prints 12.35, 250, 5400). */
function num(v: number): string {
  if (v >= 100) return String(Math.round(v));
  return String(Math.round(v * 100) / 100);
}

/** fio switches to msec when latencies are large. */
function latencyUnit(l: LatencySummary): { unit: 'usec' | 'msec'; scale: number } {
  return l.p50 >= 10_000 ? { unit: 'msec', scale: 1 / 1000 } : { unit: 'usec', scale: 1 };
}

function latencyLines(l: LatencySummary, indent: string): string[] {
  const { unit, scale } = latencyUnit(l);
  const s = (v: number) => num(v * scale);
  return [
    `${indent}lat (${unit}): min=${s(l.min)}, max=${s(l.max)}, avg=${s(l.mean)}, stdev=${s(l.stdev)}`,
    `${indent}lat percentiles (${unit}): 50.00th=[${s(l.p50)}], 90.00th=[${s(l.p90)}], 99.00th=[${s(l.p99)}], 99.90th=[${s(l.p999)}]`,
  ];
}

function directionLines(name: string, d: DirectionResult, seconds: number): string[] {
  const extra = [d.errors > 0 ? `errors=${d.errors}` : '', d.shortIos > 0 ? `short=${d.shortIos}` : ''].filter(Boolean).join(', ');
  return [
    `  ${name}: IOPS=${formatCount(d.iops)}, BW=${formatBandwidth(d.bwBytesPerSec)}(${formatBytes(d.bytes)}/${formatSeconds(seconds)})${extra ? `, ${extra}` : ''}`,
    ...latencyLines(d.latencyUs, '    '),
  ];
}

const STOP_TEXT: Record<LoadResult['stopReason'], string> = {
  count: 'all requests done', runtime: 'runtime reached', aborted: 'interrupted', errors: 'stopped on error',
};

export function formatLoadResult(r: LoadResult): string[] {
  const c = r.config;
  const head = [
    `rw=${c.rw}`, ...(c.rw === 'readwrite' || c.rw === 'randrw' ? [`rwmixread=${c.rwmixread}`] : []),
    `bs=${formatBytes(c.bs)}`, `iodepth=${c.iodepth}`,
    ...(r.stream ? ['stream'] : [`size=${formatBytes(c.size)}`, ...(c.offset ? [`offset=${formatBytes(c.offset)}`] : [])]),
    ...(c.runtimeMs !== undefined ? [`runtime=${formatSeconds(c.runtimeMs / 1000)}`] : []),
    ...(c.ioCount !== undefined ? [`io-count=${c.ioCount}`] : []),
    `seed=${c.seed}`, ...(c.direct ? ['direct'] : []), ...(c.verify ? ['verify'] : []),
  ];
  const lines = [`${c.path}: ${head.join(', ')}`];
  if (r.read.ios > 0 || r.read.errors > 0) lines.push(...directionLines('read', r.read, r.seconds));
  if (r.write.ios > 0 || r.write.errors > 0) lines.push(...directionLines('write', r.write, r.seconds));
  if (r.ios === 0 && r.errors === 0) lines.push('  no requests completed');
  lines.push(`  total: ios=${r.ios}, IOPS=${formatCount(r.iops)}, BW=${formatBandwidth(r.bwBytesPerSec)}, ` +
    `in flight max=${r.maxInflight}, errors=${r.errors}${r.wouldBlock > 0 ? `, would-block=${r.wouldBlock}` : ''}`);
  if (r.syncs.count > 0) lines.push(`  fsync: ${r.syncs.count} calls, avg=${num(r.syncs.latencyUs.mean)}usec, max=${num(r.syncs.latencyUs.max)}usec`);
  if (r.verify) {
    const v = r.verify;
    const m = v.firstMismatch;
    lines.push(`  verify: ${v.blocksChecked} reads (${formatBytes(v.bytesChecked)}) checked, ${v.mismatches} mismatched` +
      `${v.errors > 0 ? `, ${v.errors} read errors` : ''}${v.seconds > 0 ? `, read-back ${formatSeconds(v.seconds)}` : ''}`);
    if (m) {
      const actual = m.actual < 0 ? 'nothing (short read)' : hex(m.actual);
      lines.push(`  verify: first mismatch at offset ${m.offset}: expected ${hex(m.expected)}, read ${actual} ` +
        `(read of ${formatBytes(m.ioLength)} at ${m.ioOffset}, during the ${m.phase === 'run' ? 'run' : 'read-back'})`);
    }
  }
  if (r.firstError) lines.push(`  first error: ${r.firstError.message}`);
  if (r.stopReason !== 'count' && r.stopReason !== 'runtime') lines.push(`  ${STOP_TEXT[r.stopReason]} after ${formatSeconds(r.seconds)}`);
  if (r.inflightAbandoned > 0) lines.push(`  ${r.inflightAbandoned} requests never completed (the device stopped answering)`);
  return lines;
}

function hex(b: number): string { return `0x${b.toString(16).padStart(2, '0')}`; }

/** dd's three lines. */
export function formatCopySummary(s: CopySummary): string[] {
  const lines = [
    `${s.recordsIn.full}+${s.recordsIn.partial} records in`,
    `${s.recordsOut.full}+${s.recordsOut.partial} records out`,
    `${s.bytes} bytes (${formatBytesSi(s.bytes)}, ${formatBytes(s.bytes)}) copied, ${s.seconds.toPrecision(3)} s, ${formatBytesSi(s.bytesPerSec)}/s`,
  ];
  if (s.stopReason === 'aborted') lines.push('interrupted');
  return lines;
}

function isLoadProgress(p: LoadProgress | CopyProgress): p is LoadProgress {
  return 'phase' in p;
}

/** The progress line for a status (undefined while there is nothing to show yet). */
export function formatProgress(params: IoJobParams, st: IoJobStatus): string | undefined {
  const p = st.progress;
  if (!p) return undefined;
  if (isLoadProgress(p)) {
    const name = p.phase === 'verify' ? 'verify' : params.mode === 'load' ? params.rw : 'io';
    const path = params.mode === 'load' ? params.path : '';
    return [
      `${name} ${path}:`, ...(p.percent !== undefined ? [`${p.percent.toFixed(1)}%`] : []), formatSeconds(p.elapsedMs / 1000),
      `ios=${formatCount(p.ios)}`, `${formatCount(p.iops)} IOPS`, formatBandwidth(p.bwBytesPerSec),
      ...(p.phase === 'run' ? [`in flight=${p.inflight}`] : []), `errors=${p.errors}`,
    ].join(' ');
  }
  const pct = p.total ? ` (${((100 * p.bytes) / p.total).toFixed(1)}%)` : '';
  return `${p.bytes} bytes (${formatBytesSi(p.bytes)}, ${formatBytes(p.bytes)})${pct} copied, ${p.seconds.toFixed(0)} s, ${formatBytesSi(p.rate)}/s`;
}
