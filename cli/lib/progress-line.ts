/**
 * @module cli/lib/progress-line
 * A status line on stderr while a job runs: on a terminal one line rewritten in place
 * (carriage return + erase to end of line); otherwise (a log file, CI) a plain line every
 * `periodMs`, so logs get a heartbeat without a flood.
 *
 * @example
 * const line = new ProgressLine(process.stderr);
 * line.update('randread /dev/sda: 45.0% ...');
 * line.done(); // ends the terminal line
 */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export class ProgressLine {
  private last = -Infinity;
  private shown = false;

  constructor(private readonly out: ProgressStream, private readonly periodMs = 2000, private readonly now: () => number = Date.now) {}

  update(text: string | undefined): void {
    if (text === undefined) return;
    if (this.out.isTTY) {
      const width = this.out.columns && this.out.columns > 1 ? this.out.columns - 1 : undefined;
      this.out.write(`\r${width !== undefined ? text.slice(0, width) : text}\x1b[K`);
      this.shown = true;
      return;
    }
    const t = this.now();
    if (t - this.last < this.periodMs) return;
    this.last = t;
    this.out.write(`${text}\n`);
  }

  /** Clears the terminal line (the summary follows on stdout). */
  done(): void {
    if (this.out.isTTY && this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
