/**
 * @module supervisor
 * Crash containment and restart. When a container throws, dies (kill -9 included) or stops
 * showing life past the watchdog: its in-flight requests have already completed with EIO (the
 * host closed the channel), files opened through it are revoked (EIO), its resources are
 * released, and it is restarted with exponential backoff and its devices re-probed. The /dev
 * nodes stay in place meanwhile; open() on them waits for the restart.
 */
import type { ContainerExit } from '../container-host.js';
import type { KernelLog } from '../kernel/klog.js';
import type { ContainerRecord, DeviceRecord } from './records.js';
import type { DeviceManager } from './device-manager.js';

/** First restart delay; doubles per consecutive crash up to MAX_BACKOFF_MS. */
export const BASE_BACKOFF_MS = 50;
export const MAX_BACKOFF_MS = 10_000;
/** A container that ran this long is stable again: its crash count resets. */
export const STABLE_MS = 30_000;
/** After this many crashes in a row the devices are marked failed and left alone. */
export const MAX_CONSECUTIVE_CRASHES = 8;

export class Supervisor {
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly dm: DeviceManager, private readonly log: KernelLog, readonly watchdogMs: number) {
    this.timer = setInterval(() => this.watch(), Math.max(20, Math.floor(watchdogMs / 4)));
    this.timer.unref();
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const c of this.dm.containers.values()) if (c.restartTimer) clearTimeout(c.restartTimer);
  }

  /** Watchdog: a container whose event loop stopped beating is hung. */
  private watch(): void {
    for (const c of this.dm.containers.values()) {
      if (c.state !== 'running' || !c.host) continue;
      c.host.poke?.();
      const silent = c.host.silentMs();
      if (silent > this.watchdogMs) {
        this.log.err('kernel', `watchdog: container ${c.id} silent for ${Math.round(silent)} ms, killing it`);
        c.host.kill({ reason: 'hang', detail: `no heartbeat for ${Math.round(silent)} ms` });
      }
    }
  }

  async crashed(c: ContainerRecord, exit: ContainerExit): Promise<void> {
    const ranMs = performance.now() - c.startedAt;
    c.consecutiveCrashes = ranMs > STABLE_MS ? 1 : c.consecutiveCrashes + 1;
    c.state = 'crashed';
    c.lastError = `${exit.reason}: ${exit.detail}`;
    c.host = null;
    this.dm.resetReady(c);
    this.log.err('kernel', `container ${c.id} ${exit.reason === 'hang' ? 'hung' : 'crashed'} (${exit.detail}); in-flight requests failed with EIO`);
    const devices: DeviceRecord[] = [];
    for (const b of [...c.bindings.values()]) {
      devices.push(b.device);
      b.device.state = 'restarting';
      await this.dm.releaseBinding(b, 'EIO');
    }
    c.regions.clear();
    await this.dm.resetDevices(devices);
    if (c.consecutiveCrashes > MAX_CONSECUTIVE_CRASHES) {
      this.log.err('kernel', `container ${c.id} crashed ${c.consecutiveCrashes} times in a row; giving up`);
      for (const d of devices) { d.state = 'failed'; d.error = `container crashed repeatedly: ${exit.detail}`; for (const n of d.carryover.values()) await n.remove(); d.carryover.clear(); }
      c.state = 'stopped';
      this.dm.containers.delete(c.id);
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (c.consecutiveCrashes - 1));
    c.state = 'restarting';
    c.restartTimer = setTimeout(() => void this.restart(c, devices), delay);
  }

  private async restart(c: ContainerRecord, devices: DeviceRecord[]): Promise<void> {
    c.restartTimer = undefined;
    c.restarts++;
    try {
      await this.dm.startContainer(c, false);
    } catch (e) {
      await this.crashed(c, { reason: 'crash', detail: `restart failed: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    this.log.info('kernel', `container ${c.id} restarted (restart #${c.restarts}); re-probing ${devices.map((d) => d.spec.name).join(', ')}`);
    await this.dm.reprobe(c, devices);
    c.markReady();
  }
}
