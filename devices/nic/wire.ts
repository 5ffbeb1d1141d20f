/**
 * @module nic/wire
 * The network a NIC model plugs into: a `Port` is the attachment point a device (a NIC model, a
 * `HostEndpoint`) sends frames into and receives frames from. A `Wire` joins two ports point to
 * point; a `Switch` is a learning bridge with N ports. Frames are Ethernet frames without FCS
 * (what pcap and a TAP device carry); the FCS, preamble and inter-frame gap only count in the
 * line-rate arithmetic.
 *
 * Delivery always goes through the scheduler: `send` queues the frame and returns, and the far
 * side's receiver runs later in a scheduled event, never inside the sender's call (so a NIC's
 * TX bottom half cannot re-enter the peer's RX path). Each direction is FIFO. With a line rate,
 * a frame arrives when its last bit has been serialised (store and forward) plus the optional
 * latency. Link changes are delivered through the scheduler too.
 *
 * Frames due at one instant cross in one event and reach the receiver as one run, followed by
 * the receiver's `end` callback (`Port.onReceive`): a 1000-frame burst is one event, not 1000.
 * The price: a frame sent at the same instant as an earlier one, while that one still waits,
 * joins its run, ahead of events queued in between (e.g. a link change requested in between).
 *
 * @example
 * const wire = new Wire({ scheduler: sched });             // unlimited rate, no latency
 * nicA.attach(wire.a);
 * const host = new HostEndpoint(wire.b, { scheduler: sched });
 * host.send(frame);                                          // reaches nicA on the next event
 * wire.setConnected(false);                                  // both ends see link down (LSC)
 */
import { toNs, type Ns } from '../core/clock.js';
import type { Scheduler } from '../core/scheduler.js';

export type FrameHandler = (frame: Uint8Array) => void;
/** Runs after the last frame of a delivery run (see `Port.onReceive`). */
export type BatchEndHandler = () => void;
export type LinkHandler = (up: boolean) => void;

/** Where a device attaches to a medium. */
export interface Port {
  readonly name: string;
  /** Carrier: the medium behind this port can carry frames. */
  readonly linkUp: boolean;
  /**
   * Hands a frame to the medium and takes ownership of it (the caller must not modify it
   * afterwards). Returns false when it was dropped because the link is down. The far side
   * receives it in a later scheduled event.
   */
  send(frame: Uint8Array): boolean;
  /**
   * Sets the one receiver of frames arriving at this port (treat them as read-only); returns a
   * detach function. Frames that arrive at the same instant come in one run of `cb` calls, and
   * `end` (if given) runs after the last frame of every run: a device can update its interrupt
   * line once per run instead of once per frame. A frame may be a view into a buffer shared with
   * other frames (the e1000 carves long frames from 64 KiB chunks): copy the few you keep long.
   */
  onReceive(cb: FrameHandler, end?: BatchEndHandler): () => void;
  /** Subscribes to carrier changes; returns the unsubscribe function. */
  onLinkChange(cb: LinkHandler): () => void;
}

/** `out`: a device sent the frame into `port`; `in`: the frame was delivered to the device on `port`. */
export type TapDirection = 'out' | 'in';
export type FrameTap = (frame: Uint8Array, tNs: bigint, port: string, dir: TapDirection) => void;

/** Something a capture (pcap.ts) can listen on. */
export interface Tappable {
  /** Calls `fn` for every frame passing; returns the function that removes the tap. */
  tap(fn: FrameTap): () => void;
}

/** bits/s; `'1g'` = 1e9, `'100m'` = 1e8, `'unlimited'` = no pacing. */
export type LineRate = 'unlimited' | number | `${number}${'k' | 'm' | 'g' | 'K' | 'M' | 'G'}`;

/** A line rate in bits/s, 0 for unlimited. Throws RangeError for anything else (a configuration error). */
export function parseRate(rate: LineRate | undefined): number {
  if (rate === undefined || rate === 'unlimited') return 0;
  if (typeof rate === 'number') {
    if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`line rate ${rate} must be a positive number of bits/s`);
    return rate;
  }
  const m = /^(\d+(?:\.\d+)?)([kmg])$/i.exec(rate);
  if (m === null) throw new RangeError(`line rate '${rate}' is not 'unlimited', bits/s or like '1g' / '100m'`);
  return Number(m[1]) * { k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as 'k' | 'm' | 'g'];
}

/** Minimum frame without FCS, FCS, preamble + start delimiter + inter-frame gap (bytes). */
const MIN_FRAME = 60, FCS = 4, OVERHEAD = 20;

/**
 * Serialisation time of a frame (without FCS) at `bitsPerSecond`: padded to 60 bytes, plus FCS,
 * preamble and IFG (hardware-models.md §2.6: 64-byte frame at 1 GbE = 672 ns).
 */
