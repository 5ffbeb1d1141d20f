/**
 * @module child-entry
 * Entry of an IC2 container: a child process. fd 3 is the channel memfd and fd 4 the kernel
 * page; the boot record comes as JSON in argv[2]. Regions it allocates are memfds the kernel
 * maps through /proc/<pid>/fd/<n>: nothing else of this process is visible to the kernel.
 */
import { closeSync, openSync } from 'node:fs';
import { native } from '../../devices/native/index.js';
import { Op } from '../ipc/ops.js';
import { channelBytes } from '../ipc/channel.js';
import { runContainer, type ContainerBoot } from '../runtime/container-main.js';

const boot = JSON.parse(process.argv[2] ?? '{}') as Omit<ContainerBoot, 'allocRegion' | 'exit' | 'channel' | 'kernelPage' | 'mmio' | 'mapDma' | 'mapDevMem'>
  & { capacity: number; pageBytes: number; mmio?: { capacity: number; bytes: number } };
const n = native();

runContainer({
  ...boot,
  mmio: boot.mmio && { buffer: n.mapFd(5, boot.mmio.bytes), capacity: boot.mmio.capacity, signal: 'futex' },
  channel: { buffer: n.mapFd(3, channelBytes(boot.capacity)), capacity: boot.capacity },
  kernelPage: n.mapFd(4, boot.pageBytes),
  allocRegion: async (ep, region, size) => {
    const fd = n.memfdCreate(`hmdrv-region-${region}`, size);
    const buffer = n.mapFd(fd, size);
    const r = await ep.request(Op.REGION, region, size, fd);
    closeSync(fd);
    return { status: r.status, buffer: r.status < 0 ? null : buffer };
  },
  // fd 6 is physical memory: the child maps exactly the pages it was allocated, nothing else.
  mapDma: async (addr, size) => (boot.mmio ? new Uint8Array(n.mapFd(6, size, addr)) : null),
  // Device memory is a memfd of the kernel (our parent): reach it through procfs, as the kernel
  // reaches our regions, and map only the granted window.
  mapDevMem: (fd, offset, size) => {
    let own = -1;
    try {
      own = openSync(`/proc/${process.ppid}/fd/${fd}`, 'r+');
      return n.mapFd(own, size, offset);
    } catch {
      return null;
    } finally {
      if (own >= 0) closeSync(own);
    }
  },
  exit: (code) => { process.exit(code); },
});
// stdin is a pipe from the kernel: when the kernel goes away, so do we (no orphaned drivers).
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
