/**
 * @module nic/e1000.rx
 * The e1000 receive path (hardware-models.md §2.4, QEMU `e1000_receive_iov`): a frame from the
 * port is padded to 60 bytes, checked against the size limit (1522 with FCS, 16384 with
 * RCTL.LPE), filtered (broadcast with BAM, multicast with MPE, unicast with UPE, an RA entry
 * with AV, the MTA hash), then DMA-written with its FCS (unless RCTL.SECRC) across as many
 * descriptors RDH..RDT as its length needs (buffer size from RCTL.BSIZE/BSEX); each descriptor
 * gets length, status DD (EOP on the last) and errors; RDH advances; RXT0 follows, delayed by
 * RDTR/RADV, plus RXDMT0 when the free descriptors fall to the RDMTS threshold.
 *
 * No descriptors (RDH == RDT, or fewer than the frame needs): RNBC counts it; the frame waits in
 * the on-chip FIFO when `rxFifoBytes` has room, else it is dropped, MPC counts it and RXO is
 * raised. RDT writes drain the FIFO.
 *
 * Deviations: the MTA hash is applied to multicast destinations only (QEMU applies it to any
 * frame); SBP, VLAN filtering, checksum offload and loopback are not modelled; oversized frames
 * are always dropped (ROC). Faults: an unreadable descriptor or a failed write-back halts the
 * ring until the driver reprograms it; a buffer the device may not write costs its descriptor,
 * written back with errors = RXE and length 0, and the frame is dropped.
 */
import { crc32 } from 'node:zlib';
import type { Cancel } from '../core/scheduler.js';
import { DESC_SIZE, ETH, ICR, mtaHash, NUM_RA, rxBufferSize, RXD_ERR, RXD_STAT, RX_DESC } from './e1000.regs.js';
import { bufferAddr, DelayTimer, isBroadcast, isMulticast, MTA_NAMES, PRC_REGS, RAH_NAMES, RAL_NAMES, readRing, sizeBucket, type NicCore } from './e1000.ring.js';

type Kind = 'unicast' | 'multicast' | 'broadcast';
type Outcome = 'ok' | 'no-buffers' | 'dropped';

export class E1000Rx {
  private readonly st = { halted: false, warnedRing: '', fifoBytes: 0, draining: false };
  private fifo: { frame: Uint8Array; kind: Kind }[] = [];
  private cancelDrain: Cancel | undefined;
  /** Scratch for descriptor write-backs (bytes 8-15). */
  private readonly wb = new Uint8Array(8);
  private readonly delay: DelayTimer;

  constructor(private readonly nic: NicCore) {
    this.delay = new DelayTimer(nic.sched, () => nic.raise(ICR.RXT0));
  }

  reset(): void {
    this.cancelDrain?.();
    this.cancelDrain = undefined;
    this.delay.cancel();
    this.fifo = [];
    Object.assign(this.st, { halted: false, warnedRing: '', fifoBytes: 0, draining: false });
  }

  /** The ring registers were rewritten: a halted ring may run again. */
  reconfigure(): void {
    this.st.halted = false;
    this.st.warnedRing = '';
  }

  /** RDT written (or RX enabled): frames waiting in the FIFO get the new buffers, in a bottom half. */
  tailWritten(): void {
    if (this.fifo.length === 0 || this.st.draining) return;
    this.st.draining = true;
    this.cancelDrain = this.nic.sched.defer(() => {
      this.st.draining = false;
      this.drain();
    });
  }

  /** A frame arrives from the port (a scheduled event, never inside an MMIO access). */
  receive(frame: Uint8Array): void {
    const nic = this.nic, rctl = nic.regs.value('RCTL'), B = nic.regs.map.bits.RCTL;
    if (!(rctl & B.EN) || !nic.linkUp() || frame.length < 14) {
      nic.counters.rxFiltered++;
      return;
    }
    const f = frame.length < ETH.MIN_FRAME ? padded(frame) : frame;
    const max = rctl & B.LPE ? ETH.MAX_LONG_FRAME_FCS : ETH.MAX_FRAME_FCS;
    if (f.length + ETH.FCS > max) {
      nic.count('ROC');
      nic.counters.rxFiltered++;
      return;
    }
    const kind = this.accept(f, rctl);
    if (kind === null) {
      nic.counters.rxFiltered++;
      return;
    }
    nic.count('TPR');
    nic.count64('TORL', 'TORH', f.length + ETH.FCS);
    if (this.fifo.length > 0) return this.hold(f, kind);
    if (this.deliver(f, kind) === 'no-buffers') this.hold(f, kind);
  }

  /** Address filter (QEMU `e1000x_rx_group_filter` order); null = not for us. */
  private accept(f: Uint8Array, rctl: number): Kind | null {
    const r = this.nic.regs, B = r.map.bits.RCTL;
    const kind: Kind = isBroadcast(f) ? 'broadcast' : isMulticast(f) ? 'multicast' : 'unicast';
    if (kind === 'broadcast' && rctl & B.BAM) return kind;
    if (kind === 'unicast' ? rctl & B.UPE : rctl & B.MPE) return kind;
    const lo = (f[0]! | (f[1]! << 8) | (f[2]! << 16) | (f[3]! << 24)) >>> 0;
    const hi = f[4]! | (f[5]! << 8);
    for (let i = 0; i < NUM_RA; i++) {
      const rah = r.value(RAH_NAMES[i]!);
      if (rah & r.map.bits.RAH0.AV && (rah & 0xffff) === hi && r.value(RAL_NAMES[i]!) === lo) return kind;
    }
    if (kind === 'unicast') return null;
    const h = mtaHash(f, (rctl >>> 12) & 3);
    return (r.value(MTA_NAMES[h.reg]!) >>> h.bit) & 1 ? kind : null;
  }

