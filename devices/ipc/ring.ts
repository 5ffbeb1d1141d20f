/**
 * @module ring
 * A single-producer single-consumer message ring in shared memory (a SharedArrayBuffer that
 * may be mapped into another thread or process), in the spirit of seL4 sDDF's queue.h.
 *
 * Layout (bytes):
 *   0    tail      producer's byte counter (u32, wraps)      ┐ each on its own
 *   64   head      consumer's byte counter (u32, wraps)      │ cache line, so the
 *   128  sleeping  1 while the consumer sleeps or waits async ┘ two sides don't false-share
 *   132  seq       doorbell word: bumped by the producer to wake a sleeping consumer
 *   192  data[capacity]
 *
 * A message is a 48-byte header plus payload, padded to 64 bytes (a cache line), never split: when it does not
 * fit before the end of the data area the producer writes a PAD record and wraps.
 *   i32 stamp | i32 len | i32 kind<<16|op | i32 id | i32 a0 | i32 plen | i32 a3 | i32 ~stamp | f64 a1 | f64 a2 | payload
 * `stamp` is 1 + the byte counter at which the message starts, stored last (the publish; odd,
 * so zeroed memory never matches). The consumer polls the stamp at its own head instead of the
 * producer's tail, so a small message costs one cache-line transfer instead of two. Stale
 * bytes from an earlier lap match neither the stamp nor its complement.
 * The peer is not trusted: every length and index read from the ring is checked, and a
 * corrupt ring is reported as `RingCorruptError` rather than read out of bounds.
 */

export const RING_HEADER_BYTES = 192;
const TAIL = 0;
const HEAD = 16;
/** Int32 index of the consumer's sleeping flag. */
export const SLEEPING = 32;
/** Int32 index of the doorbell sequence word (the futex word). */
export const SEQ = 33;
/**
 * Int32 index of the "wake-up on its way" flag: the first producer to find the consumer asleep
 * sets it and wakes it; later ones skip the (syscall) wake until the consumer, going back to
 * sleep, clears it (Endpoint.setSleeping).
 */
export const WOKEN = 34;
/** Int32 index of a liveness counter the consumer side bumps from its event loop (watchdog). */
export const HEARTBEAT = 40;

export const MSG_HEADER = 48;
/** kind of a PAD record: skip to the start of the data area. */
const PAD_KIND = 0xffff;

export class RingCorruptError extends Error {}

/** Bytes a ring with `capacity` data bytes needs. */
export function ringBytes(capacity: number): number {
  return RING_HEADER_BYTES + capacity;
}

/** A decoded message; `payload` is a copy (the ring slot is reused as soon as it is consumed). */
export interface Message {
  kind: number;
  op: number;
  id: number;
  a0: number;
  a1: number;
  a2: number;
  a3: number;
  payload: Uint8Array | null;
}

export class Ring {
  readonly ctrl: Int32Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  private readonly capacity: number;
  private readonly mask: number;
  /** Largest payload one message may carry. */
  readonly maxPayload: number;
  /**
   * Producer's last view of the consumer's head: re-read only when the ring looks full, so the
   * head's cache line stays with the consumer (the classic SPSC trick; halves line transfers).
   */
  private headCache = 0;

  constructor(buffer: SharedArrayBuffer, byteOffset: number, capacity: number) {
    if (capacity < 4096 || (capacity & (capacity - 1)) !== 0) throw new RangeError('ring capacity must be a power of two >= 4096');
    if (byteOffset % 64 !== 0) throw new RangeError('ring must be 64-byte aligned');
    this.ctrl = new Int32Array(buffer, byteOffset, RING_HEADER_BYTES / 4);
    const data = byteOffset + RING_HEADER_BYTES;
    this.i32 = new Int32Array(buffer, data, capacity / 4);
    this.f64 = new Float64Array(buffer, data, capacity / 8);
    this.u8 = new Uint8Array(buffer, data, capacity);
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.maxPayload = capacity / 4 - MSG_HEADER;
  }

  /** Bytes queued and not yet consumed (diagnostics). */
  used(): number {
    return (Atomics.load(this.ctrl, TAIL) - Atomics.load(this.ctrl, HEAD)) >>> 0;
  }

  /** Consumer side: is there nothing at our head? One load of the next header's stamp. */
  isEmpty(): boolean {
    const head = this.ctrl[HEAD]!; // only the consumer writes head
    return Atomics.load(this.i32, (head & this.mask) >> 2) !== ((head + 1) | 0);
  }

