// The spin-then-sleep ping-pong protocol shared by the thread and process baselines.
//
// Layout: an Int32Array over shared memory; each word the two sides write sits on its own
// 64-byte cache line so the caller spinning on PONG does not bounce the line holding PING.
//
//   PING      caller writes a sequence number 1..2^31-1 (or STOP to end the peer)
//   PONG      peer echoes the sequence number it answered
//   SLEEPING  1 while the peer is (about to be) blocked in wait(PING); the caller then wakes it
//   SLEEPS    how many times the peer went to sleep (diagnostics)
//   READY     the peer sets 1 once it serves (the process baseline polls it at start-up)
//
// Lost-wakeup freedom: the peer stores SLEEPING=1 and then re-reads PING; the caller stores
// PING and then reads SLEEPING. All four are sequentially consistent Atomics, so at least one
// side sees the other's store; the wait itself re-checks PING == expected atomically.

export const PING = 0;
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
 * ping it sets SLEEPING and blocks in `sleep(expected)` (Atomics.wait in a thread, a native
 * futex across processes). `idleSpinMs <= 0` sleeps at once: every round trip pays a wake.
 */
export function servePingPong(
  words: Int32Array,
  idleSpinMs: number,
  sleep: (expected: number) => void,
): void {
  let last = Atomics.load(words, PING);
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
  }
}

/**
 * Caller side: one synchronous round trip. Stores the next sequence number, wakes the peer
 * if it sleeps, and spins until the echo arrives. Throws after `timeoutMs` without an answer
 * (a dead peer must not hang the benchmark).
 */
export class PingPongCaller {
  private seq = 0;

  constructor(
    private readonly words: Int32Array,
    private readonly wake: () => void,
    private readonly timeoutMs = 5000,
    private readonly what = 'ping-pong peer',
  ) {}

  roundTrip(): void {
    const w = this.words;
    const s = (this.seq = (this.seq % 0x7fffffff) + 1);
    Atomics.store(w, PING, s);
    if (Atomics.load(w, SLEEPING) !== 0) this.wake();
    let spins = 0;
    let start = 0;
    while (Atomics.load(w, PONG) !== s) {
      // Every ~1M spins (tens of ms) check the deadline; the fast path never reads the clock.
      if ((++spins & 0xfffff) === 0) {
        const now = performance.now();
        if (start === 0) start = now;
        else if (now - start > this.timeoutMs) throw new Error(`${this.what} did not answer within ${this.timeoutMs} ms`);
      }
    }
  }

  /** Asks the peer to stop; `wake` must reach it even if it sleeps. */
  stop(): void {
    Atomics.store(this.words, PING, STOP);
    this.wake();
  }
}
