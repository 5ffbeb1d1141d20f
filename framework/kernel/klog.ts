/**
 * @module klog
 * The kernel log ring (printk's log buffer): levels and timestamps since boot, a bounded
 * ring, subscribers for `hmdrv run` and `dmesg -f`.
 */
import type { InjectionToken } from 'tsyringe';
import type { LogLevel } from '../driver-port.js';

export interface LogEntry {
  seq: number;
  /** Seconds since boot. */
  time: number;
  level: LogLevel;
  /** "kernel", a container id, or "<driver> <device>" like dev_info's prefix. */
  source: string;
  message: string;
}

export const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'] as const;

export function formatLogEntry(e: LogEntry): string {
  const t = e.time.toFixed(6).padStart(12, ' ');
  return `[${t}] ${e.source ? `${e.source}: ` : ''}${e.message}`;
}

export class KernelLog {
  private readonly ring: LogEntry[] = [];
  private seq = 0;
  private readonly listeners = new Set<(e: LogEntry) => void>();
  private readonly t0 = performance.now();

  constructor(readonly capacity = 8192) {}

  printk(level: LogLevel, source: string, message: string): LogEntry {
    const e: LogEntry = { seq: ++this.seq, time: (performance.now() - this.t0) / 1000, level, source, message: message.replace(/\n+$/, '') };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const l of this.listeners) l(e);
    return e;
  }

  info(source: string, message: string): void { this.printk(6, source, message); }
  warn(source: string, message: string): void { this.printk(4, source, message); }
  err(source: string, message: string): void { this.printk(3, source, message); }

  entries(sinceSeq = 0): LogEntry[] {
    return this.ring.filter((e) => e.seq > sinceSeq);
  }

  subscribe(fn: (e: LogEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

export const IKernelLog: InjectionToken<KernelLog> = Symbol('IKernelLog');
