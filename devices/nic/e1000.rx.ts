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
 * Frames the medium delivers at one instant come as one run (`receive` ... `endBatch`): the IRQ
 * line is computed once at its end and RXT0's RDTR/RADV delay (re)started once there, which is
 * what restarting it per frame at the same instant amounts to. The FCS is computed straight into
 * a 4-byte scratch (crc32.ts) and copied after the frame; nothing is allocated per frame.
 *
 * Deviations: the MTA hash is applied to multicast destinations only (QEMU applies it to any
 * frame); SBP, VLAN filtering, checksum offload and loopback are not modelled; oversized frames
 * are always dropped (ROC). Faults: an unreadable descriptor or a failed write-back halts the
 * ring until the driver reprograms it; a buffer the device may not write costs its descriptor,
 * written back with errors = RXE and length 0, and the frame is dropped.
 */
import { copyBytes } from '../core/bytes.js';
import type { Cancel } from '../core/scheduler.js';
import { crc32 } from './crc32.js';
import { DESC_SIZE, E1000_REGS, ETH, ICR, mtaHash, NUM_RA, rxBufferSize, RXD_ERR, RXD_STAT, RX_DESC } from './e1000.regs.js';
import { bufferAddr, DelayTimer, isBroadcast, isMulticast, MTA_REGS, PRC_REGS, RAH_REGS, RAL_REGS, REG, Ring, RingGrant, sizeBucket, type NicCore } from './e1000.ring.js';

/** Address class of a frame. */
const UNICAST = 0, MULTICAST = 1, BROADCAST = 2;
type Kind = typeof UNICAST | typeof MULTICAST | typeof BROADCAST;
/** What `deliver` did with a frame. */
const OK = 0, NO_BUFFERS = 1, DROPPED = 2;
type Outcome = typeof OK | typeof NO_BUFFERS | typeof DROPPED;

const RCTL = E1000_REGS.bits.RCTL, AV = E1000_REGS.bits.RAH0.AV;

export class E1000Rx {
  private readonly st = { halted: false, warnedRing: '', fifoBytes: 0, draining: false };
  private fifo: { frame: Uint8Array; kind: Kind }[] = [];
  private cancelDrain: Cancel | undefined;
  private readonly delay: DelayTimer;
  private readonly ring = new Ring('rx');
  private readonly grant: RingGrant;
  /** The FCS of the frame being written, least significant byte first. */
  private readonly fcs = new Uint8Array(ETH.FCS);
  /** Frames are arriving in one delivery run (the IRQ line is held until `endBatch`). */
  private inBatch = false;
  /** A descriptor was written back since RXT0's delay was last (re)started. */
  private written = false;
  private readonly drainBh = (): void => {
    this.st.draining = false;
    this.drain();
  };

  constructor(private readonly nic: NicCore) {
    this.delay = new DelayTimer(nic.sched, () => nic.raise(ICR.RXT0));
    this.grant = new RingGrant(nic.dma);
  }

  reset(): void {
    this.cancelDrain?.();
    this.cancelDrain = undefined;
    this.delay.cancel();
    this.fifo = [];
    this.written = false;
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
    this.cancelDrain = this.nic.sched.defer(this.drainBh);
  }

  /**
   * A frame arrives from the port (a scheduled event, never inside an MMIO access). Frames
   * delivered in one run end with `endBatch()`: the IRQ line and RXT0's delay timer are updated
   * once there, at the same instant.
   */
  receive(frame: Uint8Array): void {
    if (!this.inBatch) {
      this.inBatch = true;
      this.nic.hold();
    }
    const nic = this.nic, rctl = nic.regs.valueAt(REG.RCTL);
    if (!(rctl & RCTL.EN) || !nic.linkUp() || frame.length < 14) {
      nic.counters.rxFiltered++;
      return;
    }
    const f = frame.length < ETH.MIN_FRAME ? padded(frame) : frame;
    const max = rctl & RCTL.LPE ? ETH.MAX_LONG_FRAME_FCS : ETH.MAX_FRAME_FCS;
    if (f.length + ETH.FCS > max) {
      nic.count(REG.ROC);
      nic.counters.rxFiltered++;
      return;
    }
    const kind = this.accept(f, rctl);
    if (kind < 0) {
      nic.counters.rxFiltered++;
      return;
    }
    nic.count(REG.TPR);
    nic.count64(REG.TORL, f.length + ETH.FCS);
    if (this.fifo.length > 0) return this.overflow(f, kind as Kind);
    if (this.deliver(f, kind as Kind) === NO_BUFFERS) this.overflow(f, kind as Kind);
  }

