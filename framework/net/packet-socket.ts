/**
 * @module net/packet-socket
 * Packet sockets in the spirit of AF_PACKET/SOCK_RAW: bound to one interface, they send whole
 * Ethernet frames and receive the frames the interface receives (optionally those it sends,
 * as PACKET_OUTGOING), filtered by EtherType (0 = ETH_P_ALL). The receive queue is bounded
 * (default 4096 frames): a frame arriving at a full queue is dropped and counted (as the
 * socket's tp_drops), never blocking the interface. And a capture: a listener that writes
 * pcap (devices/nic/pcap.ts) until a frame count or a duration is reached.
 *
 * @example
 * const s = stack.openPacketSocket('eth1', { protocol: 0x88b5 });
 * await stack.openPacketSocket('eth0').send(frame);
 * const f = await s.recv(1000);        // { data, dir: 'in', tsNs } or null on timeout
 * s.close();
 */
import { SystemError } from '../errors/hm-error.js';
import { PcapWriter } from '../../devices/nic/pcap.js';
import { FrameQueue } from './frame-queue.js';
import type { NetInterface } from './interface.js';

export const ETH_P_ALL = 0;

export interface PacketSocketOptions {
  /** EtherType to receive; 0 (ETH_P_ALL, the default) takes every frame. */
  protocol?: number;
  /** Receive the interface's outgoing frames too (default false). */
  outgoing?: boolean;
  /** Receive queue bound, frames (default 4096). */
  queueFrames?: number;
}

export interface ReceivedFrame { data: Uint8Array; dir: 'in' | 'out'; tsNs: bigint; length: number }

export class PacketSocket {
  private readonly q = new FrameQueue<ReceivedFrame>();
  private waiter: (() => void) | null = null;
  private closed = false;
  /** Frames dropped at a full receive queue. */
  drops = 0;
  received = 0;
  sent = 0;
  private readonly off: () => void;
  private readonly limit: number;

  constructor(readonly iface: NetInterface, private readonly opts: PacketSocketOptions = {}) {
    this.limit = opts.queueFrames ?? 4096;
    const proto = opts.protocol ?? ETH_P_ALL;
    const listener = (frame: Uint8Array, dir: 'in' | 'out', tsNs: bigint): void => {
      if (dir === 'out' && !opts.outgoing) return;
      if (proto !== ETH_P_ALL && (frame.length < 14 || ((frame[12]! << 8) | frame[13]!) !== proto)) return;
      if (this.q.length >= this.limit) { this.drops++; return; }
      this.q.push({ data: frame, dir, tsNs, length: 1 });
      this.received++;
      const w = this.waiter;
      if (w) { this.waiter = null; w(); }
    };
    iface.listeners.add(listener);
    this.off = () => iface.listeners.delete(listener);
  }

  get queued(): number { return this.q.length; }

  /**
   * Sends frames in order; resolves how many were queued. Waits while the interface's transmit
   * queue is full (a blocking socket), unless `nonblock` (then stops and returns the count, or
   * throws EAGAIN if none fit). Throws ENETDOWN, EMSGSIZE, EINVAL for the first bad frame.
   */
  async send(frames: Uint8Array | readonly Uint8Array[], opts: { nonblock?: boolean } = {}): Promise<number> {
    if (this.closed) throw new SystemError('EBADF', 'sendmsg', this.iface.name);
    const list = frames instanceof Uint8Array ? [frames] : frames;
    let n = 0;
    for (const f of list) {
      if (this.iface.txSpace <= 0) {
        if (opts.nonblock) { if (n === 0) throw new SystemError('EAGAIN', 'sendmsg', this.iface.name); break; }
        await this.iface.waitTxSpace();
      }
      this.iface.xmit(f);
      n++;
      this.sent++;
    }
    return n;
  }

  /** The next frame, or null after `timeoutMs` (-1: wait forever) or when closed. */
  async recv(timeoutMs = -1): Promise<ReceivedFrame | null> {
    const batch = await this.recvBatch(1, timeoutMs);
    return batch[0] ?? null;
  }

  /** Up to `max` frames; waits up to `timeoutMs` for the first one. */
  async recvBatch(max: number, timeoutMs = -1): Promise<ReceivedFrame[]> {
    if (this.q.length === 0 && !this.closed && timeoutMs !== 0) {
      await new Promise<void>((resolve) => {
        const t = timeoutMs > 0 ? setTimeout(() => { if (this.waiter === done) this.waiter = null; resolve(); }, timeoutMs) : null;
        const done = (): void => { if (t) clearTimeout(t); resolve(); };
        this.waiter = done;
      });
    }
    const out: ReceivedFrame[] = [];
    while (out.length < max && this.q.length) out.push(this.q.shift()!);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.off();
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

export interface CaptureOptions {
  /** Stop after this many frames. */
  count?: number;
  /** Stop after this long (ms). */
  durationMs?: number;
  /** Stop when aborted (e.g. the client went away). */
  signal?: AbortSignal;
  /** Bytes kept per frame (default 65535). */
  snaplen?: number;
}

export interface CaptureResult { iface: string; path: string; frames: number; bytes: number; durationMs: number; stoppedBy: 'count' | 'duration' | 'signal' | 'interface' }

/** Captures both directions of `iface` into a pcap file; resolves when a stop condition hits. */
export function capture(iface: NetInterface, path: string, opts: CaptureOptions = {}): { done: Promise<CaptureResult>; stop: () => void } {
  let pcap: PcapWriter;
  try {
    pcap = new PcapWriter(path, { snaplen: opts.snaplen });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const err = new SystemError(code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' ? code : 'EIO', 'open', path);
    return { done: Promise.reject(err), stop: () => undefined };
  }
  const t0 = performance.now();
  let bytes = 0;
  let finish!: (why: CaptureResult['stoppedBy']) => void;
  const done = new Promise<CaptureResult>((resolve) => {
    let over = false;
    let timer: NodeJS.Timeout | null = null;
    const listener = (frame: Uint8Array, _dir: 'in' | 'out', tsNs: bigint): void => {
      if (over) return;
      pcap.write(frame, tsNs);
      bytes += frame.length;
      if (opts.count !== undefined && pcap.frames >= opts.count) finish('count');
    };
    const onAbort = (): void => finish('signal');
    finish = (why) => {
      if (over) return;
      over = true;
      iface.listeners.delete(listener);
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      pcap.close();
      resolve({ iface: iface.name, path, frames: pcap.frames, bytes, durationMs: Math.round(performance.now() - t0), stoppedBy: why });
    };
    iface.listeners.add(listener);
    if (opts.durationMs !== undefined) timer = setTimeout(() => finish('duration'), opts.durationMs);
    if (opts.signal) { if (opts.signal.aborted) finish('signal'); else opts.signal.addEventListener('abort', onAbort); }
    if (opts.count === 0) finish('count');
  });
  return { done, stop: () => finish('signal') };
}
