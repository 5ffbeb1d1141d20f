/**
 * @module cli/lib/net-format
 * What `hmdrv net` and `hmdrv ping` print: the interface table, frames given on the command
 * line (hex, a raw file or a pcap file), and Linux ping's lines and summary.
 *
 * @example
 * formatInterfaces(await c.call('net', {}));
 * pingReplyLine(probe);            // "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.412 ms"
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { HmError } from '../../framework/errors/hm-error.js';
import type { InterfaceStatus } from '../../framework/net/stack.js';
import type { PingProbeResult } from '../../framework/net/ping.js';
import { PCAP_MAGIC_US, readPcap } from '../../devices/nic/pcap.js';
import { formatTable } from './table.js';

export function formatInterfaces(list: readonly InterfaceStatus[]): string[] {
  if (list.length === 0) return ['no network interfaces (does the platform have a NIC with a driver?)'];
  return formatTable(list.map((i) => [
    i.name, i.device, i.driver, i.up ? 'up' : 'down', i.up ? (i.carrier ? 'yes' : 'no') : '-', String(i.mtu),
    i.address, i.ipv4 ?? '-', String(i.stats.rx_packets), String(i.stats.rx_bytes), String(i.stats.tx_packets), String(i.stats.tx_bytes),
    String(i.stats.rx_errors + i.stats.tx_errors), String(i.stats.rx_dropped + i.stats.tx_dropped + i.stats.rx_missed_errors),
  ]), {
    header: ['IFACE', 'DEVICE', 'DRIVER', 'STATE', 'CARRIER', 'MTU', 'MAC', 'IPV4', 'RX-PKTS', 'RX-BYTES', 'TX-PKTS', 'TX-BYTES', 'ERRORS', 'DROPS'],
    align: ['l', 'l', 'l', 'l', 'l', 'r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  });
}

/**
 * Frames from the command line: an existing file (a pcap capture: each record; anything else:
 * the whole file is one frame) or hex digits (separators ':', '-', '.' and spaces allowed).
 */
export function parseFrames(arg: string): Uint8Array[] {
  if (existsSync(arg) && statSync(arg).isFile()) {
    const bytes = new Uint8Array(readFileSync(arg));
    if (bytes.length >= 24 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === PCAP_MAGIC_US) {
      const recs = readPcap(bytes).records;
      if (recs.length === 0) throw new HmError('EINVAL', `${arg}: the pcap file has no frames`);
      return recs.map((r) => r.data);
    }
    if (bytes.length === 0) throw new HmError('EINVAL', `${arg}: the file is empty`);
    return [bytes];
  }
  const hex = arg.replace(/[\s:.-]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) {
    throw new HmError('EINVAL', `'${arg.length > 40 ? `${arg.slice(0, 40)}...` : arg}' is neither a file nor an even number of hex digits`,
      { suggestions: ['give a frame as hex, e.g. ffffffffffff525400123401 88b5 0001...', 'or a file: raw bytes (one frame) or a pcap capture (each record)'] });
  }
  return [Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)))];
}

/** Linux ping's time format: 3 significant decimals below 1 ms, fewer above. */
export function formatRtt(ms: number): string {
  const us = Math.round(ms * 1000);
  if (us >= 100_000) return String(Math.floor(us / 1000));
  if (us >= 10_000) return (us / 1000).toFixed(1);
  if (us >= 1_000) return (us / 1000).toFixed(2);
  return (us / 1000).toFixed(3);
}

/** One line per probe, as Linux ping prints it (null for a silent timeout). */
export function pingLine(p: PingProbeResult): string | null {
  switch (p.status) {
    case 'reply':
      return `${p.bytes} bytes from ${p.from}: icmp_seq=${p.seq} ttl=${p.ttl} time=${formatRtt(p.rttMs!)} ms${p.corrupt ? ' (BAD DATA)' : ''}`;
    case 'unreachable':
      return `From ${p.from} icmp_seq=${p.seq} Destination Host Unreachable`;
    case 'dropped':
      return `ping: sendmsg: No buffer space available (icmp_seq=${p.seq}: ${p.error ?? 'dropped'})`;
    default:
      return null;
  }
}

export interface PingSummary {
  dst: string;
  transmitted: number;
  received: number;
  errors: number;
  lossPercent: number;
  timeMs: number;
  rtt: { min: number; avg: number; max: number; mdev: number } | null;
}

export function summarize(dst: string, probes: readonly PingProbeResult[], timeMs: number): PingSummary {
  const rtts = probes.filter((p) => p.status === 'reply').map((p) => p.rttMs!);
  const transmitted = probes.length;
  const errors = probes.filter((p) => p.status === 'unreachable' || p.status === 'dropped').length;
  let rtt: PingSummary['rtt'] = null;
  if (rtts.length) {
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    const sq = rtts.reduce((a, b) => a + b * b, 0) / rtts.length;
    rtt = { min: Math.min(...rtts), avg, max: Math.max(...rtts), mdev: Math.sqrt(Math.max(0, sq - avg * avg)) };
  }
  const lossPercent = transmitted ? Math.round(((transmitted - rtts.length) * 100) / transmitted * 1000) / 1000 : 0;
  return { dst, transmitted, received: rtts.length, errors, lossPercent, timeMs: Math.round(timeMs), rtt };
}

export function summaryLines(s: PingSummary): string[] {
  const lines = [
    `--- ${s.dst} ping statistics ---`,
    `${s.transmitted} packets transmitted, ${s.received} received, ${s.errors ? `+${s.errors} errors, ` : ''}${s.lossPercent}% packet loss, time ${s.timeMs}ms`,
  ];
  if (s.rtt) lines.push(`rtt min/avg/max/mdev = ${[s.rtt.min, s.rtt.avg, s.rtt.max, s.rtt.mdev].map((v) => v.toFixed(3)).join('/')} ms`);
  return lines;
}
