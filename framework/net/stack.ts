/**
 * @module net/stack
 * The kernel's network stack: the interfaces drivers register (register_netdev → a 'net' node,
 * handed here by the device manager), their sysfs and /proc/net files, IPv4 addresses, packet
 * sockets, captures, an ARP + ICMP echo responder per interface and the ping client.
 *
 * Differs from Linux, and why:
 * - **Each interface is its own host**, as if each sat in its own network namespace: two NICs
 *   on one wire in one platform are two machines. An interface answers ARP and ICMP only for
 *   its own address, received on itself, and a packet to another local interface's address is
 *   not delivered locally but sent out through the driver (that is the point: it crosses the
 *   wire model and both drivers). Routing is "the interface whose subnet holds the
 *   destination and which is not the destination itself" (or `ping -I`).
 * - **Interfaces come up by themselves** when their driver registers them, and a device
 *   property `ip-address` ("10.0.0.1/24") configures their address: the kernel plays the part
 *   of the distribution's network configuration. `setLink(name, false)` takes one down.
 * - One IPv4 address per interface; no IPv6, no routing table, no IP forwarding, no
 *   fragmentation, no TCP/UDP: ARP, ICMP echo and raw Ethernet frames.
 */
import type { IVfs } from '../vfs/api.js';
import type { DeviceFileOperations } from '../vfs/types.js';
import type { KernelLog } from '../kernel/klog.js';
import type { LogLevel } from '../driver-port.js';
import { HmError, SystemError } from '../errors/hm-error.js';
import { toDisposable, type IDisposable } from '../lifecycle/disposable.js';
import { IFNAME_RE, IFNAME_TEMPLATE_RE, type NetdevStats } from './abi.js';
import { ArpTable } from './arp.js';
import { NetInterface } from './interface.js';
import { NetdevLink } from './netdev-link.js';
import { capture, PacketSocket, type CaptureOptions, type CaptureResult, type PacketSocketOptions } from './packet-socket.js';
import { Pinger, type PingProbeOptions, type PingProbeResult, type PingRoute } from './ping.js';
import { addNetSysfs } from './sysfs.js';
import {
  buildIcmpEcho, ETH_P_ARP, ETH_P_IP, etherType, formatIpv4, ICMP_ECHO, ICMP_ECHOREPLY, IPPROTO_ICMP, parseArp,
  parseCidr, parseIcmp, parseIpv4, parseIpv4Header, prefixMask, sameSubnet, type Ipv4,
} from './wire-format.js';

export interface NetStackOptions {
  vfs: IVfs;
  log: KernelLog;
}

/** What the device manager hands over when a driver registers a net node. */
export interface NetNodeRegistration {
  /** "eth%d" or a fixed name. */
  template: string;
  /** The parent platform device. */
  device: string;
  driver: string;
  /** The device's platform-file properties (`ip-address`). */
  properties: Readonly<Record<string, unknown>>;
  /** The node's file operations (the node proxy). */
  ops: DeviceFileOperations;
}

export interface InterfaceStatus {
  name: string;
  ifindex: number;
  device: string;
  driver: string;
  address: string;
  mtu: number;
  up: boolean;
  carrier: boolean;
  operstate: 'up' | 'down';
  flags: number;
  /** "10.0.0.1/24", or null. */
  ipv4: string | null;
  txQueueLen: number;
  /** Frames waiting in the kernel's transmit queue. */
  queued: number;
  /** A driver serves it (false while its container restarts). */
  present: boolean;
  stats: NetdevStats;
}

export interface PingTarget { dst: string; iface?: string }

export class NetStack {
  readonly interfaces = new Map<string, NetInterface>();
  private readonly arp = new Map<NetInterface, ArpTable>();
  private readonly drivers = new Map<NetInterface, string>();
  private readonly sockets = new Map<NetInterface, Set<PacketSocket>>();
  readonly pinger = new Pinger();
  private nextIfindex = 1;
  private readonly settling = new Set<Promise<void>>();

  constructor(private readonly o: NetStackOptions) {
    o.vfs.mkdirp('/proc/net');
    o.vfs.addGeneratedFile('/proc/net/dev', () => this.procNetDev());
    o.vfs.addGeneratedFile('/proc/net/arp', () => this.procNetArp());
  }

  private log(level: LogLevel, message: string): void {
    this.o.log.printk(level, 'net', message);
  }

  // ---- the device manager's side ---------------------------------------------------------------

