/**
 * @module io/loadgen
 * A fio-like load generator over one VFS path, run inside the platform process so it measures
 * the VFS → device node → driver path (not the control socket).
 *
 * - `rw`: read | write | randread | randwrite | readwrite | randrw (mix by `rwmixread`, percent
 *   reads, default 50). Sequential modes keep one cursor per direction and wrap at the end of
 *   the region; random modes draw block-aligned offsets uniformly (with replacement) from a
 *   seeded PRNG, so a seed gives the same offset and direction sequence, in issue order, on
 *   every run.
 * - `iodepth` requests are in flight at once: that many workers share one fd and each keeps
 *   exactly one async VFS call outstanding.
 * - The run ends after `runtimeMs`, after `ioCount` issued requests, whichever is first; with
 *   neither, after one pass over the region (size / bs requests). `signal` aborts it: no new
 *   requests, the ones in flight are awaited (at most `drainTimeoutMs`), and the result so far
 *   is returned with `stopReason: 'aborted'`.
 * - An I/O error is counted (per direction) and stops the run once `maxErrors` errors happened
 *   (default 1, fio's default; 0 = never stop); the first one is reported with its offset.
 * - `verify`: writes carry the {@link VerifyPattern} of their offset and seed; reads of blocks
 *   written earlier in the run (and every read of a read-only workload, which then checks a
 *   region written by an earlier verify run with the same seed) are checked; after the run,
 *   every block written is read back and checked. The first mismatch's absolute offset is
 *   reported, with the count of mismatching reads.
 * - `direct` adds O_DIRECT to the open flags (for the driver to honour); `fsyncEvery` N syncs
 *   after every N writes of a worker, `endFsync` once at the end.
 * - Latency is per request, issue to completion, in an HDR-style histogram
 *   ({@link LatencyHistogram}: percentiles within 0.79 %, min/max/mean exact).
 * - Stream devices (no llseek, e.g. /dev/hmecho) support read, write and readwrite at the
 *   current position. They are opened O_NONBLOCK so the generator never hangs on an empty or
 *   full FIFO: EAGAIN is counted as `wouldBlock` (not an I/O, not an error) and the worker
 *   retries after 1 ms; such attempts still count against `ioCount`. Verify on a stream checks
 *   the byte stream (the n-th byte read must be the n-th byte written) and needs iodepth 1.
 *
 * @example
 * const r = await runLoad({ vfs, path: '/dev/sda', rw: 'randread', bs: 4096, iodepth: 32, runtimeMs: 10_000 });
 * console.log(r.iops, r.latencyUs.p99);
 */
import type { IVfs } from '../vfs/api.js';
import { MAX_RW_COUNT } from '../vfs/file-io.js';
import { isSystemError } from '../errors/hm-error.js';
import { badOption, IoError, ioErrorAt } from './errors.js';
import { HISTOGRAM_PRECISION, LatencyHistogram, type LatencySummary } from './histogram.js';
import { VerifyPattern, type Mismatch } from './pattern.js';
import { Prng } from './prng.js';
import { openVfsEndpoint, type Endpoint } from './target.js';

export const RW_MODES = ['read', 'write', 'randread', 'randwrite', 'readwrite', 'randrw'] as const;
export type RwMode = (typeof RW_MODES)[number];
export type Direction = 'read' | 'write';

export const MAX_IODEPTH = 1024;
export const DEFAULT_SEED = 0x686d696f; // "hmio"
export const DEFAULT_LOAD_PROGRESS_MS = 500;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
/** Wait before retrying a request a non-blocking stream answered with EAGAIN. */
const WOULD_BLOCK_RETRY_MS = 1;

/** What to run: plain data (travels as JSON through the control socket). */
export interface LoadConfig {
  path: string;
  rw: RwMode;
  /** Bytes per request, 1 .. 1 MiB (the VFS's MAX_RW_COUNT). */
  bs: number;
  /** Requests in flight at once (default 1). */
  iodepth?: number;
  /** Bytes of the region (default: from `offset` to the end of the device). */
  size?: number;
  /** Start of the region (default 0). */
  offset?: number;
  runtimeMs?: number;
  ioCount?: number;
  /** Percent of reads for readwrite/randrw (default 50). */
  rwmixread?: number;
  /** PRNG seed, an unsigned 32-bit integer (default 0x686d696f). */
  seed?: number;
  verify?: boolean;
  direct?: boolean;
  /** fsync after every N writes of a worker. */
  fsyncEvery?: number;
  endFsync?: boolean;
  /** Stop after this many errors (default 1; 0 = never). */
  maxErrors?: number;
}

