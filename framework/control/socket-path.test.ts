import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultSocketPath, prepareSocketDir } from './socket-path.js';

describe('defaultSocketPath', () => {
  it('prefers $HMDRV_SOCKET, then $XDG_RUNTIME_DIR, then the temp dir', () => {
    assert.equal(defaultSocketPath({ HMDRV_SOCKET: '/x/s.sock', XDG_RUNTIME_DIR: '/run/user/1' }), '/x/s.sock');
    assert.equal(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/1' }), '/run/user/1/hmdrv/control.sock');
    assert.equal(defaultSocketPath({}), join(tmpdir(), `hmdrv-${process.getuid!()}`, 'control.sock'));
  });

  it('rejects paths too long for sun_path', async () => {
    await assert.rejects(prepareSocketDir(`/tmp/${'x'.repeat(120)}.sock`), { code: 'ENAMETOOLONG' });
  });
});
