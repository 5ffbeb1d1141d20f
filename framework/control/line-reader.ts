/**
 * @module control/line-reader
 * Splits a byte stream into newline-terminated lines with a length cap. An oversized line is
 * reported once and then skipped up to its newline, so one bad message never costs memory
 * or desynchronises the stream. Blank lines and a trailing "\r" are ignored.
 *
 * @example
 * const reader = new LineReader(MAX_LINE_BYTES, (line) => handle(line), () => tooLong());
 * socket.on('data', (chunk) => reader.push(chunk));
 */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.finishLine(chunk.subarray(start, nl));
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0 || this.discarding) return;
    if (this.size + rest.length > this.maxBytes) {
      this.reset();
      this.discarding = true;
      this.onOverflow();
      return;
    }
    this.parts.push(rest);
    this.size += rest.length;
  }

  private finishLine(tail: Buffer): void {
    if (this.discarding) {
      this.discarding = false;
    } else if (this.size + tail.length > this.maxBytes) {
      this.onOverflow();
    } else {
      this.parts.push(tail);
      const line = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
      if (line.trim() !== '') this.onLine(line);
    }
    this.reset();
  }

  private reset(): void {
    this.parts = [];
    this.size = 0;
  }
}
