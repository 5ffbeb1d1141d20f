import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineRegisterMap, RegisterMapError, type RegisterSpecs } from './regmap.js';

/** A slice of UFSHCI (hardware-models.md 1.1). */
const ufs = defineRegisterMap('ufshci', {
  CAP: {
    offset: 0x00, access: 'ro', reset: 0x0107021f,
  },
  VER: { offset: 0x08, access: 'ro', reset: 0x0400 },
  IS: {
    offset: 0x20,
    fields: {
      UTRCS: { bit: 0, access: 'w1c' },
      UCCS: { bit: 10, access: 'w1c' },
      HCFES: { bit: 16, access: 'w1c' },
    },
  },
  IE: { offset: 0x24 },
  HCS: {
    offset: 0x30,
    fields: { DP: { bit: 0, access: 'ro' }, UCRDY: { bit: 3, access: 'ro' }, UPMCRS: { bit: 8, width: 3, access: 'ro' } },
  },
  UTRLBA: { offset: 0x50, fields: { BA: { bit: 10, width: 22, access: 'rw' } } },
  UTRLBAU: { offset: 0x54 },
  UTRLDBR: { offset: 0x58, access: 'w1s' },
  TOP: { offset: 0x5c, fields: { MSB: { bit: 31, access: 'rw' } } },
});

