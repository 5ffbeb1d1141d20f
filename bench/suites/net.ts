// Suite "net": the e1000 driver and the kernel's network stack, end to end, per isolation class.
//
// The platform is samples/platforms/net.platform.json (two e1000 NICs on one wire, eth0
// 10.0.0.1 and eth1 10.0.0.2) booted once per class, with the e1000 driver in that class.
//
//  - `ping <ic>`: one ICMP echo from eth0 to eth1 and back: kernel → eth0's driver (xmit) →
//    NIC model → wire → NIC model → eth1's driver (IRQ, NAPI) → kernel, which answers, and the
//    same way back. The table shows the round-trip time.
//  - `frames 64B <ic>` / `frames 1514B <ic>`: a packet socket on eth0 sends a batch of frames
//    (back-pressure from the driver's queue), a packet socket on eth1 receives them; one call
//    is one batch, until every frame arrived or eth1's NIC counted it missed (RX ring overrun),
//    or nothing arrived for 500 ms (losses are counted in the extra figures). `rates` turns the time per batch into frames/s and Mbit/s.

import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import type { PacketSocket } from '../../framework/net/packet-socket.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import { packageRoot } from '../native.js';
import { join } from 'node:path';

import { runSuite, type BenchCase, type BenchResult, type Suite } from '../harness.js';

const CLASSES: IsolationClass[] = ['ic0', 'ic1', 'ic2'];
/** Frames per case call. */
const BATCH = { f64: 2048, f1514: 512 } as const;
const MAC0 = [0x52, 0x54, 0, 0x12, 0x34, 0x01], MAC1 = [0x52, 0x54, 0, 0x12, 0x34, 0x02];

export const NET_CASE = {
  ping: (ic: string) => `ping ${ic}`,
  f64: (ic: string) => `frames 64B ${ic}`,
  f1514: (ic: string) => `frames 1514B ${ic}`,
} as const;

/** A frame of `size` bytes (without FCS) from eth0 to eth1, EtherType 0x88b5. */
function testFrame(size: number): Uint8Array {
  const f = new Uint8Array(size);
  f.set(MAC1, 0);
  f.set(MAC0, 6);
  f[12] = 0x88; f[13] = 0xb5;
  return f;
}

/** One class's platform, sockets and loss counters. */
class NetRig {
  lost = 0;
  sentFrames = 0;
  private seq = 0;
  private constructor(readonly ic: IsolationClass, readonly k: BootedKernel, private readonly tx: PacketSocket, private readonly rx: PacketSocket) {}

  static async create(ic: IsolationClass): Promise<NetRig> {
    const k = await bootPlatform({ platform: join(packageRoot(), 'samples', 'platforms', 'net.platform.json'), isolation: ic });
    try {
      const net = k.net!;
      await net.waitFor('eth0', { timeoutMs: 10_000 });
      await net.waitFor('eth1', { timeoutMs: 10_000 });
      const warm = await net.ping({ dst: '10.0.0.2', seq: 0, timeoutMs: 5000 });
      if (warm.status !== 'reply') throw new Error(`no ping reply in ${ic}: ${warm.status}`);
      return new NetRig(ic, k, net.openPacketSocket('eth0'), net.openPacketSocket('eth1', { protocol: 0x88b5, queueFrames: 1 << 20 }));
    } catch (e) {
      await k.shutdown();
      throw e;
    }
  }

  async ping(): Promise<void> {
    this.seq = (this.seq + 1) & 0xffff;
    const r = await this.k.net!.ping({ dst: '10.0.0.2', seq: this.seq, timeoutMs: 2000 });
    if (r.status !== 'reply') this.lost++;
  }

