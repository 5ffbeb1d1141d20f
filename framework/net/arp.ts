/**
 * @module net/arp
 * The neighbour table of one interface (RFC 826 over Ethernet/IPv4): answers requests for the
 * interface's own address, learns the sender of every request for us and of every reply, and
 * resolves addresses for the kernel's senders (3 requests, 1 s apart, as Linux's
 * mcast_solicit; then EHOSTUNREACH). Entries stay valid for 60 s and are refreshed by traffic.
 */
import { SystemError } from '../errors/hm-error.js';
import {
  ARPOP_REPLY, ARPOP_REQUEST, BROADCAST_MAC, buildArp, formatIpv4, formatMac, type ArpPacket, type Ipv4,
} from './wire-format.js';

export const ARP_RETRIES = 3;
export const ARP_RETRY_MS = 1000;
export const ARP_VALID_MS = 60_000;

export interface ArpEntry { ip: Ipv4; mac: Uint8Array; updated: number }

interface Pending { waiters: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void }[]; tries: number; timer: NodeJS.Timeout | null }

export interface ArpOwner {
  readonly name: string;
  /** The interface's own hardware address and IPv4 address (null: none). */
  mac(): Uint8Array;
  ip(): Ipv4 | null;
  /** Sends a frame; false when it was dropped. Throws when the interface is down. */
  send(frame: Uint8Array): boolean;
}

export class ArpTable {
  readonly entries = new Map<Ipv4, ArpEntry>();
  private readonly pending = new Map<Ipv4, Pending>();
  /** Requests and replies sent and received, for /proc and tests. */
  readonly counters = { requestsSent: 0, repliesSent: 0, requestsReceived: 0, repliesReceived: 0 };

  constructor(private readonly owner: ArpOwner) {}

  lookup(ip: Ipv4): Uint8Array | null {
    const e = this.entries.get(ip);
    return e && performance.now() - e.updated < ARP_VALID_MS ? e.mac : null;
  }

  private learn(ip: Ipv4, mac: Uint8Array): void {
    this.entries.set(ip, { ip, mac, updated: performance.now() });
    const p = this.pending.get(ip);
    if (p) {
      this.pending.delete(ip);
      if (p.timer) clearTimeout(p.timer);
      for (const w of p.waiters) w.resolve(mac);
    }
  }

  /** The hardware address of `ip`, asking the network if needed. */
  resolve(ip: Ipv4): Promise<Uint8Array> {
    const known = this.lookup(ip);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      let p = this.pending.get(ip);
      if (!p) {
        p = { waiters: [], tries: 0, timer: null };
        this.pending.set(ip, p);
        this.solicit(ip, p);
      }
      p.waiters.push({ resolve, reject });
    });
  }

  private solicit(ip: Ipv4, p: Pending): void {
    if (this.pending.get(ip) !== p) return;
    const src = this.owner.ip();
    if (p.tries >= ARP_RETRIES || src === null) {
      this.fail(ip, p, src === null ? 'no address on the interface' : `no ARP reply after ${p.tries} requests`);
      return;
    }
    p.tries++;
    try {
      this.owner.send(buildArp(ARPOP_REQUEST, this.owner.mac(), src, BROADCAST_MAC, new Uint8Array(6), ip));
      this.counters.requestsSent++;
    } catch (e) {
      this.fail(ip, p, e instanceof Error ? e.message : String(e));
      return;
    }
    p.timer = setTimeout(() => this.solicit(ip, p), ARP_RETRY_MS);
    p.timer.unref?.();
  }

  private fail(ip: Ipv4, p: Pending, why: string): void {
    this.pending.delete(ip);
    if (p.timer) clearTimeout(p.timer);
    const err = new SystemError('EHOSTUNREACH', 'connect', formatIpv4(ip), `${this.owner.name}: ${why}`);
    for (const w of p.waiters) w.reject(err);
  }

  /** An ARP packet received on the interface. */
  input(a: ArpPacket): void {
    const me = this.owner.ip();
    if (a.op === ARPOP_REPLY) {
      this.counters.repliesReceived++;
      if (me !== null && a.tpa === me) this.learn(a.spa, a.sha);
      return;
    }
    if (a.op !== ARPOP_REQUEST) return;
    this.counters.requestsReceived++;
    if (me === null || a.tpa !== me) {
      // Not for us; refresh an entry we already have (Linux updates existing neighbours).
      if (this.entries.has(a.spa)) this.learn(a.spa, a.sha);
      return;
    }
    this.learn(a.spa, a.sha);
    try {
      if (this.owner.send(buildArp(ARPOP_REPLY, this.owner.mac(), me, a.sha, a.sha, a.spa))) this.counters.repliesSent++;
    } catch { /* interface went down meanwhile */ }
  }

  /** Forgets everything (address change, interface down); pending resolutions fail. */
  flush(why = 'interface reconfigured'): void {
    this.entries.clear();
    for (const [ip, p] of [...this.pending]) this.fail(ip, p, why);
  }

  /** /proc/net/arp rows. */
  procRows(): string[] {
    return [...this.entries.values()].map((e) =>
      `${formatIpv4(e.ip).padEnd(17)}0x1         0x2         ${formatMac(e.mac)}     *        ${this.owner.name}`);
  }
}
