/**
 * @module net/interface
 * One network interface as the kernel sees it: name, ifindex, hardware address, MTU, admin
 * state, carrier, an IPv4 address, the transmit queue (a pfifo of `txqueuelen` frames) and the
 * two pumps that move batches of frames to and from the driver's node (abi.ts).
 *
 * - **TX**: senders queue frames; one pump at a time writes batches of whole frames (up to
 *   128 KiB or 1024 frames). A short write or EAGAIN means the driver stopped its queue: the
 *   rest waits for the driver's wake-up notification (or a 20 ms retry, as a qdisc is
 *   rescheduled), never dropped. Frames are dropped, and counted in tx_dropped, only when the
 *   queue is full, the carrier is off (Linux's noop qdisc), the interface goes down or the
 *   driver dies.
 * - **RX**: the driver's notification starts a read; reads repeat while the driver says MORE
 *   (or another notification came meanwhile). Each read also carries the carrier and queue
 *   state, so one round trip serves frames and link events alike.
 */
import { SystemError } from '../errors/hm-error.js';
import type { LogLevel } from '../driver-port.js';
import {
  encodeFrames, NETDEV_FRAME_HEADER, NETDEV_RX, zeroStats, type NetdevInfo, type NetdevStats,
} from './abi.js';
import { FrameQueue } from './frame-queue.js';
import type { NetdevLink } from './netdev-link.js';
import { parseMac, type Ipv4 } from './wire-format.js';

export const TX_BATCH_BYTES = 128 * 1024;
export const TX_BATCH_FRAMES = 1024;
/** Linux's default txqueuelen for Ethernet. */
export const TX_QUEUE_LEN = 1000;
const TX_RETRY_MS = 20;
/** Bytes asked for per read (the node proxy carries at most 128 KiB per call). */
const RX_READ_BYTES = 128 * 1024;

/** A frame seen on an interface, in either direction (captures, packet sockets). */
export type FrameListener = (frame: Uint8Array, dir: 'in' | 'out', tsNs: bigint) => void;

export interface InterfaceHooks {
  log(level: LogLevel, message: string): void;
  /** A received frame, after the listeners: the stack's protocol handlers (ARP, IPv4). */
  input(iface: NetInterface, frame: Uint8Array): void;
}

/** Wall-clock time in ns (pcap timestamps). */
export const nowNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