  /**
   * Sends `n` frames of `size` bytes and waits until each arrived or was counted as missed by
   * eth1's NIC (RX ring overrun: no descriptor free), or 500 ms passed without progress.
   */
  async frames(size: number, n: number): Promise<void> {
    const f = testFrame(size);
    const batch = Array.from({ length: n }, () => f);
    let sent = false;
    const sending = this.tx.send(batch).finally(() => { sent = true; });
    const missed = async () => (await this.k.net!.status('eth1')).stats.rx_missed_errors;
    const missed0 = await missed();
    let got = 0;
    let quietSince = performance.now();
    while (got < n) {
      const b = await this.rx.recvBatch(n - got, 10);
      if (b.length > 0) { got += b.length; quietSince = performance.now(); continue; }
      // Nothing for 10 ms: once everything was handed to the driver, frames the NIC dropped
      // for want of RX descriptors will never come; the rest is lost (or stuck) after 500 ms.
      if (sent && got + (await missed()) - missed0 >= n) break;
      if (performance.now() - quietSince > 500) break;
    }
    await sending;
    this.sentFrames += n;
    this.lost += n - got;
  }

  async close(): Promise<void> {
    this.tx.close();
    this.rx.close();
    await this.k.shutdown();
  }
}

const suite: Suite = {
  name: 'net',
  description: 'e1000 driver + network stack per isolation class: ping RTT eth0 -> eth1 -> eth0, frames/s of 64 B and 1514 B frames through both drivers',
  async run(options) {
    const want = (name: string) => !options.filter || options.filter.test(name);
    const rigs: NetRig[] = [];
    const cases: BenchCase[] = [];
    const rates = new Map<string, { frames: number; bytes: number }>();
    const skipped: Record<string, string> = {};
    try {
      for (const ic of CLASSES) {
        const names = [NET_CASE.ping(ic), NET_CASE.f64(ic), NET_CASE.f1514(ic)];
        if (!names.some(want)) continue;
        let rig: NetRig;
        try {
          rig = await NetRig.create(ic);
        } catch (e) {
          skipped[ic] = (e as Error).message;
          options.print(`net: skipping ${ic}: ${skipped[ic]}`);
          continue;
        }
        rigs.push(rig);
        const pids = () => (rig.k.containers().flatMap((c) => (c.pid ? [c.pid] : [])));
        cases.push({ name: NET_CASE.ping(ic), group: 'ping', fn: () => rig.ping(), pids });
        cases.push({ name: NET_CASE.f64(ic), group: 'frames', fn: () => rig.frames(60, BATCH.f64), pids });
        cases.push({ name: NET_CASE.f1514(ic), group: 'frames', fn: () => rig.frames(1514, BATCH.f1514), pids });
        rates.set(NET_CASE.f64(ic), { frames: BATCH.f64, bytes: 64 });
        rates.set(NET_CASE.f1514(ic), { frames: BATCH.f1514, bytes: 1518 });
      }
      return await runSuite({
        suite: 'net',
        options,
        cases,
        extra: async (results: readonly BenchResult[]) => {
          const byName = new Map(results.map((r) => [r.name, r]));
          const out: Record<string, unknown> = {};
          for (const [name, rate] of rates) {
            const r = byName.get(name);
            if (!r || r.error || !(r.avg > 0)) continue;
            const fps = (rate.frames * 1e9) / r.avg;
            out[name] = { framesPerSecond: Math.round(fps), mbitPerSecond: Math.round((fps * rate.bytes * 8) / 1e4) / 100, framesPerCall: rate.frames };
          }
          const loss: Record<string, unknown> = {};
          for (const rig of rigs) {
            const [s0, s1] = await Promise.all([rig.k.net!.status('eth0'), rig.k.net!.status('eth1')]);
            loss[rig.ic] = {
              framesSent: rig.sentFrames, lostOrTimedOut: rig.lost,
              eth0TxDropped: s0.stats.tx_dropped, eth1RxMissed: s1.stats.rx_missed_errors, eth1RxDropped: s1.stats.rx_dropped,
            };
          }
          return { rates: out, loss, skipped, batch: BATCH };
        },
      });
    } finally {
      for (const r of rigs) await r.close().catch(() => undefined);
    }
  },
};

export default suite;
