/**
 * @module nic/e1000.tx
 * The e1000 transmit engine (hardware-models.md §2.4, QEMU `start_xmit`): a bottom half, kicked
 * by TDT/TCTL writes, walks descriptors TDH..TDT, DMA-reads each buffer (a frame spans
 * descriptors until EOP), sends the frame to the attached port, writes back DD for descriptors
 * with RS (or RPS), advances TDH and raises TXDW (delayed by TIDV/TADV for descriptors with IDE)
 * and, once the ring is empty, TXQE.
 *
 * With a line rate one frame is on the wire at a time: it leaves, is written back and TDH moves
 * when its last bit has been serialised (frame padded to 60 + FCS + preamble + IFG, §2.6).
 * Unpaced, one bottom half (one scheduler event per TDT/TCTL write, however many) sends every
 * frame up to TDT; the IRQ line is computed once at its end, and TXDW's TIDV/TADV timers end up
 * as if each frame had kicked them in turn. The frame being gathered lives in reused typed
 * arrays; the only allocation per frame is the frame handed to the port.
 *
 * Deviations: a frame whose EOP descriptor is not posted yet waits (its earlier descriptors are
 * not written back until then); extended (DEXT) descriptors carry no offloads: context
 * descriptors are consumed, data descriptors are sent as plain buffers; with IFCS clear the last
 * 4 bytes are taken as the software FCS and not put on the wire; frames are sent (and dropped by
 * the medium) when the link is down, so the ring never stalls.
 *
 * Faults: an unreadable descriptor or a failed write-back halts the ring until the driver
 * reprograms TDBA/TDLEN/TDH, re-enables TCTL.EN or resets; an unreadable buffer drops the frame
 * but still completes its descriptors.
 */
import { copyBytes, u32le } from '../core/bytes.js';
import type { Cancel } from '../core/scheduler.js';
import { DESC_SIZE, E1000_REGS, ETH, ICR, TXD_CMD, TXD_STAT, TX_DESC } from './e1000.regs.js';
import { bufferAddr, DelayTimer, isBroadcast, isMulticast, PTC_REGS, REG, Ring, RingGrant, sizeBucket, type NicCore } from './e1000.ring.js';
import { wireTimeNs } from './wire.js';

/** Largest frame the TX path assembles (jumbo). */
const MAX_TX_FRAME = 16384;
const DTYP_CONTEXT = 0;
const TCTL = E1000_REGS.bits.TCTL;
/** What `gather` found. */
const READY = 0, WAIT = 1, HALT = 2;
/**
 * Frames up to this length get an array of their own (V8 keeps it on the JS heap); longer ones
 * are views into `CHUNK`-byte chunks, since a backing store per frame (~0.5 us, and GC pressure
 * from external memory) would cost more than the rest of the frame's path.
 */
const OWN_ARRAY_MAX = 64, CHUNK = 64 * 1024;

export class E1000Tx {
  private readonly st = { scheduled: false, onWire: false, halted: false, warnedRing: '', warnedDext: false, warnedIfcs: false };
  private cancelBh: Cancel | undefined;
  private cancelWire: Cancel | undefined;
  private readonly delay: DelayTimer;
  private readonly ring = new Ring('tx');
  private readonly grant: RingGrant;
  // The frame being sent (reused; one frame at a time): its descriptors (index, upper dword,
  // command byte), its buffers (bus address, length), the index after its EOP, its bytes.
  private descIdx = new Int32Array(16);
  private descUpper = new Uint32Array(16);
  private descCmd = new Uint8Array(16);
  private nDesc = 0;
  private pieceAddr = new Float64Array(16);
  private pieceLen = new Int32Array(16);
  private nPiece = 0;
  private next = 0;
  private frame: Uint8Array | null = null;
  /** The chunk frames longer than OWN_ARRAY_MAX are carved from, and the first free byte in it. */
  private chunk = new Uint8Array(0);
  private chunkOff = 0;
  // Write-backs of this bottom half, for TXDW: one not delayed (IDE clear) was seen; the last one was delayed.
  private reportNow = false;
  private lastDelayed = false;
  private readonly bh = (): void => {
    this.st.scheduled = false;
    this.run();
  };
  private readonly wireDone = (): void => {
    this.st.onWire = false;
    this.cancelWire = undefined;
    this.nic.hold();
    try {
      if (this.complete(this.grant.wholeRing(this.ring))) this.loop();
    } finally {
      this.flushReports();
      this.nic.release();
    }
  };

