/**
 * `hmdrv net` and `hmdrv ping` end to end through the real bin, against the net platform (two
 * e1000 NICs on one wire, IC1) served on a control socket: listing, ping output and exit codes,
 * frames sent from the command line and captured into a pcap file, link and address changes,
 * and the errors for bad input. Also the formatting helpers at unit level.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { bootPlatform } from '../containers/boot.js';
import type { BootedKernel } from '../framework/boot.js';
import { ControlServer } from '../framework/control/server.js';
import { readPcap } from '../devices/nic/pcap.js';
import { formatRtt, parseFrames, pingLine, summarize, summaryLines } from './lib/net-format.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'cli', 'bin', 'run.js');
const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', HMDRV_SOCKET: '', OCLIF_COLUMNS: '500' };

interface Run { code: number; stdout: string; stderr: string }

let sock = '';
function hmdrv(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args, '--socket', sock], { env, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const FRAME_HEX = '525400123402' + '525400123401' + '88b5' + '00'.repeat(46);

describe('hmdrv net / ping: formatting', () => {
  it('prints ping times and summaries as Linux ping does', () => {
    assert.equal(formatRtt(0.4123), '0.412');
    assert.equal(formatRtt(5.6421), '5.64');
    assert.equal(formatRtt(10.73), '10.7');
    assert.equal(formatRtt(123.4), '123');
    assert.equal(pingLine({ seq: 1, status: 'reply', from: '10.0.0.2', iface: 'eth0', src: '10.0.0.1', bytes: 64, ttl: 64, rttMs: 0.5 }),
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.500 ms');
    assert.equal(pingLine({ seq: 2, status: 'unreachable', from: '10.0.0.1', iface: 'eth0', src: '10.0.0.1' }), 'From 10.0.0.1 icmp_seq=2 Destination Host Unreachable');
    assert.equal(pingLine({ seq: 3, status: 'timeout', from: '10.0.0.2', iface: 'eth0', src: '10.0.0.1' }), null);
    const s = summarize('10.0.0.2', [
      { seq: 1, status: 'reply', from: 'x', iface: 'eth0', src: 'y', rttMs: 1 },
      { seq: 2, status: 'reply', from: 'x', iface: 'eth0', src: 'y', rttMs: 3 },
      { seq: 3, status: 'timeout', from: 'x', iface: 'eth0', src: 'y' },
      { seq: 4, status: 'unreachable', from: 'x', iface: 'eth0', src: 'y' },
    ], 3004.4);
    assert.deepEqual(summaryLines(s), [
      '--- 10.0.0.2 ping statistics ---',
      '4 packets transmitted, 2 received, +1 errors, 50% packet loss, time 3004ms',
      'rtt min/avg/max/mdev = 1.000/2.000/3.000/1.000 ms',
    ]);
  });

  it('reads frames from hex (with separators), raw files and pcap files', async () => {
    assert.deepEqual(Array.from(parseFrames('ff:ff 00-01.02 03')[0]!), [0xff, 0xff, 0, 1, 2, 3]);
    assert.throws(() => parseFrames('abc'), { code: 'EINVAL' });
    assert.throws(() => parseFrames('zz'), { code: 'EINVAL' });
    const dir = await mkdtemp(join(tmpdir(), 'hmnet-'));
    try {
      await writeFile(join(dir, 'raw.bin'), Buffer.from([1, 2, 3]));
      assert.deepEqual(Array.from(parseFrames(join(dir, 'raw.bin'))[0]!), [1, 2, 3]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('hmdrv net / ping against the net platform', () => {
  let dir: string;
  let k: BootedKernel;
  let server: ControlServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hmnet-'));
    sock = join(dir, 'control.sock');
    k = await bootPlatform({ platform: join(root, 'samples', 'platforms', 'net.platform.json'), isolation: 'ic1' });
    await k.net!.waitFor('eth0');
    await k.net!.waitFor('eth1');
    server = await ControlServer.listen(k, sock);
  });
  after(async () => {
    await server.close();
    await k.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists interfaces as a table and as JSON', async () => {
    const [t, j] = await Promise.all([hmdrv('net'), hmdrv('net', 'eth1', '--json')]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^IFACE\s+DEVICE\s+DRIVER\s+STATE\s+CARRIER\s+MTU\s+MAC\s+IPV4/);
    assert.match(t.stdout, /^eth0\s+nic0\s+e1000\s+up\s+yes\s+1500\s+52:54:00:12:34:01\s+10\.0\.0\.1\/24/m);
    const list = JSON.parse(j.stdout) as { name: string; ipv4: string; carrier: boolean }[];
    assert.deepEqual(list.map((i) => [i.name, i.ipv4, i.carrier]), [['eth1', '10.0.0.2/24', true]]);
  });

  it('pings with Linux-like output, and exits 2 when the host is unreachable', async () => {
    const r = await hmdrv('ping', '-c', '3', '-i', '0', '10.0.0.2');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.');
    for (let i = 1; i <= 3; i++) assert.match(lines[i]!, new RegExp(`^64 bytes from 10\\.0\\.0\\.2: icmp_seq=${i} ttl=64 time=[\\d.]+ ms$`));
    assert.equal(lines[5], '--- 10.0.0.2 ping statistics ---');
    assert.match(lines[6]!, /^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$/);
    assert.match(lines[7]!, /^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/);
    const j = JSON.parse((await hmdrv('ping', '-I', 'eth1', '-c', '2', '-i', '0', '-s', '200', '10.0.0.1', '--json')).stdout) as { received: number; probes: { iface: string; bytes: number }[] };
    assert.equal(j.received, 2);
    assert.deepEqual(j.probes.map((p) => [p.iface, p.bytes]), [['eth1', 208], ['eth1', 208]]);
    const u = await hmdrv('ping', '-c', '1', '10.0.0.77');
    assert.equal(u.code, 2);
    assert.match(u.stdout, /From 10\.0\.0\.1 icmp_seq=1 Destination Host Unreachable/);
    assert.match(u.stdout, /1 packets transmitted, 0 received, \+1 errors, 100% packet loss/);
    const n = await hmdrv('ping', '-c', '1', '192.168.5.5');
    assert.equal(n.code, 1);
    assert.match(n.stderr, /ENETUNREACH/);
  });

  it('sends frames from the command line and captures them into a pcap file', async () => {
    const file = join(dir, 'eth1.pcap');
    const cap = hmdrv('net', 'capture', 'eth1', file, '--count', '4', '--json');
    // The frames go out once the capture listens on eth1.
    for (let i = 0; i < 2000 && k.net!.get('eth1').listeners.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const s = await hmdrv('net', 'send', 'eth0', FRAME_HEX.slice(0, 28), FRAME_HEX.slice(28), '--count', '4');
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout.trim(), 'sent 4 frames (240 bytes) on eth0');
    const c = await cap;
    assert.equal(c.code, 0, c.stderr);
    assert.equal((JSON.parse(c.stdout) as { frames: number }).frames, 4);
    const recs = readPcap(await readFile(file)).records;
    assert.equal(recs.length, 4);
    assert.equal(Buffer.from(recs[0]!.data).toString('hex'), FRAME_HEX);
    // a pcap file as the frame source
    const again = await hmdrv('net', 'send', 'eth0', file);
    assert.equal(again.stdout.trim(), 'sent 4 frames (240 bytes) on eth0');
  });

  it('changes links and addresses, and reports bad input', async () => {
    const down = await hmdrv('net', 'link', 'eth1', 'down');
    assert.match(down.stdout, /^eth1\s+nic1\s+e1000\s+down\s+-/m);
    const e = await hmdrv('net', 'send', 'eth1', FRAME_HEX);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /ENETDOWN: network is down, sendmsg 'eth1'/);
    assert.equal((await hmdrv('net', 'link', 'eth1', 'up')).code, 0);
    await k.net!.waitFor('eth1');
    const a = await hmdrv('net', 'addr', 'eth1', '10.0.0.22/24');
    assert.match(a.stdout, /10\.0\.0\.22\/24/);
    assert.equal((await hmdrv('ping', '-c', '1', '10.0.0.22')).code, 0);
    await hmdrv('net', 'addr', 'eth1', '10.0.0.2/24');
    const big = await hmdrv('net', 'send', 'eth0', 'ab'.repeat(1515));
    assert.match(big.stderr, /EMSGSIZE/);
    const none = await hmdrv('net', 'send', 'eth5', FRAME_HEX);
    assert.match(none.stderr, /ENODEV: no such device/);
    assert.match(none.stderr, /Try this: interfaces: eth0, eth1/);
    const badAddr = await hmdrv('net', 'addr', 'eth0', '10.0.0.1');
    assert.equal(badAddr.code, 0); // a /32 is an address too
    await hmdrv('net', 'addr', 'eth0', '10.0.0.1/24');
    const mtu = await hmdrv('net', 'link', 'eth0', '--mtu', '9000');
    assert.match(mtu.stderr, /EINVAL.*MTU must be 46\.\.1500/);
    // Pulling the cable is the machine's business, not an ifdown: the interface stays up.
    assert.equal((await hmdrv('net', 'link', 'eth0', '--cable', 'unplug')).code, 0);
    for (let i = 0; i < 400 && (await k.net!.status('eth0')).carrier; i++) await new Promise((r) => setTimeout(r, 5));
    const pulled = await k.net!.status('eth0');
    assert.deepEqual([pulled.up, pulled.carrier], [true, false]);
    assert.equal((await hmdrv('net', 'link', 'eth0', '--cable', 'plug')).code, 0);
    await k.net!.waitFor('eth0');
  });
});
