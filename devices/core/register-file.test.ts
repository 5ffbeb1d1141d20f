import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineRegisterMap, RegisterMapError, type SpecsOf } from './regmap.js';
import { RegisterFile, type RegisterAccessEvent, type RegisterFileHooks } from './register-file.js';

const map = defineRegisterMap('dev', {
  ID: { offset: 0x00, access: 'ro', reset: 0xcafe0001 },
  CTRL: {
    offset: 0x04,
    fields: {
      EN: { bit: 0, access: 'rw' },
      MODE: { bit: 4, width: 4, access: 'rw', reset: 2 },
      BUSY: { bit: 8, access: 'ro' },
      KICK: { bit: 12, access: 'wo' },
      RSV: { bit: 16, width: 4, access: 'rsvd' },
    },
  },
  STATUS: { offset: 0x08, fields: { DONE: { bit: 0, access: 'w1c' }, ERR: { bit: 1, access: 'w1c' }, LEVEL: { bit: 31, access: 'ro' } } },
  DOORBELL: { offset: 0x0c, access: 'w1s' },
  EVENTS: { offset: 0x10, access: 'rc' },
  MASK_CLR: { offset: 0x14, access: 'wo' },
  GAP: { offset: 0x18, access: 'rsvd' },
  BYTES: { offset: 0x1c, sizes: [1, 2, 4] },
  SMALL: { offset: 0x20, width: 16 },
});

function make(hooks: RegisterFileHooks<SpecsOf<typeof map>> = {}) {
  const logs: string[] = [];
  const rf = new RegisterFile(map, { log: (m) => logs.push(m), ...hooks });
  return { rf, logs };
}

