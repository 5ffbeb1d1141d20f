/**
 * @module cli/lib/io-session
 * Drives one I/O job of the running platform: `io` starts it, `ioStatus` long-polls it (the
 * platform answers at each progress update, about every 500 ms, or at the end), `ioCancel` stops
 * it when `signal` fires (the job then ends with its partial result). A failed job is thrown as
 * an HmError with the platform's code, message and suggestions.
 *
 * @example
 * const st = await runIoJob(client, params, { onStatus: (s) => line.update(formatProgress(params, s)) });
 */
import { HmError } from '../../framework/errors/hm-error.js';
import type { IoJobParams, IoJobStatus } from '../../framework/io/jobs.js';

/** What the session needs of a ControlClient (tests pass an in-process fake). */
export interface IoCaller {
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
}

export interface IoSessionOptions {
  onStatus?: (st: IoJobStatus) => void;
  /** Cancels the job (Ctrl-C). */
  signal?: AbortSignal;
  /** Longest wait of one status call (default 2 s). */
  pollMs?: number;
}

export async function runIoJob(c: IoCaller, params: IoJobParams, opts: IoSessionOptions = {}): Promise<IoJobStatus> {
  let st = await c.call('io', params as unknown as Record<string, unknown>) as IoJobStatus;
  let cancelled = false;
  const cancel = () => {
    if (cancelled || st.state !== 'running') return;
    cancelled = true;
    // Queued behind the status call in flight (one connection serves calls in order).
    void c.call('ioCancel', { job: st.job }).catch(() => undefined);
  };
  if (opts.signal?.aborted) cancel();
  opts.signal?.addEventListener('abort', cancel, { once: true });
  try {
    while (st.state === 'running') {
      st = await c.call('ioStatus', { job: st.job, since: st.seq, waitMs: opts.pollMs ?? 2000 }) as IoJobStatus;
      if (st.state === 'running') opts.onStatus?.(st);
    }
  } finally {
    opts.signal?.removeEventListener('abort', cancel);
  }
  if (st.state === 'failed') {
    const e = st.error ?? { code: 'EIO', message: 'the io job failed', suggestions: [] };
    throw new HmError(e.code, e.message, { suggestions: e.suggestions });
  }
  return st;
}