  /** Name for a template: the lowest free "eth%d", as Linux's dev_alloc_name. */
  private allocName(template: string): string {
    if (IFNAME_TEMPLATE_RE.test(template)) {
      for (let n = 0; ; n++) {
        const name = template.replace('%d', String(n));
        if (!this.interfaces.has(name)) return name;
      }
    }
    if (!IFNAME_RE.test(template)) throw new SystemError('EINVAL', 'register_netdev', template, 'interface names are 1-15 characters [A-Za-z0-9_.-], starting with a letter, optionally ending in %d');
    if (this.interfaces.has(template)) throw new SystemError('EEXIST', 'register_netdev', template);
    return template;
  }

  /**
   * A driver registered a net_device: create the interface and its sysfs directory, then (in
   * the background) attach to the driver, bring the interface up and configure its address.
   * Disposing the registration removes the interface.
   */
  register(r: NetNodeRegistration): { name: string; ifindex: number; registration: IDisposable } {
    const name = this.allocName(r.template);
    const ifindex = this.nextIfindex++;
    const link = new NetdevLink(r.ops, `/sys/class/net/${name}`);
    const iface = new NetInterface(name, ifindex, r.device, link, {
      log: (level, m) => this.log(level, m),
      input: (i, f) => this.input(i, f),
    });
    const sysfs = addNetSysfs(this.o.vfs, iface);
    this.interfaces.set(name, iface);
    this.drivers.set(iface, r.driver);
    this.arp.set(iface, new ArpTable({
      name, mac: () => iface.mac, ip: () => iface.ipv4?.addr ?? null, send: (f) => iface.xmit(f),
    }));
    this.sockets.set(iface, new Set());
    this.log(6, `${name}: registered by ${r.driver} ${r.device} (ifindex ${ifindex})`);
    this.background(iface, async () => {
      await link.attach();
      await iface.refreshInfo();
      await iface.setUp();
      const cidr = r.properties['ip-address'];
      if (typeof cidr === 'string') this.setAddress(name, cidr);
    });
    const registration = toDisposable(async () => {
      if (this.interfaces.get(name) !== iface) return;
      this.interfaces.delete(name);
      this.arp.get(iface)?.flush('interface removed');
      this.arp.delete(iface);
      for (const s of this.sockets.get(iface) ?? []) s.close();
      this.sockets.delete(iface);
      this.drivers.delete(iface);
      iface.driverGone();
      iface.adminUp = false;
      await sysfs.dispose();
      this.log(6, `${name}: unregistered`);
    });
    return { name, ifindex, registration };
  }

  /** For the binding's devm scope: disposing it means the driver is gone (unbind or crash). */
  driverScope(name: string): IDisposable {
    const iface = this.interfaces.get(name);
    return toDisposable(() => { if (iface && this.interfaces.get(name) === iface) iface.driverGone(); });
  }

  /** The driver registered a kept interface again after its container restarted. */
  reattach(name: string): void {
    const iface = this.interfaces.get(name);
    if (!iface) return;
    this.background(iface, () => iface.driverBack());
  }

  /** The driver's pollNotify on the interface's node. */
  notify(name: string): void {
    this.interfaces.get(name)?.notify();
  }

  private background(iface: NetInterface, fn: () => Promise<void>): void {
    const p: Promise<void> = new Promise<void>((r) => setImmediate(r)).then(fn).catch((e) => {
      // An interface removed meanwhile (unbind during bring-up) fails quietly.
      if (this.interfaces.get(iface.name) === iface && iface.present) this.log(4, `${iface.name}: ${e instanceof Error ? e.message : String(e)}`);
    }).finally(() => { this.settling.delete(p); });
    this.settling.add(p);
  }

  /** Resolves when interfaces being attached or brought up are done (at most `timeoutMs`). */
  async settled(timeoutMs = 5_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (this.settling.size && performance.now() < end) {
      await Promise.race([Promise.allSettled([...this.settling]), new Promise((r) => setTimeout(r, Math.max(1, end - performance.now())).unref())]);
    }
  }

  // ---- administration --------------------------------------------------------------------------

  get(name: string, syscall = 'ioctl'): NetInterface {
    const iface = this.interfaces.get(name);
    if (!iface) {
      throw new SystemError('ENODEV', syscall, name, undefined, { suggestions: this.interfaces.size ? [`interfaces: ${[...this.interfaces.keys()].join(', ')}`] : ['no network interfaces: does the platform have a NIC with a driver?'] });
    }
    return iface;
  }

  names(): string[] { return [...this.interfaces.values()].sort((a, b) => a.ifindex - b.ifindex).map((i) => i.name); }

