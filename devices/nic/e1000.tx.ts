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
import type { Cancel } from '../core/scheduler.js';
import { DESC_SIZE, ETH, ICR, TXD_CMD, TXD_STAT, TX_DESC } from './e1000.regs.js';
import { bufferAddr, DelayTimer, isBroadcast, isMulticast, PTC_REGS, readRing, sizeBucket, type NicCore, type Ring } from './e1000.ring.js';
import { wireTimeNs } from './wire.js';

/** Largest frame the TX path assembles (jumbo). */
const MAX_TX_FRAME = 16384;
const DTYP_CONTEXT = 0;

/** A frame gathered from the ring: its data (null when dropped) and the descriptors it used. */
interface Gathered {
  readonly data: Uint8Array | null;
  /** Descriptor indices with their upper dword (status/css/special) and command byte. */
  readonly descs: { idx: number; upper: number; cmd: number }[];
  readonly next: number;
}

export class E1000Tx {
  private readonly st = { scheduled: false, onWire: false, halted: false, warnedRing: '', warnedDext: false, warnedIfcs: false };
  private cancelBh: Cancel | undefined;
  private cancelWire: Cancel | undefined;
  private readonly delay: DelayTimer;

  constructor(private readonly nic: NicCore) {
    this.delay = new DelayTimer(nic.sched, () => nic.raise(ICR.TXDW));
  }

  reset(): void {
    this.cancelBh?.();
    this.cancelWire?.();
    this.delay.cancel();
    this.cancelBh = this.cancelWire = undefined;
    Object.assign(this.st, { scheduled: false, onWire: false, halted: false, warnedRing: '', warnedDext: false, warnedIfcs: false });
  }

  /** TDT or TCTL written: schedule the bottom half. Never transmits inside the register write. */
  kick(): void {
    if (this.st.scheduled || this.st.onWire) return;
    this.st.scheduled = true;
    this.cancelBh = this.nic.sched.defer(() => {
      this.st.scheduled = false;
      this.run();
    });
  }

  /** The ring registers were rewritten: a halted ring may run again. */
  reconfigure(): void {
    this.st.halted = false;
    this.st.warnedRing = '';
  }

  /** The bottom half: frames until the ring is empty (or one frame, when paced). */
  private run(): void {
    const r = this.nic.regs;
    while (!this.st.halted && (r.value('TCTL') & r.map.bits.TCTL.EN) !== 0) {
      const ring = readRing(r, 'tx');
      if (typeof ring === 'string') {
        if (this.st.warnedRing !== ring) this.nic.fault(`TX ring unusable: ${ring}`);
        this.st.warnedRing = ring;
        return;
      }
      if (ring.head === ring.tail) {
        this.nic.raise(ICR.TXQE);
        return;
      }
      const g = this.gather(ring);
      if (g === 'wait') return;
      if (g === 'halt') {
        this.st.halted = true;
        return;
      }
      if (this.nic.rate > 0 && g.data !== null) {
        this.st.onWire = true;
        this.cancelWire = this.nic.sched.after(wireTimeNs(g.data.length, this.nic.rate), () => {
          this.st.onWire = false;
          this.cancelWire = undefined;
          if (this.complete(ring, g)) this.run();
        });
        return;
      }
      if (!this.complete(ring, g)) return;
    }
  }

