/**
 * @module endpoint
 * One side of a bidirectional RPC channel made of two SPSC rings (tx: we produce, rx: we
 * consume). Both sides can issue requests, answer them and send one-way notifications.
 *
 * Waiting, fastest first:
 *  1. spin on the rx ring (with a machine-wide spin token, adaptive length);
 *  2. block on the ring's doorbell word (requestSync only: Atomics.wait or futex);
 *  3. return to the event loop with an async listener armed (request(), idle service loop).
 * A producer only pays for a wake-up (a syscall) when the consumer flagged itself sleeping.
 */
import { emptyMessage, Ring, RingCorruptError, SLEEPING, SEQ, WOKEN, type Message } from './ring.js';
import type { AsyncListener, Signal } from './signal.js';
import { PendingTable } from './pending-table.js';
import { AdaptiveSpin, spinUntil, type SpinBudget } from './spin.js';

export const KIND_REQUEST = 1;
export const KIND_RESPONSE = 2;
export const KIND_NOTIFY = 3;

export const EIO = 5;
export const ETIMEDOUT = 110;
export const ENOTCONN = 107;

export interface Reply {
  /** >= 0 result, or a negative errno. */
  status: number;
  a1: number;
  a2: number;
  a3: number;
  payload: Uint8Array | null;
}

export function reply(status: number, payload: Uint8Array | null = null, a1 = 0, a2 = 0, a3 = 0): Reply {
  return { status, a1, a2, a3, payload };
}

export type RequestHandler = (msg: Message) => Reply | Promise<Reply>;
export type NotifyHandler = (msg: Message) => void;

export interface EndpointStats {
  calls: number;
  served: number;
  notificationsSent: number;
  notificationsReceived: number;
  errors: number;
  spinHits: number;
  sleeps: number;
  wakeups: number;
}

export interface EndpointOptions {
  name: string;
  tx: Ring;
  rx: Ring;
  signal: Signal;
  budget: SpinBudget;
  onRequest: RequestHandler;
  onNotify: NotifyHandler;
  /** Spin for more requests after serving a batch (driver side), instead of returning at once. */
  idleSpin?: boolean;
  /** Called when the peer corrupts the ring: the channel is unusable from then on. */
  onCorrupt?: (err: Error) => void;
  /**
   * Called on every turn of the service loop: a container that spins serving back-to-back
   * calls never returns to its event loop, so its heartbeat must be beaten from here too.
   */
  onServiceTurn?: () => void;
  /**
   * Handlers get their own copy of each message by default (the reader reuses one object).
   * Hot paths whose handlers are synchronous and keep nothing may set this false.
   */
  copyMessages?: boolean;
}

interface Pending {
  resolve(r: Reply): void;
  op: number;
  started: number;
  /** The caller's buffer for the answer's payload. */
  into?: Uint8Array;
}

type Outgoing = [kind: number, op: number, id: number, a0: number, a1: number, a2: number, a3: number, payload: Uint8Array | null];

export class Endpoint {
  readonly stats: EndpointStats = { calls: 0, served: 0, notificationsSent: 0, notificationsReceived: 0, errors: 0, spinHits: 0, sleeps: 0, wakeups: 0 };
  private readonly tx: Ring;
  private readonly rx: Ring;
  private readonly signal: Signal;
  private readonly budget: SpinBudget;
  private readonly pending = new PendingTable<Pending>();
  /** The innermost synchronous request being waited for (0 = none) and its answer. */
  private syncId = 0;
  private syncReply: Reply | null = null;
  /** Outer synchronous requests while a nested one waits (rare). */
  private readonly syncReplies = new Map<number, Reply | null>();
  private readonly syncDone = (): boolean => this.syncReply !== null;
  private readonly outbox: Outgoing[] = [];
  private readonly msg = emptyMessage();
  private readonly callSpin = new AdaptiveSpin(2_000, 200_000, 50_000);
  private readonly idle = new AdaptiveSpin(2_000, 100_000, 20_000);
  private nextId = 1;
  private asyncHandlers = 0;
  private listener: AsyncListener | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private serving = false;
  /** Our copy of rx SLEEPING (only we write it): skip stores that change nothing. */
  private sleeping = 0;
  private rearmPending = false;
  private readonly rxReady = (): boolean => !this.rx.isEmpty();
  /** A response's payload goes straight into its request's `into` buffer, if it has one. */
  private readonly sink = (kind: number, id: number): Uint8Array | null =>
    (kind === KIND_RESPONSE ? this.pending.get(id)?.into ?? null : null);
  private readonly copy: boolean;

