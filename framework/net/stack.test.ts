/**
 * The kernel's network stack without drivers: two fake net nodes speaking the abi.ts protocol,
 * joined by a JS "wire", give ARP resolution, ICMP echo, routing per subnet and per -I, packet
 * sockets with bounded queues, sysfs and /proc/net; plus the header codecs and the batch format.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from '../vfs/vfs.js';
import { KernelLog } from '../kernel/klog.js';
import type { DeviceFileOperations, OpenFileInfo } from '../vfs/types.js';
import {
  decodeFrames, encodeFrames, encodeStats, NETDEV_IOC, NETDEV_RX, NETDEV_RX_HEADER, writeU32, zeroStats,
} from './abi.js';
import { NetStack } from './stack.js';
import {
  ARPOP_REQUEST, BROADCAST_MAC, buildArp, buildIcmpEcho, formatIpv4, ICMP_ECHO, inetChecksum, parseArp, parseCidr,
  parseIcmp, parseIpv4, parseIpv4Header, parseMac,
} from './wire-format.js';

/** A fake driver: frames written go to `peer`, received ones wait for the kernel's read. */
class FakeNic {
  peer: FakeNic | null = null;
  rx: Uint8Array[] = [];
  up = false;
  carrier = true;
  sent = 0;
  notify: () => void = () => undefined;
  constructor(readonly mac: string) {}

  ops(): DeviceFileOperations {
    return {
      open: async (f: OpenFileInfo) => { if ((f.flags & 3) !== 0) this.up = true; },
      release: async () => { this.up = false; },
      write: async (_f, data) => {
        const { frames } = decodeFrames(data);
        for (const fr of frames) { this.sent++; this.peer?.deliver(fr.slice()); }
        return { written: data.length, position: 0 };
      },
      read: async (_f, length) => {
        const take: Uint8Array[] = [];
        let bytes = NETDEV_RX_HEADER;
        while (this.rx.length && bytes + 4 + this.rx[0]!.length <= length) { bytes += 4 + this.rx[0]!.length; take.push(this.rx.shift()!); }
        const out = new Uint8Array(bytes);
        writeU32(out, 0, (this.carrier ? NETDEV_RX.CARRIER : 0) | (this.rx.length ? NETDEV_RX.MORE : 0));
        writeU32(out, 4, take.length);
        encodeFrames(take, out, NETDEV_RX_HEADER);
        return { data: out, position: 0 };
      },
      ioctl: async (_f, cmd) => {
        if (cmd === NETDEV_IOC.INFO) {
          return { ret: 0, out: new TextEncoder().encode(JSON.stringify({ address: this.mac, broadcast: 'ff:ff:ff:ff:ff:ff', mtu: 1500, minMtu: 68, maxMtu: 1500, type: 1, carrier: this.carrier, txQueueLen: 1000 })) };
        }
        if (cmd === NETDEV_IOC.GET_STATS64) return { ret: 0, out: encodeStats({ ...zeroStats(), tx_packets: this.sent }) };
        return { ret: 0 };
      },
    };
  }

  deliver(f: Uint8Array): void {
    if (!this.up) return;
    this.rx.push(f);
    setImmediate(() => this.notify());
  }
}

describe('wire formats', () => {
  it('checksums, ARP and ICMP round trips, addresses', () => {
    // RFC 1071's example: 0001 f203 f4f5 f6f7 -> checksum 0x220d
    assert.equal(inetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7), 0, 8), 0x220d);
    const mac = parseMac('52:54:00:12:34:01')!;
    const a = parseArp(buildArp(ARPOP_REQUEST, mac, parseIpv4('10.0.0.1')!, BROADCAST_MAC, new Uint8Array(6), parseIpv4('10.0.0.2')!))!;
    assert.deepEqual([a.op, formatIpv4(a.spa), formatIpv4(a.tpa)], [ARPOP_REQUEST, '10.0.0.1', '10.0.0.2']);
    const data = Uint8Array.from({ length: 56 }, (_, i) => i);
    const f = buildIcmpEcho({ src: parseIpv4('10.0.0.1')!, dst: parseIpv4('10.0.0.2')!, ttl: 64, id: 1, proto: 1, dstMac: mac, srcMac: mac }, ICMP_ECHO, 0x1234, 7, data);
    const ip = parseIpv4Header(f)!;
    assert.deepEqual([formatIpv4(ip.src), formatIpv4(ip.dst), ip.ttl, ip.totalLen], ['10.0.0.1', '10.0.0.2', 64, 84]);
    const icmp = parseIcmp(f, ip)!;
    assert.deepEqual([icmp.type, icmp.id, icmp.seq], [ICMP_ECHO, 0x1234, 7]);
    assert.deepEqual(icmp.data, data);
    f[40] ^= 1;
    assert.equal(parseIcmp(f, ip), null, 'a corrupted ICMP checksum');
    assert.deepEqual(parseCidr('10.1.2.3/8'), { addr: parseIpv4('10.1.2.3'), prefix: 8 });
    for (const bad of ['10.0.0/24', '10.0.0.1/33', '300.0.0.1/24', '10.0.0.1/24/1']) assert.equal(parseCidr(bad), null, bad);
  });

  it('frames a batch as length-prefixed records and stops at a torn record', () => {
    const frames = [Uint8Array.of(1, 2, 3), new Uint8Array(0), Uint8Array.of(9)];
    const out = new Uint8Array(4 * 3 + 4);
    assert.equal(encodeFrames(frames, out), out.length);
    assert.deepEqual(decodeFrames(out).frames.map((f) => Array.from(f)), [[1, 2, 3], [], [9]]);
    const torn = decodeFrames(out.subarray(0, 15));
    assert.equal(torn.frames.length, 2);
    assert.equal(torn.rest, 11, 'the third record is cut: it is left for later');
  });
});