  /** The end of a delivery run: RXT0's delay starts, the IRQ line is updated. */
  endBatch(): void {
    if (!this.inBatch) return;
    this.inBatch = false;
    this.kickDelay();
    this.nic.release();
  }

  /** Address filter (QEMU `e1000x_rx_group_filter` order); -1 = not for us. */
  private accept(f: Uint8Array, rctl: number): Kind | -1 {
    const r = this.nic.regs;
    const kind: Kind = isBroadcast(f) ? BROADCAST : isMulticast(f) ? MULTICAST : UNICAST;
    if (kind === BROADCAST && rctl & RCTL.BAM) return kind;
    if (kind === UNICAST ? rctl & RCTL.UPE : rctl & RCTL.MPE) return kind;
    const lo = (f[0]! | (f[1]! << 8) | (f[2]! << 16) | (f[3]! << 24)) >>> 0;
    const hi = f[4]! | (f[5]! << 8);
    for (let i = 0; i < NUM_RA; i++) {
      const rah = r.valueAt(RAH_REGS[i]!);
      if (rah & AV && (rah & 0xffff) === hi && r.valueAt(RAL_REGS[i]!) === lo) return kind;
    }
    if (kind === UNICAST) return -1;
    const h = mtaHash(f, (rctl >>> 12) & 3);
    return (r.valueAt(MTA_REGS[h.reg]!) >>> h.bit) & 1 ? kind : -1;
  }

  /** No descriptors for the frame now: keep it in the FIFO if it fits, else drop it (RXO). */
  private overflow(f: Uint8Array, kind: Kind): void {
    const nic = this.nic;
    nic.count(REG.RNBC);
    if (this.st.fifoBytes + f.length <= nic.rxFifoBytes) {
      this.fifo.push({ frame: f, kind });
      this.st.fifoBytes += f.length;
      return;
    }
    nic.count(REG.MPC);
    nic.counters.rxMissed++;
    nic.raise(ICR.RXO);
  }

  private drain(): void {
    this.nic.hold();
    try {
      while (this.fifo.length > 0) {
        const head = this.fifo[0]!;
        if (this.deliver(head.frame, head.kind) === NO_BUFFERS) return;
        this.fifo.shift();
        this.st.fifoBytes -= head.frame.length;
      }
    } finally {
      this.kickDelay();
      this.nic.release();
    }
  }

  /** (Re)starts RXT0's delay if descriptors were written back (RDTR/RADV; at once when RDTR is 0). */
  private kickDelay(): void {
    if (!this.written) return;
    this.written = false;
    const r = this.nic.regs, rdtr = r.valueAt(REG.RDTR);
    this.delay.kick(rdtr, rdtr === 0 ? 0 : r.valueAt(REG.RADV));
  }

