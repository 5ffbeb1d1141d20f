/**
 * @module event-queue
 * A timer queue ordered by time, then by insertion: two events due at the same instant run in
 * the order they were scheduled, which is what makes virtual time deterministic. A binary
 * min-heap; cancelled events are dropped lazily when they reach the top.
 */

export interface QueuedEvent {
  /** Due time, ns. */
  readonly t: bigint;
  readonly seq: number;
  readonly fn: () => void;
  /** False once run or cancelled. */
  live: boolean;
}

const before = (a: QueuedEvent, b: QueuedEvent): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq);

export class EventQueue {
  private readonly heap: QueuedEvent[] = [];
  private seq = 0;
  private liveCount = 0;

  /** Live (scheduled, not yet run or cancelled) events. */
  get size(): number {
    return this.liveCount;
  }

  push(t: bigint, fn: () => void): QueuedEvent {
    const e: QueuedEvent = { t, seq: this.seq++, fn, live: true };
    this.heap.push(e);
    this.up(this.heap.length - 1);
    this.liveCount++;
    return e;
  }

  cancel(e: QueuedEvent): void {
    if (!e.live) return;
    e.live = false;
    this.liveCount--;
  }

  /** The earliest live event, without removing it. */
  peek(): QueuedEvent | undefined {
    while (this.heap.length > 0 && !this.heap[0]!.live) this.removeTop();
    return this.heap[0];
  }

  /** Removes and returns the earliest live event (marked not live). */
  pop(): QueuedEvent | undefined {
    const e = this.peek();
    if (e === undefined) return undefined;
    this.removeTop();
    e.live = false;
    this.liveCount--;
    return e;
  }

  clear(): void {
    for (const e of this.heap) e.live = false;
    this.heap.length = 0;
    this.liveCount = 0;
  }

  private removeTop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
