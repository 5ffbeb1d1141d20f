/**
 * @module block/genhd.c part_stat (disk I/O statistics)
 * The counters behind /sys/block/<disk>/stat and /sys/block/<disk>/inflight, kept as Linux
 * keeps them (Documentation/block/stat.rst): per group (read, write, discard, flush) the
 * completed I/Os, merges, sectors and time spent (ms, request allocation to completion); the
 * requests in flight; io_ticks (ms during which at least one request was in flight) and
 * time_in_queue (the sum of all the groups' times).
 *
 * Differs from Linux: requests are never merged (merges stay 0, as with nomerges=2).
 */
import { op_is_write, REQ_OP_DISCARD, REQ_OP_MASK, SECTOR_SHIFT } from './blk_types.js';

export const STAT_READ = 0, STAT_WRITE = 1, STAT_DISCARD = 2, STAT_FLUSH = 3;

export class DiskStats {
  readonly ios = [0, 0, 0, 0];
  readonly merges = [0, 0, 0, 0];
  readonly sectors = [0, 0, 0, 0];
  /** Time per group, ms (fractional; shown truncated). */
  readonly ticks = [0, 0, 0, 0];
  /** Requests in flight by data direction (read, write). */
  readonly in_flight = [0, 0];
  io_ticks = 0;
  /** Last io_ticks update (ms, performance.now()). */
  stamp = performance.now();

  /** update_io_ticks: time since the last update counts when something was in flight. */
  updateIoTicks(now: number, end: boolean): void {
    if (now <= this.stamp) return;
    if (end || this.in_flight[0]! + this.in_flight[1]! > 0) this.io_ticks += now - this.stamp;
    this.stamp = now;
  }

  /** blk_account_io_start. */
  start(opf: number, now: number): void {
    this.updateIoTicks(now, false);
    this.in_flight[op_is_write(opf & REQ_OP_MASK) ? 1 : 0]!++;
  }

  /** blk_account_io_done: `bytes` completed of a request that started (was allocated) at `startMs`. */
  done(opf: number, bytes: number, startMs: number, now: number): void {
    const op = opf & REQ_OP_MASK;
    const g = op === REQ_OP_DISCARD ? STAT_DISCARD : op_is_write(op) ? STAT_WRITE : STAT_READ;
    this.updateIoTicks(now, true);
    this.ios[g]!++;
    this.sectors[g]! += Math.floor(bytes / (1 << SECTOR_SHIFT));
    this.ticks[g]! += now - startMs;
    const dir = op_is_write(op) ? 1 : 0;
    if (this.in_flight[dir]! > 0) this.in_flight[dir]!--;
  }

  /** blk_account_io_flush: a cache flush issued at `startMs` completed. */
  flush(startMs: number, now: number): void {
    this.ios[STAT_FLUSH]!++;
    this.ticks[STAT_FLUSH]! += now - startMs;
  }

  /** /sys/block/<disk>/stat: 17 fields, each "%8lu" and one space apart, as part_stat_show prints them. */
  show(now = performance.now()): string {
    this.updateIoTicks(now, false);
    const t = (ms: number) => Math.floor(ms);
    const f = (v: number) => String(v).padStart(8);
    const fields = [
      this.ios[0], this.merges[0], this.sectors[0], t(this.ticks[0]!),
      this.ios[1], this.merges[1], this.sectors[1], t(this.ticks[1]!),
      this.in_flight[0]! + this.in_flight[1]!, t(this.io_ticks),
      t(this.ticks[0]! + this.ticks[1]! + this.ticks[2]! + this.ticks[3]!),
      this.ios[2], this.merges[2], this.sectors[2], t(this.ticks[2]!),
      this.ios[3], t(this.ticks[3]!),
    ];
    return `${fields.map((v) => f(v!)).join(' ')}\n`;
  }

  /** /sys/block/<disk>/inflight: "%8u %8u\n" (reads, writes). */
  showInflight(): string {
    return `${String(this.in_flight[0]).padStart(8)} ${String(this.in_flight[1]).padStart(8)}\n`;
  }
}
