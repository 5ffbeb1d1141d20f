/**
 * @module child-host
 * IC2: the driver runs in a child process with its own address space. The channel and the
 * kernel page are memfds passed as fds 3 and 4; everything else the child allocates itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContainerStartOptions } from '../../framework/container-host.js';
import { RpcHost, HEARTBEAT_MS } from './rpc-host.js';
import { KERNEL_PAGE_BYTES, type KernelPage } from '../../devices/ipc/kernel-page.js';

const ENTRY = fileURLToPath(new URL('./child-entry.js', import.meta.url));

export class ChildProcessHost extends RpcHost {
  private child: ChildProcess | null = null;
  private exitedFlag = false;

  constructor(opts: ContainerStartOptions, page: KernelPage) {
    super('ic2', opts, page, 'futex', 'process');
  }

  get pid(): number | undefined { return this.child?.pid; }
  get threadId(): number | undefined { return undefined; }

  protected spawn(): Promise<void> {
    const boot = {
      id: this.id, isolation: 'ic2', signal: 'futex', capacity: this.mem.capacity,
      pageBytes: KERNEL_PAGE_BYTES, maxSpinners: this.page.maxSpinners, heartbeatMs: HEARTBEAT_MS,
      mmio: this.opts.mmio && { capacity: this.opts.mmio.capacity, bytes: this.opts.mmio.buffer.byteLength },
    };
    const fds: (number | 'pipe' | 'inherit')[] = ['pipe', 'inherit', 'inherit', this.mem.fd!, this.page.fd];
    const phys = this.opts.services.physicalMemory();
    if (this.opts.mmio?.fd !== undefined && phys) fds.push(this.opts.mmio.fd, phys.fd); // fd 5: MMIO port, fd 6: physical memory
    // A bounded heap (a leaking driver dies alone, contained as a crash), a small young
    // generation and one V8 helper thread: an idle driver process costs little beyond Node itself.
    const flags = (process.env.HMDRV_IC2_NODE_FLAGS ?? '--max-old-space-size=256 --max-semi-space-size=2 --v8-pool-size=1').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...flags, ENTRY, JSON.stringify(boot)], { stdio: fds });
    this.child = child;
    child.stdin?.on('error', () => { /* child gone; exit handler reports it */ });
    child.on('exit', (code, signal) => {
      this.exitedFlag = true;
      this.died(signal ? `process killed by ${signal}` : `process exited with code ${code}`);
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
  }

  protected terminate(): void {
    if (this.child && !this.exitedFlag) this.child.kill('SIGKILL');
  }

  /** Works with the event loop blocked: a dead or zombie child shows in /proc. */
  protected alive(): boolean {
    if (this.exitedFlag || !this.child?.pid) return false;
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
}
