/**
 * @module io/jobs
 * I/O jobs (a load run or a copy) running inside the platform, driven through the control
 * socket: `start` checks the parameters and returns at once with a job id; `status` long-polls
 * (returns when there is news: a progress update, about every 500 ms, or the end); `cancel`
 * aborts (the job then finishes with its partial result, `stopReason: 'aborted'`).
 *
 * A job is tied to the connection that started it (its `owner` signal): if the client goes away
 * the job is aborted, unless it was started with `detach`. Finished jobs are kept `keepMs`
 * (default 60 s) for their result to be fetched, then forgotten.
 *
 * @example
 * const jobs = new IoJobs(kernel.vfs);
 * const { job } = await jobs.start({ mode: 'load', path: '/dev/sda', rw: 'randread', bs: 4096, runtimeMs: 5000 });
 * let st = await jobs.status(job, { since: 0, waitMs: 1000 });
 * while (st.state === 'running') st = await jobs.status(job, { since: st.seq, waitMs: 1000 });
 */
import type { IVfs } from '../vfs/api.js';
import { HmError } from '../errors/hm-error.js';
import { copy, validateCopyConfig, type CopyConfig, type CopyProgress, type CopySummary } from './copy.js';
import { runLoad, validateLoadConfig, type LoadConfig, type LoadProgress, type LoadResult } from './loadgen.js';

export type IoJobParams = ({ mode: 'load' } & LoadConfig) | ({ mode: 'copy' } & CopyConfig);

export type IoJobState = 'running' | 'done' | 'failed';

/** An error as it travels (the control socket's WireError, plus the I/O offset when known). */
export interface IoJobError {
  code: string;
  message: string;
  errno?: number;
  syscall?: string;
  path?: string;
  offset?: number;
  suggestions: string[];
}

export interface IoJobStatus {
  job: string;
  mode: 'load' | 'copy';
  state: IoJobState;
  /** Grows with every progress update and at the end: pass it back as `since` to long-poll. */
  seq: number;
  elapsedMs: number;
  progress?: LoadProgress | CopyProgress;
  /** When done: LoadResult for 'load', CopySummary for 'copy'. */
  result?: LoadResult | CopySummary;
  /** When failed. */
  error?: IoJobError;
}

export interface IoJobsOptions {
  /** Jobs running at once (default 4); one more is EBUSY. */
  maxRunning?: number;
  /** How long a finished job's result stays (default 60 s). */
  keepMs?: number;
  progressIntervalMs?: number;
  /** Longest `status` long-poll (default 30 s). */
  maxWaitMs?: number;
}

export interface StartOptions {
  /** Abort the job when this signal fires (the starting connection closing). */
  owner?: AbortSignal;
  /** Ignore `owner`: the job outlives its client. */
  detach?: boolean;
}

class Job {
  state: IoJobState = 'running';
  seq = 0;
  progress?: LoadProgress | CopyProgress;
  result?: LoadResult | CopySummary;
  error?: IoJobError;
  readonly abort = new AbortController();
  readonly started = performance.now();
  ended?: number;
  private waiters: (() => void)[] = [];

  constructor(readonly id: string, readonly mode: 'load' | 'copy') {}