  constructor(private readonly opts: EndpointOptions) {
    this.tx = opts.tx;
    this.rx = opts.rx;
    this.signal = opts.signal;
    this.budget = opts.budget;
    this.copy = opts.copyMessages !== false;
  }

  get name(): string { return this.opts.name; }
  get inflight(): number { return this.pending.size + this.syncReplies.size + (this.syncId ? 1 : 0); }
  get isClosed(): boolean { return this.closed; }

  /** Age in ms of the oldest unanswered request (0 if none), for the watchdog. */
  oldestPendingMs(now = performance.now()): number {
    let oldest = 0;
    for (const p of this.pending.values()) oldest = Math.max(oldest, now - p.started);
    return oldest;
  }

  /** Arms the async listener: incoming messages are served from the event loop. */
  start(): void {
    if (this.listener || this.closed) return;
    this.setSleeping(1);
    this.listener = this.signal.listen(this.rx.ctrl, () => this.service());
    this.service();
  }

  // ---- sending ------------------------------------------------------------------------------

  notify(op: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, payload: Uint8Array | null = null): void {
    if (this.closed) return;
    this.stats.notificationsSent++;
    this.send(KIND_NOTIFY, op, 0, a0, a1, a2, a3, payload);
  }

  /**
   * A posted message with back-pressure: when the ring is full the caller waits for the peer
   * to make room (as a CPU stalls on a full posted-write buffer) instead of queueing without
   * bound. Returns false only if the peer made no room within `timeoutMs` (it is dead or hung).
   */
  post(op: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, payload: Uint8Array | null = null, timeoutMs = 1_000): boolean {
    if (this.closed) return false;
    this.stats.notificationsSent++;
    if (this.outbox.length) this.flush();
    if (this.outbox.length === 0 && this.tx.tryWrite(KIND_NOTIFY, op, 0, a0, a1, a2, a3, payload)) { this.kick(); return true; }
    this.kick(); // make sure the consumer is running
    let deadline = 0;
    for (let i = 1; ; i++) {
      if (this.outbox.length) this.flush();
      if (this.outbox.length === 0 && this.tx.tryWrite(KIND_NOTIFY, op, 0, a0, a1, a2, a3, payload)) { this.kick(); return true; }
      if ((i & 1023) === 0) {
        const now = performance.now();
        if (deadline === 0) deadline = now + timeoutMs;
        else if (now >= deadline || this.closed) { this.stats.errors++; return false; }
        this.kick();
      }
    }
  }

