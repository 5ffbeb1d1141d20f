import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modeString } from './file-mode.js';

describe('modeString', () => {
  it('renders type and permissions like ls -l', () => {
    assert.equal(modeString('chr', 0o020666), 'crw-rw-rw-');
    assert.equal(modeString('dir', 0o040755), 'drwxr-xr-x');
    assert.equal(modeString('symlink', 0o120777), 'lrwxrwxrwx');
    assert.equal(modeString('file', 0o100444), '-r--r--r--');
    assert.equal(modeString('blk', 0o060660), 'brw-rw----');
  });

  it('shows setuid, setgid and sticky bits', () => {
    assert.equal(modeString('file', 0o4755), '-rwsr-xr-x');
    assert.equal(modeString('file', 0o2644), '-rw-r-Sr--');
    assert.equal(modeString('dir', 0o1777), 'drwxrwxrwt');
  });
});
