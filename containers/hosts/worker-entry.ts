/**
 * @module worker-entry
 * Entry of an IC1 container: a worker thread that shares only the SharedArrayBuffers it is
 * given (its channel, the kernel page, and regions it allocates and posts to the kernel).
 */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { Op } from '../ipc/ops.js';
import { runContainer, type ContainerBoot } from '../runtime/container-main.js';

type Data = Omit<ContainerBoot, 'allocRegion' | 'exit'>;
const data = workerData as Data;

runContainer({
  ...data,
  allocRegion: async (ep, region, size) => {
    const buffer = new SharedArrayBuffer(size);
    parentPort!.postMessage({ type: 'region', region, buffer });
    const r = await ep.request(Op.REGION, region, size);
    return { status: r.status, buffer: r.status < 0 ? null : buffer };
  },
  exit: (code) => { process.exit(code); },
});