export interface LoadOptions extends LoadConfig {
  vfs: IVfs;
  progress?: (p: LoadProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
  drainTimeoutMs?: number;
}

export interface LoadProgress {
  phase: 'run' | 'verify';
  elapsedMs: number;
  /** Completed requests of this phase so far. */
  ios: number;
  bytes: number;
  readIos: number;
  writeIos: number;
  errors: number;
  /** Over the last interval. */
  iops: number;
  bwBytesPerSec: number;
  inflight: number;
  /** 0..100 when the end is known (runtime, ioCount, verify pass). */
  percent?: number;
}

export interface DirectionResult {
  ios: number;
  bytes: number;
  iops: number;
  bwBytesPerSec: number;
  /** Decimal MB/s. */
  mbPerSec: number;
  latencyUs: LatencySummary;
  errors: number;
  /** Requests that moved fewer than bs bytes (end of device, a stream's partial read). */
  shortIos: number;
}

export interface FirstError {
  code: string;
  message: string;
  direction: Direction | 'sync';
  /** Byte offset of the request (-1 on a stream). */
  offset: number;
}

export interface VerifyResult {
  /** Reads checked against the pattern (during the run and in the read-back pass). */
  blocksChecked: number;
  bytesChecked: number;
  /** Reads whose data differed. */
  mismatches: number;
  firstMismatch?: Mismatch & { ioOffset: number; ioLength: number; phase: 'run' | 'verify' };
  /** Duration of the read-back pass. */
  seconds: number;
  /** Read errors in the read-back pass. */
  errors: number;
}

export type StopReason = 'count' | 'runtime' | 'aborted' | 'errors';

export interface LoadResult {
  /** The configuration with every default filled in. */
  config: Required<Omit<LoadConfig, 'runtimeMs' | 'ioCount' | 'fsyncEvery'>> & Pick<LoadConfig, 'runtimeMs' | 'ioCount' | 'fsyncEvery'>;
  /** The target has no llseek (I/O at the current position). */
  stream: boolean;
  stopReason: StopReason;
  /** Run phase, first issue to last completion (the verify pass is not included). */
  seconds: number;
  ios: number;
  bytes: number;
  iops: number;
  bwBytesPerSec: number;
  mbPerSec: number;
  latencyUs: LatencySummary;
  errors: number;
  firstError?: FirstError;
  read: DirectionResult;
  write: DirectionResult;
  syncs: { count: number; latencyUs: LatencySummary };
  wouldBlock: number;
  /** Most requests seen in flight at once (== iodepth when the device keeps up). */
  maxInflight: number;
  /** Requests still in flight when the drain timeout gave up on them. */
  inflightAbandoned: number;
  verify?: VerifyResult;
  /** Relative accuracy of the percentiles (upper bound). */
  latencyPrecision: number;
}

function intIn(v: number | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw badOption(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`} (got ${String(v)})`);
  }
  return v;
}

export function hasReads(rw: RwMode): boolean { return rw !== 'write' && rw !== 'randwrite'; }
export function hasWrites(rw: RwMode): boolean { return rw !== 'read' && rw !== 'randread'; }
export function isRandom(rw: RwMode): boolean { return rw.startsWith('rand'); }
export function isMixed(rw: RwMode): boolean { return rw === 'readwrite' || rw === 'randrw'; }

/**
 * Checks a configuration without touching the device (the CLI calls this before sending it);
 * returns it with defaults filled in. Device-dependent checks (region within the capacity,
 * random I/O on a stream) happen when the run opens the target.
 */
