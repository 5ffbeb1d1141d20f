// A positioned-read load at a fixed queue depth on one open file, kept full across timed runs
// (fio's iodepth in steady state). The model-only UFS queue (bench/models/ufs.ts) keeps its
// slots armed between runs; a load that drained to zero at the end of every timed batch and
// filled up again at the start of the next would be measured at a disadvantage beside it.
//
// run(n) resolves when n more reads have completed. Reads keep being issued past that point, up
// to `depth` more, so the queue is still full when the next run starts. Reads that complete
// between runs are not counted in the next one (slightly pessimistic).

import type { IFileHandle } from '../framework/vfs/api.js';

export class QdReader {
  private issued = 0;
  private completed = 0;
  /** Reads may be issued while `issued < limit`. */
  private limit = 0;
  private goal = 0;
  private done: ((err?: Error) => void) | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly parked: (() => void)[] = [];
  private readonly workers: Promise<void>[];

  /**
   * @param bufs one buffer per read in flight: their count is the queue depth
   * @param next the position of the next read
   */
  constructor(private readonly fh: IFileHandle, bufs: readonly Uint8Array[], private readonly bs: number, private readonly next: () => number) {
    if (bufs.length === 0) throw new RangeError('QdReader: queue depth must be at least 1');
    this.workers = bufs.map((b) => this.worker(b));
  }

  get depth(): number { return this.workers.length; }

  /** Reads completed so far. */
  get reads(): number { return this.completed; }

  /** Resolves when `n` more reads have completed; rejects on a short or failed read. */
  run(n: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('QdReader: closed'));
    if (this.done) return Promise.reject(new Error('QdReader: a run is already going'));
    this.goal = this.completed + n;
    this.limit = this.goal + this.depth;
    const p = new Promise<void>((resolve, reject) => { this.done = (err) => (err ? reject(err) : resolve()); });
    for (const wake of this.parked.splice(0)) wake();
    return p;
  }

  /** Stops issuing and waits for the reads in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.parked.splice(0)) wake();
    await Promise.all(this.workers);
  }

  private finish(err?: Error): void {
    const d = this.done;
    this.done = null;
    d?.(err);
  }

  private async worker(buf: Uint8Array): Promise<void> {
    for (;;) {
      while (!this.closed && !this.failure && this.issued >= this.limit) await new Promise<void>((wake) => this.parked.push(wake));
      if (this.closed || this.failure) return;
      this.issued++;
      const pos = this.next();
      try {
        const r = await this.fh.read(buf, 0, this.bs, pos);
        if (r.bytesRead !== this.bs) throw new Error(`short read at ${pos}: ${r.bytesRead} of ${this.bs}`);
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.finish(this.failure);
        return;
      }
      this.completed++;
      if (this.completed >= this.goal) this.finish();
    }
  }
}