  async status(name: string): Promise<InterfaceStatus> {
    const i = this.get(name);
    return {
      name: i.name, ifindex: i.ifindex, device: i.device, driver: this.drivers.get(i) ?? '', address: i.info.address,
      mtu: i.info.mtu, up: i.up, carrier: i.carrier, operstate: i.operstate, flags: i.flags,
      ipv4: i.ipv4 ? `${formatIpv4(i.ipv4.addr)}/${i.ipv4.prefix}` : null, txQueueLen: i.txQueueLen, queued: i.queued,
      present: i.present, stats: await i.stats(),
    };
  }

  async list(): Promise<InterfaceStatus[]> {
    return Promise.all(this.names().map((n) => this.status(n)));
  }

  /** Sets (or with null, removes) the interface's IPv4 address, "10.0.0.1/24". */
  setAddress(name: string, cidr: string | null): void {
    const iface = this.get(name);
    if (cidr === null) {
      iface.ipv4 = null;
    } else {
      const c = parseCidr(cidr);
      if (!c || c.prefix === 0) throw new SystemError('EINVAL', 'ioctl', name, `not an IPv4 address with prefix: '${cidr}' (e.g. 10.0.0.1/24)`);
      const net = c.addr & prefixMask(c.prefix);
      if (c.prefix < 31 && (c.addr === net || c.addr === (net | ~prefixMask(c.prefix)) >>> 0)) {
        throw new SystemError('EINVAL', 'ioctl', name, `${cidr} is the network or broadcast address of its subnet`);
      }
      iface.ipv4 = c;
    }
    this.arp.get(iface)?.flush('address changed');
    this.log(6, `${name}: address ${cidr ?? 'removed'}`);
  }

  async setLink(name: string, up: boolean): Promise<void> {
    const iface = this.get(name);
    if (up) {
      if (!iface.present) throw new SystemError('ENXIO', 'ioctl', name, 'driver is restarting');
      await iface.setUp();
    } else {
      await iface.setDown();
      this.arp.get(iface)?.flush('interface down');
    }
  }

  async setMtu(name: string, mtu: number): Promise<void> {
    const iface = this.get(name);
    if (!Number.isInteger(mtu) || mtu < iface.info.minMtu || mtu > iface.info.maxMtu) {
      throw new SystemError('EINVAL', 'ioctl', name, `MTU must be ${iface.info.minMtu}..${iface.info.maxMtu}`);
    }
    await iface.setMtu(mtu);
  }

