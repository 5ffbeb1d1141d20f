// The spin-then-sleep ping-pong protocol shared by the thread and process baselines.
//
// Layout: an Int32Array over shared memory; each word the two sides write sits on its own
// 64-byte cache line so the caller spinning on PONG does not bounce the line holding PING.
//
//   PING             caller writes a sequence number 1..2^31-1 (or STOP to end the peer)
//   CALLER_SLEEPING  1 while the caller is (about to be) blocked in wait(PONG); the peer wakes it
//   PONG             peer echoes the sequence number it answered
//   SLEEPING         1 while the peer is (about to be) blocked in wait(PING); the caller wakes it
//   SLEEPS           how many times the peer went to sleep (diagnostics)
//   READY            the peer sets 1 once it serves (the process baseline polls it at start-up)
//
// Lost-wakeup freedom: the sleeper stores its SLEEPING flag and then re-reads the word it
// waits on; the other side stores that word and then reads the flag. All are sequentially
// consistent Atomics, so at least one side sees the other's store; the wait itself re-checks
// word == expected atomically in the kernel (futex) or in V8's waiter list (Atomics.wait).

export const PING = 0;
export const CALLER_SLEEPING = 1;
export const PONG = 16;
export const SLEEPING = 32;
export const SLEEPS = 33;
export const READY = 48;
/** Words needed; byte size is WORDS * 4. */
export const WORDS = 64;
export const BYTES = WORDS * 4;

/** PING value that tells the peer to leave its loop (sequence numbers are always positive). */
export const STOP = -1;

/** How long a peer keeps spinning after its last ping before it sleeps (the brief's ~50 ms). */
export const DEFAULT_IDLE_SPIN_MS = 50;

/**
 * Peer side: answer pings until STOP. Spins with Atomics.load; after `idleSpinMs` without a
 * ping it sets SLEEPING and blocks in `sleep(expected)` on PING (Atomics.wait in a thread, a
 * native futex across processes). `idleSpinMs <= 0` sleeps at once. After each answer it
 * calls `wakeCaller()` (notify/futex wake on PONG) if the caller is blocked.
 */
export function servePingPong(
  words: Int32Array,
  idleSpinMs: number,
  sleep: (expected: number) => void,
  wakeCaller: () => void,
): void {
  // PING starts at 0 in fresh shared memory; the caller's first sequence number is 1. Do not
  // read the initial value: the caller may already have sent ping 1 by the time we get here.
  let last = 0;
  Atomics.store(words, READY, 1);
  for (;;) {
    let p = Atomics.load(words, PING);
    if (p === last) {
      const t0 = performance.now();
      let spins = 0;
      while ((p = Atomics.load(words, PING)) === last) {
        // Reading the clock costs ~30-50 ns, so look at it only every 1024 spins.
        if (idleSpinMs <= 0 || ((++spins & 1023) === 0 && performance.now() - t0 >= idleSpinMs)) {
          Atomics.store(words, SLEEPING, 1);
          while ((p = Atomics.load(words, PING)) === last) sleep(last);
          Atomics.store(words, SLEEPING, 0);
          Atomics.add(words, SLEEPS, 1);
          break;
        }
      }
    }
    if (p === STOP) return;
    last = p;
    Atomics.store(words, PONG, p);
    if (Atomics.load(words, CALLER_SLEEPING) !== 0) wakeCaller();
  }
}

export interface CallerOptions {
  /** Wakes the peer sleeping on PING. */
  wake: () => void;
  /** Blocks on PONG while it holds `expected` (at most `ms`); needed when `spinUs` is finite. */
  sleep?: (expected: number, ms: number) => void;
  /** Spin this long for the answer before sleeping; Infinity (default) spins until the
   *  deadline, 0 blocks at once (the caller of a blocking round trip). */
  spinUs?: number;
  /** A round trip throws if no answer arrives within this time. Default 5000 ms. */
  timeoutMs?: number;
  /** Names the peer in errors. */
  what?: string;
}

/**
 * Caller side: one synchronous round trip. Stores the next sequence number, wakes the peer
 * if it sleeps, spins for the echo (up to `spinUs`), then sleeps on PONG. Throws after
 * `timeoutMs` without an answer, so a dead peer cannot hang a benchmark.
 */
export class PingPongCaller {
  private seq = 0;
  private stopped = false;
  private readonly wake: () => void;
  private readonly sleep: ((expected: number, ms: number) => void) | undefined;
  private readonly spinUs: number;
  private readonly timeoutMs: number;
  private readonly what: string;

  constructor(private readonly words: Int32Array, opts: CallerOptions) {
    this.wake = opts.wake;
    this.sleep = opts.sleep;
    this.spinUs = opts.spinUs ?? Infinity;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.what = opts.what ?? 'ping-pong peer';
    if (Number.isFinite(this.spinUs) && !this.sleep) throw new Error('PingPongCaller: a finite spinUs needs sleep()');
  }

  roundTrip(): void {
    if (this.stopped) throw new Error(`${this.what}: round trip after close()`);
    const w = this.words;
    const s = (this.seq = (this.seq % 0x7fffffff) + 1);
    Atomics.store(w, PING, s);
    if (Atomics.load(w, SLEEPING) !== 0) this.wake();
    if (this.spinUs <= 0) return this.block(s, performance.now());
    let spins = 0;
    let start = 0;
    while (Atomics.load(w, PONG) !== s) {
      // Every 1024 spins (tens of µs) look at the clock; the fast path never reads it.
      if ((++spins & 1023) === 0) {
        const now = performance.now();
        if (start === 0) start = now;
        else if ((now - start) * 1000 >= this.spinUs) return this.block(s, start);
        else if (now - start > this.timeoutMs) throw this.timeout();
      }
    }
  }

  /** Sleeps on PONG until it holds `s`, within the deadline counted from `start`. */
  private block(s: number, start: number): void {
    const w = this.words;
    Atomics.store(w, CALLER_SLEEPING, 1);
    try {
      for (;;) {
        const cur = Atomics.load(w, PONG);
        if (cur === s) return;
        const left = this.timeoutMs - (performance.now() - start);
        if (left <= 0) throw this.timeout();
        this.sleep!(cur, left);
      }
    } finally {
      Atomics.store(w, CALLER_SLEEPING, 0);
    }
  }

  private timeout(): Error {
    return new Error(`${this.what} did not answer within ${this.timeoutMs} ms`);
  }

  /** Asks the peer to stop; `wake` must reach it even if it sleeps. */
  stop(): void {
    this.stopped = true;
    Atomics.store(this.words, PING, STOP);
    this.wake();
  }
}
