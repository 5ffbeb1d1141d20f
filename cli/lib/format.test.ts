import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBootReport, formatDevices } from './device-format.js';
import { formatLs } from './ls-format.js';
import { describeError } from './errors.js';
import { HmError, SystemError } from '../../framework/errors/hm-error.js';
import type { LsEntry } from '../../framework/control/protocol.js';

const base = { uid: 0, gid: 0, ino: 1, nlink: 1, rdev: 0, size: 0 };

describe('listing formats', () => {
  it('ls -l lines: device numbers for nodes, size for files, link targets', () => {
    const entries: LsEntry[] = [
      { ...base, name: 'echo0', type: 'chr', mode: 0o020666, major: 240, minor: 0 },
      { ...base, name: 'version', type: 'file', mode: 0o100444, size: 18 },
      { ...base, name: 'link', type: 'symlink', mode: 0o120777, target: '../x' },
    ];
    assert.deepEqual(formatLs(entries), [
      'crw-rw-rw-  1  0  0  240, 0  echo0',
      '-r--r--r--  1  0  0      18  version',
      'lrwxrwxrwx  1  0  0       0  link -> ../x',
    ]);
  });

  it('device tables show driver, class, state and nodes', () => {
    const dev = { name: 'echo0', compatible: ['hmdrv,echo'], reg: [], irqs: [], state: 'bound' as const, driver: 'hmecho', isolation: 'ic1' as const, nodes: ['/dev/echo0'] };
    assert.match(formatDevices([dev])[1]!, /^echo0\s+hmdrv,echo\s+hmecho\s+ic1\s+bound\s+\/dev\/echo0$/);
    assert.match(formatBootReport([{ ...dev, state: 'failed', error: '-ENODEV', nodes: [] }])[1]!, /failed \(-ENODEV\)$/);
    assert.deepEqual(formatDevices([]), ['(no devices)']);
  });
});

describe('describeError', () => {
  it('keeps messages and suggestions of framework errors', () => {
    assert.deepEqual(describeError(new HmError('ENOTRUNNING', 'down', { suggestions: ['start it'] })),
      { message: 'down', suggestions: ['start it'], code: 'ENOTRUNNING' });
    assert.equal(describeError(new SystemError('ENOENT', 'open', '/dev/x')).message, "ENOENT: no such file or directory, open '/dev/x'");
    assert.deepEqual(describeError('weird'), { message: 'weird', suggestions: [] });
  });
});