describe('NetStack over fake drivers', () => {
  let vfs: Vfs;
  let stack: NetStack;
  let a: FakeNic, b: FakeNic;
  const regs: { dispose(): unknown }[] = [];

  beforeEach(async () => {
    vfs = new Vfs();
    for (const d of ['/sys/devices/platform/nicA', '/sys/devices/platform/nicB', '/sys/class']) vfs.mkdirp(d);
    stack = new NetStack({ vfs, log: new KernelLog() });
    a = new FakeNic('02:00:00:00:00:0a');
    b = new FakeNic('02:00:00:00:00:0b');
    a.peer = b; b.peer = a;
    const ra = stack.register({ template: 'eth%d', device: 'nicA', driver: 'fake', properties: { 'ip-address': '192.168.7.1/24' }, ops: a.ops() });
    const rb = stack.register({ template: 'eth%d', device: 'nicB', driver: 'fake', properties: { 'ip-address': '192.168.7.2/24' }, ops: b.ops() });
    regs.push(ra.registration, rb.registration);
    a.notify = () => stack.notify(ra.name);
    b.notify = () => stack.notify(rb.name);
    await stack.settled();
  });
  afterEach(async () => { for (const r of regs.splice(0)) await r.dispose(); });

  it('names interfaces eth0, eth1, brings them up and makes sysfs', async () => {
    assert.deepEqual(stack.names(), ['eth0', 'eth1']);
    assert.equal(await vfs.readFile('/sys/class/net/eth1/address', { encoding: 'utf8' }), '02:00:00:00:00:0b\n');
    await stack.waitFor('eth0');
    assert.equal(await vfs.readFile('/sys/class/net/eth0/operstate', { encoding: 'utf8' }), 'up\n');
    assert.throws(() => stack.register({ template: 'eth0', device: 'nicA', driver: 'fake', properties: {}, ops: a.ops() }), { code: 'EEXIST' });
    assert.throws(() => stack.register({ template: '0bad', device: 'nicA', driver: 'fake', properties: {}, ops: a.ops() }), { code: 'EINVAL' });
  });

  it('resolves with ARP, answers ping per interface, routes by subnet', async () => {
    stack.notify('eth0'); stack.notify('eth1');
    await stack.waitFor('eth0'); await stack.waitFor('eth1');
    const r = await stack.ping({ dst: '192.168.7.2', seq: 1 });
    assert.equal(r.status, 'reply');
    assert.equal(r.iface, 'eth0', 'the other interface in the subnet, not the destination itself');
    const back = await stack.ping({ dst: '192.168.7.1', iface: 'eth1', seq: 2, size: 1400 });
    assert.deepEqual([back.status, back.bytes], ['reply', 1408]);
    assert.match(stack.procNetArp(), /192\.168\.7\.2\s+0x1\s+0x2\s+02:00:00:00:00:0b\s+\*\s+eth0/);
    await assert.rejects(stack.ping({ dst: '192.168.7.1', seq: 3, size: 1500 }), { code: 'EMSGSIZE' });
    await assert.rejects(stack.ping({ dst: 'nonsense', seq: 3 }), { code: 'EINVAL' });
  });

  it('delivers frames to packet sockets, drops at a full queue and counts it', async () => {
    stack.notify('eth0'); stack.notify('eth1');
    await stack.waitFor('eth0'); await stack.waitFor('eth1');
    const s = stack.openPacketSocket('eth1', { protocol: 0x88b5, queueFrames: 3 });
    const f = new Uint8Array(60);
    f[12] = 0x88; f[13] = 0xb5;
    assert.equal(await stack.send('eth0', [f, f, f, f, f]), 5);
    for (let i = 0; i < 100 && s.received + s.drops < 5; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual([s.queued, s.drops], [3, 2]);
    assert.equal((await s.recvBatch(10, 0)).length, 3);
    assert.equal(await s.recv(10), null, 'timeout');
    s.close();
    const dev = await stack.procNetDev();
    assert.match(dev, /^\s+eth0:\s+\d+\s+\d+\s+0\s+0\s+0\s+0\s+0\s+0\s+\d+\s+5\s/m);
  });
});
