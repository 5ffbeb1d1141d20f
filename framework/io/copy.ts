/**
 * @module io/copy
 * dd for the platform: copies between a VFS path (a block device such as /dev/sda, a character
 * device, any VFS file) and a host file, in either direction, `bs` bytes a record, with dd's
 * `count`, `skip` (input records) and `seek` (output records).
 *
 * Semantics, as dd's with the noted choices:
 * - Seekable inputs are read a full block at a time (dd's iflag=fullblock): a short read only
 *   happens at end of input, so `count` means bytes = count × bs. A stream input (a FIFO,
 *   /dev/hmecho) gives what one read returns (dd's partial records).
 * - A character-device input is opened O_NONBLOCK unless `blocking` is set: "nothing to read now"
 *   (EAGAIN) then ends the copy, so draining a FIFO terminates. A block device is never opened
 *   O_NONBLOCK and EAGAIN from a seekable input is an error.
 * - `skip` on a stream input reads and discards; `seek` on a stream output is ESPIPE.
 * - A host output file is created when missing and truncated at seek × bs (dd without
 *   conv=notrunc) unless `truncate` is false.
 * - A write that makes no progress fails with ENOSPC (the end of a block device).
 * - Every I/O failure is an {@link IoError}: the SystemError of the call with the byte offset
 *   (input offset for reads, output offset for writes).
 * - Aborting (`signal`) stops after the record in flight and returns the summary so far with
 *   `stopReason: 'aborted'` (dd prints its statistics on SIGINT the same way).
 *
 * @example
 * const s = await copy({ vfs, from: { host: '/tmp/disk.img' }, to: { vfs: '/dev/sda' }, bs: 1 << 20 });
 * console.log(`${s.bytes} bytes, ${s.seconds} s, ${s.mbPerSec} MB/s`);
 */
import { isAbsolute } from 'node:path';
import type { IVfs } from '../vfs/api.js';
import { isSystemError } from '../errors/hm-error.js';
import { badOption, IoError, ioErrorAt } from './errors.js';
import { describeEndpoint, openEndpoint, type Endpoint, type EndpointSpec } from './target.js';

export const DEFAULT_COPY_BS = 128 * 1024;
/** Largest block size accepted (one record is one buffer in memory). */
export const MAX_COPY_BS = 64 * 1024 * 1024;
export const DEFAULT_PROGRESS_MS = 500;

/** What to copy: plain data (travels as JSON through the control socket). */
export interface CopyConfig {
  from: EndpointSpec;
  to: EndpointSpec;
  /** Record size in bytes (default 128 KiB). */
  bs?: number;
  /** Copy at most this many input records. */
  count?: number;
  /** Input records to skip. */
  skip?: number;
  /** Output records to skip. */
  seek?: number;
  /** fsync the output at the end (dd conv=fsync). */
  fsync?: boolean;
  /** Truncate a host output file at seek × bs first (default true; dd conv=notrunc is false). */
  truncate?: boolean;
  /** Block on an empty character-device input instead of ending the copy there. */
  blocking?: boolean;
}