  /**
   * Asynchronous request: spins briefly for the answer, then leaves it to the listener.
   * `into`: where the answer's payload goes, if it fits (the caller's buffer; saves a copy).
   */
  request(op: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, payload: Uint8Array | null = null, into?: Uint8Array): Promise<Reply> {
    if (this.closed) return Promise.resolve(reply(-ENOTCONN));
    const id = this.allocId();
    this.stats.calls++;
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, { resolve, op, started: performance.now(), into });
      this.send(KIND_REQUEST, op, id, a0, a1, a2, a3, payload);
      this.spinFor(() => !this.pending.has(id));
    });
  }

  /**
   * Synchronous request: spins, then blocks the calling thread until the answer arrives or
   * `timeoutMs` passes (then -ETIMEDOUT). `alive()` is consulted between sleeps so that a dead
   * peer ends the wait early (-EIO). Requests from the peer that arrive meanwhile are served.
   */
  requestSync(op: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0, payload: Uint8Array | null = null,
    timeoutMs = 5_000, alive?: () => boolean): Reply {
    if (this.closed) return reply(-ENOTCONN);
    const id = this.allocId();
    this.stats.calls++;
    const outerId = this.syncId;
    if (outerId) this.syncReplies.set(outerId, this.syncReply);
    this.syncId = id;
    this.syncReply = null;
    this.send(KIND_REQUEST, op, id, a0, a1, a2, a3, payload);
    let deadline = 0; // read the clock only once the fast path has failed
    while (!this.spinFor(this.syncDone)) {
      if (this.closed) break;
      const now = performance.now();
      if (deadline === 0) deadline = now + timeoutMs;
      if (now >= deadline || (alive && !alive())) break;
      this.stats.sleeps++;
      const seq = Atomics.load(this.rx.ctrl, SEQ);
      this.setSleeping(1);
      if (this.rx.isEmpty()) this.signal.sleep(this.rx.ctrl, seq, Math.min(50, deadline - now));
      this.setSleeping(0);
      this.drain();
    }
    const r = this.syncReply;
    this.syncId = outerId;
    this.syncReply = outerId ? (this.syncReplies.get(outerId) ?? null) : null;
    if (outerId) this.syncReplies.delete(outerId);
    if (r) return r;
    this.stats.errors++;
    return reply(this.closed ? -EIO : deadline && performance.now() >= deadline ? -ETIMEDOUT : -EIO);
  }

  /**
   * Safety net, called from a periodic timer: serves messages that are queued while the
   * listener sleeps (a lost wake-up would otherwise leave them there until the next one).
   */
  poke(): boolean {
    if (this.closed || !this.listener || this.serving || this.rx.isEmpty()) return false;
    this.service();
    return true;
  }

  /**
   * Polling mode, for a thread that services many endpoints in one busy loop (the machine):
   * while polling, peers see us awake and send no wake-ups; `drain()` must be called by the
   * loop. Leaving polling re-arms the listener and serves anything that arrived meanwhile.
   */
  enterPolling(): void { this.setSleeping(0); }
  leavePolling(): void {
    this.setSleeping(1);
    if (!this.rx.isEmpty() && this.listener && !this.serving) queueMicrotask(() => this.service());
  }

  /** Completes every unanswered request with `status` (the peer died) and stops the channel. */
  close(status = -EIO): void {
    if (this.closed) return;
    this.closed = true;
    this.listener?.close();
    this.listener = null;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const [id] of this.syncReplies) this.syncReplies.set(id, reply(status));
    if (this.syncId) this.syncReply = reply(status);
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.stats.errors += waiting.length;
    for (const p of waiting) p.resolve(reply(status));
  }

  // ---- receiving ----------------------------------------------------------------------------

  /** Whether a message waits on rx (one shared-memory load). */
  hasPending(): boolean {
    return !this.rx.isEmpty();
  }

  /** Serves everything queued on rx. Returns the number of messages handled. */
  drain(): number {
    let n = 0;
    try {
      while (this.rx.tryRead(this.msg, this.sink)) {
        n++;
        this.dispatch(this.msg);
        if (this.closed) break;
      }
    } catch (e) {
      if (!(e instanceof RingCorruptError)) throw e;
      this.opts.onCorrupt?.(e);
      this.close(-EIO);
    }
    if (this.outbox.length) this.flush();
    return n;
  }

  /**
   * Event-loop service: drain, optionally spin for more (holding one spin token for the whole
   * busy period rather than re-taking it per message), then sleep with the listener armed.
   */
  private service(): void {
    if (this.serving || this.closed) return;
    this.serving = true;
    let token = false;
    try {
      for (;;) {
        this.setSleeping(0);
        this.opts.onServiceTurn?.();
        this.drain();
        if (this.closed) return;
        if (this.opts.idleSpin && this.asyncHandlers === 0) {
          if (!token) token = this.budget.acquire();
          if (token && this.idleSpinOnce()) continue;
        }
        this.setSleeping(1);
        if (this.rx.isEmpty()) return;
      }
    } finally {
      if (token) this.budget.release();
      this.serving = false;
    }
  }

  /** Spins (caller holds a token) until rx has a message or the adaptive limit passes. */
  private idleSpinOnce(): boolean {
    if (spinUntil(this.rxReady, this.idle.limitNs)) { this.idle.hit(); return true; }
    this.idle.miss();
    return false;
  }

  private dispatch(m: Message): void {
    switch (m.kind) {
      case KIND_RESPONSE: {
        const r = reply(m.a0, m.payload, m.a1, m.a2, m.a3);
        if (r.status < 0) this.stats.errors++;
        if (m.id === this.syncId) { this.syncReply = r; return; }
        if (this.syncReplies.has(m.id)) { this.syncReplies.set(m.id, r); return; }
        const p = this.pending.get(m.id);
        if (p) { this.pending.delete(m.id); p.resolve(r); }
        return;
      }
      case KIND_NOTIFY:
        this.stats.notificationsReceived++;
        this.opts.onNotify(this.copy ? { ...m } : m); // the reader reuses `m`; handlers may keep theirs past an await
        return;
      case KIND_REQUEST: {
        this.stats.served++;
        const id = m.id;
        let r: Reply | Promise<Reply>;
        try {
          r = this.opts.onRequest(this.copy ? { ...m } : m);
        } catch {
          r = reply(-EIO);
        }
        if (r instanceof Promise) {
          this.asyncHandlers++;
          r.catch(() => reply(-EIO)).then((v) => {
            this.asyncHandlers--;
            this.respond(id, v);
          });
        } else {
          this.respond(id, r);
        }
        return;
      }
      default:
        this.opts.onCorrupt?.(new RingCorruptError(`unknown message kind ${m.kind}`));
    }
  }

  private respond(id: number, r: Reply): void {
    if (this.closed) return;
    this.send(KIND_RESPONSE, 0, id, r.status, r.a1, r.a2, r.a3, r.payload);
  }

  // ---- internals ----------------------------------------------------------------------------

  private allocId(): number {
    const id = this.nextId;
    this.nextId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }

  private setSleeping(v: 0 | 1): void {
    // About to sleep (or to check the ring once more before it): every wake-up issued so far has
    // been seen, so the next producer must wake us again.
    if (v === 1) Atomics.store(this.rx.ctrl, WOKEN, 0);
    if (this.sleeping !== v) { this.sleeping = v; Atomics.store(this.rx.ctrl, SLEEPING, v); }
  }

  /**
   * Back to "asleep" so the peer wakes us, lazily: a caller making call after call keeps the
   * flag down (no store, no cache-line bounce per call); once it yields to the event loop the
   * flag goes up and anything that slipped in meanwhile is served.
   */
  private rearm(): void {
    // Without a listener nobody waits between calls: requestSync raises the flag itself before
    // it blocks, so answers to a spinning client cost the peer no wake-up.
    if (!this.listener) return;
    if (this.rearmPending) return;
    this.rearmPending = true;
    setImmediate(() => {
      this.rearmPending = false;
      if (this.closed || this.serving) return;
      this.setSleeping(1);
      if (!this.rx.isEmpty()) this.service();
    });
  }

  /** Spins (with a token) draining rx until `done()`. True if done. */
  private spinFor(done: () => boolean): boolean {
    this.setSleeping(0);
    this.drain();
    let ok = done();
    // Most answers come within a few hundred probes: try that before paying for a spin token.
    for (let i = 0; !ok && i < 256; i++) if (!this.rx.isEmpty()) { this.drain(); ok = done(); }
    if (ok) { this.stats.spinHits++; this.callSpin.hit(); }
    else if (this.budget.acquire()) {
      try {
        ok = this.spinDrain(done);
      } finally {
        this.budget.release();
      }
      if (ok) { this.stats.spinHits++; this.callSpin.hit(); } else { this.callSpin.miss(); }
    }
    this.rearm();
    return ok;
  }

  /** The hot loop: probe the ring; read the clock only every 256 probes. */
  private spinDrain(done: () => boolean): boolean {
    let deadline = 0n;
    for (let i = 1; !this.closed; i++) {
      if (!this.rx.isEmpty()) {
        this.drain();
        if (done()) return true;
      }
      if ((i & 255) === 0) {
        const now = process.hrtime.bigint();
        if (deadline === 0n) deadline = now + BigInt(this.callSpin.limitNs);
        else if (now >= deadline) return false;
      }
    }
    return false;
  }

  private send(kind: number, op: number, id: number, a0: number, a1: number, a2: number, a3: number,
    payload: Uint8Array | null): void {
    if (this.outbox.length === 0 && this.tx.tryWrite(kind, op, id, a0, a1, a2, a3, payload)) {
      this.kick();
      return;
    }
    this.outbox.push([kind, op, id, a0, a1, a2, a3, payload]);
    this.flush();
  }

  private flush(): void {
    let sent = false;
    while (this.outbox.length) {
      const o = this.outbox[0]!;
      if (!this.tx.tryWrite(o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7])) break;
      this.outbox.shift();
      sent = true;
    }
    if (sent) this.kick();
    if (this.outbox.length && !this.flushTimer && !this.closed) {
      this.flushTimer = setTimeout(() => { this.flushTimer = null; this.flush(); }, 1);
    }
  }

  /**
   * Wakes the peer only if it said it sleeps (the common, spinning case costs no syscall), and
   * only once per sleep: a burst of posted writes to a sleeping peer costs one wake-up, not one
   * each (WOKEN).
   */
  private kick(): void {
    if (Atomics.load(this.tx.ctrl, SLEEPING) !== 0 && Atomics.compareExchange(this.tx.ctrl, WOKEN, 0, 1) === 0) {
      this.stats.wakeups++;
      this.signal.wake(this.tx.ctrl);
    }
  }
}
