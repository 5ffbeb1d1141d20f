import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HmError, SystemError } from '../errors/hm-error.js';
import { fromWireError, toWireError } from './wire-error.js';

describe('wire errors', () => {
  it('SystemError keeps the fs error fields', () => {
    const w = toWireError(new SystemError('ENOENT', 'open', '/dev/x'));
    assert.deepEqual(w, {
      code: 'ENOENT', errno: -2, syscall: 'open', path: '/dev/x',
      message: "ENOENT: no such file or directory, open '/dev/x'", suggestions: [],
    });
    const back = fromWireError(JSON.parse(JSON.stringify(w)));
    assert.equal(back.message, w.message);
    assert.equal(back.errno, -2);
  });

  it('HmError gets an errno when its code is an errno name; plain errors become EIO', () => {
    assert.deepEqual(toWireError(new HmError('EBUSY', 'busy', { suggestions: ['wait'] })),
      { code: 'EBUSY', errno: -16, message: 'busy', suggestions: ['wait'] });
    assert.deepEqual(toWireError(new HmError('ENOTRUNNING', 'down')), { code: 'ENOTRUNNING', message: 'down', suggestions: [] });
    assert.deepEqual(toWireError(new Error('boom')), { code: 'EIO', errno: -5, message: 'boom', suggestions: [] });
  });

  it('a garbled error still becomes a ControlError', () => {
    const e = fromWireError('nonsense');
    assert.equal(e.code, 'EIO');
    assert.deepEqual(e.suggestions, []);
  });
});