export function validateLoadConfig(c: LoadConfig): LoadResult['config'] {
  if (typeof c.path !== 'string' || c.path === '') throw badOption('path: give the VFS path to load, e.g. /dev/sda');
  if (!(RW_MODES as readonly string[]).includes(c.rw)) {
    throw badOption(`rw must be one of ${RW_MODES.join(', ')} (got '${String(c.rw)}')`);
  }
  const bs = intIn(c.bs, 'bs', 1, MAX_RW_COUNT);
  if (bs === undefined) throw badOption('bs is required');
  const iodepth = intIn(c.iodepth, 'iodepth', 1, MAX_IODEPTH) ?? 1;
  const size = intIn(c.size, 'size', 1);
  const offset = intIn(c.offset, 'offset', 0) ?? 0;
  const runtimeMs = intIn(c.runtimeMs, 'runtime (ms)', 1);
  const ioCount = intIn(c.ioCount, 'io-count', 1);
  const rwmix = intIn(c.rwmixread, 'rwmixread', 0, 100);
  if (rwmix !== undefined && !isMixed(c.rw)) {
    throw badOption(`rwmixread only applies to readwrite and randrw (rw is ${c.rw})`);
  }
  const seed = intIn(c.seed, 'seed', 0, 0xffff_ffff) ?? DEFAULT_SEED;
  const fsyncEvery = intIn(c.fsyncEvery, 'fsync', 1);
  if ((fsyncEvery !== undefined || c.endFsync) && !hasWrites(c.rw)) {
    throw badOption(`fsync options need a workload with writes (rw is ${c.rw})`);
  }
  const maxErrors = intIn(c.maxErrors, 'max-errors', 0) ?? 1;
  if (size !== undefined && size < bs) throw badOption(`size (${size}) is smaller than bs (${bs})`);
  return {
    path: c.path, rw: c.rw, bs, iodepth, size: size ?? 0, offset, rwmixread: rwmix ?? (isMixed(c.rw) ? 50 : hasReads(c.rw) ? 100 : 0),
    seed, verify: c.verify === true, direct: c.direct === true, endFsync: c.endFsync === true, maxErrors,
    ...(runtimeMs !== undefined ? { runtimeMs } : {}),
    ...(ioCount !== undefined ? { ioCount } : {}),
    ...(fsyncEvery !== undefined ? { fsyncEvery } : {}),
  };
}

class DirStats {
  ios = 0;
  bytes = 0;
  errors = 0;
  shortIos = 0;
  readonly hist = new LatencyHistogram();

  result(seconds: number): DirectionResult {
    const bw = seconds > 0 ? this.bytes / seconds : 0;
    return {
      ios: this.ios, bytes: this.bytes, iops: round(seconds > 0 ? this.ios / seconds : 0, 1),
      bwBytesPerSec: Math.round(bw), mbPerSec: round(bw / 1e6, 3), latencyUs: this.hist.summary(),
      errors: this.errors, shortIos: this.shortIos,
    };
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Request { dir: Direction; offset: number | null; block: number }

/** Runs the load and returns its statistics (see the module doc for the semantics). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const config = validateLoadConfig(opts);
  const interval = intIn(opts.progressIntervalMs, 'progressIntervalMs', 1) ?? DEFAULT_LOAD_PROGRESS_MS;
  const drainMs = intIn(opts.drainTimeoutMs, 'drainTimeoutMs', 0) ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const { rw, bs, iodepth } = config;
  const access = hasWrites(rw) ? (config.verify || hasReads(rw) ? 'rw' : 'w') : 'r';
  const target = await openVfsEndpoint(opts.vfs, config.path, { access, direct: config.direct });
  try {
    const stream = !target.seekable;
    if (stream && isRandom(rw)) {
      throw new IoError('ESPIPE', 'lseek', config.path, 0, `${rw} needs positioned I/O and ${config.path} is a stream`);
    }
    if (stream && config.verify && iodepth > 1) {
      throw badOption(`verify on a stream (${config.path}) needs iodepth 1 (got ${iodepth})`, 'drop --iodepth, or drop --verify');
    }
    let size = config.size;
    if (!stream) {
      const capacity = target.size;
      if (size === 0) {
        if (capacity === undefined) {
          throw badOption(`the size of ${config.path} is unknown`, 'give the region with --size, e.g. --size 64m');
        }
        size = capacity - config.offset;
      }
      if (capacity !== undefined && config.offset + size > capacity) {
        throw badOption(`region ${config.offset}+${size} is beyond the end of ${config.path} (capacity ${capacity} bytes)`,
          'use a smaller --size or --offset');
      }
      if (size < bs) throw badOption(`region (${size} bytes) is smaller than bs (${bs})`);
    }
    let ioCount = config.ioCount;
    if (ioCount === undefined && config.runtimeMs === undefined) {
      if (size === 0) throw badOption(`${config.path} is a stream: say when to stop`, 'give --runtime or --io-count (or --size for one pass)');
      ioCount = Math.floor(size / bs);
    }
    const finalConfig = { ...config, size, ...(ioCount !== undefined ? { ioCount } : {}) };
    return await new LoadRun(finalConfig, target, stream, opts, interval, drainMs).run();
  } finally {
    await target.close().catch(() => undefined);
  }
}

class LoadRun {
  private readonly read = new DirStats();
  private readonly write = new DirStats();
  private readonly syncHist = new LatencyHistogram();
  private readonly blocks: number;
  private readonly offRng: Prng;
  private readonly dirRng: Prng;
  private readonly pattern?: VerifyPattern;
  /** Blocks written completely in this run (verify only). */
  private readonly written?: Uint8Array;
  private readonly cursor = { read: 0, write: 0 };
  private streamReadPos = 0;
  private streamWritePos = 0;
  private issued = 0;
  private inflight = 0;
  private maxInflight = 0;
  private wouldBlock = 0;
  private errors = 0;
  private firstError?: FirstError;
  private stopReason?: StopReason;
  private onStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => { this.onStop = resolve; });
  private deadline = Infinity;
  private started = 0;
  private phase: 'run' | 'verify' = 'run';
  private readonly verify?: VerifyResult;
  private verifyTotal = 0;

