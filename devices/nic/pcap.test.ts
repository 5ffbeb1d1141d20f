/**
 * pcap capture: the file is parsed back field by field, and, when tshark is installed, read by
 * tshark too (skipped otherwise).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ethFrame, nicPair } from './e1000.testing.js';
import { LINKTYPE_ETHERNET, PcapWriter, readPcap } from './pcap.js';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

function tmp(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hmdrv-pcap-'));
  return { dir, file: join(dir, 'cap.pcap') };
}

/** Two NICs exchanging frames of several sizes, captured on the wire. */
function capture(file: string, snaplen?: number) {
  const rig = nicPair({ params: { rate: '1g' } });
  const pcap = new PcapWriter(file, { snaplen });
  pcap.attach(rig.wire);
  const { a, b, clock } = rig;
  const sent = [
    ethFrame({ dst: b.drv.mac, src: a.drv.mac, size: 60, seed: 1 }),
    ethFrame({ dst: 'ff:ff:ff:ff:ff:ff', src: a.drv.mac, size: 1514, seed: 2 }),
    ethFrame({ dst: a.drv.mac, src: b.drv.mac, size: 200, type: 0x88b6, seed: 3 }),
  ];
  a.drv.transmit(sent.slice(0, 2));
  clock.runUntilIdle();
  b.drv.transmit(sent[2]!);
  clock.runUntilIdle();
  pcap.close();
  return { sent, rig };
}

describe('pcap writer', () => {
  it('writes a classic libpcap file: header, records, microsecond timestamps', () => {
    const { dir, file } = tmp();
    try {
      const { sent, rig } = capture(file);
      const pf = readPcap(readFileSync(file));
      assert.equal(pf.versionMajor, 2);
      assert.equal(pf.versionMinor, 4);
      assert.equal(pf.snaplen, 65535);
      assert.equal(pf.linktype, LINKTYPE_ETHERNET);
      assert.deepEqual(pf.records.map((r) => r.data), sent);
      assert.deepEqual(pf.records.map((r) => r.origLen), [60, 1514, 200]);
      // The NIC hands a frame to the wire when serialised: 672 ns, then + 12.304 us.
      const us = pf.records.map((r) => r.tsSec * 1e6 + r.tsUsec);
      assert.ok(us[1]! - us[0]! === 12, `${us}`);
      assert.ok(us[2]! >= us[1]!);
      assert.equal(rig.b.drv.poll().length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('truncates to the snaplen and keeps the original length', () => {
    const { dir, file } = tmp();
    try {
      capture(file, 64);
      const pf = readPcap(readFileSync(file));
      assert.equal(pf.snaplen, 64);
      assert.deepEqual(pf.records.map((r) => r.data.length), [60, 64, 64]);
      assert.deepEqual(pf.records.map((r) => r.origLen), [60, 1514, 200]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('converts ns timestamps and ignores writes after close', () => {
    const { dir, file } = tmp();
    try {
      const w = new PcapWriter(file);
      w.write(new Uint8Array(60), 3_000_001_999n);
      w.write(new Uint8Array(14), 1500);
      w.close();
      w.write(new Uint8Array(60), 0n);
      w.close();
      const pf = readPcap(readFileSync(file));
      assert.deepEqual(pf.records.map((r) => [r.tsSec, r.tsUsec]), [[3, 1], [0, 1]]);
      assert.equal(w.frames, 2);
      assert.throws(() => readPcap(new Uint8Array(10)), /shorter than the global header/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is readable by tshark', { skip: hasTshark ? false : 'tshark not installed' }, () => {
    const { dir, file } = tmp();
    try {
      capture(file);
      const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.len', '-e', 'eth.dst', '-e', 'eth.type'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split('\t')), [
        ['60', '52:54:00:00:00:0b', '0x88b5'],
        ['1514', 'ff:ff:ff:ff:ff:ff', '0x88b5'],
        ['200', '52:54:00:00:00:0a', '0x88b6'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
