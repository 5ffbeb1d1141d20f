import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader } from './line-reader.js';

function collect(max: number) {
  const lines: string[] = [];
  let overflows = 0;
  const reader = new LineReader(max, (l) => lines.push(l), () => { overflows++; });
  return { reader, lines, overflows: () => overflows };
}

describe('LineReader', () => {
  it('splits lines across chunk boundaries and ignores blank lines and CR', () => {
    const { reader, lines } = collect(100);
    for (const c of ['{"a"', ':1}\n\n{"b":2}\r', '\n{"c"', ':3}\n']) reader.push(Buffer.from(c));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const { reader, lines } = collect(100);
    const bytes = Buffer.from('"ü€"\n');
    reader.push(bytes.subarray(0, 2));
    reader.push(bytes.subarray(2));
    assert.deepEqual(lines, ['"ü€"']);
  });

  it('reports an oversized line once, skips it, and resynchronises at the next newline', () => {
    const { reader, lines, overflows } = collect(8);
    reader.push(Buffer.from('0123456789'));
    reader.push(Buffer.from('abcdef'));
    reader.push(Buffer.from('xyz\nok\n'));
    reader.push(Buffer.from('0123456789\nfine\n'));
    assert.deepEqual(lines, ['ok', 'fine']);
    assert.equal(overflows(), 2);
  });
});