  /** Resolves when `name` exists, is up and (by default) has a carrier; ETIMEDOUT otherwise. */
  async waitFor(name: string, opts: { carrier?: boolean; timeoutMs?: number } = {}): Promise<NetInterface> {
    const end = performance.now() + (opts.timeoutMs ?? 5_000);
    for (;;) {
      const iface = this.interfaces.get(name);
      if (iface?.up && (opts.carrier === false || iface.carrier)) return iface;
      if (performance.now() > end) throw new SystemError('ETIMEDOUT', 'waitFor', name, iface ? (iface.up ? 'no carrier' : 'interface is down') : 'no such interface');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ---- sockets and captures ----------------------------------------------------------------------

  openPacketSocket(name: string, opts: PacketSocketOptions = {}): PacketSocket {
    const iface = this.get(name, 'bind');
    const s = new PacketSocket(iface, opts);
    const set = this.sockets.get(iface)!;
    set.add(s);
    const close = s.close.bind(s);
    s.close = () => { set.delete(s); close(); };
    return s;
  }

  /** Sends frames out of `name` (a transient packet socket); resolves the count queued. */
  async send(name: string, frames: readonly Uint8Array[]): Promise<number> {
    const s = this.openPacketSocket(name);
    try { return await s.send(frames); } finally { s.close(); }
  }

  capture(name: string, path: string, opts: CaptureOptions = {}): Promise<CaptureResult> {
    const iface = this.get(name, 'bind');
    return capture(iface, path, opts).done;
  }

  // ---- IPv4: ARP, ICMP echo, ping ---------------------------------------------------------------

  /** The interface and source address for `dst` (see the module comment). */
  route(t: PingTarget): PingRoute & { dst: Ipv4 } {
    const dst = parseIpv4(t.dst);
    if (dst === null) throw new SystemError('EINVAL', 'connect', t.dst, 'not an IPv4 address');
    let iface: NetInterface | undefined;
    if (t.iface !== undefined) {
      iface = this.get(t.iface, 'connect');
      if (!iface.ipv4) throw new SystemError('ENETUNREACH', 'connect', t.dst, `${t.iface} has no IPv4 address`);
    } else {
      const up = [...this.interfaces.values()].filter((i) => i.up && i.ipv4).sort((a, b) => a.ifindex - b.ifindex);
      iface = up.find((i) => i.ipv4!.addr === dst);
      const other = up.find((i) => i.ipv4!.addr !== dst && sameSubnet(i.ipv4!.addr, dst, i.ipv4!.prefix));
      iface = other ?? iface;
      if (!iface) throw new SystemError('ENETUNREACH', 'connect', t.dst, 'no interface has an address in its subnet');
    }
    if (!iface.up) throw new SystemError('ENETDOWN', 'connect', t.dst, `${iface.name} is down`);
    const table = this.arp.get(iface)!;
    const src = iface.ipv4!.addr;
    return { iface, src, dst, resolve: (ip) => (ip === src ? Promise.resolve(iface.mac) : table.resolve(ip)) };
  }

  /** One echo request and its reply (or timeout, or unreachable). */
  async ping(o: PingProbeOptions): Promise<PingProbeResult> {
    const route = this.route(o);
    if (route.dst === route.src) return this.pingSelf(route, o);
    return this.pinger.probe(route, route.dst, o);
  }

  /** Pinging one's own address: answered at once without the wire (Linux's loopback path). */
  private async pingSelf(route: PingRoute & { dst: Ipv4 }, o: PingProbeOptions): Promise<PingProbeResult> {
    const size = o.size ?? 56;
    const t0 = performance.now();
    await Promise.resolve();
    return { seq: o.seq, status: 'reply', from: formatIpv4(route.dst), iface: route.iface.name, src: formatIpv4(route.src), bytes: 8 + size, ttl: o.ttl ?? 64, rttMs: performance.now() - t0 };
  }

  /** A received frame, after captures and packet sockets. */
  private input(iface: NetInterface, f: Uint8Array): void {
    const type = etherType(f);
    if (type === ETH_P_ARP) {
      const a = parseArp(f);
      if (a) this.arp.get(iface)?.input(a);
      return;
    }
    if (type !== ETH_P_IP) {
      if (!iface.listeners.size) iface.core.rxNoHandler++;
      return;
    }
    const me = iface.ipv4;
    const ip = parseIpv4Header(f);
    if (!ip || !me || ip.dst !== me.addr || ip.proto !== IPPROTO_ICMP) return;
    const icmp = parseIcmp(f, ip);
    if (!icmp) return;
    if (icmp.type === ICMP_ECHOREPLY) { this.pinger.reply(icmp, ip.ttl, ip.src); return; }
    if (icmp.type !== ICMP_ECHO || icmp.code !== 0) return;
    const dstMac = this.arp.get(iface)?.lookup(ip.src) ?? f.slice(6, 12);
    try {
      iface.xmit(buildIcmpEcho({ src: me.addr, dst: ip.src, ttl: 64, id: ip.id, proto: IPPROTO_ICMP, dstMac, srcMac: iface.mac }, ICMP_ECHOREPLY, icmp.id, icmp.seq, icmp.data));
    } catch (e) {
      this.log(7, `${iface.name}: echo reply not sent: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // ---- /proc/net ----------------------------------------------------------------------------------

  async procNetDev(): Promise<string> {
    const head = 'Inter-|   Receive                                                |  Transmit\n'
      + ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
    const rows = await Promise.all(this.names().map(async (n) => {
      const s = await this.interfaces.get(n)!.stats();
      const c = (v: number, w: number): string => String(v).padStart(w);
      return `${n.padStart(6)}: ${c(s.rx_bytes, 7)} ${c(s.rx_packets, 7)} ${c(s.rx_errors, 4)} ${c(s.rx_dropped + s.rx_missed_errors, 4)} `
        + `${c(s.rx_fifo_errors, 4)} ${c(s.rx_length_errors + s.rx_over_errors + s.rx_crc_errors + s.rx_frame_errors, 5)} `
        + `${c(s.rx_compressed, 10)} ${c(s.multicast, 9)} ${c(s.tx_bytes, 8)} ${c(s.tx_packets, 7)} ${c(s.tx_errors, 4)} `
        + `${c(s.tx_dropped, 4)} ${c(s.tx_fifo_errors, 4)} ${c(s.collisions, 5)} `
        + `${c(s.tx_carrier_errors + s.tx_aborted_errors + s.tx_window_errors + s.tx_heartbeat_errors, 7)} ${c(s.tx_compressed, 10)}\n`;
    }));
    return head + rows.join('');
  }

  procNetArp(): string {
    const rows = this.names().flatMap((n) => this.arp.get(this.interfaces.get(n)!)?.procRows() ?? []);
    return 'IP address       HW type     Flags       HW address            Mask     Device\n' + rows.map((r) => `${r}\n`).join('');
  }
}

/** Thrown by control methods when the kernel has no network stack (a platform without one). */
export function noNetStack(): HmError {
  return new HmError('ENODEV', 'this kernel has no network stack');
}