  constructor(private readonly nic: NicCore) {
    this.delay = new DelayTimer(nic.sched, () => nic.raise(ICR.TXDW));
    this.grant = new RingGrant(nic.dma);
  }

  reset(): void {
    this.cancelBh?.();
    this.cancelWire?.();
    this.delay.cancel();
    this.cancelBh = this.cancelWire = undefined;
    this.frame = null;
    this.reportNow = this.lastDelayed = false;
    Object.assign(this.st, { scheduled: false, onWire: false, halted: false, warnedRing: '', warnedDext: false, warnedIfcs: false });
  }

  /** TDT or TCTL written: schedule the bottom half. Never transmits inside the register write. */
  kick(): void {
    if (this.st.scheduled || this.st.onWire) return;
    this.st.scheduled = true;
    this.cancelBh = this.nic.sched.defer(this.bh);
  }

  /** The ring registers were rewritten: a halted ring may run again. */
  reconfigure(): void {
    this.st.halted = false;
    this.st.warnedRing = '';
  }

  /** The bottom half: every frame up to TDT (or one frame, when paced); the IRQ line is updated once, at the end. */
  private run(): void {
    this.nic.hold();
    try {
      this.loop();
    } finally {
      this.flushReports();
      this.nic.release();
    }
  }

  private loop(): void {
    const nic = this.nic, r = nic.regs, ring = this.ring;
    while (!this.st.halted && (r.valueAt(REG.TCTL) & TCTL.EN) !== 0) {
      const why = ring.load(r);
      if (why !== undefined) {
        if (this.st.warnedRing !== why) nic.fault(`TX ring unusable: ${why}`);
        this.st.warnedRing = why;
        return;
      }
      if (ring.head === ring.tail) {
        nic.raise(ICR.TXQE);
        return;
      }
      const fast = this.grant.wholeRing(ring);
      const g = this.gather(fast);
      if (g === WAIT) return;
      if (g === HALT) {
        this.st.halted = true;
        return;
      }
      if (nic.rate > 0 && this.frame !== null) {
        this.st.onWire = true;
        this.cancelWire = nic.sched.after(wireTimeNs(this.frame.length, nic.rate), this.wireDone);
        return;
      }
      if (!this.complete(fast)) return;
    }
  }

