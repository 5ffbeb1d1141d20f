/**
 * @module linux/skbuff.h
 * Socket buffers: `struct sk_buff` with linear data only. `alloc_skb`, `netdev_alloc_skb`,
 * `napi_alloc_skb` (+ `_ip_align`), `skb_put`/`skb_put_data`/`skb_put_zero`, `skb_push`,
 * `skb_pull`, `skb_reserve`, `skb_trim`, `skb_headroom`/`skb_tailroom`, `skb_padto`,
 * `skb_copy_from_linear_data`, the mac-header helpers, and the frees (`dev_kfree_skb`,
 * `dev_kfree_skb_any`, `dev_kfree_skb_irq`, `consume_skb`, `kfree_skb`, `napi_consume_skb`).
 *
 * ```ts
 * const skb = napi_alloc_skb(napi, len);             // headroom reserved, len 0
 * skb_put_data(skb, rxbuf.subarray(0, len));        // copy the frame in
 * skb.protocol = eth_type_trans(skb, netdev);       // pulls the Ethernet header
 * napi_gro_receive(napi, skb);
 * ```
 *
 * Differs from Linux, and why:
 * - Pointers are offsets: `skb.head` is the buffer, `skb.data_off` is `skb->data - skb->head`,
 *   and `skb.data` is a view of `[data, data + len)` (a new view per access: keep it in a local
 *   in hot loops). `skb_put`/`skb_push`/`skb_pull` return views where Linux returns pointers.
 * - No paged fragments, no clones, no shared info beyond `nr_frags = 0`, no GSO: every skb is
 *   linear. Frees only drop the reference (memory is garbage-collected); a second free of the
 *   same skb is reported as a double free ("skb: double free").
 * - `skb_put`/`skb_push` past the buffer's ends are Linux's skb_over_panic/skb_under_panic: a
 *   kernel BUG, which here throws (the driver container fails and restarts).
 * - Transmitted skbs handed to `ndo_start_xmit` are views of the kernel's frame batch (no
 *   copy): they have no headroom, and their bytes stay valid until the driver frees them.
 */
import { kapi_report } from './bug.js';
import { EINVAL } from './errno.js';
import type { NetDevice, NapiStruct } from './netdevice.js';

/** Headroom netdev_alloc_skb reserves (Linux NET_SKB_PAD: max(32, L1_CACHE_BYTES)). */
export const NET_SKB_PAD = 64;
/** Extra headroom that 4-byte-aligns the IP header after a 14-byte Ethernet header (x86 uses 0; we use 2 as most arches). */
export const NET_IP_ALIGN = 2;

export const CHECKSUM_NONE = 0, CHECKSUM_UNNECESSARY = 1, CHECKSUM_COMPLETE = 2, CHECKSUM_PARTIAL = 3;
/** skb->pkt_type (linux/if_packet.h). */
export const PACKET_HOST = 0, PACKET_BROADCAST = 1, PACKET_MULTICAST = 2, PACKET_OTHERHOST = 3, PACKET_OUTGOING = 4;

export class SkBuff {
  /** The buffer (skb->head .. skb->end). */
  head: Uint8Array;
  /** skb->data - skb->head. */
  data_off = 0;
  /** Bytes of data (skb->len; all linear). */
  len = 0;
  /** EtherType in host order (Linux keeps it big endian: compare with ETH_P_* the same way). */
  protocol = 0;
  pkt_type = PACKET_HOST;
  ip_summed = CHECKSUM_NONE;
  /** Offset of the Ethernet header from head, or -1 (skb->mac_header). */
  mac_header = -1;
  dev: NetDevice | null = null;
  /** Set by a free: a second free is reported. */
  freed = false;
  /** Free for drivers' use (Linux skb->cb: a 48-byte control buffer). */
  cb: Record<string, unknown> = {};

  constructor(head: Uint8Array, dataOff = 0, len = 0) {
    this.head = head;
    this.data_off = dataOff;
    this.len = len;
  }

  /** skb->data as a view of the current data. */
  get data(): Uint8Array { return this.head.subarray(this.data_off, this.data_off + this.len); }
  /** skb_tail_pointer - head. */
  get tail(): number { return this.data_off + this.len; }
  /** skb_end_offset. */
  get end(): number { return this.head.length; }
}

