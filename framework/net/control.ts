/**
 * @module net/control
 * The control-socket face of the network stack: handlers for `net`, `netAddr`, `netLink`,
 * `netSend`, `netCapture` and `ping`, with the signature of control/methods.ts entries and
 * their parameter checks (a bad parameter is EINVAL naming it). A kernel without a network
 * stack answers ENODEV.
 *
 * @example
 * return { ...existing, ...createNetMethods(kernel) };   // net, netAddr, netLink, netSend, netCapture, ping
 */
import { isAbsolute } from 'node:path';
import type { IKernel } from '../kernel-api.js';
import { HmError } from '../errors/hm-error.js';
import { base64, optBool, optInt, str, type Params } from '../control/params.js';
import type { CaptureResult } from './packet-socket.js';
import type { PingProbeOptions, PingProbeResult } from './ping.js';
import { noNetStack, type InterfaceStatus, type NetStack } from './stack.js';

export interface NetSendParams {
  iface: string;
  /** Frames, base64 (whole Ethernet frames without FCS). */
  frames: string[];
  /** Send the list this many times (default 1). */
  count?: number;
}

export interface NetCaptureParams {
  iface: string;
  /** Absolute path of the pcap file, written by the platform process. */
  path: string;
  count?: number;
  durationMs?: number;
  snaplen?: number;
}

/** The entries for protocol.ts's ControlMethods. */
export interface NetControlMethods {
  net: { params: { iface?: string }; result: InterfaceStatus[] };
  netAddr: { params: { iface: string; address: string | null }; result: InterfaceStatus };
  /** `cable`: plug (true) or unplug the NIC's cable in the machine (not an ifup/ifdown). */
  netLink: { params: { iface: string; up?: boolean; mtu?: number; cable?: boolean }; result: InterfaceStatus };
  netSend: { params: NetSendParams; result: { iface: string; sent: number; bytes: number } };
  netCapture: { params: NetCaptureParams; result: CaptureResult };
  ping: { params: PingProbeOptions; result: PingProbeResult };
}

export const NET_METHOD_NAMES = ['net', 'netAddr', 'netLink', 'netSend', 'netCapture', 'ping'] as const;

export type NetMethodHandler = (params: Params, signal: AbortSignal) => Promise<unknown>;

const bad = (key: string, expected: string): HmError => new HmError('EINVAL', `params.${key}: expected ${expected}`);

/** Most frames one netSend call may carry (count x frames). */
export const MAX_SEND_FRAMES = 1_000_000;

export function createNetMethods(kernel: IKernel): Record<(typeof NET_METHOD_NAMES)[number], NetMethodHandler> {
  const stack = (): NetStack => {
    if (!kernel.net) throw noNetStack();
    return kernel.net;
  };
  return {
    net: async (p) => {
      const s = stack();
      if (p.iface !== undefined) return [await s.status(str(p, 'iface'))];
      return s.list();
    },
    netAddr: async (p) => {
      const s = stack();
      const iface = str(p, 'iface');
      const a = p.address;
      if (a !== null && typeof a !== 'string') throw bad('address', 'an IPv4 address with prefix ("10.0.0.1/24") or null');
      s.setAddress(iface, a);
      return s.status(iface);
    },
    netLink: async (p) => {
      const s = stack();
      const iface = str(p, 'iface');
      const up = optBool(p, 'up');
      const mtu = optInt(p, 'mtu', 1);
      const cable = optBool(p, 'cable');
      s.get(iface);
      if (cable !== undefined) {
        if (!kernel.setCable) throw new HmError('ENODEV', 'this kernel has no machine to pull cables in');
        await kernel.setCable((await s.status(iface)).device, cable);
      }
      if (mtu !== undefined) await s.setMtu(iface, mtu);
      if (up !== undefined) await s.setLink(iface, up);
      return s.status(iface);
    },
    netSend: async (p) => {
      const s = stack();
      const iface = str(p, 'iface');
      if (!Array.isArray(p.frames) || p.frames.length === 0) throw bad('frames', 'a non-empty array of base64 frames');
      const frames = p.frames.map((_, i) => new Uint8Array(base64(p.frames as Params, String(i))));
      const count = optInt(p, 'count', 1) ?? 1;
      if (count * frames.length > MAX_SEND_FRAMES) throw bad('count', `at most ${MAX_SEND_FRAMES} frames in all`);
      const sock = s.openPacketSocket(iface);
      let sent = 0, bytes = 0;
      try {
        for (let i = 0; i < count; i++) {
          sent += await sock.send(frames);
          for (const f of frames) bytes += f.length;
        }
      } finally {
        sock.close();
      }
      return { iface, sent, bytes };
    },
    netCapture: async (p, signal) => {
      const s = stack();
      const iface = str(p, 'iface');
      const path = str(p, 'path');
      if (!isAbsolute(path)) throw bad('path', 'an absolute path (the platform process writes it)');
      const count = optInt(p, 'count', 1);
      const durationMs = optInt(p, 'durationMs', 1);
      const snaplen = optInt(p, 'snaplen', 1);
      return s.capture(iface, path, { count, durationMs, snaplen, signal });
    },
    ping: async (p) => {
      const s = stack();
      const dst = str(p, 'dst');
      const iface = p.iface === undefined ? undefined : str(p, 'iface');
      const seq = optInt(p, 'seq', 0) ?? 1;
      if (seq > 0xffff) throw bad('seq', 'an integer 0..65535');
      const id = optInt(p, 'id', 0);
      if (id !== undefined && id > 0xffff) throw bad('id', 'an integer 0..65535');
      return s.ping({ dst, iface, seq, id, size: optInt(p, 'size', 0), ttl: optInt(p, 'ttl', 1), timeoutMs: optInt(p, 'timeoutMs', 1) });
    },
  };
}
