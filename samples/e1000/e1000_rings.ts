/**
 * e1000 descriptor rings (Linux e1000_main.c: e1000_setup_*_resources, e1000_configure_tx/rx,
 * e1000_alloc_rx_buffers, e1000_xmit_frame, e1000_clean_tx_irq, e1000_clean_rx_irq).
 *
 * Differs from Linux's e1000, and why:
 * - **RX buffers are coherent DMA memory**, one 2048-byte buffer per descriptor, allocated with
 *   the ring; every frame is copied into a fresh skb (Linux's copybreak path, which e1000 takes
 *   for small frames) and the buffer goes straight back to the hardware. Streaming-mapping a
 *   fresh skb per descriptor would bounce every frame through swiotlb twice (the device cannot
 *   reach the container's heap), once more than this copy.
 * - RX buffers go back to the hardware (RDT) once per poll, not every 16 descriptors: an MMIO
 *   write may cost a wake-up of the machine thread.
 * - **TX maps the skb with dma_map_single** (bounced through the device's swiotlb pool), as
 *   Linux does, and unmaps it when the descriptor is done. One descriptor per frame: frames
 *   are linear and at most MTU + headers (no scatter-gather, no TSO, no checksum offload).
 */
import {
  dev_kfree_skb_any, dma_alloc_coherent, dma_free_coherent, dma_map_single, dma_mapping_error, dma_unmap_single,
  DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, eth_type_trans, napi_alloc_skb, napi_consume_skb, napi_gro_receive,
  netdev_completed_queue, netdev_sent_queue, netdev_xmit_more, netif_carrier_ok, netif_queue_stopped, netif_start_queue,
  netif_stop_queue, netif_wake_queue, NETDEV_TX_BUSY, NETDEV_TX_OK, skb_put_data, skb_tx_timestamp, writel,
  type CoherentBuffer, type Device, type IoMem, type NapiStruct, type NetDevice, type SkBuff,
} from '../../linux-kapi/index.js';
import { DESC_SIZE, RXD_ERR, RXD_STAT, TXD_CMD, TXD_STAT } from '../../devices/nic/e1000.regs.js';
import { B, ew32, R } from './e1000_hw.js';

/** Bytes per RX buffer (RCTL.BSIZE 2048). */
export const E1000_RXBUFFER_2048 = 2048;
/** Wake a stopped queue when this many descriptors are free (Linux TX_WAKE_THRESHOLD). */
export const TX_WAKE_THRESHOLD = 32;
/** Descriptors one frame may need, plus the context/padding slack Linux keeps. */
const DESC_NEEDED = 2;
const RXD_FRAME_ERR = RXD_ERR.CE | RXD_ERR.SE | RXD_ERR.SEQ | RXD_ERR.CXE | RXD_ERR.RXE;

export interface E1000TxBuffer { dma: number; length: number; skb: SkBuff | null; bytecount: number }

export interface E1000TxRing {
  count: number;
  desc: CoherentBuffer;
  dv: DataView;
  next_to_use: number;
  next_to_clean: number;
  buffer_info: E1000TxBuffer[];
}

export interface E1000RxRing {
  count: number;
  desc: CoherentBuffer;
  dv: DataView;
  /** One E1000_RXBUFFER_2048 buffer per descriptor. */
  bufs: CoherentBuffer;
  next_to_use: number;
  next_to_clean: number;
  /** A frame spanned buffers: drop descriptors until its EOP (Linux adapter->discarding). */
  discarding: boolean;
}

/** Software counters, as Linux keeps them in netdev->stats (updated in NAPI context). */
export interface E1000SwStats { rx_packets: number; rx_bytes: number; tx_packets: number; tx_bytes: number; rx_errors: number; tx_dropped: number }

export interface E1000RingCtx {
  dev: Device;
  hw: IoMem;
  netdev: NetDevice;
  napi: NapiStruct;
  sw: E1000SwStats;
  /** TX command bits of every frame (EOP | IFCS | RS [| IDE]). */
  txd_cmd: number;
  down: boolean;
}

