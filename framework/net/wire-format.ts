/**
 * @module net/wire-format
 * Ethernet, ARP, IPv4 and ICMP headers: parsing and building, as plain functions over bytes
 * (network byte order). Only what the kernel's own ARP/ICMP responder and ping client need.
 */

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_ZLEN = 60;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ARPHRD_ETHER = 1;
export const IPPROTO_ICMP = 1;
export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export function formatMac(b: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[off + i]!.toString(16).padStart(2, '0');
  return s;
}

/** "52:54:00:12:34:56" (or with dashes) → 6 bytes; null if malformed. */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function macEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

export const isBroadcastMac = (b: Uint8Array, off = 0): boolean => macEqual(b, off, BROADCAST_MAC);
export const isMulticastMac = (b: Uint8Array, off = 0): boolean => (b[off]! & 1) === 1;

/** An IPv4 address as an unsigned 32-bit number. */
export type Ipv4 = number;

/** "10.0.0.1" → number; null if malformed. */
export function parseIpv4(s: string): Ipv4 | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return null;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function formatIpv4(a: Ipv4): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** "10.0.0.1/24" → address and prefix (default /32 without a slash); null if malformed. */
export function parseCidr(s: string): { addr: Ipv4; prefix: number } | null {
  const [a, p, extra] = s.trim().split('/');
  if (extra !== undefined || a === undefined) return null;
  const addr = parseIpv4(a);
  const prefix = p === undefined ? 32 : /^\d{1,2}$/.test(p) ? Number(p) : NaN;
  if (addr === null || !(prefix >= 0 && prefix <= 32)) return null;
  return { addr, prefix };
}

export const prefixMask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
export const sameSubnet = (a: Ipv4, b: Ipv4, prefix: number): boolean => ((a ^ b) & prefixMask(prefix)) === 0;

export const rd16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
export const rd32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
export function wr16(b: Uint8Array, o: number, v: number): void { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; }
export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff;
}

/** The Internet checksum (RFC 1071) of b[off, off+len). */
export function inetChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** EtherType of a frame (0 if it is too short); skips nothing (no VLAN handling). */
export const etherType = (f: Uint8Array): number => (f.length >= ETH_HLEN ? rd16(f, 12) : 0);

function ethHeader(f: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  f.set(dst, 0);
  f.set(src, 6);
  wr16(f, 12, type);
}

// ---- ARP (RFC 826, Ethernet/IPv4) ------------------------------------------------------------

export interface ArpPacket { op: number; sha: Uint8Array; spa: Ipv4; tha: Uint8Array; tpa: Ipv4 }

export function parseArp(f: Uint8Array): ArpPacket | null {
  const o = ETH_HLEN;
  if (f.length < o + 28 || rd16(f, o) !== ARPHRD_ETHER || rd16(f, o + 2) !== ETH_P_IP || f[o + 4] !== 6 || f[o + 5] !== 4) return null;
  return { op: rd16(f, o + 6), sha: f.slice(o + 8, o + 14), spa: rd32(f, o + 14), tha: f.slice(o + 18, o + 24), tpa: rd32(f, o + 24) };
}

export function buildArp(op: number, src: Uint8Array, spa: Ipv4, dst: Uint8Array, tha: Uint8Array, tpa: Ipv4): Uint8Array {
  const f = new Uint8Array(ETH_ZLEN);
  ethHeader(f, dst, src, ETH_P_ARP);
  const o = ETH_HLEN;
  wr16(f, o, ARPHRD_ETHER); wr16(f, o + 2, ETH_P_IP); f[o + 4] = 6; f[o + 5] = 4; wr16(f, o + 6, op);
  f.set(src, o + 8); wr32(f, o + 14, spa); f.set(tha, o + 18); wr32(f, o + 24, tpa);
  return f;
}

// ---- IPv4 + ICMP -------------------------------------------------------------------------------

export interface Ipv4Packet { src: Ipv4; dst: Ipv4; proto: number; ttl: number; id: number; hdrLen: number; totalLen: number }

/** The IPv4 header of an Ethernet frame, if valid (version 4, checksum, lengths). */
export function parseIpv4Header(f: Uint8Array): Ipv4Packet | null {
  const o = ETH_HLEN;
  if (f.length < o + 20 || f[o]! >> 4 !== 4) return null;
  const hdrLen = (f[o]! & 0xf) * 4;
  const totalLen = rd16(f, o + 2);
  if (hdrLen < 20 || totalLen < hdrLen || o + totalLen > f.length) return null;
  if (inetChecksum(f, o, hdrLen) !== 0) return null;
  return { src: rd32(f, o + 12), dst: rd32(f, o + 16), proto: f[o + 9]!, ttl: f[o + 8]!, id: rd16(f, o + 4), hdrLen, totalLen };
}

export interface IcmpEcho { type: number; code: number; id: number; seq: number; data: Uint8Array }

/** The ICMP message inside an IPv4 frame (checksum verified). */
export function parseIcmp(f: Uint8Array, ip: Ipv4Packet): IcmpEcho | null {
  const o = ETH_HLEN + ip.hdrLen;
  const len = ip.totalLen - ip.hdrLen;
  if (len < 8 || inetChecksum(f, o, len) !== 0) return null;
  return { type: f[o]!, code: f[o + 1]!, id: rd16(f, o + 4), seq: rd16(f, o + 6), data: f.subarray(o + 8, o + len) };
}

export interface Ipv4Build { src: Ipv4; dst: Ipv4; ttl: number; id: number; proto: number; dstMac: Uint8Array; srcMac: Uint8Array }

/** An Ethernet frame with an IPv4 header (DF set, as Linux ping sends) around `payloadLen` bytes. */
export function buildIpv4(p: Ipv4Build, payloadLen: number): { frame: Uint8Array; payloadOff: number } {
  const frame = new Uint8Array(Math.max(ETH_ZLEN, ETH_HLEN + 20 + payloadLen));
  ethHeader(frame, p.dstMac, p.srcMac, ETH_P_IP);
  const o = ETH_HLEN;
  frame[o] = 0x45;
  wr16(frame, o + 2, 20 + payloadLen);
  wr16(frame, o + 4, p.id & 0xffff);
  wr16(frame, o + 6, 0x4000);
  frame[o + 8] = p.ttl;
  frame[o + 9] = p.proto;
  wr32(frame, o + 12, p.src);
  wr32(frame, o + 16, p.dst);
  wr16(frame, o + 10, inetChecksum(frame, o, 20));
  return { frame, payloadOff: o + 20 };
}

/** An ICMP echo request or reply frame. */
export function buildIcmpEcho(p: Ipv4Build, type: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const { frame, payloadOff: o } = buildIpv4({ ...p, proto: IPPROTO_ICMP }, 8 + data.length);
  frame[o] = type;
  frame[o + 1] = 0;
  wr16(frame, o + 4, id);
  wr16(frame, o + 6, seq);
  frame.set(data, o + 8);
  wr16(frame, o + 2, inetChecksum(frame, o, 8 + data.length));
  return frame;
}
