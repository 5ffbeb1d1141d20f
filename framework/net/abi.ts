/**
 * @module net/abi
 * The link between a driver's net_device (in its container) and the kernel's network stack:
 * a TAP-like node registered with `NodeSpec.kind = 'net'`, served over the ordinary node
 * transport. linux-kapi's netdevice.ts implements the driver side, framework/net the kernel side;
 * this file is the contract both import.
 *
 * | file op | meaning |
 * |---|---|
 * | open    | ndo_open (the interface goes up) |
 * | release | ndo_stop |
 * | write   | transmit a batch of whole frames: `[u32 len][len bytes]...`; returns the bytes of the frames consumed (a prefix), `-EAGAIN` when the driver's queue is stopped before the first, `-ENETDOWN` when the device is not open |
 * | read    | take a batch of received frames: an 8-byte header (`u32 flags`, `u32 count`) then `count` records as above; never blocks, never EAGAIN (the header carries the link state) |
 * | ioctl   | the `NETDEV_IOC_*` commands below |
 *
 * The driver side calls `pollNotify(node)` when frames are waiting, the carrier changed, the
 * transmit queue was woken after the kernel saw it stopped, or the device's info changed; the
 * kernel then reads. Frames travel without FCS; lengths are little endian.
 */

/** Read header flags. */
export const NETDEV_RX = Object.freeze({
  /** The driver reports a carrier (netif_carrier_ok). */
  CARRIER: 1 << 0,
  /** The driver's transmit queue is stopped (netif_queue_stopped). */
  TXQ_STOPPED: 1 << 1,
  /** More frames are queued than this read returned: read again. */
  MORE: 1 << 2,
  /** MTU or hardware address changed since the last read: query NETDEV_IOC_INFO. */
  INFO_CHANGED: 1 << 3,
});

export const NETDEV_RX_HEADER = 8;
export const NETDEV_FRAME_HEADER = 4;

/** Commands in Linux's SIOCDEVPRIVATE range (0x89F0-0x89FF); kernel-internal, never seen by users. */
export const NETDEV_IOC = Object.freeze({
  /** out: JSON NetdevInfo. */
  INFO: 0x89f0,
  /** out: NETDEV_STATS.length little-endian float64 (rtnl_link_stats64, in that order). */
  GET_STATS64: 0x89f1,
  /** in: 6-byte hardware address; ndo_set_mac_address. */
  SET_MAC: 0x89f2,
  /** integer argument: the new MTU; ndo_change_mtu. */
  SET_MTU: 0x89f3,
});

/** rtnl_link_stats64 fields, in the order NETDEV_IOC.GET_STATS64 carries them. */
export const NETDEV_STATS = [
  'rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes', 'rx_errors', 'tx_errors', 'rx_dropped', 'tx_dropped',
  'multicast', 'collisions', 'rx_length_errors', 'rx_over_errors', 'rx_crc_errors', 'rx_frame_errors',
  'rx_fifo_errors', 'rx_missed_errors', 'tx_aborted_errors', 'tx_carrier_errors', 'tx_fifo_errors',
  'tx_heartbeat_errors', 'tx_window_errors', 'rx_compressed', 'tx_compressed', 'rx_nohandler',
] as const;

export type NetdevStatName = (typeof NETDEV_STATS)[number];
export type NetdevStats = Record<NetdevStatName, number>;

/** What NETDEV_IOC.INFO returns. */
export interface NetdevInfo {
  /** Hardware address, "52:54:00:12:34:56". */
  address: string;
  broadcast: string;
  mtu: number;
  minMtu: number;
  maxMtu: number;
  /** ARPHRD_* (1 = Ethernet). */
  type: number;
  carrier: boolean;
  txQueueLen: number;
}

export function zeroStats(): NetdevStats {
  return Object.fromEntries(NETDEV_STATS.map((k) => [k, 0])) as NetdevStats;
}

export function encodeStats(s: Partial<NetdevStats>): Uint8Array {
  const out = new Float64Array(NETDEV_STATS.length);
  NETDEV_STATS.forEach((k, i) => { out[i] = Number(s[k] ?? 0); });
  return new Uint8Array(out.buffer);
}

export function decodeStats(b: Uint8Array): NetdevStats {
  const s = zeroStats();
  const n = Math.min(NETDEV_STATS.length, Math.floor(b.length / 8));
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < n; i++) s[NETDEV_STATS[i]!] = v.getFloat64(i * 8, true);
  return s;
}

/** Bytes a batch of `frames` takes on the node. */
export function batchBytes(frames: readonly Uint8Array[]): number {
  let n = 0;
  for (const f of frames) n += NETDEV_FRAME_HEADER + f.length;
  return n;
}

/** Encodes frames as `[u32 len][bytes]...` into `out` at `off`; returns the end offset. */
export function encodeFrames(frames: readonly Uint8Array[], out: Uint8Array, off = 0): number {
  for (const f of frames) {
    const n = f.length;
    out[off] = n & 0xff; out[off + 1] = (n >>> 8) & 0xff; out[off + 2] = (n >>> 16) & 0xff; out[off + 3] = (n >>> 24) & 0xff;
    out.set(f, off + 4);
    off += 4 + n;
  }
  return off;
}

/**
 * Decodes `[u32 len][bytes]...` records from `b[off..]` into views of `b` (no copies). A record
 * that runs past the end stops the walk: `rest` is the offset of the first byte not decoded.
 */
export function decodeFrames(b: Uint8Array, off = 0, max = Infinity): { frames: Uint8Array[]; rest: number } {
  const frames: Uint8Array[] = [];
  while (off + 4 <= b.length && frames.length < max) {
    const n = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
    if (off + 4 + n > b.length) break;
    frames.push(b.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  return { frames, rest: off };
}

export function readU32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

export function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff; b[off + 1] = (v >>> 8) & 0xff; b[off + 2] = (v >>> 16) & 0xff; b[off + 3] = (v >>> 24) & 0xff;
}

/** Interface name templates: "eth%d" (the kernel picks the number) or a fixed name; IFNAMSIZ is 16. */
export const IFNAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
export const IFNAME_TEMPLATE_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,12}%d$/;
