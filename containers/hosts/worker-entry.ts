/**
 * @module worker-entry
 * Entry of an IC1 container: a worker thread that shares only the SharedArrayBuffers it is
 * given (its channel, the kernel page, and regions it allocates and posts to the kernel).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Op } from '../ipc/ops.js';
import { runContainer, type ContainerBoot } from '../runtime/container-main.js';
import { native } from '../../devices/native/index.js';

type Data = Omit<ContainerBoot, 'allocRegion' | 'exit' | 'mapDma' | 'mapDevMem'>;
const data = workerData as Data;

/** DMA page windows posted by the kernel, keyed by bus address (they may beat the reply). */
const dmaPosted = new Map<number, SharedArrayBuffer>();
const dmaWaiting = new Map<number, (b: SharedArrayBuffer) => void>();
parentPort!.on('message', (m: { type?: string; addr?: number; buffer?: SharedArrayBuffer }) => {
  if (m?.type !== 'dma' || m.addr === undefined || !m.buffer) return;
  const w = dmaWaiting.get(m.addr);
  if (w) { dmaWaiting.delete(m.addr); w(m.buffer); } else dmaPosted.set(m.addr, m.buffer);
});

runContainer({
  ...data,
  allocRegion: async (ep, region, size) => {
    const buffer = new SharedArrayBuffer(size);
    parentPort!.postMessage({ type: 'region', region, buffer });
    const r = await ep.request(Op.REGION, region, size);
    return { status: r.status, buffer: r.status < 0 ? null : buffer };
  },
  mapDma: (addr) => {
    const have = dmaPosted.get(addr);
    if (have) { dmaPosted.delete(addr); return Promise.resolve(new Uint8Array(have)); }
    return new Promise((resolve) => {
      const t = setTimeout(() => { dmaWaiting.delete(addr); resolve(null); }, 5_000);
      dmaWaiting.set(addr, (b) => { clearTimeout(t); resolve(new Uint8Array(b)); });
    });
  },
  // Device memory is a memfd of this very process: map the granted window of it.
  mapDevMem: (fd, offset, size) => { try { return native().mapFd(fd, size, offset); } catch { return null; } },
  exit: (code) => { process.exit(code); },
});
