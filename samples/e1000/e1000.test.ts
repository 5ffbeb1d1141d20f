/**
 * The e1000 driver end to end, in every isolation class: two simulated hosts (two NICs on one
 * wire, each interface with its own address). Ping goes out through eth0's driver, across the
 * wire model and in through eth1's driver, which answers; raw frames go both ways with their
 * bytes checked; sysfs, /proc/net and the statistics follow; bad input gets its errno; a
 * capture is read back (and by tshark when installed); the driver survives unbind/bind and,
 * in IC2, a killed container.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import type { NetStack } from '../../framework/net/stack.js';
import { packageRoot } from '../../devices/native/index.js';
import { readPcap } from '../../devices/nic/pcap.js';

const PLATFORM = join(packageRoot(), 'samples', 'platforms', 'net.platform.json');
const MAC0 = '52:54:00:12:34:01', MAC1 = '52:54:00:12:34:02';
const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

/** An Ethernet frame from `src` to `dst` with EtherType 0x88b5 and a numbered payload. */
function frame(dst: string, src: string, size: number, seq: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set(dst.split(':').map((x) => parseInt(x, 16)), 0);
  f.set(src.split(':').map((x) => parseInt(x, 16)), 6);
  f[12] = 0x88; f[13] = 0xb5;
  new DataView(f.buffer).setUint32(14, seq);
  for (let i = 18; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

const sysfs = async (k: BootedKernel, path: string): Promise<string> => ((await k.vfs.readFile(path, { encoding: 'utf8' })) as string).trim();

for (const ic of ['ic0', 'ic1', 'ic2'] as const) {
  describe(`e1000 on two NICs in ${ic}`, () => {
    let k: BootedKernel;
    let net: NetStack;
    before(async () => {
      const log: string[] = [];
      k = await bootPlatform({ platform: PLATFORM, isolation: ic, onLog: (l) => log.push(l) });
      net = k.net!;
      try {
        await net.waitFor('eth0', { timeoutMs: 30_000 });
        await net.waitFor('eth1', { timeoutMs: 30_000 });
      } catch (e) {
        throw new Error(`${(e as Error).message}; kernel log:\n${log.join('\n')}`);
      }
    });
    after(() => k.shutdown());

    it('registers eth0 and eth1 with their MACs, addresses and sysfs', async () => {
      assert.deepEqual(net.names(), ['eth0', 'eth1']);
      assert.equal(await sysfs(k, '/sys/class/net/eth0/address'), MAC0);
      assert.equal(await sysfs(k, '/sys/class/net/eth1/address'), MAC1);
      for (const [file, want] of [['mtu', '1500'], ['operstate', 'up'], ['carrier', '1'], ['type', '1'], ['flags', '0x1003'], ['addr_len', '6'], ['tx_queue_len', '1000']]) {
        assert.equal(await sysfs(k, `/sys/class/net/eth0/${file}`), want, file);
      }
      assert.equal(await k.vfs.readlink('/sys/class/net/eth0'), '../../devices/platform/nic0/net/eth0');
      assert.equal(await k.vfs.realpath('/sys/class/net/eth1/device'), '/sys/devices/platform/nic1');
      const st = await net.status('eth1');
      assert.equal(st.ipv4, '10.0.0.2/24');
      assert.equal(st.driver, 'e1000');
      assert.deepEqual(k.devices().find((d) => d.name === 'nic0')!.nodes, ['/sys/class/net/eth0']);
    });

    it('pings eth1 from eth0 and eth0 from eth1 through both drivers', async () => {
      for (let seq = 1; seq <= 3; seq++) {
        const r = await net.ping({ dst: '10.0.0.2', seq, timeoutMs: 3000 });
        assert.equal(r.status, 'reply', JSON.stringify(r));
        assert.equal(r.iface, 'eth0');
        assert.equal(r.from, '10.0.0.2');
        assert.equal(r.bytes, 64);
        assert.equal(r.ttl, 64);
        assert.ok(r.rttMs! > 0 && !r.corrupt);
      }
      const back = await net.ping({ dst: '10.0.0.1', iface: 'eth1', seq: 9, size: 1000, timeoutMs: 3000 });
      assert.equal(back.status, 'reply');
      assert.equal(back.bytes, 1008);
      const arp = await sysfs(k, '/proc/net/arp');
      assert.match(arp, /^10\.0\.0\.2\s+0x1\s+0x2\s+52:54:00:12:34:02\s+\*\s+eth0$/m);
    });

    it('moves raw frames both ways with their contents intact', async () => {
      const rx1 = net.openPacketSocket('eth1', { protocol: 0x88b5 });
      const rx0 = net.openPacketSocket('eth0', { protocol: 0x88b5 });
      try {
        const sizes = Array.from({ length: 200 }, (_, i) => 60 + ((i * 37) % 1455));
        const out = sizes.map((s, i) => frame(MAC1, MAC0, s, i));
        assert.equal(await net.openPacketSocket('eth0').send(out), out.length);
        const got: Uint8Array[] = [];
        while (got.length < out.length) {
          const b = await rx1.recvBatch(1000, 5000);
          if (!b.length) break;
          got.push(...b.map((f) => f.data));
        }
        assert.equal(got.length, out.length, `received ${got.length} of ${out.length}`);
        got.forEach((f, i) => assert.deepEqual(f, out[i], `frame ${i}`));
        const reply = frame(MAC0, MAC1, 1514, 4242);
        await net.send('eth1', [reply]);
        const r = await rx0.recv(5000);
        assert.ok(r, 'reply frame arrived');
        assert.deepEqual(r.data, reply);
        assert.equal(r.dir, 'in');
        assert.equal(rx1.drops, 0);
      } finally {
        rx1.close();
        rx0.close();
      }
    });

    it('counts traffic in sysfs statistics and /proc/net/dev', async () => {
      const before = Number(await sysfs(k, '/sys/class/net/eth0/statistics/tx_packets'));
      const rxBefore = Number(await sysfs(k, '/sys/class/net/eth1/statistics/rx_bytes'));
      await net.send('eth0', Array.from({ length: 10 }, (_, i) => frame(MAC1, MAC0, 100, i)));
      let after = before;
      for (let i = 0; i < 200 && after < before + 10; i++) {
        await new Promise((r) => setTimeout(r, 10));
        after = Number(await sysfs(k, '/sys/class/net/eth0/statistics/tx_packets'));
      }
      assert.ok(after >= before + 10, `tx_packets ${before} -> ${after}`);
      let rxAfter = rxBefore;
      for (let i = 0; i < 200 && rxAfter < rxBefore + 1000; i++) {
        rxAfter = Number(await sysfs(k, '/sys/class/net/eth1/statistics/rx_bytes'));
        if (rxAfter < rxBefore + 1000) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(rxAfter >= rxBefore + 1000, `rx_bytes ${rxBefore} -> ${rxAfter}`);
      const dev = await sysfs(k, '/proc/net/dev');
      const m = /^\s+eth1:\s+(\d+)\s+(\d+)\s+0\s+0\s/m.exec(dev);
      assert.ok(m, dev);
      assert.ok(Number(m[1]) >= rxAfter && Number(m[2]) > 10);
      assert.ok(dev.startsWith('Inter-|   Receive'), dev);
    });

    it('refuses bad frames and unknown or down interfaces with errno', async () => {
      await assert.rejects(net.send('eth0', [new Uint8Array(1515)]), { code: 'EMSGSIZE' });
      await assert.rejects(net.send('eth0', [new Uint8Array(10)]), { code: 'EINVAL' });
      await assert.rejects(net.send('eth9', [new Uint8Array(60)]), { code: 'ENODEV' });
      assert.throws(() => net.setAddress('eth0', '10.0.0.300/24'), { code: 'EINVAL' });
      await assert.rejects(net.ping({ dst: '10.9.9.9', seq: 1 }), { code: 'ENETUNREACH' });
      await assert.rejects(k.vfs.writeFile('/sys/class/net/eth0/mtu', '99999'), { code: 'EINVAL' });
      await net.setLink('eth1', false);
      try {
        assert.equal(await sysfs(k, '/sys/class/net/eth1/operstate'), 'down');
        assert.equal(await sysfs(k, '/sys/class/net/eth1/flags'), '0x1002');
        await assert.rejects(k.vfs.readFile('/sys/class/net/eth1/carrier'), { code: 'EINVAL' });
        await assert.rejects(net.send('eth1', [frame(MAC0, MAC1, 60, 1)]), { code: 'ENETDOWN' });
        await assert.rejects(net.ping({ dst: '10.0.0.1', iface: 'eth1', seq: 1 }), { code: 'ENETDOWN' });
        // eth1 is down: nobody answers eth0's ARP any more.
        const lost = await net.ping({ dst: '10.0.0.2', seq: 77, timeoutMs: 300 });
        assert.ok(lost.status === 'timeout' || lost.status === 'unreachable', lost.status);
      } finally {
        await net.setLink('eth1', true);
      }
      await net.waitFor('eth1');
      assert.equal((await net.ping({ dst: '10.0.0.2', seq: 78, timeoutMs: 3000 })).status, 'reply');
    });

    it('changes the MTU through sysfs (ndo_change_mtu) and enforces it', async () => {
      await k.vfs.writeFile('/sys/class/net/eth0/mtu', '1400');
      try {
        assert.equal(await sysfs(k, '/sys/class/net/eth0/mtu'), '1400');
        await assert.rejects(net.send('eth0', [new Uint8Array(1415)]), { code: 'EMSGSIZE' });
        assert.equal(await net.send('eth0', [frame(MAC1, MAC0, 1414, 1)]), 1);
      } finally {
        await k.vfs.writeFile('/sys/class/net/eth0/mtu', '1500');
      }
    });

    it('drops carrier at both ends when the cable is pulled, and recovers when it is plugged back', async () => {
      const carrierOf = async (n: string) => sysfs(k, `/sys/class/net/${n}/carrier`);
      await k.setCable!('nic0', false);
      for (const n of ['eth0', 'eth1']) {
        for (let i = 0; i < 400 && (await carrierOf(n)) !== '0'; i++) await new Promise((r) => setTimeout(r, 5));
        assert.equal(await carrierOf(n), '0', `${n} carrier after the unplug (link-change interrupt)`);
      }
      const lost = await net.ping({ dst: '10.0.0.2', seq: 40, timeoutMs: 300 });
      assert.notEqual(lost.status, 'reply');
      await k.setCable!('nic0', true);
      await net.waitFor('eth0', { timeoutMs: 5_000 });
      await net.waitFor('eth1', { timeoutMs: 5_000 });
      const back = await net.ping({ dst: '10.0.0.2', seq: 41, timeoutMs: 3000 });
      assert.equal(back.status, 'reply', JSON.stringify(back));
      await assert.rejects(k.setCable!('nope', false), { code: 'ENODEV' });
    });

    it('captures both directions into a pcap file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hmdrv-e1000-'));
      const file = join(dir, 'eth0.pcap');
      try {
        const cap = net.capture('eth0', file, { count: 2 });
        const r = await net.ping({ dst: '10.0.0.2', seq: 500, timeoutMs: 3000 });
        assert.equal(r.status, 'reply');
        const res = await cap;
        assert.equal(res.frames, 2);
        const pcap = readPcap(readFileSync(file));
        assert.equal(pcap.linktype, 1);
        assert.equal(pcap.records.length, 2);
        assert.deepEqual(Array.from(pcap.records[0]!.data.subarray(0, 6)), [0x52, 0x54, 0, 0x12, 0x34, 2]);
        assert.equal(pcap.records[0]!.data[14 + 20], 8);  // ICMP echo request out
        assert.equal(pcap.records[1]!.data[14 + 20], 0);  // echo reply in
        if (hasTshark) {
          const t = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type', '-e', 'icmp.seq'], { encoding: 'utf8', timeout: 60_000 });
          assert.equal(t.status, 0, t.stderr);
          assert.deepEqual(t.stdout.trim().split('\n').map((l) => l.split('\t')), [['10.0.0.1', '10.0.0.2', '8', '500'], ['10.0.0.2', '10.0.0.1', '0', '500']]);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('loses eth0 on unbind and gets it back, same name, on bind', async () => {
      await k.unbind('nic0');
      assert.deepEqual(net.names(), ['eth1']);
      assert.equal(k.vfs.exists('/sys/class/net/eth0'), false);
      await k.bind('nic0');
      await net.settled();
      await net.waitFor('eth0');
      net.setAddress('eth0', '10.0.0.1/24');
      assert.equal((await net.ping({ dst: '10.0.0.2', seq: 600, timeoutMs: 3000 })).status, 'reply');
    });

    if (ic === 'ic2') {
      it('comes back up under its name after the driver container is killed', async () => {
        const c = k.containers().find((x) => x.id === 'e1000.ic2')!;
        process.kill(c.pid!, 'SIGKILL');
        for (let i = 0; i < 500 && !(k.containers().find((x) => x.id === 'e1000.ic2')?.restarts); i++) await new Promise((r) => setTimeout(r, 10));
        await net.waitFor('eth0', { timeoutMs: 10_000 });
        await net.waitFor('eth1', { timeoutMs: 10_000 });
        assert.deepEqual(net.names().sort(), ['eth0', 'eth1']);
        const r = await net.ping({ dst: '10.0.0.2', seq: 700, timeoutMs: 3000 });
        assert.equal(r.status, 'reply', JSON.stringify(r));
      });
    }
  });
}

describe('e1000 without a cable (ic1)', () => {
  let k: BootedKernel;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hmdrv-e1000-'));
    const p = JSON.parse(readFileSync(PLATFORM, 'utf8')) as { devices: { properties: Record<string, unknown> }[] };
    delete p.devices[1]!.properties.wire; // nic1's cable is unplugged: no carrier
    const file = join(dir, 'nocable.platform.json');
    writeFileSync(file, JSON.stringify({ ...p, driverPaths: [] }));
    k = await bootPlatform({ platform: file, isolation: 'ic1' });
    await k.net!.waitFor('eth1', { carrier: false });
  });
  after(async () => { await k.shutdown(); rmSync(dir, { recursive: true, force: true }); });

  it('reports carrier 0 and loses pings', async () => {
    const net = k.net!;
    await new Promise((r) => setTimeout(r, 50)); // the watchdog has looked at the link by now
    assert.equal(await sysfs(k, '/sys/class/net/eth1/carrier'), '0');
    assert.equal(await sysfs(k, '/sys/class/net/eth1/operstate'), 'down');
    const r = await net.ping({ dst: '10.0.0.1', iface: 'eth1', seq: 1, timeoutMs: 200 });
    assert.equal(r.status, 'unreachable');
    assert.ok(Number(await sysfs(k, '/sys/class/net/eth1/statistics/tx_dropped')) >= 1);
  });
});
