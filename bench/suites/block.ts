// Suite "block": the UFS disk through the whole stack — VFS, device node, the driver container
// in each isolation class, linux-kapi's blk-mq, the UFS driver (samples/ufs), MMIO and DMA to
// the UFS model in the machine thread — beside the model-only figure of the same run (the
// register-level driver loop of bench/models/ufs.ts driving the model in a machine thread).
//
// Cases (one call = a batch of I/Os, kept at the queue depth by that many concurrent preads on
// one open file, each on its own buffer, as fio's iodepth or framework/io's loadgen do; the
// queue stays full between calls, as the model-only queue keeps its slots armed: QdReader):
//   '<class> /dev/sda 4K randread QD32'     random 4 KiB-aligned offsets over a filled 64 MiB LU
//   '<class> /dev/sda 128K seqread QD8'     consecutive 128 KiB reads (wrapping)
//   'model-only 4K randread QD32 (machine, irq)' / 'model-only 128K seqread QD8 (machine, irq)'
// Every LU (model-only and per class) is 64 MiB in memory, zero-latency timing, filled first.
// Each group (each class, then model-only) is set up right before its first case and torn down
// after its last, so no other group's threads, heap or containers are alive while it is measured.
//
// Extra figures: IOPS and MB/s per case, each class over model-only, completions per interrupt.
// Target: IC0 at least 70 % of model-only (4K IOPS and 128K MB/s).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import { runLoad } from '../../framework/io/loadgen.js';
import { packageRoot } from '../../devices/native/index.js';
import type { IsolationClass } from '../../framework/platform/types.js';
import type { IFileHandle } from '../../framework/vfs/api.js';
import { O } from '../../framework/vfs/types.js';
import { runClosers, runSuite, type BenchCase, type BenchResult, type Suite, type TargetSpec } from '../harness.js';
import { BLOCK, machineUfs, UfsQueue, type Workload } from '../models/ufs.js';
import { QdReader } from '../qd-reader.js';

const LU_BYTES = 64 << 20;
/** Requests run before timing each class (and the model-only queue). */
const WARMUP_IOS = 30_000;
const CLASSES: IsolationClass[] = ['ic0', 'ic1', 'ic2'];
const BATCH = { rand4k: 512, seq128k: 64 } as const;
const RAND4K: Workload = { dir: 'read', blocks: 1, pattern: 'random' };
const SEQ128K: Workload = { dir: 'read', blocks: 32, pattern: 'seq' };

export const BLOCK_CASE = {
  model4k: 'model-only 4K randread QD32 (machine, irq)',
  model128k: 'model-only 128K seqread QD8 (machine, irq)',
  rand4k: (ic: string) => `${ic} /dev/sda 4K randread QD32`,
  seq128k: (ic: string) => `${ic} /dev/sda 128K seqread QD8`,
} as const;

interface Rate { ios: number; bytes: number }

/** A platform file: the sample UFS platform with one 64 MiB in-memory LU and zero timing. */
function benchPlatform(dir: string): string {
  const sample = join(packageRoot(), 'samples', 'platforms', 'ufs.platform.json');
  const p = JSON.parse(readFileSync(sample, 'utf8')) as { devices: { properties: Record<string, unknown> }[] };
  p.devices[0]!.properties.luns = [{ size: LU_BYTES }];
  p.devices[0]!.properties.timing = 'zero';
  const path = join(dir, 'ufs-bench.platform.json');
  writeFileSync(path, JSON.stringify(p));
  return path;
}

/** xorshift32 over 4 KiB slots of the LU. */
function randomOffsets(seed: number, bytes: number, bs: number): () => number {
  let x = seed >>> 0 || 1;
  const slots = Math.floor(bytes / bs);
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return (x % slots) * bs;
  };
}

function seqOffsets(bytes: number, bs: number): () => number {
  let at = 0;
  return () => {
    if (at + bs > bytes) at = 0;
    const p = at;
    at += bs;
    return p;
  };
}