  /**
   * Reads the descriptors of the next frame (from TDH) and assembles it; WAIT when its EOP is not
   * posted, HALT on a fault. While the whole ring is granted both ways (`fast`), descriptors are
   * read without a check each; buffers are always checked.
   */
  private gather(fast: boolean): number {
    const nic = this.nic, ring = this.ring, dma = nic.dma, mem = dma.mem.bytes;
    this.nDesc = this.nPiece = 0;
    let idx = ring.head, total = 0, bad = false, ifcs = true;
    for (;;) {
      if (idx === ring.tail) return WAIT;
      const da = ring.base + idx * DESC_SIZE;
      if (!fast && dma.access(da, DESC_SIZE, 'to-device') !== 'ok') {
        nic.fault(`TX descriptor ${idx} at 0x${da.toString(16)} is not readable (${dma.lastFault?.kind}): TX ring halted`);
        return HALT;
      }
      const cmd = mem[da + TX_DESC.CMD]!;
      let len = mem[da + TX_DESC.LENGTH]! | (mem[da + TX_DESC.LENGTH + 1]! << 8);
      if (cmd & TXD_CMD.DEXT) {
        if (!this.st.warnedDext) nic.fault('extended TX descriptors (DEXT): offloads are not modelled; data sent as is');
        this.st.warnedDext = true;
        const lower = (len | (mem[da + TX_DESC.CSO]! << 16) | (cmd << 24)) >>> 0;
        len = ((lower >>> 20) & 0xf) === DTYP_CONTEXT ? 0 : lower & 0xfffff;
      }
      this.addDesc(idx, u32le(mem, da + TX_DESC.STATUS), cmd);
      if (len > 0 && !bad) {
        const addr = bufferAddr(mem, da + TX_DESC.ADDR);
        if (dma.access(addr, len, 'to-device') !== 'ok') {
          nic.fault(`TX descriptor ${idx}: buffer 0x${addr.toString(16)}+${len} is not readable (${dma.lastFault?.kind}): frame dropped`);
          bad = true;
        } else {
          this.addPiece(addr, len);
          total += len;
        }
      }
      idx = idx + 1 === ring.count ? 0 : idx + 1;
      if (cmd & TXD_CMD.EOP) {
        ifcs = (cmd & TXD_CMD.IFCS) !== 0 || (cmd & TXD_CMD.DEXT) !== 0;
        break;
      }
    }
    if (!bad && total > MAX_TX_FRAME) {
      nic.fault(`TX frame of ${total} bytes is longer than ${MAX_TX_FRAME}: dropped`);
      bad = true;
    }
    this.next = idx;
    this.frame = bad ? null : this.assemble(total, ifcs);
    return READY;
  }

  private addDesc(idx: number, upper: number, cmd: number): void {
    const n = this.nDesc;
    if (n === this.descIdx.length) {
      this.descIdx = grow(this.descIdx, new Int32Array(2 * n));
      this.descUpper = grow(this.descUpper, new Uint32Array(2 * n));
      this.descCmd = grow(this.descCmd, new Uint8Array(2 * n));
    }
    this.descIdx[n] = idx;
    this.descUpper[n] = upper;
    this.descCmd[n] = cmd;
    this.nDesc = n + 1;
  }

  private addPiece(addr: number, len: number): void {
    const n = this.nPiece;
    if (n === this.pieceAddr.length) {
      this.pieceAddr = grow(this.pieceAddr, new Float64Array(2 * n));
      this.pieceLen = grow(this.pieceLen, new Int32Array(2 * n));
    }
    this.pieceAddr[n] = addr;
    this.pieceLen[n] = len;
    this.nPiece = n + 1;
  }

  /**
   * Copies the buffers into the frame that goes on the wire (the port takes it; never reused
   * here): the software FCS removed without IFCS, padded to 60 bytes with PSP. Null when empty.
   */
  private assemble(total: number, ifcs: boolean): Uint8Array | null {
    if (!ifcs) {
      if (!this.st.warnedIfcs) this.nic.fault('TX frame without IFCS: its last 4 bytes are taken as the FCS');
      this.st.warnedIfcs = true;
    }
    const len = ifcs ? total : Math.max(0, total - ETH.FCS);
    if (len === 0) return null;
    const psp = (this.nic.regs.valueAt(REG.TCTL) & TCTL.PSP) !== 0;
    const size = psp ? Math.max(len, ETH.MIN_FRAME) : len;
    const mem = this.nic.dma.mem.bytes;
    // A short frame in one buffer, nothing to pad: a plain copy out of memory.
    if (size <= OWN_ARRAY_MAX && this.nPiece === 1 && size === len) return mem.slice(this.pieceAddr[0]!, this.pieceAddr[0]! + len);
    const frame = size <= OWN_ARRAY_MAX ? new Uint8Array(size) : this.carve(size);
    let o = 0;
    for (let k = 0; k < this.nPiece && o < len; k++) {
      const n = Math.min(this.pieceLen[k]!, len - o);
      copyBytes(frame, o, mem, this.pieceAddr[k]!, n);
      o += n;
    }
    if (o < size) frame.fill(0, o); // PSP padding (a chunk's bytes are not necessarily zero)
    return frame;
  }

