/**
 * @module io/control
 * The control-socket face of the I/O jobs: handlers for the methods `io`, `ioStatus` and
 * `ioCancel`, with the same signature as the entries of control/methods.ts, and the JSON
 * parameter checks (a bad parameter is EINVAL naming it; sizes may be numbers of bytes or
 * strings such as "4k", durations numbers of ms or strings such as "10s").
 *
 * To serve them, the platform adds to `createMethods` (and the names and types to protocol.ts):
 *
 * @example
 * const io = createIoMethods(kernel.vfs);
 * return { ...existing, ...io.handlers };          // io, ioStatus, ioCancel
 * // on shutdown: io.jobs.dispose();
 */
import type { IVfs } from '../vfs/api.js';
import { HmError } from '../errors/hm-error.js';
import type { CopyConfig } from './copy.js';
import { IoJobs, type IoJobParams, type IoJobsOptions, type IoJobStatus } from './jobs.js';
import type { LoadConfig, RwMode } from './loadgen.js';
import type { EndpointSpec } from './target.js';
import { parseDuration, parseSize } from './units.js';

type Params = Record<string, unknown>;

/** `io` parameters: a job's parameters, plus how the call itself behaves. */
export type IoStartParams = IoJobParams & {
  /** Keep running when the connection that started it closes (default: abort then). */
  detach?: boolean;
  /** Wait up to this long for the job to finish before answering (default 0: answer at once). */
  waitMs?: number;
};

export interface IoStatusParams { job: string; since?: number; waitMs?: number }

/** The entries for protocol.ts's ControlMethods. */
export interface IoControlMethods {
  io: { params: IoStartParams; result: IoJobStatus };
  ioStatus: { params: IoStatusParams; result: IoJobStatus };
  ioCancel: { params: { job: string }; result: IoJobStatus };
}

export const IO_METHOD_NAMES = ['io', 'ioStatus', 'ioCancel'] as const;

export type IoMethodHandler = (params: Params, signal: AbortSignal) => Promise<unknown>;

function bad(key: string, expected: string): HmError {
  return new HmError('EINVAL', `params.${key}: expected ${expected}`);
}

function optNum(p: Params, key: string, parse: (v: string | number, what: string) => number): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' && typeof v !== 'string') throw bad(key, 'a number or a string such as "4k"');
  try {
    return parse(v, `params.${key}`);
  } catch (e) {
    if (e instanceof HmError) throw new HmError('EINVAL', e.message, { suggestions: e.suggestions });
    throw e;
  }
}

/** A `...Ms` field: a number is milliseconds; a string has a unit ("10s", "500ms"; bare = seconds). */
function parseMs(v: string | number, what: string): number {
  if (typeof v === 'string') return parseDuration(v, what);
  if (!Number.isSafeInteger(v) || v < 0) throw new HmError('EINVAL', `${what}: expected milliseconds >= 0 (got ${v})`);
  return v;
}

function optInt(p: Params, key: string): number | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(key, 'an integer');
  return v;
}

function optBool(p: Params, key: string): boolean | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw bad(key, 'a boolean');
  return v;
}

function str(p: Params, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '') throw bad(key, 'a non-empty string');
  return v;
}

function endpoint(p: Params, key: string): EndpointSpec {
  const v = p[key];
  if (typeof v !== 'object' || v === null) throw bad(key, '{"vfs": PATH} or {"host": PATH}');
  const e = v as Params;
  if (typeof e.vfs === 'string' && e.host === undefined) return { vfs: e.vfs };
  if (typeof e.host === 'string' && e.vfs === undefined) return { host: e.host };
  throw bad(key, '{"vfs": PATH} or {"host": PATH}');
}

/** Drops undefined values (the configs use optional properties, not undefined ones). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Checks the JSON types of `io` parameters; the values are checked by the job itself. */
export function parseIoParams(p: Params): IoStartParams {
  const mode = p.mode ?? 'load';
  const call = defined({ detach: optBool(p, 'detach'), waitMs: optNum(p, 'waitMs', parseMs) });
  if (mode === 'copy') {
    const c: CopyConfig = defined({
      from: endpoint(p, 'from'), to: endpoint(p, 'to'), bs: optNum(p, 'bs', parseSize), count: optInt(p, 'count'),
      skip: optInt(p, 'skip'), seek: optInt(p, 'seek'), fsync: optBool(p, 'fsync'), truncate: optBool(p, 'truncate'),
      blocking: optBool(p, 'blocking'),
    });
    return { mode: 'copy', ...c, ...call };
  }
  if (mode !== 'load') throw bad('mode', '"load" or "copy"');
  const bs = optNum(p, 'bs', parseSize);
  if (bs === undefined) throw bad('bs', 'the block size (bytes, or a string such as "4k")');
  const l: LoadConfig = defined({
    path: str(p, 'path'), rw: str(p, 'rw') as RwMode, bs,
    iodepth: optInt(p, 'iodepth'), size: optNum(p, 'size', parseSize), offset: optNum(p, 'offset', parseSize),
    runtimeMs: optNum(p, 'runtimeMs', parseMs), ioCount: optInt(p, 'ioCount'), rwmixread: optInt(p, 'rwmixread'),
    seed: optInt(p, 'seed'), verify: optBool(p, 'verify'), direct: optBool(p, 'direct'),
    fsyncEvery: optInt(p, 'fsyncEvery'), endFsync: optBool(p, 'endFsync'), maxErrors: optInt(p, 'maxErrors'),
  });
  return { mode: 'load', ...l, ...call };
}

/** The three handlers over one job table. */
export function createIoMethods(vfs: IVfs, opts: IoJobsOptions = {}): { jobs: IoJobs; handlers: Record<(typeof IO_METHOD_NAMES)[number], IoMethodHandler> } {
  const jobs = new IoJobs(vfs, opts);
  return {
    jobs,
    handlers: {
      io: async (p, signal) => {
        const { detach, waitMs, ...params } = parseIoParams(p);
        const st = jobs.start(params as IoJobParams, { owner: signal, ...(detach !== undefined ? { detach } : {}) });
        if (!waitMs) return st;
        let cur = st;
        const end = performance.now() + waitMs;
        while (cur.state === 'running' && performance.now() < end && !signal.aborted) {
          cur = await jobs.status(st.job, { since: cur.seq, waitMs: end - performance.now() }, signal);
        }
        return cur;
      },
      ioStatus: async (p, signal) => jobs.status(str(p, 'job'), defined({ since: optInt(p, 'since'), waitMs: optInt(p, 'waitMs') }), signal),
      ioCancel: async (p) => jobs.cancel(str(p, 'job')),
    },
  };
}