export type sk_buff = SkBuff;

export function alloc_skb(size: number, _gfp = 0): SkBuff | null {
  if (!Number.isInteger(size) || size < 0 || size > 1 << 24) return null;
  return new SkBuff(new Uint8Array(size));
}

/** An skb for receiving `length` bytes on `dev`, with NET_SKB_PAD of headroom reserved. */
export function netdev_alloc_skb(dev: NetDevice | null, length: number): SkBuff | null {
  const skb = alloc_skb(length + NET_SKB_PAD);
  if (!skb) return null;
  skb.data_off = NET_SKB_PAD;
  skb.dev = dev;
  return skb;
}

export const __netdev_alloc_skb = (dev: NetDevice | null, length: number, _gfp = 0): SkBuff | null => netdev_alloc_skb(dev, length);

export function netdev_alloc_skb_ip_align(dev: NetDevice | null, length: number): SkBuff | null {
  const skb = netdev_alloc_skb(dev, length + NET_IP_ALIGN);
  if (skb) skb.data_off += NET_IP_ALIGN;
  return skb;
}

/** napi_alloc_skb: as netdev_alloc_skb for the NAPI instance's device (with NET_IP_ALIGN, as Linux). */
export function napi_alloc_skb(napi: NapiStruct, length: number): SkBuff | null {
  return netdev_alloc_skb_ip_align(napi.dev, length);
}

export const skb_headroom = (skb: SkBuff): number => skb.data_off;
export const skb_tailroom = (skb: SkBuff): number => skb.end - skb.tail;
export const skb_headlen = (skb: SkBuff): number => skb.len;
export const skb_is_nonlinear = (_skb: SkBuff): boolean => false;
export const skb_is_gso = (_skb: SkBuff): boolean => false;
export const skb_shinfo = (_skb: SkBuff): { nr_frags: number; gso_size: number } => ({ nr_frags: 0, gso_size: 0 });

/** skb_reserve: moves data and tail forward by `len` (on an empty skb). */
export function skb_reserve(skb: SkBuff, len: number): void {
  if (len < 0 || skb.tail + len > skb.end) overPanic(skb, len, 'skb_reserve');
  skb.data_off += len;
}

function overPanic(skb: SkBuff, len: number, where: string): never {
  kapi_report('skb-over-panic', 0, `skbuff: ${where}: text:len:${len} put:${len} head:${skb.end} data:${skb.data_off} tail:${skb.tail} end:${skb.end}`);
  throw new Error(`skb_over_panic in ${where}: ${len} bytes past the end of a ${skb.end}-byte buffer`);
}

/** skb_put: extends the data by `len` at the tail; returns a view of the new bytes. */
export function skb_put(skb: SkBuff, len: number): Uint8Array {
  const t = skb.tail;
  if (len < 0 || t + len > skb.end) overPanic(skb, len, 'skb_put');
  skb.len += len;
  return skb.head.subarray(t, t + len);
}

export function skb_put_data(skb: SkBuff, data: Uint8Array, len = data.length): Uint8Array {
  const v = skb_put(skb, len);
  v.set(len === data.length ? data : data.subarray(0, len));
  return v;
}

export function skb_put_zero(skb: SkBuff, len: number): Uint8Array {
  const v = skb_put(skb, len);
  v.fill(0);
  return v;
}

/** skb_push: extends the data by `len` at the head; returns a view of the new first bytes. */
export function skb_push(skb: SkBuff, len: number): Uint8Array {
  if (len < 0 || len > skb.data_off) {
    kapi_report('skb-under-panic', 0, `skbuff: skb_under_panic: push:${len} headroom:${skb.data_off}`);
    throw new Error(`skb_under_panic in skb_push: ${len} bytes with ${skb.data_off} of headroom`);
  }
  skb.data_off -= len;
  skb.len += len;
  return skb.head.subarray(skb.data_off, skb.data_off + len);
}

/** skb_pull: removes `len` bytes from the start; returns the new data, or null if too short. */
export function skb_pull(skb: SkBuff, len: number): Uint8Array | null {
  if (len < 0 || len > skb.len) return null;
  skb.data_off += len;
  skb.len -= len;
  return skb.data;
}