  /** No descriptors for the frame now: keep it in the FIFO if it fits, else drop it (RXO). */
  private hold(f: Uint8Array, kind: Kind): void {
    const nic = this.nic;
    nic.count('RNBC');
    if (this.st.fifoBytes + f.length <= nic.rxFifoBytes) {
      this.fifo.push({ frame: f, kind });
      this.st.fifoBytes += f.length;
      return;
    }
    nic.count('MPC');
    nic.counters.rxMissed++;
    nic.raise(ICR.RXO);
  }

  private drain(): void {
    while (this.fifo.length > 0) {
      const head = this.fifo[0]!;
      if (this.deliver(head.frame, head.kind) === 'no-buffers') return;
      this.fifo.shift();
      this.st.fifoBytes -= head.frame.length;
    }
  }

  /** DMA-writes the frame into descriptors RDH.. and writes them back. */
  private deliver(f: Uint8Array, kind: Kind): Outcome {
    const nic = this.nic, r = nic.regs;
    if (this.st.halted) return 'no-buffers';
    const ring = readRing(r, 'rx');
    if (typeof ring === 'string') {
      if (this.st.warnedRing !== ring) nic.fault(`RX ring unusable: ${ring}`);
      this.st.warnedRing = ring;
      return 'no-buffers';
    }
    const rctl = r.value('RCTL');
    const bufSize = rxBufferSize(rctl);
    const fcs = rctl & r.map.bits.RCTL.SECRC ? 0 : ETH.FCS;
    const total = f.length + fcs;
    const need = Math.ceil(total / bufSize);
    if ((ring.tail - ring.head + ring.count) % ring.count < need) return 'no-buffers';
    const data = fcs === 0 ? f : withFcs(f);
    const wb = this.wb.fill(0);
    let idx = ring.head, off = 0, good = true;
    for (let k = 0; k < need; k++) {
      const da = ring.base + idx * DESC_SIZE;
      const d = nic.dma.view(da, 8, 'to-device');
      if (d === null) return this.halt(`RX descriptor ${idx} at 0x${da.toString(16)} is not readable (${nic.dma.lastFault?.kind})`);
      const addr = bufferAddr(d, RX_DESC.ADDR);
      const piece = Math.min(bufSize, total - off);
      let len = piece, errors = 0;
      if (nic.dma.write(addr, data.subarray(off, off + piece)) !== 'ok') {
        nic.fault(`RX descriptor ${idx}: buffer 0x${addr.toString(16)}+${piece} is not writable (${nic.dma.lastFault?.kind}): frame dropped`);
        errors = RXD_ERR.RXE;
        len = 0;
        good = false;
      }
      off += piece;
      wb[0] = len & 0xff;
      wb[1] = len >>> 8;
      wb[4] = RXD_STAT.DD | (off === total ? RXD_STAT.EOP : 0);
      wb[5] = errors;
      if (nic.dma.write(da + RX_DESC.LENGTH, wb) !== 'ok') return this.halt(`RX descriptor ${idx}: write-back to 0x${(da + 8).toString(16)} failed (${nic.dma.lastFault?.kind})`);
      idx = (idx + 1) % ring.count;
      r.setValue('RDH', idx);
    }
    if (good) this.count(f, kind);
    else nic.counters.rxMissed++;
    this.interrupt(ring.count, idx, ring.tail, rctl);
    return good ? 'ok' : 'dropped';
  }

  private halt(msg: string): Outcome {
    this.nic.fault(`${msg}: RX ring halted`);
    this.st.halted = true;
    this.nic.counters.rxMissed++;
    this.nic.count('MPC');
    return 'dropped';
  }

  /** RXT0 (after the RDTR/RADV delay) and RXDMT0 at the free-descriptor threshold. */
  private interrupt(count: number, head: number, tail: number, rctl: number): void {
    const r = this.nic.regs;
    const free = (tail - head + count) % count;
    if (free <= count >>> (((rctl >>> 8) & 3) + 1)) this.nic.raise(ICR.RXDMT0);
    this.delay.kick(r.value('RDTR'), r.value('RDTR') === 0 ? 0 : r.value('RADV'));
  }

  private count(f: Uint8Array, kind: Kind): void {
    const nic = this.nic, len = f.length + ETH.FCS;
    nic.counters.rxFrames++;
    nic.counters.rxBytes += f.length;
    nic.count('GPRC');
    nic.count64('GORCL', 'GORCH', len); // octets include the FCS even when it is stripped
    if (kind === 'broadcast') nic.count('BPRC');
    else if (kind === 'multicast') nic.count('MPRC');
    const b = sizeBucket(len);
    if (b >= 0) nic.count(PRC_REGS[b]!);
  }
}

function padded(frame: Uint8Array): Uint8Array {
  const p = new Uint8Array(ETH.MIN_FRAME);
  p.set(frame);
  return p;
}

/** The frame followed by its Ethernet FCS (CRC-32, least significant byte first). */
function withFcs(f: Uint8Array): Uint8Array {
  const out = new Uint8Array(f.length + ETH.FCS);
  out.set(f);
  const c = crc32(f);
  out[f.length] = c & 0xff;
  out[f.length + 1] = (c >>> 8) & 0xff;
  out[f.length + 2] = (c >>> 16) & 0xff;
  out[f.length + 3] = c >>> 24;
  return out;
}
