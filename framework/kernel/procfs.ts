/**
 * @module procfs
 * /proc: interrupts, devices (majors), uptime, the kernel log, and per-container IPC
 * statistics under /proc/hmdrv/.
 */
import type { IVfs } from '../vfs/api.js';
import type { DeviceManager } from '../device-manager/device-manager.js';
import type { IrqController } from '../irq/irq-controller.js';
import { formatLogEntry, type KernelLog } from './klog.js';

export function registerProcfs(vfs: IVfs, dm: DeviceManager, irq: IrqController, log: KernelLog, bootTime: number): void {
  vfs.mkdirp('/proc/hmdrv');
  vfs.addGeneratedFile('/proc/interrupts', () => {
    const names = new Map<number, string>();
    for (const d of dm.devices.values()) for (const n of d.spec.interrupts) names.set(n, d.spec.name);
    return irq.procInterrupts(names);
  });
  vfs.addGeneratedFile('/proc/uptime', () => `${((performance.now() - bootTime) / 1000).toFixed(2)} 0.00\n`);
  vfs.addGeneratedFile('/proc/devices', () => {
    const majors = new Map<number, string>();
    for (const c of dm.containers.values()) for (const n of c.nodes.values()) if (n.kind === 'chr') majors.set(n.major, n.major === 10 ? 'misc' : c.driver.name);
    const rows = [...majors].sort((a, b) => a[0] - b[0]).map(([m, n]) => `${String(m).padStart(3)} ${n}`);
    return `Character devices:\n${rows.join('\n')}${rows.length ? '\n' : ''}`;
  });
  vfs.addGeneratedFile('/proc/kmsg', () => log.entries().map((e) => `<${e.level}>${formatLogEntry(e)}`).join('\n') + '\n');
  vfs.addGeneratedFile('/proc/hmdrv/containers', () => {
    const head = 'container            class state       pid     restarts inflight    calls  upcalls   notify   errors spinhits   sleeps  wakeups\n';
    return head + dm.containerInfo().map((c) => [
      c.id.padEnd(20), c.isolation.padEnd(5), c.state.padEnd(11), String(c.pid ?? c.threadId ?? '-').padStart(7),
      String(c.restarts).padStart(8), String(c.ipc.inflight).padStart(8), String(c.ipc.calls).padStart(8),
      String(c.ipc.upcalls).padStart(8), String(c.ipc.notifications).padStart(8), String(c.ipc.errors).padStart(8),
      String(c.ipc.spinHits).padStart(8), String(c.ipc.sleeps).padStart(8), String(c.ipc.wakeups).padStart(8),
    ].join(' ')).join('\n') + '\n';
  });
  vfs.addGeneratedFile('/proc/hmdrv/machine', async () => {
    const m = dm.machine;
    if (!m) return 'no machine (the platform has no device models)\n';
    const s = await m.stats();
    const byPort = new Map([...dm.containers.values()].flatMap((c) => (c.port ? [[c.port.id, c.id] as const] : [])));
    return 'device               model         dma-faults\n' +
      s.devices.map((d) => `${d.name.padEnd(20)} ${d.model.padEnd(13)} ${String(d.dmaFaults).padStart(10)}\n`).join('') +
      '\nport container            mmio-faults\n' +
      s.ports.map((p) => `${String(p.port).padStart(4)} ${(byPort.get(p.port) ?? '-').padEnd(20)} ${String(p.faults).padStart(11)}\n`).join('');
  });
  vfs.addGeneratedFile('/proc/hmdrv/ipc', () => JSON.stringify(Object.fromEntries(dm.containerInfo().map((c) => [c.id, { isolation: c.isolation, ...c.ipc }])), null, 2) + '\n');
}
