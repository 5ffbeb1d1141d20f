import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HmError } from '../errors/hm-error.js';
import { decodeIoctl, ioctlFormatSize, ioctlNumber, ioctlTypeCode } from './ioctl.js';

describe('ioctlNumber (Linux _IOC encoding)', () => {
  it('matches the values of the _IO/_IOR/_IOW/_IOWR macros', () => {
    assert.equal(ioctlNumber({ dir: 'read', type: 'E', nr: 1, size: 4 }), 0x80044501); // _IOR('E', 1, u32) = EVIOCGVERSION
    assert.equal(ioctlNumber({ dir: 'write', type: 'E', nr: 3, size: 4 }), 0x40044503); // _IOW('E', 3, u32)
    assert.equal(ioctlNumber({ dir: 'none', type: 'E', nr: 0, size: 0 }), 0x4500); // _IO('E', 0)
    assert.equal(ioctlNumber({ dir: 'readwrite', type: 'E', nr: 5, size: 8 }), 0xc0084505); // _IOWR('E', 5, u64)
  });

  it('matches real kernel constants, with a character or numeric type', () => {
    assert.equal(ioctlNumber({ dir: 'read', type: 'E', nr: 2, size: 8 }), 0x80084502); // EVIOCGID
    assert.equal(ioctlNumber({ dir: 'read', type: 0x12, nr: 114, size: 8 }), 0x80081272); // BLKGETSIZE64
    assert.equal(ioctlNumber({ dir: 'read', type: 'V', nr: 0, size: 104 }), 0x80685600); // VIDIOC_QUERYCAP
    assert.equal(ioctlNumber({ dir: 'none', type: 'U', nr: 1, size: 0 }), 0x5501); // UI_DEV_CREATE
  });

  it('returns an unsigned 32-bit number (never negative)', () => {
    const n = ioctlNumber({ dir: 'readwrite', type: 0xff, nr: 0xff, size: 0x3fff });
    assert.equal(n, 0xffffffff);
    assert.ok(n > 0);
  });

  it('rejects fields out of range with EINVAL', () => {
    const bad = [
      { dir: 'read', type: 'E', nr: 256, size: 4 },
      { dir: 'read', type: 'E', nr: 1, size: 0x4000 },
      { dir: 'read', type: 'EE', nr: 1, size: 4 },
      { dir: 'read', type: 300, nr: 1, size: 4 },
      { dir: 'sideways', type: 'E', nr: 1, size: 4 },
    ] as const;
    for (const decl of bad) {
      assert.throws(() => ioctlNumber(decl as never), (e: unknown) => e instanceof HmError && e.code === 'EINVAL', JSON.stringify(decl));
    }
  });

  it('maps a type character to its code', () => {
    assert.equal(ioctlTypeCode('E'), 0x45);
    assert.equal(ioctlTypeCode(0x12), 0x12);
  });
});

describe('decodeIoctl', () => {
  it('splits a command into dir, type, nr and size', () => {
    assert.deepEqual(decodeIoctl(0xc0084505), { dir: 'readwrite', type: 0x45, nr: 5, size: 8 });
    assert.deepEqual(decodeIoctl(0x80044501), { dir: 'read', type: 0x45, nr: 1, size: 4 });
    assert.deepEqual(decodeIoctl(0x40044503), { dir: 'write', type: 0x45, nr: 3, size: 4 });
    assert.deepEqual(decodeIoctl(0x4500), { dir: 'none', type: 0x45, nr: 0, size: 0 });
  });

  it('accepts the signed form of a command (as C int)', () => {
    assert.deepEqual(decodeIoctl(0xc0084505 | 0), decodeIoctl(0xc0084505));
  });

  it('round-trips with ioctlNumber', () => {
    for (const dir of ['none', 'read', 'write', 'readwrite'] as const) {
      const d = { dir, type: 0x7a, nr: 0x42, size: dir === 'none' ? 0 : 24 };
      assert.deepEqual(decodeIoctl(ioctlNumber(d)), d);
    }
  });
});

describe('ioctlFormatSize', () => {
  it('sums fixed layouts, returns null for bytes and undefined for unknown formats', () => {
    assert.equal(ioctlFormatSize('u32'), 4);
    assert.equal(ioctlFormatSize('u64,u64'), 16);
    assert.equal(ioctlFormatSize('u8, i16, u32'), 7);
    assert.equal(ioctlFormatSize('bytes'), null);
    assert.equal(ioctlFormatSize('u128'), undefined);
    assert.equal(ioctlFormatSize('constructor'), undefined);
  });
});