const view = (b: CoherentBuffer): DataView => new DataView(b.cpu_addr.buffer, b.cpu_addr.byteOffset, b.cpu_addr.byteLength);

/** E1000_DESC_UNUSED: descriptors software may still fill (one always stays empty). */
export const e1000_desc_unused = (r: { count: number; next_to_use: number; next_to_clean: number }): number =>
  (r.next_to_clean > r.next_to_use ? 0 : r.count) + r.next_to_clean - r.next_to_use - 1;

export async function e1000_setup_tx_resources(dev: Device, count: number): Promise<E1000TxRing | null> {
  const desc = await dma_alloc_coherent(dev, count * DESC_SIZE, DMA_BIDIRECTIONAL);
  if (!desc) return null;
  desc.cpu_addr.fill(0);
  const buffer_info = Array.from({ length: count }, () => ({ dma: 0, length: 0, skb: null, bytecount: 0 }));
  return { count, desc, dv: view(desc), next_to_use: 0, next_to_clean: 0, buffer_info };
}

export async function e1000_setup_rx_resources(dev: Device, count: number): Promise<E1000RxRing | null> {
  const desc = await dma_alloc_coherent(dev, count * DESC_SIZE, DMA_BIDIRECTIONAL);
  if (!desc) return null;
  const bufs = await dma_alloc_coherent(dev, count * E1000_RXBUFFER_2048, DMA_FROM_DEVICE);
  if (!bufs) { await dma_free_coherent(dev, count * DESC_SIZE, desc.cpu_addr, desc.dma_handle); return null; }
  desc.cpu_addr.fill(0);
  const dv = view(desc);
  for (let i = 0; i < count; i++) {
    dv.setUint32(i * DESC_SIZE, bufs.dma_handle + i * E1000_RXBUFFER_2048, true);
    dv.setUint32(i * DESC_SIZE + 4, 0, true);
  }
  return { count, desc, dv, bufs, next_to_use: 0, next_to_clean: 0, discarding: false };
}

export async function e1000_free_tx_resources(ctx: E1000RingCtx, r: E1000TxRing): Promise<void> {
  e1000_clean_tx_ring(ctx, r);
  await dma_free_coherent(ctx.dev, r.count * DESC_SIZE, r.desc.cpu_addr, r.desc.dma_handle);
}

export async function e1000_free_rx_resources(dev: Device, r: E1000RxRing): Promise<void> {
  await dma_free_coherent(dev, r.count * E1000_RXBUFFER_2048, r.bufs.cpu_addr, r.bufs.dma_handle);
  await dma_free_coherent(dev, r.count * DESC_SIZE, r.desc.cpu_addr, r.desc.dma_handle);
}

/** e1000_configure_tx: ring registers, inter-packet gap, interrupt delays, TCTL. */
export function e1000_configure_tx(hw: IoMem, r: E1000TxRing, tidv: number, tadv: number): void {
  ew32(hw, R.TDBAL, r.desc.dma_handle);
  ew32(hw, R.TDBAH, 0);
  ew32(hw, R.TDLEN, r.count * DESC_SIZE);
  ew32(hw, R.TDH, 0);
  ew32(hw, R.TDT, 0);
  r.next_to_use = r.next_to_clean = 0;
  ew32(hw, R.TIPG, 8 | (8 << 10) | (6 << 20)); // DEFAULT_82543_TIPG_IPGT_COPPER, IPGR1, IPGR2
  ew32(hw, R.TIDV, tidv);
  ew32(hw, R.TADV, tadv);
  ew32(hw, R.TCTL, B.TCTL.PSP | B.TCTL.RTLC | (0x0f << 4) | (0x3f << 12) | B.TCTL.EN);
}

