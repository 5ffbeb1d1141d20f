/**
 * @module net/frame-queue
 * A FIFO of frames with an O(1) shift (head index, compacted now and then) and a byte count:
 * the kernel's transmit queue per interface (a pfifo qdisc) and a packet socket's receive queue.
 */
export class FrameQueue<T extends { length: number } = Uint8Array> {
  private items: T[] = [];
  private head = 0;
  bytes = 0;

  get length(): number { return this.items.length - this.head; }

  push(x: T): void {
    this.items.push(x);
    this.bytes += x.length;
  }

  peek(i = 0): T | undefined { return this.items[this.head + i]; }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as T;
    this.head++;
    this.bytes -= x.length;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return out;
  }
}
