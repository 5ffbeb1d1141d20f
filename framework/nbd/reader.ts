/**
 * @module nbd/reader
 * Exact-length reads from a socket (`await reader.read(28)`), with flow control: the socket is
 * paused while more than `highWater` bytes are buffered and nobody is waiting for them, so a
 * client that sends faster than the device serves cannot fill the server's memory.
 *
 * @example
 * const reader = new StreamReader(sock);
 * const header = await reader.read(REQUEST_BYTES); // rejects with StreamClosed at EOF
 */
import type { Socket } from 'node:net';

/** The stream ended (or was aborted) before the bytes asked for arrived. */
export class StreamClosed extends Error {
  constructor(message = 'connection closed', readonly partial = 0) {
    super(message);
    this.name = 'StreamClosed';
  }
}

interface Waiter {
  n: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/** Default bytes buffered before the socket is paused (a little over one 32 MiB write). */
export const DEFAULT_HIGH_WATER = 4 * 1024 * 1024;

export class StreamReader {
  private chunks: Buffer[] = [];
  private total = 0;
  private waiter?: Waiter;
  private failure?: Error;
  private paused = false;

  constructor(private readonly sock: Socket, private readonly highWater = DEFAULT_HIGH_WATER) {
    sock.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.total += chunk.length;
      this.pump();
    });
    const onEnd = () => this.abort(new StreamClosed());
    sock.once('end', onEnd);
    sock.once('close', onEnd);
  }

  /** Bytes received and not yet read. */
  get buffered(): number { return this.total; }

  /** True once the stream ended or was aborted (buffered bytes may still be read). */
  get closed(): boolean { return this.failure !== undefined; }

  /** Resolves with exactly `n` bytes; rejects if the stream ends first. One read at a time. */
  read(n: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('StreamReader: concurrent read'));
    if (n === 0) return Promise.resolve(Buffer.alloc(0));
    if (this.total >= n) {
      const b = this.take(n);
      this.flow();
      return Promise.resolve(b);
    }
    if (this.failure) return Promise.reject(new StreamClosed(this.failure.message, this.total));
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
      this.flow();
    });
  }

  /** Reads and drops `n` bytes (e.g. the payload of a write that is refused), in slices. */
  async skip(n: number): Promise<void> {
    const SLICE = 1024 * 1024;
    for (let left = n; left > 0;) {
      const step = Math.min(left, SLICE);
      await this.read(step);
      left -= step;
    }
  }

  /**
   * Fails the pending read, and every later one that needs more than is buffered, with
   * StreamClosed(e.message). Bytes already buffered can still be read.
   */
  abort(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    const w = this.waiter;
    if (w && this.total < w.n) {
      this.waiter = undefined;
      w.reject(new StreamClosed(e.message, this.total));
    }
  }

  private pump(): void {
    const w = this.waiter;
    if (w && this.total >= w.n) {
      this.waiter = undefined;
      w.resolve(this.take(w.n));
    }
    this.flow();
  }

  /** Pauses the socket while too much is buffered and no read needs more. */
  private flow(): void {
    if (this.failure || this.sock.destroyed) return;
    const needed = this.waiter ? this.waiter.n : 0;
    const shouldPause = this.total >= Math.max(this.highWater, needed);
    if (shouldPause && !this.paused) {
      this.paused = true;
      this.sock.pause();
    } else if (!shouldPause && this.paused) {
      this.paused = false;
      this.sock.resume();
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      this.total -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const step = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, step);
      filled += step;
      if (step === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(step);
    }
    this.total -= n;
    return out;
  }
}