  bump(): void {
    this.seq++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at the next bump, after `ms`, or when `signal` fires. */
  waitNews(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  snapshot(): IoJobStatus {
    return {
      job: this.id, mode: this.mode, state: this.state, seq: this.seq,
      elapsedMs: Math.round((this.ended ?? performance.now()) - this.started),
      ...(this.progress ? { progress: this.progress } : {}),
      ...(this.result ? { result: this.result } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

export function toJobError(e: unknown): IoJobError {
  const err = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  const out: IoJobError = {
    code: typeof err.code === 'string' ? err.code : 'EIO',
    message: e instanceof Error ? e.message : String(e),
    suggestions: Array.isArray(err.suggestions) ? err.suggestions.map(String) : [],
  };
  if (typeof err.errno === 'number') out.errno = err.errno;
  if (typeof err.syscall === 'string') out.syscall = err.syscall;
  if (typeof err.path === 'string') out.path = err.path;
  if (typeof err.offset === 'number') out.offset = err.offset;
  return out;
}

/** Checks a job's parameters (mode, then the mode's own checks); throws EINVAL naming the problem. */
export function validateJobParams(p: IoJobParams): void {
  if (p.mode === 'load') validateLoadConfig(p);
  else if (p.mode === 'copy') validateCopyConfig(p);
  else throw new HmError('EINVAL', `mode must be 'load' or 'copy' (got '${String((p as { mode?: unknown }).mode)}')`);
}

export class IoJobs {
  private readonly jobs = new Map<string, Job>();
  private nextId = 1;
  private readonly maxRunning: number;
  private readonly keepMs: number;
  private readonly interval: number | undefined;
  private readonly maxWaitMs: number;

  constructor(private readonly vfs: IVfs, opts: IoJobsOptions = {}) {
    this.maxRunning = opts.maxRunning ?? 4;
    this.keepMs = opts.keepMs ?? 60_000;
    this.interval = opts.progressIntervalMs;
    this.maxWaitMs = opts.maxWaitMs ?? 30_000;
  }

  /** Checks `params` and starts the job; failures to open or run show in its status. */
  start(params: IoJobParams, opts: StartOptions = {}): IoJobStatus {
    validateJobParams(params);
    const running = [...this.jobs.values()].filter((j) => j.state === 'running').length;
    if (running >= this.maxRunning) {
      throw new HmError('EBUSY', `${running} io jobs are already running (at most ${this.maxRunning})`, {
        suggestions: ['wait for one to finish, or cancel one'],
      });
    }
    const job = new Job(`io-${this.nextId++}`, params.mode);
    this.jobs.set(job.id, job);
    const owner = opts.detach ? undefined : opts.owner;
    const onOwnerGone = () => job.abort.abort();
    if (owner?.aborted) onOwnerGone();
    owner?.addEventListener('abort', onOwnerGone, { once: true });
    const progress = (p: LoadProgress | CopyProgress) => { job.progress = p; job.bump(); };
    const common = { vfs: this.vfs, signal: job.abort.signal, progress, ...(this.interval ? { progressIntervalMs: this.interval } : {}) };
    const run: Promise<LoadResult | CopySummary> = params.mode === 'load'
      ? runLoad({ ...stripMode(params), ...common })
      : copy({ ...stripMode(params), ...common });
    void run.then((result) => { job.result = result; job.state = 'done'; }, (e: unknown) => { job.error = toJobError(e); job.state = 'failed'; })
      .finally(() => {
        owner?.removeEventListener('abort', onOwnerGone);
        job.ended = performance.now();
        job.bump();
        setTimeout(() => this.jobs.delete(job.id), this.keepMs).unref();
      });
    return job.snapshot();
  }

  private get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) {
      throw new HmError('ESRCH', `no io job '${id}'`, {
        suggestions: this.jobs.size > 0 ? [`jobs: ${[...this.jobs.keys()].join(', ')}`] : ['it finished more than a minute ago, or never started'],
      });
    }
    return job;
  }

  /**
   * The job's status. With `since` (a seq from an earlier status) it waits, at most `waitMs`,
   * until there is something newer: a progress update or the end.
   */
  async status(id: string, opts: { since?: number; waitMs?: number } = {}, signal?: AbortSignal): Promise<IoJobStatus> {
    const job = this.get(id);
    const waitMs = Math.min(opts.waitMs ?? 0, this.maxWaitMs);
    if (opts.since !== undefined && job.seq <= opts.since && job.state === 'running' && waitMs > 0) {
      await job.waitNews(waitMs, signal);
    }
    return job.snapshot();
  }

  /** Aborts a running job (no effect on a finished one); returns its status. */
  cancel(id: string): IoJobStatus {
    const job = this.get(id);
    job.abort.abort();
    return job.snapshot();
  }

  list(): IoJobStatus[] {
    return [...this.jobs.values()].map((j) => j.snapshot());
  }

  /** Aborts every running job (platform shutdown). */
  dispose(): void {
    for (const j of this.jobs.values()) j.abort.abort();
  }
}

function stripMode<T extends { mode: string }>(p: T): Omit<T, 'mode'> {
  const { mode: _mode, ...rest } = p;
  return rest;
}