async function irqCount(k: BootedKernel): Promise<number> {
  const text = await k.vfs.readFile('/proc/interrupts', { encoding: 'utf8' }) as string;
  const m = /^\s*48:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * What the cases of one group share (a booted platform, the model-only queue): opened in the
 * `before` hook of whichever of its cases runs first, closed in the `after` hook of its last,
 * so each group is measured with only its own threads, heap and devices alive (the model-only
 * machine and the other classes' platforms and containers are not). `cases` is how many of the
 * group's cases will run.
 */
function groupLifetime<T>(cases: number, open: () => Promise<T>, close: (t: T) => Promise<void>) {
  let value: T | undefined;
  let left = cases;
  const closeNow = async (): Promise<void> => {
    const v = value;
    value = undefined;
    if (v !== undefined) await close(v);
  };
  return {
    get value(): T {
      if (value === undefined) throw new Error('block bench: group resources used outside its cases');
      return value;
    },
    before: async (): Promise<void> => { value ??= await open(); },
    after: async (): Promise<void> => { if (--left <= 0) await closeNow(); },
    closeNow,
  };
}

interface ClassRun {
  k: BootedKernel;
  fh: IFileHandle;
  rand4k: QdReader;
  seq128k: QdReader;
  irqs0: number;
}

const suite: Suite = {
  name: 'block',
  description: 'UFS /dev/sda through VFS + blk-mq + the UFS driver per isolation class: 4K randread QD32 IOPS, 128K seqread MB/s, beside model-only',
  async run(options) {
    const want = (name: string) => !options.filter || options.filter.test(name);
    const say = (m: string) => options.print(`block: ${m}`);
    const cases: BenchCase[] = [];
    const rates = new Map<string, Rate>();
    const closers: (() => Promise<void> | void)[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'hmdrv-bench-block-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    /** Per class: I/Os timed and interrupts taken while its cases ran. */
    const kernels = new Map<IsolationClass, { ios: number; irqs: number }>();
    try {
      // ---- model-only: the register-level loop against the model in a machine thread ----------
      const modelCases = [BLOCK_CASE.model4k, BLOCK_CASE.model128k].filter(want).length;
      if (modelCases > 0) {
        const model = groupLifetime(modelCases, async () => {
          const host = await machineUfs({ wait: 'irq', luBytes: LU_BYTES, memBytes: 96 << 20 });
          try {
            const q = await UfsQueue.create(host, { qd: 32, luBytes: LU_BYTES, bufBytes: 32 << 20 });
            await q.fill();
            // Steady state before timing, as for the classes below.
            q.qd = 32; q.workload = RAND4K; await q.run(WARMUP_IOS);
            return { host, q };
          } catch (err) {
            await host.close().catch(() => {});
            throw err;
          }
        }, async ({ host, q }) => {
          try { await q.drain(); } finally { await host.close(); }
        });
        closers.push(model.closeNow);
        const run = (qd: number, w: Workload, n: number) => () => { const q = model.value.q; q.qd = qd; q.workload = w; return q.run(n); };
        cases.push({ name: BLOCK_CASE.model4k, group: 'model-only', before: model.before, after: model.after, fn: run(32, RAND4K, BATCH.rand4k) });
        rates.set(BLOCK_CASE.model4k, { ios: BATCH.rand4k, bytes: BLOCK });
        cases.push({ name: BLOCK_CASE.model128k, group: 'model-only', before: model.before, after: model.after, fn: run(8, SEQ128K, BATCH.seq128k) });
        rates.set(BLOCK_CASE.model128k, { ios: BATCH.seq128k, bytes: 32 * BLOCK });
      }

      const modelOnly = cases.length; // the model-only cases, moved last below

      // ---- /dev/sda per isolation class -------------------------------------------------------
      const platform = benchPlatform(dir);
      for (const ic of CLASSES) {
        const n = [BLOCK_CASE.rand4k(ic), BLOCK_CASE.seq128k(ic)].filter(want).length;
        if (n === 0) continue;
        const st = { ios: 0, irqs: 0 };
        kernels.set(ic, st);
        const life = groupLifetime<ClassRun>(n, async () => {
          const k = await bootPlatform({ platform, isolation: ic });
          const opened: { fh?: IFileHandle; readers: QdReader[] } = { readers: [] };
          try {
            if (k.devices()[0]?.state !== 'bound') throw new Error(`${ic}: ufs0 is ${k.devices()[0]?.state}: ${k.devices()[0]?.error ?? ''}`);
            const fill = await runLoad({ vfs: k.vfs, path: '/dev/sda', rw: 'write', bs: 128 << 10, iodepth: 8 });
            if (fill.errors) throw new Error(`${ic}: filling /dev/sda failed: ${fill.firstError?.message ?? 'I/O error'}`);
            const fh = opened.fh = await k.vfs.open('/dev/sda', O.RDONLY);
            const bufs4k = Array.from({ length: 32 }, () => new Uint8Array(4096));
            const bufs128k = Array.from({ length: 8 }, () => new Uint8Array(128 << 10));
            const rand4k = new QdReader(fh, bufs4k, 4096, randomOffsets(0x5eed + ic.length, LU_BYTES, 4096));
            const seq128k = new QdReader(fh, bufs128k, 128 << 10, seqOffsets(LU_BYTES, 128 << 10));
            opened.readers.push(rand4k, seq128k);
            // Steady state before timing (fio's ramp_time): the JIT needs tens of thousands of
            // requests through VFS, blk-mq, the driver and the machine before the code is hot;
            // the harness's 20-100 ms warm-up measured half-compiled code (41k instead of 160k).
            // (Each reader keeps its queue full from its first run on: the 4K reads stay in flight
            // while the 128K case runs, as fio jobs would; they complete at once, being queued first.)
            await rand4k.run(WARMUP_IOS);
            await seq128k.run(WARMUP_IOS / 16);
            return { k, fh, rand4k, seq128k, irqs0: await irqCount(k) };
          } catch (err) {
            await Promise.all(opened.readers.map((r) => r.close())).catch(() => {});
            await opened.fh?.close().catch(() => {});
            await k.shutdown().catch(() => {});
            throw err;
          }
        }, async (r) => {
          try {
            st.irqs += (await irqCount(r.k)) - r.irqs0;
            await Promise.all([r.rand4k.close(), r.seq128k.close()]);
            await r.fh.close();
          } finally {
            await r.k.shutdown();
          }
        });
        closers.push(life.closeNow);
        cases.push({
          name: BLOCK_CASE.rand4k(ic), group: ic, before: life.before, after: life.after,
          fn: async () => { await life.value.rand4k.run(BATCH.rand4k); st.ios += BATCH.rand4k; },
        });
        rates.set(BLOCK_CASE.rand4k(ic), { ios: BATCH.rand4k, bytes: 4096 });
        cases.push({
          name: BLOCK_CASE.seq128k(ic), group: ic, before: life.before, after: life.after,
          fn: async () => { await life.value.seq128k.run(BATCH.seq128k); st.ios += BATCH.seq128k; },
        });
        rates.set(BLOCK_CASE.seq128k(ic), { ios: BATCH.seq128k, bytes: 128 << 10 });
      }

      // The model-only group runs last. Measured: IC0 4K after the model-only group got 294-313k
      // IOPS where alone it got 332-351k (the cause is not known: no thread or CPU use outlives
      // the group, and a plain script that runs the model-only loop first does not show it);
      // the model-only group after IC0 got 463k, as alone or first (450-484k).
      cases.push(...cases.splice(0, modelOnly));
      const perSec = (r: BenchResult | undefined, name: string): { iops: number; mbps: number } | undefined => {
        const rate = rates.get(name);
        if (!r || r.error || !rate || r.avg <= 0) return undefined;
        const iops = (rate.ios * 1e9) / r.avg;
        return { iops, mbps: (iops * rate.bytes) / 1e6 };
      };
      const over = (get: (n: string) => BenchResult | undefined, a: string, b: string, key: 'iops' | 'mbps'): number | undefined => {
        const x = perSec(get(a), a), y = perSec(get(b), b);
        return x && y ? x[key] / y[key] : undefined;
      };

      const extra = async (results: readonly BenchResult[]): Promise<Record<string, unknown>> => {
        const byName = new Map(results.map((r) => [r.name, r]));
        const get = (n: string) => byName.get(n);
        const figures: Record<string, Record<string, number>> = {};
        for (const r of results) {
          const f = perSec(r, r.name);
          if (f) figures[r.name] = { IOPS: Math.round(f.iops), MBps: Math.round(f.mbps), cpu_us_per_io: r.cpuUsPerOp / rates.get(r.name)!.ios };
        }
        const vsModel: Record<string, Record<string, number | undefined>> = {};
        for (const ic of kernels.keys()) {
          vsModel[ic] = {
            rand4kIops: over(get, BLOCK_CASE.rand4k(ic), BLOCK_CASE.model4k, 'iops'),
            seq128kMBps: over(get, BLOCK_CASE.seq128k(ic), BLOCK_CASE.model128k, 'mbps'),
          };
        }
        const irqs: Record<string, number> = {};
        for (const [ic, st] of kernels) if (st.irqs > 0) irqs[ic] = st.ios / st.irqs;
        return { figures, vsModelOnly: vsModel, completionsPerIrq: irqs };
      };

      const targets: TargetSpec[] = [
        { name: 'ic0 /dev/sda 4K randread IOPS / model-only', limit: 0.7, cmp: '>=', unit: 'x', value: (get) => over(get, BLOCK_CASE.rand4k('ic0'), BLOCK_CASE.model4k, 'iops') },
        { name: 'ic0 /dev/sda 128K seqread MB/s / model-only', limit: 0.7, cmp: '>=', unit: 'x', value: (get) => over(get, BLOCK_CASE.seq128k('ic0'), BLOCK_CASE.model128k, 'mbps') },
      ];
      return await runSuite({ suite: 'block', options, cases, targets, extra });
    } finally {
      await runClosers(closers, say);
    }
  },
};

export default suite;
