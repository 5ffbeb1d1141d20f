/**
 * @module net/ping
 * The ICMP echo client behind `hmdrv ping`: one probe = resolve the next hop (ARP), send an
 * echo request with Linux ping's payload (a 16-byte timestamp, then bytes 0x10, 0x11, ...),
 * wait for the matching reply (identifier and sequence) and check that the data came back
 * intact. Replies are matched by the stack's IPv4 input, on whichever interface they arrive.
 */
import { SystemError } from '../errors/hm-error.js';
import type { NetInterface } from './interface.js';
import {
  buildIcmpEcho, formatIpv4, ICMP_ECHO, type IcmpEcho, type Ipv4,
} from './wire-format.js';

export interface PingProbeOptions {
  /** Destination IPv4 address (dotted quad). */
  dst: string;
  /** Interface to send from (ping -I); default: the one whose subnet holds dst. */
  iface?: string;
  /** ICMP identifier; default: the stack's. */
  id?: number;
  /** ICMP sequence number (icmp_seq). */
  seq: number;
  /** Data bytes after the ICMP header (ping -s); default 56. */
  size?: number;
  /** IP time to live (ping -t); default 64. */
  ttl?: number;
  /** How long to wait for the reply once the request is sent (ping -W), ms; default 1000. */
  timeoutMs?: number;
}

export interface PingProbeResult {
  seq: number;
  /** reply: answered; timeout: no answer in time; unreachable: ARP found nobody; dropped: the interface dropped the request (no carrier, queue full). */
  status: 'reply' | 'timeout' | 'unreachable' | 'dropped';
  /** Who answered (the destination) or who reports the error (the source). */
  from: string;
  /** Interface and source address used. */
  iface: string;
  src: string;
  /** ICMP bytes of the reply (header + data), as ping's "64 bytes from". */
  bytes?: number;
  ttl?: number;
  rttMs?: number;
  /** The reply's data differed from what was sent. */
  corrupt?: boolean;
  error?: string;
}

interface Waiter { resolve: (r: { icmp: IcmpEcho; ttl: number; src: Ipv4; at: number }) => void }

export const PING_DEFAULT_SIZE = 56;
/** Largest data size: 65535 - 20 (IP) - 8 (ICMP), as Linux ping's limit. */
export const PING_MAX_SIZE = 65507;

/** Linux ping's payload: 16 bytes of timeval, then i & 0xff for i = 16.. (the data pattern). */
export function pingPayload(size: number, nowMs: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 16; i < size; i++) d[i] = i & 0xff;
  if (size >= 16) {
    const v = new DataView(d.buffer);
    const sec = Math.floor(nowMs / 1000);
    v.setBigUint64(0, BigInt(sec), true);
    v.setBigUint64(8, BigInt(Math.floor((nowMs - sec * 1000) * 1000)), true);
  }
  return d;
}

export interface PingRoute { iface: NetInterface; src: Ipv4; resolve(dst: Ipv4): Promise<Uint8Array> }

export class Pinger {
  private readonly waiters = new Map<number, Waiter>();
  readonly defaultId = (process.pid ^ 0x5a5a) & 0xffff;

  private static key(id: number, seq: number): number { return (id << 16) | seq; }

  /** An echo reply arrived (from the stack's IPv4 input). */
  reply(icmp: IcmpEcho, ttl: number, src: Ipv4): void {
    const k = Pinger.key(icmp.id, icmp.seq);
    const w = this.waiters.get(k);
    if (!w) return;
    this.waiters.delete(k);
    w.resolve({ icmp, ttl, src, at: performance.now() });
  }

  /** Sends one echo request over `route` and waits for its reply. */
  async probe(route: PingRoute, dst: Ipv4, o: PingProbeOptions): Promise<PingProbeResult> {
    const size = o.size ?? PING_DEFAULT_SIZE;
    if (!Number.isInteger(size) || size < 0 || size > PING_MAX_SIZE) throw new SystemError('EINVAL', 'sendmsg', o.dst, `packet size ${size} out of range 0..${PING_MAX_SIZE}`);
    const ttl = o.ttl ?? 64;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new SystemError('EINVAL', 'setsockopt', o.dst, `ttl ${ttl} out of range 1..255`);
    if (size + 28 > route.iface.info.mtu) throw new SystemError('EMSGSIZE', 'sendmsg', o.dst, `${size + 28} bytes exceed the MTU of ${route.iface.name} (${route.iface.info.mtu}); no fragmentation`);
    const id = (o.id ?? this.defaultId) & 0xffff;
    const seq = o.seq & 0xffff;
    const base = { seq: o.seq, iface: route.iface.name, src: formatIpv4(route.src) };
    let dstMac: Uint8Array;
    try {
      dstMac = await route.resolve(dst);
    } catch (e) {
      if (e instanceof SystemError && e.code === 'EHOSTUNREACH') return { ...base, status: 'unreachable', from: formatIpv4(route.src), error: e.message };
      throw e;
    }
    const data = pingPayload(size, Date.now());
    const frame = buildIcmpEcho({ src: route.src, dst, ttl, id: seq, proto: 0, dstMac, srcMac: route.iface.mac }, ICMP_ECHO, id, seq, data);
    const k = Pinger.key(id, seq);
    const timeoutMs = o.timeoutMs ?? 1000;
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<{ icmp: IcmpEcho; ttl: number; src: Ipv4; at: number } | null>((resolve) => {
      const w: Waiter = { resolve: (r) => { clearTimeout(timer); resolve(r); } };
      timer = setTimeout(() => { if (this.waiters.get(k) === w) this.waiters.delete(k); resolve(null); }, timeoutMs);
      this.waiters.set(k, w);
    });
    const cancel = (): void => { clearTimeout(timer); this.waiters.delete(k); };
    const t0 = performance.now();
    let queued: boolean;
    try {
      queued = route.iface.xmit(frame);
    } catch (e) {
      cancel();
      throw e;
    }
    if (!queued) {
      cancel();
      return { ...base, status: 'dropped', from: formatIpv4(route.src), error: `${route.iface.name} dropped the request (${route.iface.carrier ? 'transmit queue full' : 'no carrier'})` };
    }
    const r = await got;
    if (!r) return { ...base, status: 'timeout', from: formatIpv4(dst) };
    const corrupt = r.icmp.data.length !== data.length || r.icmp.data.some((b, i) => b !== data[i]);
    return {
      ...base, status: 'reply', from: formatIpv4(r.src), bytes: 8 + r.icmp.data.length, ttl: r.ttl,
      rttMs: r.at - t0, ...(corrupt ? { corrupt: true } : {}),
    };
  }
}