  /** Reads the descriptors of the next frame; 'wait' when its EOP is not posted, 'halt' on a fault. */
  private gather(ring: Ring): Gathered | 'wait' | 'halt' {
    const descs: Gathered['descs'] = [];
    const pieces: Uint8Array[] = [];
    let idx = ring.head, total = 0, bad = false, ifcs = true;
    for (;;) {
      if (idx === ring.tail) return 'wait';
      const da = ring.base + idx * DESC_SIZE;
      const d = this.nic.dma.view(da, DESC_SIZE, 'to-device');
      if (d === null) {
        this.nic.fault(`TX descriptor ${idx} at 0x${da.toString(16)} is not readable (${this.nic.dma.lastFault?.kind}): TX ring halted`);
        return 'halt';
      }
      const cmd = d[TX_DESC.CMD]!;
      const upper = (d[12]! | (d[13]! << 8) | (d[14]! << 16) | (d[15]! << 24)) >>> 0;
      let len = d[TX_DESC.LENGTH]! | (d[TX_DESC.LENGTH + 1]! << 8);
      if (cmd & TXD_CMD.DEXT) {
        if (!this.st.warnedDext) this.nic.fault('extended TX descriptors (DEXT): offloads are not modelled; data sent as is');
        this.st.warnedDext = true;
        const lower = (len | (d[10]! << 16) | (cmd << 24)) >>> 0;
        len = ((lower >>> 20) & 0xf) === DTYP_CONTEXT ? 0 : lower & 0xfffff;
      }
      descs.push({ idx, upper, cmd });
      if (len > 0 && !bad) {
        const addr = bufferAddr(d, TX_DESC.ADDR);
        const v = this.nic.dma.view(addr, len, 'to-device');
        if (v === null) {
          this.nic.fault(`TX descriptor ${idx}: buffer 0x${addr.toString(16)}+${len} is not readable (${this.nic.dma.lastFault?.kind}): frame dropped`);
          bad = true;
        } else {
          pieces.push(v);
          total += len;
        }
      }
      idx = (idx + 1) % ring.count;
      if (cmd & TXD_CMD.EOP) {
        ifcs = (cmd & TXD_CMD.IFCS) !== 0 || (cmd & TXD_CMD.DEXT) !== 0;
        break;
      }
    }
    if (!bad && total > MAX_TX_FRAME) {
      this.nic.fault(`TX frame of ${total} bytes is longer than ${MAX_TX_FRAME}: dropped`);
      bad = true;
    }
    return { data: bad ? null : this.assemble(pieces, total, ifcs), descs, next: idx };
  }

  /** Copies the buffers into one frame: software FCS removed without IFCS, padded with PSP. */
  private assemble(pieces: Uint8Array[], total: number, ifcs: boolean): Uint8Array | null {
    if (!ifcs) {
      if (!this.st.warnedIfcs) this.nic.fault('TX frame without IFCS: its last 4 bytes are taken as the FCS');
      this.st.warnedIfcs = true;
    }
    const len = ifcs ? total : Math.max(0, total - ETH.FCS);
    if (len === 0) return null;
    const psp = (this.nic.regs.value('TCTL') & this.nic.regs.map.bits.TCTL.PSP) !== 0;
    const frame = new Uint8Array(psp ? Math.max(len, ETH.MIN_FRAME) : len);
    let o = 0;
    for (const p of pieces) {
      const n = Math.min(p.length, len - o);
      if (n <= 0) break;
      frame.set(n === p.length ? p : p.subarray(0, n), o);
      o += n;
    }
    return frame;
  }

  /** Sends the frame, writes back DD, moves TDH, raises TXDW. False if the write-back faulted (ring halted). */
  private complete(ring: Ring, g: Gathered): boolean {
    const nic = this.nic;
    if (g.data !== null) this.send(g.data);
    else nic.counters.txDropped++;
    let report = false, delayed = false;
    for (const d of g.descs) {
      if (!(d.cmd & (TXD_CMD.RS | TXD_CMD.RPS))) continue;
      const da = ring.base + d.idx * DESC_SIZE + 12;
      if (nic.dma.writeU32(da, d.upper | TXD_STAT.DD) !== 'ok') {
        nic.fault(`TX descriptor ${d.idx}: status write-back to 0x${da.toString(16)} failed (${nic.dma.lastFault?.kind}): TX ring halted`);
        this.st.halted = true;
        return false;
      }
      report = true;
      if (d.cmd & TXD_CMD.IDE) delayed = true;
    }
    nic.regs.setValue('TDH', g.next);
    if (report) {
      const r = nic.regs;
      if (delayed) this.delay.kick(r.value('TIDV'), r.value('TADV'));
      else this.delay.kick(0, 0);
    }
    return true;
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
    nic.count('GPTC');
    nic.count('TPT');
    nic.count64('GOTCL', 'GOTCH', len);
    nic.count64('TOTL', 'TOTH', len);
    const b = sizeBucket(len);
    if (b >= 0) nic.count(PTC_REGS[b]!);
    if (isBroadcast(frame)) nic.count('BPTC');
    else if (isMulticast(frame)) nic.count('MPTC');
  }
}