export function wireTimeNs(frameLen: number, bitsPerSecond: number): bigint {
  if (bitsPerSecond <= 0) return 0n;
  const bytes = Math.max(frameLen, MIN_FRAME) + FCS + OVERHEAD;
  return BigInt(Math.ceil((bytes * 8 * 1e9) / bitsPerSecond));
}

/**
 * One direction of a link: FIFO, each frame after its serialisation time plus the latency.
 * Frames in flight wait in a queue with one scheduler event for the earliest: when it fires,
 * every frame due by then is handed to `deliver` in one run, then `end` runs. Unpaced with no
 * latency, a whole burst of frames costs one event.
 */
export class Channel {
  private freeAt = 0n;
  private frames: Uint8Array[] = [];
  /** Due times, parallel to `frames` (only kept with a rate or latency; else everything is due at once). */
  private times: bigint[] = [];
  private head = 0;
  private armed = false;
  private firing = false;
  private readonly timed: boolean;
  private readonly fire = (): void => {
    this.armed = false;
    this.firing = true;
    try {
      const now = this.sched.now();
      // Frames sent while this run delivers (a receiver answering) wait for the next event.
      const stop = this.frames.length;
      while (this.head < stop && (!this.timed || this.times[this.head]! <= now)) {
        const f = this.frames[this.head]!;
        this.frames[this.head++] = EMPTY;
        this.deliver(f);
      }
    } finally {
      this.firing = false;
      this.compact();
      this.end();
      this.arm();
    }
  };

  constructor(
    private readonly sched: Scheduler,
    private readonly rate: number,
    private readonly latency: bigint,
    private readonly deliver: (frame: Uint8Array) => void,
    private readonly end: () => void = () => {},
  ) {
    this.timed = rate > 0 || latency > 0n;
  }

  /** Queues the frame; it reaches `deliver` in a later event, when it has crossed. */
  transmit(frame: Uint8Array): void {
    this.frames.push(frame);
    if (this.timed) {
      const now = this.sched.now();
      let t = now;
      if (this.rate > 0) {
        this.freeAt = (this.freeAt > now ? this.freeAt : now) + wireTimeNs(frame.length, this.rate);
        t = this.freeAt;
      }
      this.times.push(t + this.latency);
    }
    if (!this.firing) this.arm();
  }

  private arm(): void {
    if (this.armed || this.head === this.frames.length) return;
    this.armed = true;
    this.sched.at(this.timed ? this.times[this.head]! : this.sched.now(), this.fire);
  }