/** e1000_setup_rctl + e1000_configure_rx: receiver off, delays, ring registers, then RCTL.EN. */
export function e1000_configure_rx(hw: IoMem, r: E1000RxRing, itr: number): void {
  ew32(hw, R.RCTL, 0);
  ew32(hw, R.RDTR, 0);
  ew32(hw, R.RADV, 8);
  ew32(hw, R.ITR, itr);
  ew32(hw, R.RDBAL, r.desc.dma_handle);
  ew32(hw, R.RDBAH, 0);
  ew32(hw, R.RDLEN, r.count * DESC_SIZE);
  ew32(hw, R.RDH, 0);
  ew32(hw, R.RDT, 0);
  r.next_to_use = r.next_to_clean = 0;
  r.discarding = false;
  ew32(hw, R.RXCSUM, 0);
  // EN | BAM | LBM_NO | RDMTS_HALF | MO 0 | BSIZE 2048 (the FCS stays in the buffer: Linux strips it in software)
  ew32(hw, R.RCTL, B.RCTL.EN | B.RCTL.BAM);
}

/** e1000_alloc_rx_buffers: hands `cleaned` descriptors back (their buffers are fixed), then RDT. */
export function e1000_alloc_rx_buffers(hw: IoMem, r: E1000RxRing, cleaned: number): void {
  let i = r.next_to_use;
  for (let n = 0; n < cleaned; n++) {
    r.dv.setUint32(i * DESC_SIZE + 8, 0, true);
    r.dv.setUint32(i * DESC_SIZE + 12, 0, true);
    if (++i === r.count) i = 0;
  }
  if (r.next_to_use !== i) {
    r.next_to_use = i;
    // RDT = the last descriptor filled (Linux writes i - 1).
    writel(i === 0 ? r.count - 1 : i - 1, hw, R.RDT);
  }
}

/** e1000_maybe_stop_tx: stops the queue unless `size` descriptors are free. */
function e1000_maybe_stop_tx(netdev: NetDevice, r: E1000TxRing, size: number): number {
  if (e1000_desc_unused(r) >= size) return 0;
  netif_stop_queue(netdev);
  // A clean may have freed descriptors meanwhile (Linux: smp_mb, then check again).
  if (e1000_desc_unused(r) < size) return -16;
  netif_start_queue(netdev);
  return 0;
}

/** e1000_xmit_frame (ndo_start_xmit). */
export function e1000_xmit_frame(ctx: E1000RingCtx, r: E1000TxRing, skb: SkBuff): number {
  const netdev = ctx.netdev;
  const len = skb.len;
  if (len <= 0) { dev_kfree_skb_any(skb); return NETDEV_TX_OK; }
  if (e1000_maybe_stop_tx(netdev, r, DESC_NEEDED)) return NETDEV_TX_BUSY;
  const dma = dma_map_single(ctx.dev, skb.data, len, DMA_TO_DEVICE);
  if (dma_mapping_error(ctx.dev, dma)) {
    dev_kfree_skb_any(skb);
    ctx.sw.tx_dropped++;
    return NETDEV_TX_OK;
  }
  const i = r.next_to_use;
  const off = i * DESC_SIZE;
  r.dv.setUint32(off, dma, true);
  r.dv.setUint32(off + 4, 0, true);
  r.dv.setUint32(off + 8, (len | (ctx.txd_cmd << 24)) >>> 0, true);
  r.dv.setUint32(off + 12, 0, true);
  const bi = r.buffer_info[i]!;
  bi.dma = dma;
  bi.length = len;
  bi.skb = skb;
  bi.bytecount = Math.max(len, 60);
  netdev_sent_queue(netdev, bi.bytecount);
  r.next_to_use = i + 1 === r.count ? 0 : i + 1;
  skb_tx_timestamp(skb);
  // Stop early if the next frame might not fit, so the doorbell below is never skipped.
  e1000_maybe_stop_tx(netdev, r, DESC_NEEDED);
  if (!netdev_xmit_more() || netif_queue_stopped(netdev)) writel(r.next_to_use, ctx.hw, R.TDT);
  return NETDEV_TX_OK;
}

function unmapAndFree(ctx: E1000RingCtx, bi: E1000TxBuffer, budget: number): void {
  if (bi.dma) dma_unmap_single(ctx.dev, bi.dma, bi.length, DMA_TO_DEVICE);
  if (bi.skb) napi_consume_skb(bi.skb, budget);
  bi.dma = 0;
  bi.skb = null;
}