  /**
   * DMA-writes the frame (and its FCS unless SECRC) into the buffers of descriptors RDH.. and
   * writes them back. While the whole ring is granted both ways (`RingGrant`), descriptors are
   * read and written without a check each; buffers are always checked.
   */
  private deliver(f: Uint8Array, kind: Kind): Outcome {
    const nic = this.nic, r = nic.regs, ring = this.ring, dma = nic.dma;
    if (this.st.halted) return NO_BUFFERS;
    const why = ring.load(r);
    if (why !== undefined) {
      if (this.st.warnedRing !== why) nic.fault(`RX ring unusable: ${why}`);
      this.st.warnedRing = why;
      return NO_BUFFERS;
    }
    const rctl = r.valueAt(REG.RCTL);
    const bufSize = rxBufferSize(rctl);
    const fcs = rctl & RCTL.SECRC ? 0 : ETH.FCS;
    const flen = f.length, total = flen + fcs;
    const need = total <= bufSize ? 1 : Math.ceil(total / bufSize);
    if ((ring.tail - ring.head + ring.count) % ring.count < need) return NO_BUFFERS;
    if (fcs !== 0) {
      const c = crc32(f, 0, flen);
      this.fcs[0] = c & 0xff;
      this.fcs[1] = (c >>> 8) & 0xff;
      this.fcs[2] = (c >>> 16) & 0xff;
      this.fcs[3] = c >>> 24;
    }
    const fast = this.grant.wholeRing(ring), mem = dma.mem.bytes;
    let idx = ring.head, off = 0, good = true;
    for (let k = 0; k < need; k++) {
      const da = ring.base + idx * DESC_SIZE;
      if (!fast && dma.access(da, 8, 'to-device') !== 'ok') return this.halt(`RX descriptor ${idx} at 0x${da.toString(16)} is not readable (${dma.lastFault?.kind})`);
      const addr = bufferAddr(mem, da + RX_DESC.ADDR);
      const piece = Math.min(bufSize, total - off);
      let len = piece, errors = 0;
      if (dma.access(addr, piece, 'from-device') === 'ok') {
        // Frame bytes, then whatever part of the FCS falls into this buffer.
        const n = Math.max(0, Math.min(piece, flen - off));
        copyBytes(mem, addr, f, off, n);
        for (let j = n; j < piece; j++) mem[addr + j] = this.fcs[off + j - flen]!;
        dma.stats.bytesWritten += piece;
      } else {
        nic.fault(`RX descriptor ${idx}: buffer 0x${addr.toString(16)}+${piece} is not writable (${dma.lastFault?.kind}): frame dropped`);
        errors = RXD_ERR.RXE;
        len = 0;
        good = false;
      }
      off += piece;
      const wb = da + RX_DESC.LENGTH;
      if (!fast && dma.access(wb, 8, 'from-device') !== 'ok') return this.halt(`RX descriptor ${idx}: write-back to 0x${wb.toString(16)} failed (${dma.lastFault?.kind})`);
      mem[wb] = len & 0xff;
      mem[wb + 1] = len >>> 8;
      mem[wb + 2] = 0; // packet checksum
      mem[wb + 3] = 0;
      mem[wb + 4] = RXD_STAT.DD | (off === total ? RXD_STAT.EOP : 0);
      mem[wb + 5] = errors;
      mem[wb + 6] = 0; // special
      mem[wb + 7] = 0;
      dma.stats.bytesWritten += 8;
      idx = idx + 1 === ring.count ? 0 : idx + 1;
      r.setValueAt(REG.RDH, idx);
    }
    if (good) this.count(f, kind);
    else nic.counters.rxMissed++;
    this.written = true;
    // RXDMT0 when the free descriptors fall to the RDMTS threshold.
    const free = (ring.tail - idx + ring.count) % ring.count;
    if (free <= ring.count >>> (((rctl >>> 8) & 3) + 1)) nic.raise(ICR.RXDMT0);
    return good ? OK : DROPPED;
  }

  private halt(msg: string): Outcome {
    this.nic.fault(`${msg}: RX ring halted`);
    this.st.halted = true;
    this.nic.counters.rxMissed++;
    this.nic.count(REG.MPC);
    return DROPPED;
  }

  private count(f: Uint8Array, kind: Kind): void {
    const nic = this.nic, len = f.length + ETH.FCS;
    nic.counters.rxFrames++;
    nic.counters.rxBytes += f.length;
    nic.count(REG.GPRC);
    nic.count64(REG.GORCL, len); // octets include the FCS even when it is stripped
    if (kind === BROADCAST) nic.count(REG.BPRC);
    else if (kind === MULTICAST) nic.count(REG.MPRC);
    const b = sizeBucket(len);
    if (b >= 0) nic.count(PRC_REGS[b]!);
  }
}

function padded(frame: Uint8Array): Uint8Array {
  const p = new Uint8Array(ETH.MIN_FRAME);
  p.set(frame);
  return p;
}
