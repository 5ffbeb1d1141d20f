import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable } from './table.js';

describe('formatTable', () => {
  it('aligns columns, leaves the last column unpadded, right-aligns where asked', () => {
    assert.deepEqual(formatTable([['a', '1', 'x'], ['bbb', '22', 'y']], { header: ['N', 'V', 'Z'], align: ['l', 'r', 'l'] }), [
      'N     V  Z',
      'a     1  x',
      'bbb  22  y',
    ]);
  });

  it('trims trailing blanks of empty last cells', () => {
    assert.deepEqual(formatTable([['a', '']]), ['a']);
  });
});