  /**
   * `size` bytes of the current chunk (a new chunk when it is full). A frame kept by a receiver
   * keeps its chunk alive: receivers that hold on to a few frames for long should copy them.
   */
  private carve(size: number): Uint8Array {
    if (this.chunkOff + size > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(CHUNK, size));
      this.chunkOff = 0;
    }
    const o = this.chunkOff;
    this.chunkOff = (o + size + 7) & ~7;
    return this.chunk.subarray(o, o + size);
  }

  /** Sends the frame, writes back DD, moves TDH. False if the write-back faulted (ring halted). */
  private complete(fast: boolean): boolean {
    const nic = this.nic, ring = this.ring, dma = nic.dma, mem = dma.mem.bytes;
    const frame = this.frame;
    this.frame = null;
    if (frame !== null) this.send(frame);
    else nic.counters.txDropped++;
    let report = false, delayed = false;
    for (let k = 0; k < this.nDesc; k++) {
      const cmd = this.descCmd[k]!;
      if (!(cmd & (TXD_CMD.RS | TXD_CMD.RPS))) continue;
      const da = ring.base + this.descIdx[k]! * DESC_SIZE + TX_DESC.STATUS;
      if (!fast && dma.access(da, 4, 'from-device') !== 'ok') {
        nic.fault(`TX descriptor ${this.descIdx[k]}: status write-back to 0x${da.toString(16)} failed (${dma.lastFault?.kind}): TX ring halted`);
        this.st.halted = true;
        return false;
      }
      // Only the upper dword is written back: STATUS gets DD, CSS and SPECIAL keep their values.
      const v = this.descUpper[k]! | TXD_STAT.DD;
      mem[da] = v & 0xff;
      mem[da + 1] = (v >>> 8) & 0xff;
      mem[da + 2] = (v >>> 16) & 0xff;
      mem[da + 3] = v >>> 24;
      dma.stats.bytesWritten += 4;
      report = true;
      if (cmd & TXD_CMD.IDE) delayed = true;
    }
    nic.regs.setValueAt(REG.TDH, this.next);
    if (report) {
      if (delayed) this.lastDelayed = true;
      else {
        this.reportNow = true;
        this.lastDelayed = false;
      }
    }
    return true;
  }

  /**
   * TXDW for the write-backs of this bottom half, as if each frame had kicked the TIDV/TADV pair
   * in turn (all at one instant): a frame without IDE fires at once and cancels pending delays; a
   * later frame with IDE restarts them.
   */
  private flushReports(): void {
    if (this.reportNow) this.delay.kick(0, 0);
    if (this.lastDelayed) {
      const r = this.nic.regs;
      this.delay.kick(r.valueAt(REG.TIDV), r.valueAt(REG.TADV));
    }
    this.reportNow = this.lastDelayed = false;
  }

  private send(frame: Uint8Array): void {
    const nic = this.nic, port = nic.port();
    const len = frame.length + ETH.FCS;
    if (!nic.linkUp() || port === undefined || !port.send(frame)) {
      nic.counters.txDropped++;
      return;
    }
    nic.counters.txFrames++;
    nic.counters.txBytes += frame.length;
    nic.count(REG.GPTC);
    nic.count(REG.TPT);
    nic.count64(REG.GOTCL, len);
    nic.count64(REG.TOTL, len);
    const b = sizeBucket(len);
    if (b >= 0) nic.count(PTC_REGS[b]!);
    if (isBroadcast(frame)) nic.count(REG.BPTC);
    else if (isMulticast(frame)) nic.count(REG.MPTC);
  }
}

function grow<T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
