/**
 * @module nic/pcap
 * Packet capture in the classic libpcap format (magic 0xa1b2c3d4 written little endian,
 * version 2.4, microsecond timestamps, snaplen 65535, LINKTYPE_ETHERNET = 1), readable by
 * tcpdump, tshark and Wireshark. A `PcapWriter` taps any `Tappable` (a Wire, a Switch or one of
 * their ports); timestamps are the scheduler's clock (virtual or real ns since it started).
 * Writes are buffered and flushed synchronously in 256 KiB chunks and on close. `readPcap`
 * parses a file back (tests, tools).
 *
 * @example
 * const pcap = new PcapWriter('/tmp/link.pcap');
 * pcap.attach(wire);                 // every frame entering the wire
 * clock.runUntilIdle();
 * pcap.close();                      // tshark -r /tmp/link.pcap
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { FrameTap, Tappable } from './wire.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
export const PCAP_SNAPLEN = 65535;
const GLOBAL_HEADER = 24, RECORD_HEADER = 16, FLUSH_AT = 256 * 1024;

export interface PcapWriterOptions {
  /** Bytes kept per frame; default 65535. */
  readonly snaplen?: number;
}

export class PcapWriter {
  /** Frames written. */
  frames = 0;
  private fd: number | null;
  private chunks: Uint8Array[] = [];
  private pending = 0;
  private readonly snaplen: number;
  private readonly detachers: (() => void)[] = [];

  /** Creates (truncates) `path` and writes the global header. Throws if the file cannot be opened. */
  constructor(readonly path: string, opts: PcapWriterOptions = {}) {
    this.snaplen = opts.snaplen ?? PCAP_SNAPLEN;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > 0x40000) throw new RangeError(`pcap snaplen ${this.snaplen} out of range`);
    this.fd = openSync(path, 'w');
    const h = new DataView(new ArrayBuffer(GLOBAL_HEADER));
    h.setUint32(0, PCAP_MAGIC_US, true);
    h.setUint16(4, 2, true); // version 2.4
    h.setUint16(6, 4, true);
    h.setInt32(8, 0, true); // thiszone: UTC
    h.setUint32(12, 0, true); // sigfigs
    h.setUint32(16, this.snaplen, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    this.push(new Uint8Array(h.buffer));
  }

  /** Appends one frame captured at `tsNs` (ns); frames longer than snaplen are truncated. Ignored after close. */
  write(frame: Uint8Array, tsNs: bigint | number): void {
    if (this.fd === null) return;
    const ns = typeof tsNs === 'bigint' ? tsNs : BigInt(Math.max(0, Math.floor(tsNs)));
    const incl = Math.min(frame.length, this.snaplen);
    const rec = new Uint8Array(RECORD_HEADER + incl);
    const h = new DataView(rec.buffer);
    h.setUint32(0, Number(ns / 1_000_000_000n) >>> 0, true);
    h.setUint32(4, Number((ns % 1_000_000_000n) / 1000n), true);
    h.setUint32(8, incl, true);
    h.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), RECORD_HEADER);
    this.push(rec);
    this.frames++;
  }

  /** A tap function for `Tappable.tap`. */
  tap(): FrameTap {
    return (frame, tNs) => this.write(frame, tNs);
  }

  /** Captures everything passing `target` until close (or the returned function is called). */
  attach(target: Tappable): () => void {
    const off = target.tap(this.tap());
    this.detachers.push(off);
    return off;
  }

  /** Writes buffered records to the file. */
  flush(): void {
    if (this.fd === null || this.pending === 0) return;
    const all = new Uint8Array(this.pending);
    let o = 0;
    for (const c of this.chunks) { all.set(c, o); o += c.length; }
    this.chunks = [];
    this.pending = 0;
    let done = 0;
    while (done < all.length) done += writeSync(this.fd, all, done, all.length - done);
  }

  /** Detaches the taps, flushes and closes the file. Idempotent. */
  close(): void {
    for (const off of this.detachers.splice(0)) off();
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.pending += b.length;
    if (this.pending >= FLUSH_AT) this.flush();
  }
}

export interface PcapRecord { readonly tsSec: number; readonly tsUsec: number; readonly origLen: number; readonly data: Uint8Array }
export interface PcapFile { readonly snaplen: number; readonly linktype: number; readonly versionMajor: number; readonly versionMinor: number; readonly records: PcapRecord[] }

/** Parses a classic little-endian microsecond pcap file. Throws on a malformed one. */
export function readPcap(buf: Uint8Array): PcapFile {
  if (buf.length < GLOBAL_HEADER) throw new Error('pcap: shorter than the global header');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (v.getUint32(0, true) !== PCAP_MAGIC_US) throw new Error(`pcap: bad magic 0x${v.getUint32(0, true).toString(16)}`);
  const records: PcapRecord[] = [];
  let o = GLOBAL_HEADER;
  while (o < buf.length) {
    if (o + RECORD_HEADER > buf.length) throw new Error(`pcap: truncated record header at ${o}`);
    const incl = v.getUint32(o + 8, true);
    if (o + RECORD_HEADER + incl > buf.length) throw new Error(`pcap: truncated record at ${o}`);
    records.push({ tsSec: v.getUint32(o, true), tsUsec: v.getUint32(o + 4, true), origLen: v.getUint32(o + 12, true), data: new Uint8Array(buf.subarray(o + RECORD_HEADER, o + RECORD_HEADER + incl)) });
    o += RECORD_HEADER + incl;
  }
  return { versionMajor: v.getUint16(4, true), versionMinor: v.getUint16(6, true), snaplen: v.getUint32(16, true), linktype: v.getUint32(20, true), records };
}