/** skb_trim: cuts the data to `len` bytes. */
export function skb_trim(skb: SkBuff, len: number): void {
  if (len < skb.len) skb.len = Math.max(0, len);
}

/** skb_padto: zero-pads the data to `len` bytes (growing the buffer if needed); 0, or -ENOMEM. */
export function skb_padto(skb: SkBuff, len: number): number {
  if (skb.len >= len) return 0;
  if (skb.data_off + len > skb.end) {
    const head = new Uint8Array(skb.data_off + len);
    head.set(skb.head.subarray(0, skb.tail));
    skb.head = head;
  }
  skb.head.fill(0, skb.tail, skb.data_off + len);
  return 0;
}

/** skb_put_padto: pads and extends the data to `len` bytes. */
export function skb_put_padto(skb: SkBuff, len: number): number {
  if (skb.len >= len) return 0;
  const r = skb_padto(skb, len);
  if (r === 0) skb.len = len;
  return r;
}

export function skb_copy_from_linear_data(skb: SkBuff, to: Uint8Array, len: number): void {
  to.set(skb.head.subarray(skb.data_off, skb.data_off + len));
}

export function skb_copy_to_linear_data(skb: SkBuff, from: Uint8Array, len: number): void {
  skb.head.set(from.subarray(0, len), skb.data_off);
}

export function skb_reset_mac_header(skb: SkBuff): void { skb.mac_header = skb.data_off; }
export const skb_mac_header_was_set = (skb: SkBuff): boolean => skb.mac_header >= 0;
/** The Ethernet header (from the mac header to the data end). */
export function skb_mac_header(skb: SkBuff): Uint8Array {
  return skb.head.subarray(skb.mac_header < 0 ? skb.data_off : skb.mac_header, skb.tail);
}

/** skb_tx_timestamp: no timestamping here. */
export function skb_tx_timestamp(_skb: SkBuff): void {}
export function skb_record_rx_queue(_skb: SkBuff, _q: number): void {}
export function skb_checksum_none_assert(skb: SkBuff): void { skb.ip_summed = CHECKSUM_NONE; }

function free(skb: SkBuff | null, what: string): void {
  if (!skb) return;
  if (skb.freed) { kapi_report('skb-double-free', 3, `skb: double free (${what})`); return; }
  skb.freed = true;
}

export const kfree_skb = (skb: SkBuff | null): void => free(skb, 'kfree_skb');
export const consume_skb = (skb: SkBuff | null): void => free(skb, 'consume_skb');
export const dev_kfree_skb = (skb: SkBuff | null): void => free(skb, 'dev_kfree_skb');
export const dev_kfree_skb_any = (skb: SkBuff | null): void => free(skb, 'dev_kfree_skb_any');
export const dev_kfree_skb_irq = (skb: SkBuff | null): void => free(skb, 'dev_kfree_skb_irq');
export const dev_consume_skb_any = (skb: SkBuff | null): void => free(skb, 'dev_consume_skb_any');
export const dev_consume_skb_irq = (skb: SkBuff | null): void => free(skb, 'dev_consume_skb_irq');
/** napi_consume_skb(skb, budget): budget 0 means "not from NAPI" (Linux uses it to pick a free path). */
export const napi_consume_skb = (skb: SkBuff | null, _budget: number): void => free(skb, 'napi_consume_skb');

/** @internal An skb over a transmitted frame (a view of the kernel's batch). */
export function __skb_from_frame(frame: Uint8Array, dev: NetDevice): SkBuff {
  const skb = new SkBuff(frame, 0, frame.length);
  skb.dev = dev;
  skb.mac_header = 0;
  skb.protocol = frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : 0;
  return skb;
}

/** skb_linearize: always linear here. */
export const skb_linearize = (_skb: SkBuff): number => 0;
/** pskb_trim: as skb_trim (no fragments); 0 or -EINVAL. */
export function pskb_trim(skb: SkBuff, len: number): number {
  if (len < 0) return -EINVAL;
  skb_trim(skb, len);
  return 0;
}