  /**
   * Appends a message. Returns false when the ring lacks room (the caller keeps it and retries);
   * throws RangeError when the payload can never fit.
   */
  tryWrite(kind: number, op: number, id: number, a0: number, a1: number, a2: number, a3: number,
    payload: Uint8Array | null): boolean {
    const plen = payload ? payload.length : 0;
    if (plen > this.maxPayload) throw new RangeError(`message payload ${plen} exceeds ring limit ${this.maxPayload}`);
    const need = (MSG_HEADER + plen + 63) & ~63; // cache-line granular: a header never straddles lines
    let tail = this.ctrl[TAIL]! | 0; // only we write tail
    let pos = tail & this.mask;
    const toEnd = this.capacity - pos;
    const total = need <= toEnd ? need : toEnd + need;
    if (this.capacity - ((tail - this.headCache) >>> 0) < total) {
      this.headCache = Atomics.load(this.ctrl, HEAD) >>> 0;
      if (this.capacity - ((tail - this.headCache) >>> 0) < total) return false;
    }
    if (need > toEnd) {
      const w = pos >> 2;
      this.i32[w + 1] = toEnd;
      this.i32[w + 2] = PAD_KIND << 16;
      this.i32[w + 7] = ~(tail + 1);
      Atomics.store(this.i32, w, (tail + 1) | 0);
      tail = (tail + toEnd) | 0;
      pos = 0;
    }
    const w = pos >> 2;
    this.i32[w + 1] = need;
    this.i32[w + 2] = (kind << 16) | op;
    this.i32[w + 3] = id;
    this.i32[w + 4] = a0;
    this.i32[w + 5] = plen;
    this.i32[w + 6] = a3;
    this.f64[(pos >> 3) + 4] = a1;
    this.f64[(pos >> 3) + 5] = a2;
    if (plen) this.u8.set(payload!, pos + MSG_HEADER);
    this.i32[w + 7] = ~(tail + 1);
    Atomics.store(this.i32, w, (tail + 1) | 0);
    tail = (tail + need) | 0;
    this.ctrl[TAIL] = tail;
    return true;
  }

  /** Removes the next message into `out`; false when the ring is empty. */
  /**
   * `sink`, if given, may supply the destination of the payload (a response's caller buffer,
   * at least `plen` bytes): the payload is copied there instead of into a new array.
   */
  tryRead(out: Message, sink?: (kind: number, id: number, plen: number) => Uint8Array | null): boolean {
    let head = this.ctrl[HEAD]! | 0; // only we write head
    let pos = head & this.mask;
    if (Atomics.load(this.i32, pos >> 2) !== ((head + 1) | 0)) return false;
    let w = pos >> 2;
    if (this.i32[w + 7] !== ~(head + 1)) throw new RingCorruptError(`message stamp check failed at ${pos}`);
    if ((this.i32[w + 2]! >>> 16) === PAD_KIND) {
      const skip = this.i32[w + 1]!;
      if (skip !== this.capacity - pos) throw new RingCorruptError(`bad PAD record (${skip} bytes at ${pos})`);
      head = (head + skip) | 0;
      pos = 0;
      w = 0;
      if (Atomics.load(this.i32, 0) !== ((head + 1) | 0)) { Atomics.store(this.ctrl, HEAD, head); return false; }
      if (this.i32[7] !== ~(head + 1)) throw new RingCorruptError('message stamp check failed at 0');
    }
    const len = this.i32[w + 1]!;
    const plen = this.i32[w + 5]!;
    if (len < MSG_HEADER || len > this.capacity - pos || (len & 63) !== 0 || plen < 0 || MSG_HEADER + plen > len) {
      throw new RingCorruptError(`malformed message header (len ${len}, payload ${plen} at ${pos})`);
    }
    const ko = this.i32[w + 2]!;
    out.kind = ko >>> 16;
    out.op = ko & 0xffff;
    out.id = this.i32[w + 3]!;
    out.a0 = this.i32[w + 4]!;
    out.a3 = this.i32[w + 6]!;
    out.a1 = this.f64[(pos >> 3) + 4]!;
    out.a2 = this.f64[(pos >> 3) + 5]!;
    if (plen === 0) {
      out.payload = null;
    } else {
      const dst = sink ? sink(out.kind, out.id, plen) : null;
      if (dst !== null && dst.length >= plen) {
        dst.set(this.u8.subarray(pos + MSG_HEADER, pos + MSG_HEADER + plen));
        out.payload = dst.length === plen ? dst : dst.subarray(0, plen);
      } else {
        out.payload = this.u8.slice(pos + MSG_HEADER, pos + MSG_HEADER + plen);
      }
    }
    Atomics.store(this.ctrl, HEAD, (head + len) | 0);
    return true;
  }

  /** Resets both counters (only while neither side is using the ring). */
  reset(): void {
    this.headCache = 0;
    Atomics.store(this.ctrl, TAIL, 0);
    Atomics.store(this.ctrl, HEAD, 0);
    Atomics.store(this.ctrl, SLEEPING, 0);
    Atomics.store(this.ctrl, WOKEN, 0);
  }
}

export function emptyMessage(): Message {
  return { kind: 0, op: 0, id: 0, a0: 0, a1: 0, a2: 0, a3: 0, payload: null };
}