  /** Drops delivered entries once they are the bulk of the queue (amortised O(1) per frame). */
  private compact(): void {
    if (this.head === this.frames.length) {
      this.frames.length = 0;
      this.times.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      if (this.timed) this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

/** The behaviour every medium's port shares: receiver, link listeners, taps. */
class MediumPort implements Port, Tappable {
  private receiver: FrameHandler | undefined;
  private batchEnd: BatchEndHandler | undefined;
  private readonly linkListeners: LinkHandler[] = [];
  private readonly taps: FrameTap[] = [];
  private up: boolean;

  constructor(readonly name: string, private readonly sched: Scheduler, up: boolean, private readonly forward: (p: MediumPort, frame: Uint8Array) => boolean) {
    this.up = up;
  }

  get linkUp(): boolean {
    return this.up;
  }

  send(frame: Uint8Array): boolean {
    if (!this.up) return false;
    if (this.taps.length !== 0) for (const t of this.taps) t(frame, this.sched.now(), this.name, 'out');
    return this.forward(this, frame);
  }

  onReceive(cb: FrameHandler, end?: BatchEndHandler): () => void {
    this.receiver = cb;
    this.batchEnd = end;
    return () => {
      if (this.receiver !== cb) return;
      this.receiver = undefined;
      this.batchEnd = undefined;
    };
  }

  onLinkChange(cb: LinkHandler): () => void {
    this.linkListeners.push(cb);
    return () => { const i = this.linkListeners.indexOf(cb); if (i >= 0) this.linkListeners.splice(i, 1); };
  }

  tap(fn: FrameTap): () => void {
    this.taps.push(fn);
    return () => { const i = this.taps.indexOf(fn); if (i >= 0) this.taps.splice(i, 1); };
  }

  /** The medium delivers a frame (from a scheduled event). Dropped while the link is down. */
  deliver(frame: Uint8Array): boolean {
    if (!this.up) return false;
    if (this.taps.length !== 0) for (const t of this.taps) t(frame, this.sched.now(), this.name, 'in');
    const r = this.receiver;
    if (r === undefined) return false;
    r(frame);
    return true;
  }

  /** The medium finished a delivery run. */
  endBatch(): void {
    this.batchEnd?.();
  }

  /** Changes the carrier; listeners hear it in a later event, and only real changes. */
  setLink(up: boolean): void {
    this.sched.defer(() => {
      if (this.up === up) return;
      this.up = up;
      for (const l of [...this.linkListeners]) l(up);
    });
  }
}

export interface LinkStats { frames: number; bytes: number; dropped: number }

export interface WireOptions {
  readonly scheduler: Scheduler;
  readonly name?: string;
  /** Per-direction line rate; default unlimited. Pace either here or in the NICs, not both. */
  readonly rate?: LineRate;
  /** Propagation delay, ns; default 0. */
  readonly latencyNs?: Ns;
  /** Cable plugged in at creation; default true. */
  readonly connected?: boolean;
}

/** A point-to-point cable: what one end sends, the other receives. */
export class Wire implements Tappable {
  readonly name: string;
  readonly a: Port & Tappable;
  readonly b: Port & Tappable;
  readonly stats: LinkStats = { frames: 0, bytes: 0, dropped: 0 };
  private readonly taps: FrameTap[] = [];
  private plugged: boolean;

  constructor(private readonly opts: WireOptions) {
    this.name = opts.name ?? 'wire';
    this.plugged = opts.connected ?? true;
    const rate = parseRate(opts.rate), latency = toNs(opts.latencyNs ?? 0);
    const s = opts.scheduler;
    const pa: MediumPort = new MediumPort(`${this.name}.a`, s, this.plugged, (_p, f) => this.carry(f, ab, pa));
    const pb: MediumPort = new MediumPort(`${this.name}.b`, s, this.plugged, (_p, f) => this.carry(f, ba, pb));
    const arrive = (to: MediumPort) => (f: Uint8Array) => { if (!to.deliver(f)) this.stats.dropped++; };
    const ab = new Channel(s, rate, latency, arrive(pb), () => pb.endBatch());
    const ba = new Channel(s, rate, latency, arrive(pa), () => pa.endBatch());
    this.a = pa;
    this.b = pb;
  }

  get connected(): boolean {
    return this.plugged;
  }

  /** Plugs or unplugs the cable: both ends see the carrier change (through the scheduler). */
  setConnected(up: boolean): void {
    this.plugged = up;
    (this.a as MediumPort).setLink(up);
    (this.b as MediumPort).setLink(up);
  }

  /** Sees every frame entering the wire, once, stamped with the time it was sent. */
  tap(fn: FrameTap): () => void {
    this.taps.push(fn);
    return () => { const i = this.taps.indexOf(fn); if (i >= 0) this.taps.splice(i, 1); };
  }

  private carry(frame: Uint8Array, ch: Channel, from: MediumPort): boolean {
    if (this.taps.length !== 0) for (const t of this.taps) t(frame, this.opts.scheduler.now(), from.name, 'out');
    this.stats.frames++;
    this.stats.bytes += frame.length;
    ch.transmit(frame);
    return true;
  }
}

export interface SwitchOptions {
  readonly scheduler: Scheduler;
  readonly name?: string;
  /** Ports created at once; more with addPort(). */
  readonly ports?: number;
  /** Egress line rate per port; default unlimited. */
  readonly rate?: LineRate;
  /** Forwarding delay, ns; default 0. */
  readonly latencyNs?: Ns;
  /** How long a learned address stays, ns; default 300 s (802.1D). */
  readonly agingNs?: Ns;
}

export interface SwitchStats { forwarded: number; flooded: number; filtered: number; dropped: number }

/**
 * A learning bridge: it learns source addresses per port, forwards known unicast to one port
 * and floods broadcast, multicast and unknown unicast to every other port whose link is up.
 * Frames for the port they came from are filtered.
 */
export class Switch implements Tappable {
  readonly name: string;
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, filtered: 0, dropped: 0 };
  private readonly portList: MediumPort[] = [];
  private readonly egress: Channel[] = [];
  private readonly table = new Map<string, { port: number; seen: bigint }>();
  private readonly taps: FrameTap[] = [];
  private readonly rate: number;
  private readonly latency: bigint;
  private readonly aging: bigint;

  constructor(private readonly opts: SwitchOptions) {
    this.name = opts.name ?? 'switch';
    this.rate = parseRate(opts.rate);
    this.latency = toNs(opts.latencyNs ?? 0);
    this.aging = toNs(opts.agingNs ?? 300_000_000_000n);
    for (let i = 0; i < (opts.ports ?? 0); i++) this.addPort();
  }

  get ports(): readonly (Port & Tappable)[] {
    return this.portList;
  }

  port(i: number): Port & Tappable {
    const p = this.portList[i];
    if (p === undefined) throw new RangeError(`${this.name}: no port ${i}`);
    return p;
  }

  addPort(): Port & Tappable {
    const i = this.portList.length;
    const p = new MediumPort(`${this.name}.${i}`, this.opts.scheduler, true, (_p, f) => this.ingress(i, f));
    this.portList.push(p);
    this.egress.push(new Channel(this.opts.scheduler, this.rate, 0n, (f) => { if (!p.deliver(f)) this.stats.dropped++; }, () => p.endBatch()));
    return p;
  }

  /** Enables or disables a port (its carrier); addresses learned on it are forgotten when it goes down. */
  setLink(i: number, up: boolean): void {
    (this.port(i) as MediumPort).setLink(up);
    if (!up) for (const [mac, e] of this.table) if (e.port === i) this.table.delete(mac);
  }

  /** The learned addresses (not yet aged out). */
  macTable(): { mac: string; port: number }[] {
    const now = this.opts.scheduler.now();
    return [...this.table].filter(([, e]) => now - e.seen < this.aging).map(([mac, e]) => ({ mac, port: e.port }));
  }

  tap(fn: FrameTap): () => void {
    this.taps.push(fn);
    return () => { const i = this.taps.indexOf(fn); if (i >= 0) this.taps.splice(i, 1); };
  }

  private ingress(from: number, frame: Uint8Array): boolean {
    const s = this.opts.scheduler;
    for (const t of this.taps) t(frame, s.now(), this.portList[from]!.name, 'out');
    s.at(s.now() + this.latency, () => this.forward(from, frame));
    return true;
  }

  private forward(from: number, frame: Uint8Array): void {
    if (frame.length < 14) { this.stats.dropped++; return; }
    const now = this.opts.scheduler.now();
    const src = macKey(frame, 6), dst = macKey(frame, 0);
    if ((frame[6]! & 1) === 0) this.table.set(src, { port: from, seen: now });
    const known = (frame[0]! & 1) === 0 ? this.table.get(dst) : undefined;
    if (known !== undefined && now - known.seen < this.aging) {
      if (known.port === from) { this.stats.filtered++; return; }
      this.stats.forwarded++;
      this.send(known.port, frame);
      return;
    }
    this.stats.flooded++;
    for (let i = 0; i < this.portList.length; i++) if (i !== from && this.portList[i]!.linkUp) this.send(i, frame);
  }

  private send(to: number, frame: Uint8Array): void {
    this.egress[to]!.transmit(frame);
  }
}

function macKey(frame: Uint8Array, off: number): string {
  let s = '';
  for (let i = off; i < off + 6; i++) s += (i > off ? ':' : '') + frame[i]!.toString(16).padStart(2, '0');
  return s;
}

export interface ReceivedFrame { readonly frame: Uint8Array; readonly tNs: bigint }

export interface HostEndpointOptions {
  /** For receive timestamps; without it they are 0. */
  readonly scheduler?: Scheduler;
  /** Keep at most this many received frames (oldest dropped); default unbounded. */
  readonly limit?: number;
}

/**
 * A host stack stand-in on a port: injects frames and captures what arrives (tests, the CLI).
 *
 * @example
 * const host = new HostEndpoint(wire.b, { scheduler: sched });
 * host.send(arpRequest);
 * clock.runUntilIdle();
 * host.take();           // [{ frame, tNs }]
 */
export class HostEndpoint {
  readonly received: ReceivedFrame[] = [];
  private readonly listeners: FrameHandler[] = [];
  private readonly detach: () => void;

  constructor(readonly port: Port, private readonly opts: HostEndpointOptions = {}) {
    this.detach = port.onReceive((frame) => this.arrive(frame));
  }

  get linkUp(): boolean {
    return this.port.linkUp;
  }

  /** Sends a copy of `frame`; false if the link is down. */
  send(frame: Uint8Array): boolean {
    return this.port.send(frame.slice());
  }

  /** Returns the frames received so far and forgets them. */
  take(): ReceivedFrame[] {
    return this.received.splice(0, this.received.length);
  }

  onFrame(cb: FrameHandler): () => void {
    this.listeners.push(cb);
    return () => { const i = this.listeners.indexOf(cb); if (i >= 0) this.listeners.splice(i, 1); };
  }

  /** Stops receiving. */
  close(): void {
    this.detach();
  }

  private arrive(frame: Uint8Array): void {
    this.received.push({ frame, tNs: this.opts.scheduler?.now() ?? 0n });
    const limit = this.opts.limit;
    if (limit !== undefined && this.received.length > limit) this.received.splice(0, this.received.length - limit);
    for (const l of [...this.listeners]) l(frame);
  }
}