export interface CopyOptions extends CopyConfig {
  vfs: IVfs;
  progress?: (p: CopyProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface CopyProgress {
  bytes: number;
  seconds: number;
  /** Bytes/s over the last interval. */
  rate: number;
  /** Bytes/s since the start. */
  avgRate: number;
  /** Bytes the copy will move, when known (count given, or the input's size known). */
  total?: number;
}

export interface CopySummary {
  from: string;
  to: string;
  bs: number;
  skip: number;
  seek: number;
  count?: number;
  /** dd's "N+M records in/out": full and partial records. */
  recordsIn: { full: number; partial: number };
  recordsOut: { full: number; partial: number };
  bytes: number;
  seconds: number;
  bytesPerSec: number;
  /** Decimal megabytes per second (dd's MB/s). */
  mbPerSec: number;
  stopReason: 'eof' | 'count' | 'aborted';
  synced: boolean;
}

function checkCount(v: number | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < min) throw badOption(`copy: ${name} must be an integer >= ${min} (got ${v})`);
  return v;
}

function checkEndpoint(spec: unknown, name: string): EndpointSpec {
  const e = (typeof spec === 'object' && spec !== null ? spec : {}) as Record<string, unknown>;
  const keys = Object.keys(e);
  const path = e.vfs ?? e.host;
  if (keys.length !== 1 || typeof path !== 'string' || path === '') {
    throw badOption(`copy: ${name} must be {"vfs": PATH} or {"host": PATH}`);
  }
  if ('host' in e && !isAbsolute(path)) {
    throw badOption(`copy: ${name} host path '${path}' must be absolute (the platform's working directory is not the caller's)`);
  }
  return 'vfs' in e ? { vfs: path } : { host: path };
}

/** Checks a configuration without opening anything; returns the numbers with defaults filled in. */
export function validateCopyConfig(c: CopyConfig): { bs: number; count: number | undefined; skip: number; seek: number } {
  checkEndpoint(c.from, 'from');
  checkEndpoint(c.to, 'to');
  const bs = checkCount(c.bs, 'bs', 1) ?? DEFAULT_COPY_BS;
  if (bs > MAX_COPY_BS) throw badOption(`copy: bs ${bs} is larger than ${MAX_COPY_BS} bytes`, 'use a smaller --bs, e.g. 1m');
  return { bs, count: checkCount(c.count, 'count', 0), skip: checkCount(c.skip, 'skip', 0) ?? 0, seek: checkCount(c.seek, 'seek', 0) ?? 0 };
}

export async function copy(opts: CopyOptions): Promise<CopySummary> {
  const { bs, count, skip, seek } = validateCopyConfig(opts);
  const interval = checkCount(opts.progressIntervalMs, 'progressIntervalMs', 1) ?? DEFAULT_PROGRESS_MS;

  const input = await openEndpoint(opts.vfs, opts.from, 'r', opts.blocking ? false : 'chr');
  let output: Endpoint | undefined;
  try {
    output = await openEndpoint(opts.vfs, opts.to, 'w', false);
    return await run(opts, input, output, { bs, count, skip, seek, interval });
  } finally {
    await output?.close().catch(() => undefined);
    await input.close().catch(() => undefined);
  }
}

interface Resolved { bs: number; count: number | undefined; skip: number; seek: number; interval: number }

async function run(opts: CopyOptions, input: Endpoint, output: Endpoint, r: Resolved): Promise<CopySummary> {
  const { bs, count, skip, seek } = r;
  const buf = new Uint8Array(bs);
  let inPos = 0;
  let outPos = seek * bs;
  if (!output.seekable && seek > 0) {
    throw new IoError('ESPIPE', 'lseek', output.path, 0, `cannot seek ${seek} records on a stream output`);
  }
  if (output.kind === 'host' && output.seekable && opts.truncate !== false && output.truncate && output.size !== undefined) {
    try { await output.truncate(outPos); } catch (e) { throw ioErrorAt(e, outPos, 'ftruncate', output.path); }
  }

  const stats = { full: 0, partial: 0, outFull: 0, outPartial: 0, bytes: 0 };
  const started = performance.now();
  let lastBytes = 0;
  let lastTime = started;
  let total: number | undefined;

  // Skip input records: by position when seekable, by reading otherwise.
  if (input.seekable) inPos = skip * bs;
  else {
    for (let left = skip * bs; left > 0;) {
      const n = await readOnce(input, buf, Math.min(left, bs), null, inPos);
      if (n === 0) break;
      inPos += n;
      left -= n;
    }
  }
  if (count !== undefined) total = count * bs;
  if (input.size !== undefined) total = Math.min(total ?? Infinity, Math.max(0, input.size - inPos));

  const timer = opts.progress ? setInterval(() => {
    const now = performance.now();
    const seconds = (now - started) / 1000;
    const p: CopyProgress = {
      bytes: stats.bytes, seconds,
      rate: ((stats.bytes - lastBytes) * 1000) / Math.max(1, now - lastTime),
      avgRate: seconds > 0 ? stats.bytes / seconds : 0,
      ...(total !== undefined ? { total } : {}),
    };
    lastBytes = stats.bytes;
    lastTime = now;
    opts.progress!(p);
  }, r.interval) : undefined;
  timer?.unref();

  let stopReason: CopySummary['stopReason'] = 'eof';
  let synced = false;
  try {
    for (let records = 0; ; records++) {
      if (opts.signal?.aborted) { stopReason = 'aborted'; break; }
      if (count !== undefined && records >= count) { stopReason = 'count'; break; }
      const n = await readBlock(input, buf, bs, inPos);
      if (n === 0) break;
      if (n === bs) stats.full++; else stats.partial++;
      inPos += n;
      await writeAll(output, buf, n, outPos);
      if (n === bs) stats.outFull++; else stats.outPartial++;
      outPos += n;
      stats.bytes += n;
    }
    if (opts.fsync && stats.bytes > 0) {
      try { await output.sync(); } catch (e) { throw ioErrorAt(e, outPos, 'fsync', output.path); }
      synced = true;
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const bytesPerSec = seconds > 0 ? stats.bytes / seconds : 0;
  return {
    from: describeEndpoint(opts.from), to: describeEndpoint(opts.to), bs, skip, seek,
    ...(count !== undefined ? { count } : {}),
    recordsIn: { full: stats.full, partial: stats.partial },
    recordsOut: { full: stats.outFull, partial: stats.outPartial },
    bytes: stats.bytes, seconds: round(seconds, 6), bytesPerSec: Math.round(bytesPerSec),
    mbPerSec: round(bytesPerSec / 1e6, 3), stopReason, synced,
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** One read; EAGAIN on a non-blocking stream is "nothing now" (0). */
async function readOnce(input: Endpoint, buf: Uint8Array, length: number, position: number | null, offset: number): Promise<number> {
  try {
    return await input.read(buf, 0, length, position);
  } catch (e) {
    if (!input.seekable && input.nonblock && isSystemError(e, 'EAGAIN')) return 0;
    throw ioErrorAt(e, offset, 'read', input.path);
  }
}

/** One record: a full block from a seekable input (unless EOF), one read from a stream. */
async function readBlock(input: Endpoint, buf: Uint8Array, bs: number, inPos: number): Promise<number> {
  if (!input.seekable) return readOnce(input, buf, bs, null, inPos);
  let got = 0;
  while (got < bs) {
    let n: number;
    try {
      n = await input.read(buf, got, bs - got, inPos + got);
    } catch (e) {
      throw ioErrorAt(e, inPos + got, 'read', input.path);
    }
    if (n === 0) break;
    got += n;
  }
  return got;
}

async function writeAll(output: Endpoint, buf: Uint8Array, length: number, outPos: number): Promise<void> {
  for (let done = 0; done < length;) {
    let n: number;
    try {
      n = await output.write(buf, done, length - done, outPos + done);
    } catch (e) {
      throw ioErrorAt(e, outPos + done, 'write', output.path);
    }
    if (n <= 0) throw new IoError('ENOSPC', 'write', output.path, outPos + done, 'the write made no progress');
    done += n;
  }
}