/** Expects defineRegisterMap to throw a RegisterMapError whose message matches `re`. */
function rejects(specs: RegisterSpecs, re: RegExp, options?: { size?: number }): RegisterMapError {
  let caught: unknown;
  try {
    defineRegisterMap('t', specs, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof RegisterMapError, `expected a RegisterMapError, got ${String(caught)}`);
  assert.match(caught.message, re);
  return caught;
}

describe('defineRegisterMap', () => {
  it('exposes offsets, bit constants and the window size', () => {
    assert.equal(ufs.offsets.IS, 0x20);
    assert.equal(ufs.offsets.UTRLDBR, 0x58);
    assert.equal(ufs.bits.IS.UTRCS, 1 << 0);
    assert.equal(ufs.bits.IS.UCCS, 1 << 10);
    assert.equal(ufs.bits.HCS.UPMCRS, 0x700, 'multi-bit fields give their in-place mask');
    assert.equal(ufs.bits.TOP.MSB, 0x80000000, 'bit 31 stays unsigned');
    assert.equal(ufs.size, 0x60);
  });

  it('describes fields as { shift, mask } and gets/sets them', () => {
    const f = ufs.field('HCS', 'UPMCRS');
    assert.equal(f.shift, 8);
    assert.equal(f.mask, 0x700);
    assert.equal(f.width, 3);
    assert.equal(ufs.get(0x00000309, 'HCS', 'UPMCRS'), 3);
    assert.equal(ufs.get(0x00000309, 'HCS', 'UCRDY'), 1);
    assert.equal(ufs.set(0x00000309, 'HCS', 'UPMCRS', 4), 0x00000409);
    assert.equal(ufs.set(0, 'HCS', 'UPMCRS', 0xff), 0x700, 'values are truncated to the field');
    assert.equal(ufs.set(0, 'TOP', 'MSB', 1), 0x80000000);
    assert.equal(ufs.get(0x80000000, 'TOP', 'MSB'), 1);
  });

  it('orders registers by offset and finds the register covering any byte', () => {
    assert.deepEqual(ufs.registers.map((r) => r.name), ['CAP', 'VER', 'IS', 'IE', 'HCS', 'UTRLBA', 'UTRLBAU', 'UTRLDBR', 'TOP']);
    assert.equal(ufs.at(0x22)?.name, 'IS');
    assert.equal(ufs.at(0x04), undefined);
    assert.equal(ufs.reg('IE').reset, 0);
  });

  it('derives access-mode masks; uncovered bits are reserved', () => {
    const is = ufs.reg('IS').modes;
    assert.equal(is.w1c, 0x00010401);
    assert.equal(is.rsvd, (~0x00010401) >>> 0);
    assert.equal(ufs.reg('IE').modes.rw, 0xffffffff);
    assert.equal(ufs.reg('UTRLBA').modes.rsvd, 0x3ff);
  });

  it('combines register and field reset values', () => {
    const m = defineRegisterMap('r', {
      A: { offset: 0, reset: 0x0f, fields: { LO: { bit: 0, width: 4, access: 'rw' }, HI: { bit: 4, width: 4, access: 'rw', reset: 0xa } } },
    });
    assert.equal(m.reg('A').reset, 0xaf);
    assert.equal(m.field('A', 'HI').reset, 0xa);
    assert.equal(m.field('A', 'LO').reset, 0xf);
  });

  it('returns a frozen map', () => {
    assert.ok(Object.isFrozen(ufs));
    assert.ok(Object.isFrozen(ufs.offsets));
    assert.ok(Object.isFrozen(ufs.bits.IS));
    assert.ok(Object.isFrozen(ufs.reg('IS').fields[0]));
    assert.throws(() => { (ufs.offsets as Record<string, number>).IS = 0; }, TypeError);
  });

  it('throws for unknown registers and fields in helpers', () => {
    assert.throws(() => ufs.reg('NOPE' as 'IS'), /ufshci\.NOPE: no such register/);
    assert.throws(() => ufs.field('IS', 'NOPE' as 'UCCS'), /ufshci\.IS\.NOPE: no such field/);
  });

  describe('rejects at definition time', () => {
    it('overlapping fields, naming both', () => {
      const e = rejects({ A: { offset: 0, fields: { X: { bit: 0, width: 4, access: 'rw' }, Y: { bit: 3, access: 'ro' } } } }, /t\.A\.Y: overlaps field X/);
      assert.equal(e.register, 'A');
      assert.equal(e.field, 'Y');
    });
    it('a field beyond the register width', () => {
      rejects({ A: { offset: 0, width: 8, fields: { X: { bit: 6, width: 3, access: 'rw' } } } }, /t\.A\.X: bits 8:6 run past the 8-bit register/);
    });
    it('overlapping registers', () => {
      rejects({ A: { offset: 0 }, B: { offset: 2, width: 16 } }, /t\.B: offset 0x2 overlaps register A \(0x0\.\.0x3\)/);
    });
    it('misaligned offsets', () => {
      rejects({ A: { offset: 0x6 } }, /t\.A: offset 0x6 is not aligned/);
      rejects({ A: { offset: 0x3, width: 16 } }, /not aligned to the register width \(2 bytes\)/);
    });
    it('duplicate names (differing only in case)', () => {
      rejects({ Ctrl: { offset: 0 }, CTRL: { offset: 4 } }, /t\.CTRL: duplicate name \(also declared as Ctrl\)/);
      rejects({ A: { offset: 0, fields: { en: { bit: 0, access: 'rw' }, EN: { bit: 1, access: 'rw' } } } }, /t\.A\.EN: duplicate name/);
    });
    it('names that are not identifiers', () => {
      rejects({ 'A-B': { offset: 0 } }, /register name must be an identifier/);
    });
    it('reset values that do not fit', () => {
      rejects({ A: { offset: 0, width: 8, reset: 0x100 } }, /t\.A: reset 0x100 does not fit in 8 bits/);
      rejects({ A: { offset: 0, fields: { X: { bit: 0, width: 2, access: 'rw', reset: 4 } } } }, /t\.A\.X: reset 0x4 does not fit in 2 bits/);
      rejects({ A: { offset: 0, reset: 0x2, fields: { X: { bit: 0, access: 'rw' } } } }, /t\.A: reset 0x2 sets reserved bits 0x2/);
      rejects({ A: { offset: 0, reset: -1 } }, /does not fit/);
    });
    it('unknown access modes', () => {
      rejects({ A: { offset: 0, access: 'rwx' as 'rw' } }, /t\.A: unknown access mode 'rwx'/);
      rejects({ A: { offset: 0, fields: { X: { bit: 0, access: 'w0c' as 'w1c' } } } }, /t\.A\.X: unknown access mode 'w0c'/);
    });
    it('register-level access together with fields', () => {
      rejects({ A: { offset: 0, access: 'ro', fields: { X: { bit: 0, access: 'rw' } } } }, /give the access mode per field/);
    });
    it('bad widths, including 64-bit', () => {
      rejects({ A: { offset: 0, width: 64 as 32 } }, /width 64 is not 8, 16 or 32 \(declare 64-bit registers as two 32-bit halves\)/);
    });
    it('access sizes larger than the register or not 1/2/4', () => {
      rejects({ A: { offset: 0, width: 16, sizes: [4] } }, /access size 4 is not 1, 2 or 4 bytes within a 2-byte register/);
      rejects({ A: { offset: 0, sizes: [3 as 4] } }, /access size 3/);
    });
    it('a window smaller than its registers', () => {
      rejects({ A: { offset: 0x10 } }, /window size 8 is smaller than the last register's end 0x14/, { size: 8 });
    });
  });

  it('applies map-wide access sizes within each register width', () => {
    const m = defineRegisterMap('dispi', { IDX: { offset: 0, width: 16 }, B: { offset: 2, width: 8 }, W: { offset: 4 } }, { sizes: [1, 2, 4] });
    assert.deepEqual(m.reg('IDX').sizes, [1, 2]);
    assert.deepEqual(m.reg('B').sizes, [1]);
    assert.deepEqual(m.reg('W').sizes, [1, 2, 4]);
    assert.deepEqual(ufs.reg('IS').sizes, [4], 'default: only the register width');
  });
});