  constructor(private readonly config: LoadResult['config'], private readonly target: Endpoint, private readonly stream: boolean,
    private readonly opts: LoadOptions, private readonly interval: number, private readonly drainMs: number) {
    this.blocks = stream ? 0 : Math.floor(config.size / config.bs);
    this.offRng = new Prng(config.seed);
    this.dirRng = new Prng(config.seed ^ 0x9e3779b9);
    if (config.verify) {
      this.pattern = new VerifyPattern(config.seed);
      if (!stream && hasWrites(config.rw)) this.written = new Uint8Array(Math.ceil(this.blocks / 8));
      this.verify = { blocksChecked: 0, bytesChecked: 0, mismatches: 0, seconds: 0, errors: 0 };
    }
  }

  private requestStop(reason: StopReason): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.onStop();
  }

  private next(): Request | undefined {
    if (this.stopReason !== undefined) return undefined;
    if (this.config.ioCount !== undefined && this.issued >= this.config.ioCount) { this.requestStop('count'); return undefined; }
    if (performance.now() >= this.deadline) { this.requestStop('runtime'); return undefined; }
    this.issued++;
    const { rw } = this.config;
    const dir: Direction = !isMixed(rw) ? (hasReads(rw) ? 'read' : 'write')
      : this.dirRng.u32() % 100 < this.config.rwmixread ? 'read' : 'write';
    if (this.stream) return { dir, offset: null, block: -1 };
    let block: number;
    if (isRandom(rw)) block = this.offRng.below(this.blocks);
    else {
      block = this.cursor[dir];
      this.cursor[dir] = (block + 1) % this.blocks;
    }
    return { dir, offset: this.config.offset + block * this.config.bs, block };
  }

  private isWritten(block: number): boolean {
    return this.written !== undefined && (this.written[block >> 3]! & (1 << (block & 7))) !== 0;
  }

  private describeError(e: unknown, dir: FirstError['direction'], offset: number): FirstError {
    const err = ioErrorAt(e, offset, dir === 'sync' ? 'fsync' : dir, this.config.path);
    return { code: err.code, message: err.message, direction: dir, offset };
  }

  private noteError(e: unknown, dir: FirstError['direction'], offset: number): void {
    this.errors++;
    this.firstError ??= this.describeError(e, dir, offset);
    if (this.config.maxErrors > 0 && this.errors >= this.config.maxErrors) this.requestStop('errors');
  }

  private expectedByte(position: number): number {
    const one = new Uint8Array(1);
    this.pattern!.fill(one, position);
    return one[0]!;
  }

  private check(data: Uint8Array, position: number, ioOffset: number): void {
    const v = this.verify!;
    v.blocksChecked++;
    v.bytesChecked += data.length;
    const bad = this.pattern!.firstMismatch(data, position);
    if (bad === undefined) return;
    v.mismatches++;
    v.firstMismatch ??= { ...bad, ioOffset, ioLength: data.length, phase: this.phase };
  }

  private async worker(slot: number): Promise<void> {
    const { bs } = this.config;
    const rbuf = new Uint8Array(bs);
    const wbuf = new Uint8Array(bs);
    if (!this.pattern) new Prng(this.config.seed + slot + 1).fill(wbuf);
    let writesSinceSync = 0;
    for (;;) {
      const req = this.next();
      if (req === undefined) return;
      const stats = req.dir === 'read' ? this.read : this.write;
      const pos = req.offset ?? -1;
      const verifiable = this.verify !== undefined && req.dir === 'read'
        && (this.stream || !hasWrites(this.config.rw) || this.isWritten(req.block));
      this.inflight++;
      if (this.inflight > this.maxInflight) this.maxInflight = this.inflight;
      let retry = false;
      try {
        if (req.dir === 'write') {
          if (this.pattern) this.pattern.fill(wbuf, this.stream ? this.streamWritePos : pos);
          const t0 = performance.now();
          const n = await this.target.write(wbuf, 0, bs, req.offset);
          stats.hist.record((performance.now() - t0) * 1e6);
          stats.ios++;
          stats.bytes += n;
          if (n < bs) stats.shortIos++;
          if (this.stream) this.streamWritePos += n;
          else if (this.written && n === bs) this.written[req.block >> 3]! |= 1 << (req.block & 7);
          if (this.config.fsyncEvery !== undefined && ++writesSinceSync >= this.config.fsyncEvery) {
            writesSinceSync = 0;
            await this.sync();
          }
        } else {
          const t0 = performance.now();
          const n = await this.target.read(rbuf, 0, bs, req.offset);
          stats.hist.record((performance.now() - t0) * 1e6);
          stats.ios++;
          stats.bytes += n;
          if (n < bs) stats.shortIos++;
          if (verifiable && n > 0) this.check(rbuf.subarray(0, n), this.stream ? this.streamReadPos : pos, pos);
          if (this.stream) this.streamReadPos += n;
        }
      } catch (e) {
        if (this.stream && this.target.nonblock && isSystemError(e, 'EAGAIN')) {
          this.wouldBlock++;
          retry = true;
        } else {
          stats.errors++;
          this.noteError(e, req.dir, pos);
        }
      } finally {
        this.inflight--;
      }
      if (retry) await sleep(WOULD_BLOCK_RETRY_MS);
    }
  }

  private async sync(): Promise<void> {
    const t0 = performance.now();
    try {
      await this.target.sync();
      this.syncHist.record((performance.now() - t0) * 1e6);
    } catch (e) {
      this.noteError(e, 'sync', -1);
    }
  }

  /** Runs `workers` until they return, or until `drainMs` after a stop; returns those still busy. */
  private async drain(workers: Promise<void>[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = this.stopped.then(() => new Promise<void>((resolve) => { timer = setTimeout(resolve, this.drainMs); }));
    try {
      await Promise.race([Promise.all(workers), timeout]);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private progressTimer(): () => void {
    const progress = this.opts.progress;
    if (!progress) return () => undefined;
    let lastIos = 0;
    let lastBytes = 0;
    let last = performance.now();
    let phase = this.phase;
    const timer = setInterval(() => {
      const now = performance.now();
      if (phase !== this.phase) { phase = this.phase; lastIos = 0; lastBytes = 0; }
      const verify = this.phase === 'verify';
      const ios = verify ? this.verify!.blocksChecked : this.read.ios + this.write.ios;
      const bytes = verify ? this.verify!.bytesChecked : this.read.bytes + this.write.bytes;
      const dt = Math.max(1e-3, (now - last) / 1000);
      const elapsedMs = now - this.started;
      let percent: number | undefined;
      if (verify) percent = this.verifyTotal > 0 ? (100 * ios) / this.verifyTotal : undefined;
      else {
        const byCount = this.config.ioCount !== undefined ? (100 * this.issued) / this.config.ioCount : 0;
        const byTime = this.config.runtimeMs !== undefined ? (100 * elapsedMs) / this.config.runtimeMs : 0;
        percent = this.config.ioCount === undefined && this.config.runtimeMs === undefined ? undefined : Math.max(byCount, byTime);
      }
      progress({
        phase: this.phase, elapsedMs: Math.round(elapsedMs), ios, bytes,
        readIos: this.read.ios, writeIos: this.write.ios, errors: this.errors + (this.verify?.errors ?? 0),
        iops: round((ios - lastIos) / dt, 1), bwBytesPerSec: Math.round((bytes - lastBytes) / dt),
        inflight: this.inflight,
        ...(percent !== undefined ? { percent: round(Math.min(100, percent), 1) } : {}),
      });
      lastIos = ios;
      lastBytes = bytes;
      last = now;
    }, this.interval);
    timer.unref();
    return () => clearInterval(timer);
  }

  async run(): Promise<LoadResult> {
    const signal = this.opts.signal;
    const onAbort = () => this.requestStop('aborted');
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.started = performance.now();
    if (this.config.runtimeMs !== undefined) this.deadline = this.started + this.config.runtimeMs;
    const stopProgress = this.progressTimer();
    let seconds: number;
    try {
      const workers = Array.from({ length: this.config.iodepth }, (_, i) => this.worker(i));
      await this.drain(workers);
      if (this.config.endFsync && this.write.ios > 0 && this.inflight === 0) await this.sync();
      seconds = (performance.now() - this.started) / 1000;
      if (this.written && this.stopReason !== 'aborted' && this.stopReason !== 'errors' && this.inflight === 0) {
        await this.readBack();
      }
    } finally {
      stopProgress();
      signal?.removeEventListener('abort', onAbort);
    }
    return this.result(seconds);
  }

  /** The verify pass: reads back every block written, `iodepth` at a time, in ascending order. */
  private async readBack(): Promise<void> {
    const v = this.verify!;
    const written = this.written!;
    const { bs, iodepth, offset } = this.config;
    for (let b = 0; b < this.blocks; b++) if (this.isWritten(b)) this.verifyTotal++;
    this.phase = 'verify';
    const t0 = performance.now();
    let next = 0;
    const take = (): number => {
      while (next < this.blocks && (written[next >> 3]! & (1 << (next & 7))) === 0) next++;
      return next < this.blocks ? next++ : -1;
    };
    const signal = this.opts.signal;
    const worker = async () => {
      const buf = new Uint8Array(bs);
      for (;;) {
        if (signal?.aborted) return;
        const block = take();
        if (block < 0) return;
        const pos = offset + block * bs;
        try {
          const n = await this.target.read(buf, 0, bs, pos);
          const before = v.mismatches;
          this.check(buf.subarray(0, n), pos, pos);
          if (n < bs && v.mismatches === before) {
            // A block written whole must read back whole: the missing bytes are the mismatch.
            v.mismatches++;
            v.firstMismatch ??= { offset: pos + n, expected: this.expectedByte(pos + n), actual: -1, ioOffset: pos, ioLength: n, phase: 'verify' };
          }
        } catch (e) {
          v.errors++;
          this.firstError ??= this.describeError(e, 'read', pos);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(iodepth, this.verifyTotal) }, worker));
    v.seconds = round((performance.now() - t0) / 1000, 6);
  }

  private result(seconds: number): LoadResult {
    const all = new LatencyHistogram();
    all.merge(this.read.hist);
    all.merge(this.write.hist);
    const ios = this.read.ios + this.write.ios;
    const bytes = this.read.bytes + this.write.bytes;
    const bw = seconds > 0 ? bytes / seconds : 0;
    return {
      config: this.config,
      stream: this.stream,
      stopReason: this.stopReason ?? 'count',
      seconds: round(seconds, 6),
      ios, bytes, iops: round(seconds > 0 ? ios / seconds : 0, 1), bwBytesPerSec: Math.round(bw), mbPerSec: round(bw / 1e6, 3),
      latencyUs: all.summary(),
      errors: this.errors,
      ...(this.firstError ? { firstError: this.firstError } : {}),
      read: this.read.result(seconds),
      write: this.write.result(seconds),
      syncs: { count: this.syncHist.count, latencyUs: this.syncHist.summary() },
      wouldBlock: this.wouldBlock,
      maxInflight: this.maxInflight,
      inflightAbandoned: this.inflight,
      ...(this.verify ? { verify: this.verify } : {}),
      latencyPrecision: HISTOGRAM_PRECISION,
    };
  }
}