describe('RegisterFile', () => {
  it('starts at the declared reset values and reset() restores them', () => {
    const { rf } = make();
    assert.equal(rf.read(0x00, 4), 0xcafe0001);
    assert.equal(rf.read(0x04, 4), 0x20);
    rf.write(0x04, 4, 0x1);
    rf.setValue('ID', 0);
    rf.reset();
    assert.equal(rf.value('CTRL'), 0x20);
    assert.equal(rf.value('ID'), 0xcafe0001);
  });

  it('rw stores; ro ignores writes and logs only writes that try to change it', () => {
    const { rf, logs } = make();
    rf.write(0x00, 4, 0xcafe0001);
    assert.equal(logs.length, 0, 'writing the same value back is fine');
    rf.write(0x00, 4, 0);
    assert.equal(rf.read(0x00, 4), 0xcafe0001);
    assert.equal(rf.stats.guestErrors, 1);
    assert.match(logs[0]!, /^dev: guest error: write 0x0 to ID tries to change read-only bits 0xcafe0001/);

    rf.setField('CTRL', 'BUSY', 1);
    rf.write(0x04, 4, 0x31); // EN=1, MODE=3, BUSY written 0
    assert.equal(rf.read(0x04, 4), 0x131, 'writable fields took the write, BUSY kept its value');
    assert.match(logs[1]!, /CTRL tries to change read-only bits 0x100 \(BUSY\)/);
  });

  it('w1c clears the bits written as 1', () => {
    const { rf, logs } = make();
    rf.setValue('STATUS', 0x80000003);
    rf.write(0x08, 4, 0x80000001);
    assert.equal(rf.read(0x08, 4), 0x80000002);
    rf.write(0x08, 4, 0x80000000);
    assert.equal(rf.read(0x08, 4), 0x80000002, 'writing 0 does nothing');
    rf.write(0x08, 4, rf.read(0x08, 4));
    assert.equal(rf.read(0x08, 4), 0x80000000, 'the write-back-what-you-read idiom clears what was read');
    assert.equal(logs.length, 0, 'the ro LEVEL bit was written with its own value: no guest error');
  });

  it('w1s sets the bits written as 1; the model clears them', () => {
    const { rf } = make();
    rf.write(0x0c, 4, 0b0101);
    rf.write(0x0c, 4, 0b0010);
    assert.equal(rf.read(0x0c, 4), 0b0111);
    rf.setValue('DOORBELL', rf.value('DOORBELL') & ~0b0001);
    assert.equal(rf.read(0x0c, 4), 0b0110);
  });

  it('rc returns the value once, then reads 0; writes are ignored', () => {
    const { rf, logs } = make();
    rf.setValue('EVENTS', 5);
    assert.equal(rf.read(0x10, 4), 5);
    assert.equal(rf.read(0x10, 4), 0);
    rf.write(0x10, 4, 9);
    assert.equal(rf.value('EVENTS'), 0);
    assert.equal(logs.length, 0);
  });

  it('wo stores for the model and reads 0; reserved bits read 0 and ignore writes', () => {
    const { rf } = make();
    rf.write(0x14, 4, 0xff);
    assert.equal(rf.read(0x14, 4), 0);
    assert.equal(rf.value('MASK_CLR'), 0xff);
    rf.write(0x04, 4, 0xffffffff);
    assert.equal(rf.value('CTRL'), 0x10f1, 'RSV and uncovered bits stay 0, KICK stored');
    assert.equal(rf.read(0x04, 4), 0x00f1, 'KICK (wo) reads 0');
    rf.setValue('CTRL', 0xffffffff);
    assert.equal(rf.value('CTRL'), 0x11f1, 'model writes cannot set reserved bits either');
    rf.write(0x18, 4, 0xffffffff);
    assert.equal(rf.read(0x18, 4), 0, 'a reserved register is mapped but inert');
  });

  it('logs an access of the wrong size and ignores it (reads 0)', () => {
    const { rf, logs } = make();
    assert.equal(rf.read(0x00, 2), 0);
    rf.write(0x04, 1, 1);
    assert.equal(rf.value('CTRL'), 0x20);
    assert.equal(rf.stats.guestErrors, 2);
    assert.match(logs[0]!, /read of ID at 0x0 with unsupported size 2 \(allowed: 4\)/);
    assert.match(logs[1]!, /write of CTRL at 0x4 with unsupported size 1/);
    assert.equal(rf.read(0x20, 4), 0, 'wider than a 16-bit register');
  });

  it('supports byte and halfword accesses where declared, and logs misaligned ones', () => {
    const { rf, logs } = make();
    rf.write(0x1c, 4, 0x11223344);
    assert.equal(rf.read(0x1d, 1), 0x33);
    assert.equal(rf.read(0x1e, 2), 0x1122);
    rf.write(0x1f, 1, 0xaa);
    assert.equal(rf.value('BYTES'), 0xaa223344);
    rf.write(0x1c, 2, 0xbeef);
    assert.equal(rf.value('BYTES'), 0xaa22beef);
    assert.equal(rf.read(0x1d, 2), 0);
    assert.match(logs[0]!, /misaligned 2-byte read of BYTES at 0x1d/);
  });

  it('byte reads of an rc register clear only the bytes read', () => {
    const m = defineRegisterMap('rc8', { ICR: { offset: 0, access: 'rc', sizes: [1, 4] } });
    const rf = new RegisterFile(m);
    rf.setValue('ICR', 0x0000ff0f);
    assert.equal(rf.read(0, 1), 0x0f);
    assert.equal(rf.value('ICR'), 0x0000ff00);
  });

  it('logs unmapped accesses as unhandled; they read 0 and never throw', () => {
    const { rf, logs } = make();
    assert.equal(rf.read(0x100, 4), 0);
    rf.write(0x24, 4, 1);
    rf.write(-4, 4, 1);
    assert.equal(rf.stats.unhandledReads, 1);
    assert.equal(rf.stats.unhandledWrites, 2);
    assert.equal(logs[0], 'dev: unhandled read at 0x100 (size 4)');
    assert.equal(logs[1], 'dev: unhandled write at 0x24 (size 4)');
  });

  it('calls onWrite after the write with (new, old, written), on every write', () => {
    const calls: number[][] = [];
    const { rf } = make({ onWrite: { DOORBELL: (n, o, w) => calls.push([n, o, w]), STATUS: (n, o, w) => calls.push([n, o, w]) } });
    rf.write(0x0c, 4, 1);
    rf.write(0x0c, 4, 1);
    rf.setValue('STATUS', 3);
    rf.write(0x08, 4, 2);
    assert.deepEqual(calls, [[1, 0, 1], [1, 1, 1], [1, 3, 2]]);
  });

  it('uses onRead as a value provider and calls afterRead with the value read', () => {
    let counter = 7;
    const seen: number[] = [];
    const { rf } = make({ onRead: { EVENTS: () => counter++ }, afterRead: { EVENTS: (v) => seen.push(v) } });
    assert.equal(rf.read(0x10, 4), 7);
    assert.equal(rf.read(0x10, 4), 8);
    assert.deepEqual(seen, [7, 8]);
    assert.equal(rf.value('EVENTS'), 0, 'still read-clear after providing');
  });

  it('traces every handled access', () => {
    const events: RegisterAccessEvent[] = [];
    const { rf } = make({ trace: (e) => events.push(e) });
    rf.write(0x04, 4, 0x1);
    rf.read(0x1e, 2);
    rf.read(0x400, 4);
    assert.deepEqual(events, [
      { kind: 'write', reg: 'CTRL', offset: 4, size: 4, value: 1 },
      { kind: 'read', reg: 'BYTES', offset: 0x1e, size: 2, value: 0 },
    ]);
    assert.equal(rf.stats.reads, 1);
    assert.equal(rf.stats.writes, 1);
  });

  it('dumps hex strings padded to the register width, and snapshots plain numbers', () => {
    const { rf } = make();
    rf.setValue('SMALL', 0xab);
    const d = rf.dump();
    assert.equal(d.ID, '0xcafe0001');
    assert.equal(d.SMALL, '0x00ab');
    assert.deepEqual(Object.keys(d), map.registers.map((r) => r.name));
    const snap = rf.snapshot();
    assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap);
    const other = new RegisterFile(map);
    other.restore(snap);
    assert.deepEqual(other.dump(), d);
  });

  it('gets and sets fields for the model', () => {
    const { rf } = make();
    assert.equal(rf.getField('CTRL', 'MODE'), 2);
    rf.setField('CTRL', 'MODE', 9);
    assert.equal(rf.read(0x04, 4), 0x90);
  });

  it('valueAt / setValueAt reach registers by index, masking reserved bits like setValue', () => {
    const { rf } = make();
    const ctrl = map.reg('CTRL').index, small = map.reg('SMALL').index;
    assert.equal(rf.valueAt(ctrl), rf.value('CTRL'));
    rf.setValueAt(ctrl, 0xffffffff);
    assert.equal(rf.value('CTRL'), 0x11f1, 'bits outside the fields (reserved) stay 0');
    assert.equal(rf.valueAt(ctrl), rf.value('CTRL'));
    rf.setValueAt(small, 0x12345);
    assert.equal(rf.value('SMALL'), 0x2345, 'truncated to the width');
    rf.setValue('SMALL', 0x1ffff);
    assert.equal(rf.valueAt(small), 0xffff);
  });

  it('rejects hooks for registers the map does not declare', () => {
    assert.throws(() => new RegisterFile(map, { onWrite: { NOPE: () => {} } as object }), RegisterMapError);
  });

  it('uses the instance name in messages and exposes name/size as an MMIO region', () => {
    const logs: string[] = [];
    const rf = new RegisterFile(map, { name: 'dev1', log: (m) => logs.push(m) });
    rf.read(0x40, 4);
    assert.equal(logs[0], 'dev1: unhandled read at 0x40 (size 4)');
    assert.equal(rf.name, 'dev1');
    assert.equal(rf.size, 0x22);
  });
  it('lastReadW1c says whether the last read hit an interrupt status (write-1-to-clear bits)', () => {
    const { rf } = make();
    rf.read(0x08, 4);
    assert.equal(rf.lastReadW1c, true, 'STATUS has W1C bits');
    rf.read(0x10, 4);
    assert.equal(rf.lastReadW1c, false, 'EVENTS is read-to-clear, not W1C');
    rf.read(0x08, 4);
    rf.read(0x40, 4);
    assert.equal(rf.lastReadW1c, false, 'an unhandled read is no status read');
  });
});