/** e1000_clean_tx_irq: reclaims done descriptors; true when the ring was not the limit. */
export function e1000_clean_tx_irq(ctx: E1000RingCtx, r: E1000TxRing, budget: number): boolean {
  let i = r.next_to_clean;
  let count = 0, pkts = 0, bytes = 0;
  const u8 = r.desc.cpu_addr;
  while (i !== r.next_to_use && count < r.count) {
    const off = i * DESC_SIZE;
    if (!(u8[off + 12]! & TXD_STAT.DD)) break;
    const bi = r.buffer_info[i]!;
    pkts++;
    bytes += bi.bytecount;
    unmapAndFree(ctx, bi, budget);
    r.dv.setUint32(off + 12, 0, true);
    i = i + 1 === r.count ? 0 : i + 1;
    count++;
  }
  r.next_to_clean = i;
  netdev_completed_queue(ctx.netdev, pkts, bytes);
  ctx.sw.tx_packets += pkts;
  ctx.sw.tx_bytes += bytes;
  if (count && netif_carrier_ok(ctx.netdev) && e1000_desc_unused(r) >= TX_WAKE_THRESHOLD) {
    if (netif_queue_stopped(ctx.netdev) && !ctx.down) netif_wake_queue(ctx.netdev);
  }
  return count < r.count;
}

/** e1000_clean_tx_ring (at down): frees what was still queued. */
export function e1000_clean_tx_ring(ctx: E1000RingCtx, r: E1000TxRing): void {
  for (const bi of r.buffer_info) if (bi.skb || bi.dma) { unmapAndFree(ctx, bi, 0); ctx.sw.tx_dropped++; }
  r.desc.cpu_addr.fill(0);
  r.next_to_use = r.next_to_clean = 0;
}

/** e1000_clean_rx_irq: up to `budget` frames to the stack; returns the work done. */
export function e1000_clean_rx_irq(ctx: E1000RingCtx, r: E1000RxRing, budget: number): number {
  const u8 = r.desc.cpu_addr;
  const bufs = r.bufs.cpu_addr;
  let i = r.next_to_clean;
  let work = 0, pkts = 0, bytes = 0;
  while (work < budget) {
    const off = i * DESC_SIZE;
    const status = u8[off + 12]!;
    if (!(status & RXD_STAT.DD)) break;
    work++;
    const errors = u8[off + 13]!;
    let length = u8[off + 8]! | (u8[off + 9]! << 8);
    if (!(status & RXD_STAT.EOP)) r.discarding = true;
    if (r.discarding) {
      // All receives must fit into a single buffer (MTU <= 1500 with 2048-byte buffers).
      if (status & RXD_STAT.EOP) { r.discarding = false; ctx.sw.rx_errors++; }
    } else if (errors & RXD_FRAME_ERR) {
      ctx.sw.rx_errors++;
    } else if (length > 4) {
      length -= 4; // the FCS
      const skb = napi_alloc_skb(ctx.napi, length);
      if (skb) {
        skb_put_data(skb, bufs.subarray(i * E1000_RXBUFFER_2048, i * E1000_RXBUFFER_2048 + length));
        skb.protocol = eth_type_trans(skb, ctx.netdev);
        napi_gro_receive(ctx.napi, skb);
        pkts++;
        bytes += length;
      }
    }
    r.dv.setUint32(off + 8, 0, true);
    r.dv.setUint32(off + 12, 0, true);
    i = i + 1 === r.count ? 0 : i + 1;
  }
  // Linux hands buffers back every E1000_RX_BUFFER_WRITE (16) descriptors; here an RDT write
  // may cost a doorbell to the machine thread, so they go back once per poll (at most 64).
  r.next_to_clean = i;
  const unused = e1000_desc_unused(r);
  if (unused) e1000_alloc_rx_buffers(ctx.hw, r, unused);
  ctx.sw.rx_packets += pkts;
  ctx.sw.rx_bytes += bytes;
  return work;
}

/** TX descriptor command bits for every frame. */
export const e1000_txd_cmd = (tidv: number): number => TXD_CMD.EOP | TXD_CMD.IFCS | TXD_CMD.RS | (tidv ? TXD_CMD.IDE : 0);