export class NetInterface {
  /** Last info the driver reported (address, MTU, carrier...). */
  info: NetdevInfo;
  /** The hardware address, as bytes (info.address). */
  mac: Uint8Array = new Uint8Array(6);
  /** The administrator wants it up (it is up once the driver's ndo_open succeeded). */
  adminUp = false;
  carrier = false;
  /** A driver serves it (false between a container crash and the driver's re-registration). */
  present = true;
  ipv4: { addr: Ipv4; prefix: number } | null = null;
  txQueueLen = TX_QUEUE_LEN;
  /** Drops the kernel itself made (added to the driver's counters, as Linux's core_stats). */
  readonly core = { txDropped: 0, rxDropped: 0, rxNoHandler: 0 };
  readonly listeners = new Set<FrameListener>();
  private readonly txq = new FrameQueue();
  private txBusy = false;
  private txStopped = false;
  private txRetry: NodeJS.Timeout | null = null;
  private rxBusy = false;
  private rxAgain = false;
  private spaceWaiters: (() => void)[] = [];
  private lastStats: NetdevStats = zeroStats();
  private statsInFlight: Promise<NetdevStats> | null = null;
  /** Serialises up/down/MTU/address changes (Linux: rtnl_lock). */
  private ctl: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string, readonly ifindex: number, readonly device: string, readonly link: NetdevLink,
    private readonly hooks: InterfaceHooks) {
    this.info = { address: '00:00:00:00:00:00', broadcast: 'ff:ff:ff:ff:ff:ff', mtu: 1500, minMtu: 68, maxMtu: 1500, type: 1, carrier: false, txQueueLen: TX_QUEUE_LEN };
  }

  /** Up: the driver's ndo_open succeeded and it has not been stopped since. */
  get up(): boolean { return this.link.up; }
  get running(): boolean { return this.up && this.carrier; }
  get operstate(): 'up' | 'down' { return this.running ? 'up' : 'down'; }
  /** IFF_* flags as /sys/class/net/<if>/flags shows them: UP | BROADCAST | MULTICAST. */
  get flags(): number { return (this.up ? 0x1 : 0) | 0x2 | 0x1000; }
  get queued(): number { return this.txq.length; }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.ctl.then(fn, fn);
    this.ctl = r.catch(() => undefined);
    return r;
  }

  // ---- control -------------------------------------------------------------------------------

  async refreshInfo(): Promise<void> {
    if (!this.present) return;
    this.info = await this.link.info();
    this.info.carrier = this.carrier;
    this.mac = parseMac(this.info.address) ?? this.mac;
  }

  /** ndo_open; the first read picks up the carrier. */
  setUp(): Promise<void> {
    return this.serial(async () => {
      this.adminUp = true;
      if (!this.present || this.link.up) return;
      await this.link.open();
      this.hooks.log(6, `${this.name}: up`);
      this.txStopped = false;
      this.notify();
    });
  }

  /** ndo_stop; queued frames are dropped (counted). */
  setDown(): Promise<void> {
    return this.serial(async () => {
      this.adminUp = false;
      if (!this.link.up) return;
      await this.link.down();
      this.carrier = false;
      this.dropQueue();
      this.hooks.log(6, `${this.name}: down`);
    });
  }

  setMtu(mtu: number): Promise<void> {
    return this.serial(async () => {
      await this.link.setMtu(mtu);
      await this.refreshInfo();
    });
  }

  setMac(mac: Uint8Array): Promise<void> {
    return this.serial(async () => {
      await this.link.setMac(mac);
      await this.refreshInfo();
    });
  }

  /** The driver's container died: its files are gone, the frames it had are lost. */
  driverGone(): void {
    this.present = false;
    this.link.forget();
    this.carrier = false;
    this.dropQueue();
  }

  /** The driver registered again after a restart: re-attach, and re-open if it was up. */
  driverBack(): Promise<void> {
    return this.serial(async () => {
      this.present = true;
      await this.link.attach();
      await this.refreshInfo();
      if (this.adminUp) {
        await this.link.open();
        this.txStopped = false;
        this.notify();
        this.hooks.log(6, `${this.name}: up again after the driver restarted`);
      }
    });
  }

  /** rtnl_link_stats64 from the driver plus the kernel's own drops; the last known while the driver is away. */
  stats(): Promise<NetdevStats> {
    if (!this.present) return Promise.resolve(this.withCore(this.lastStats));
    this.statsInFlight ??= this.link.stats().then((s) => {
      this.lastStats = s;
      return this.withCore(s);
    }).finally(() => { this.statsInFlight = null; });
    return this.statsInFlight;
  }

  private withCore(s: NetdevStats): NetdevStats {
    return { ...s, tx_dropped: s.tx_dropped + this.core.txDropped, rx_dropped: s.rx_dropped + this.core.rxDropped, rx_nohandler: s.rx_nohandler + this.core.rxNoHandler };
  }

  // ---- transmit ------------------------------------------------------------------------------

  /** Largest frame (without FCS) the interface sends: MTU + Ethernet header (+ a VLAN tag if tagged). */
  maxFrame(frame?: Uint8Array): number {
    const vlan = frame && frame.length >= 14 && frame[12] === 0x81 && frame[13] === 0x00 ? 4 : 0;
    return this.info.mtu + 14 + vlan;
  }

  /**
   * Queues a frame for the driver. Throws ENETDOWN when the interface is down, EMSGSIZE above
   * the MTU, EINVAL below an Ethernet header. Returns false when the frame was dropped (queue
   * full, no carrier): counted in tx_dropped, as a qdisc drop.
   */
  xmit(frame: Uint8Array): boolean {
    if (!this.up) throw new SystemError('ENETDOWN', 'sendmsg', this.name);
    if (frame.length < 14) throw new SystemError('EINVAL', 'sendmsg', this.name, `frame of ${frame.length} bytes is shorter than an Ethernet header`);
    if (frame.length > this.maxFrame(frame)) throw new SystemError('EMSGSIZE', 'sendmsg', this.name, `frame of ${frame.length} bytes exceeds MTU ${this.info.mtu} + header`);
    if (this.listeners.size) { const ts = nowNs(); for (const l of this.listeners) l(frame, 'out', ts); }
    if (!this.carrier || this.txq.length >= this.txQueueLen) {
      this.core.txDropped++;
      return false;
    }
    this.txq.push(frame);
    if (!this.txBusy && !this.txStopped) void this.pumpTx();
    return true;
  }

  /** Room in the transmit queue. */
  get txSpace(): number { return this.txQueueLen - this.txq.length; }

  /** Resolves when the transmit queue has room (or the interface went down). */
  waitTxSpace(): Promise<void> {
    if (this.txSpace > 0 || !this.up) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  private wakeSenders(): void {
    if (!this.spaceWaiters.length || (this.txSpace <= 0 && this.up)) return;
    const w = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const fn of w) fn();
  }

  private dropQueue(): void {
    this.core.txDropped += this.txq.drain().length;
    if (this.txRetry) { clearTimeout(this.txRetry); this.txRetry = null; }
    this.wakeSenders();
  }

  private async pumpTx(): Promise<void> {
    if (this.txBusy) return;
    this.txBusy = true;
    try {
      while (this.txq.length > 0 && this.link.up && !this.txStopped) {
        let n = 0, bytes = 0;
        for (let f = this.txq.peek(0); f && n < TX_BATCH_FRAMES && bytes + NETDEV_FRAME_HEADER + f.length <= TX_BATCH_BYTES; f = this.txq.peek(++n)) {
          bytes += NETDEV_FRAME_HEADER + f.length;
        }
        const batch = new Uint8Array(bytes); // fresh each time: an IC0 driver may keep views of it
        const frames: Uint8Array[] = [];
        for (let i = 0; i < n; i++) frames.push(this.txq.peek(i)!);
        encodeFrames(frames, batch);
        let consumed: number;
        try {
          consumed = await this.link.write(batch);
        } catch (e) {
          if (e instanceof SystemError && e.code === 'EAGAIN') { this.stopped(); break; }
          this.hooks.log(4, `${this.name}: transmit failed: ${e instanceof Error ? e.message : String(e)}; ${this.txq.length} queued frames dropped`);
          this.dropQueue();
          break;
        }
        let k = 0;
        for (let off = 0; k < n && off + NETDEV_FRAME_HEADER + frames[k]!.length <= consumed; k++) off += NETDEV_FRAME_HEADER + frames[k]!.length;
        for (let i = 0; i < k; i++) this.txq.shift();
        this.wakeSenders();
        if (k < n) { this.stopped(); break; }
      }
    } finally {
      this.txBusy = false;
    }
  }

  /** The driver's queue is stopped: wait for its wake-up (a notification), or retry soon. */
  private stopped(): void {
    this.txStopped = true;
    this.txRetry ??= setTimeout(() => {
      this.txRetry = null;
      this.txStopped = false;
      void this.pumpTx();
    }, TX_RETRY_MS);
    this.txRetry.unref?.();
  }

  // ---- receive -------------------------------------------------------------------------------

  /** The driver has something for us (frames, a link change, a woken queue). */
  notify(): void {
    if (this.rxBusy) { this.rxAgain = true; return; }
    void this.pumpRx();
  }

  private async pumpRx(): Promise<void> {
    this.rxBusy = true;
    try {
      do {
        this.rxAgain = false;
        if (!this.link.up) break;
        const b = await this.link.read(RX_READ_BYTES);
        this.state(b.flags);
        for (const f of b.frames) this.deliver(f);
        if (b.flags & NETDEV_RX.MORE) this.rxAgain = true;
      } while (this.rxAgain);
    } catch (e) {
      if (this.present && this.link.up) this.hooks.log(4, `${this.name}: receive failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.rxBusy = false;
    }
  }

  private state(flags: number): void {
    const carrier = (flags & NETDEV_RX.CARRIER) !== 0;
    if (carrier !== this.carrier) {
      this.carrier = carrier;
      this.info.carrier = carrier;
      this.hooks.log(6, `${this.name}: carrier ${carrier ? 'on' : 'off'}`);
      if (!carrier) this.dropQueue();
    }
    if (flags & NETDEV_RX.INFO_CHANGED) void this.refreshInfo().catch(() => undefined);
    if (!(flags & NETDEV_RX.TXQ_STOPPED) && this.txStopped) {
      this.txStopped = false;
      if (this.txRetry) { clearTimeout(this.txRetry); this.txRetry = null; }
      void this.pumpTx();
    }
  }

  /** A received frame: listeners (captures, packet sockets) first, then the protocols. */
  deliver(frame: Uint8Array): void {
    if (this.listeners.size) { const ts = nowNs(); for (const l of this.listeners) l(frame, 'in', ts); }
    this.hooks.input(this, frame);
  }
}
