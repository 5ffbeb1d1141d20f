import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HmError } from '../errors/hm-error.js';
import { formatDiagnostic } from './diagnostic.js';
import { DriverIndex } from './driver-index.js';
import { loadPlatformFile, loadPlatformWithDrivers, parsePlatform, PlatformError, platformToJson, type PlatformParseOptions } from './platform-file.js';
import type { DriverManifest } from './types.js';

const FILE = 'plat.json';

/** The PlatformError thrown for `text`. */
function failure(text: string, opts: PlatformParseOptions = {}): PlatformError {
  try {
    parsePlatform(text, FILE, opts);
  } catch (e) {
    assert.ok(e instanceof PlatformError, String(e));
    return e;
  }
  assert.fail('expected a PlatformError');
}

/** The error lines for `text`, `plat.json:line:col: path: message`, without excerpts. */
function errorsOf(text: string, opts: PlatformParseOptions = {}): string[] {
  return failure(text, opts).diagnostics.map((d) => formatDiagnostic({ ...d, excerpt: undefined }));
}

/** "line:col" of the `nth` occurrence of `needle` in `text`, computed independently of the parser. */
function loc(text: string, needle: string, nth = 0): string {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `${needle} #${nth} not in text`);
  }
  const before = text.slice(0, at).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/** "line:col" just after the `nth` occurrence of `prefix` (where the value that follows it starts). */
function after(text: string, prefix: string, nth = 0): string {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(prefix, at + 1);
  assert.ok(at >= 0, `${prefix} #${nth} not in text`);
  const before = text.slice(0, at + prefix.length).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/** A platform file with the given device objects, one per line. */
const withDevices = (...devices: string[]) => `{\n  "devices": [\n    ${devices.join(',\n    ')}\n  ]\n}\n`;

const fake = (name: string, compatible: string[], params?: DriverManifest['params']): DriverManifest => {
  const m: DriverManifest = { name, compatible, entry: `./${name}.js`, kind: 'linux', isolation: 'ic1', dir: `/d/${name}`, entryPath: `/d/${name}/${name}.js` };
  if (params) m.params = params;
  return m;
};
const INDEX = DriverIndex.from([
  fake('hmecho', ['hmdrv,echo'], { buffer_size: { type: 'uint', default: 4096 }, verbose: { type: 'bool', default: false } }),
  fake('hmuart', ['ns16550a']),
  fake('hmufs', ['hmdrv,ufshc']),
]);

const EXAMPLE = `{ "name": "default",
  "options": { "isolation": "ic1", "watchdogMs": 2000 },
  "driverPaths": ["./drivers"],
  "drivers": ["hmuart", { "name": "hmecho", "isolation": "ic2", "params": { "buffer_size": 4096 } }],
  "devices": [
    { "name": "echo0", "compatible": ["hmdrv,echo"], "reg": [{ "base": "0x10000000", "size": "0x1000" }],
      "interrupts": [32], "properties": { "buffer-size": 4096 }, "isolation": "ic1", "driver": "hmecho", "model": "echo" },
    { "name": "uart0", "compatible": "ns16550a", "reg": [["0x9000000", 4096], { "base": 151027712, "size": "256", "name": "fifo" }],
      "interrupts": [33, 34] } ] }
`;

describe('parsePlatform: valid files', () => {
  it('reads every field, with numbers in any accepted form', () => {
    const spec = parsePlatform(EXAMPLE, '/plat/default.json', { driverIndex: INDEX });
    assert.deepEqual(spec, {
      name: 'default',
      source: '/plat/default.json',
      options: { isolation: 'ic1', watchdogMs: 2000 },
      driverPaths: ['/plat/drivers'],
      drivers: [
        { name: 'hmuart', where: 'drivers[0]' },
        { name: 'hmecho', isolation: 'ic2', params: { buffer_size: 4096 }, where: 'drivers[1]' },
      ],
      devices: [
        {
          name: 'echo0', compatible: ['hmdrv,echo'], reg: [{ base: 0x10000000, size: 0x1000 }], interrupts: [32],
          properties: { 'buffer-size': 4096 }, isolation: 'ic1', driver: 'hmecho', model: 'echo', where: 'devices[0]',
        },
        {
          name: 'uart0', compatible: ['ns16550a'], reg: [{ base: 0x9000000, size: 4096 }, { base: 0x9008000, size: 256, name: 'fifo' }],
          interrupts: [33, 34], properties: {}, where: 'devices[1]',
        },
      ],
    });
  });

  it('resolves driverPaths against baseDir, and defaults the name and the rest', () => {
    const spec = parsePlatform('{ "driverPaths": ["d", "/abs"] }', '/x/board.json', { baseDir: '/base' });
    assert.deepEqual(spec, { name: 'board', source: '/x/board.json', driverPaths: ['/base/d', '/abs'], drivers: [], devices: [], options: {} });
    const inline = parsePlatform('{ "driverPaths": ["d"] }', '<inline>');
    assert.equal(inline.source, '<inline>');
    assert.equal(inline.name, 'inline');
    assert.deepEqual(inline.driverPaths, [resolve('d')]);
  });

  it('round-trips through platformToJson', () => {
    const spec = parsePlatform(EXAMPLE, '/plat/default.json', { driverIndex: INDEX });
    const json = platformToJson(spec);
    assert.deepEqual((json.devices as { reg: unknown[] }[])[1]!.reg, [{ base: '0x9000000', size: '0x1000' }, { base: '0x9008000', size: '0x100', name: 'fifo' }]);
    const again = parsePlatform(JSON.stringify(json, null, 2), '/plat/default.json', { driverIndex: INDEX });
    assert.deepEqual(again, spec);
  });

  it('accepts a forced driver whose match table does not list the device (driver_override)', () => {
    const spec = parsePlatform(withDevices('{ "name": "e0", "compatible": "acme,other", "driver": "hmecho" }'), FILE, { driverIndex: INDEX });
    assert.equal(spec.devices[0]!.driver, 'hmecho');
  });

  it('accepts unknown driver names when no index is given', () => {
    assert.equal(parsePlatform('{ "drivers": ["whatever"] }', FILE).drivers[0]!.name, 'whatever');
  });

  it('accepts adjacent windows, the last page of the address space and IRQs 0 and 1023', () => {
    const text = withDevices(
      '{ "name": "a", "compatible": "x", "reg": [["0x1000", "0x1000"], ["0x2000", "0x1000"]], "interrupts": [0] }',
      '{ "name": "b", "compatible": "x", "reg": [["0xfffffffff000", "0x1000"]], "interrupts": [1023] }',
    );
    assert.equal(parsePlatform(text, FILE).devices.length, 2);
  });
});

describe('parsePlatform: errors', () => {
  it('is an HmError with code EPLATFORM, a summary line and one located line per error', () => {
    const text = withDevices('{ "name": "e0", "compatible": "x", "reg": [{ "base": 0, "size": "-1" }] }');
    const e = failure(text);
    assert.ok(e instanceof HmError);
    assert.equal(e.code, 'EPLATFORM');
    assert.equal(e.message, `platform file has 1 error\n  plat.json:${loc(text, '"-1"')}: devices[0].reg[0].size: expected a positive integer or hex string, got "-1"`);
    assert.equal(loc(text, '"-1"'), '3:69');
  });

  it('reports bad JSON with line:col and an excerpt', () => {
    const text = '{\n  "devices": [\n    { "name": "e0", "compatible": "x" },\n  ]\n}\n';
    const e = failure(text);
    assert.equal(e.message, [
      'platform file has 1 error',
      '  plat.json:3:40: invalid JSON: trailing comma before "]" is not allowed in JSON',
      '          { "name": "e0", "compatible": "x" },',
      '                                             ^',
    ].join('\n'));
  });

  it('reports wrong types at the offending value', () => {
    const text = `{
  "name": 7,
  "options": { "isolation": "ic1", "watchdogMs": -5 },
  "driverPaths": "./drivers",
  "drivers": [5, { "name": "" }],
  "devices": [
    { "name": "e0", "compatible": 5, "reg": "0x1000", "interrupts": ["32", 2.5], "properties": [], "driver": 1, "model": false },
    { "name": "e1", "compatible": ["x", ""], "reg": [5, ["0x1000"], { "base": "1e3", "size": 1.5 }], "interrupts": 3 },
    "e2"
  ]
}`;
    assert.deepEqual(errorsOf(text), [
      `plat.json:${after(text, '"name": ')}: name: expected a non-empty string, got 7`,
      `plat.json:${loc(text, '-5')}: options.watchdogMs: expected a positive integer (milliseconds), got -5`,
      `plat.json:${loc(text, '"./drivers"')}: driverPaths: expected an array, got "./drivers"`,
      `plat.json:${after(text, '"drivers": [')}: drivers[0]: expected a driver name or an object { "name", "isolation", "params" }, got 5`,
      `plat.json:${loc(text, '""')}: drivers[1].name: expected a non-empty string, got ""`,
      `plat.json:${after(text, '"compatible": ')}: devices[0].compatible: expected a string or an array of strings, got 5`,
      `plat.json:${loc(text, '"0x1000"')}: devices[0].reg: expected an array, got "0x1000"`,
      `plat.json:${loc(text, '"32"')}: devices[0].interrupts[0]: expected an integer IRQ number, got "32"`,
      `plat.json:${loc(text, '2.5')}: devices[0].interrupts[1]: expected an integer IRQ number, got 2.5`,
      `plat.json:${loc(text, '[]')}: devices[0].properties: expected an object, got an empty array`,
      `plat.json:${after(text, '"driver": ')}: devices[0].driver: expected a non-empty string, got 1`,
      `plat.json:${loc(text, 'false')}: devices[0].model: expected a non-empty string, got false`,
      `plat.json:${loc(text, '""', 1)}: devices[1].compatible[1]: expected a non-empty string, got ""`,
      `plat.json:${after(text, '"reg": [', 0)}: devices[1].reg[0]: expected an object { "base", "size" } or a [base, size] pair, got 5`,
      `plat.json:${loc(text, '["0x1000"]')}: devices[1].reg[1]: expected a [base, size] pair, got an array`,
      `plat.json:${loc(text, '"1e3"')}: devices[1].reg[2].base: expected a non-negative integer or hex string, got "1e3"`,
      `plat.json:${loc(text, '1.5')}: devices[1].reg[2].size: expected a positive integer or hex string, got 1.5`,
      `plat.json:${after(text, '"interrupts": ', 1)}: devices[1].interrupts: expected an array, got 3`,
      `plat.json:${loc(text, '"e2"')}: devices[2]: expected an object, got "e2"`,
    ]);
  });

  it('reports a top level that is not an object', () => {
    assert.deepEqual(errorsOf('[1]'), ['plat.json:1:1: expected an object, got an array']);
  });

  it('reports missing required fields at the object', () => {
    const text = withDevices('{ "reg": [] }', '{ "name": "ok", "compatible": [] }');
    assert.deepEqual(errorsOf(text), [
      `plat.json:${loc(text, '{ "reg"')}: devices[0]: missing required field "name"`,
      `plat.json:${loc(text, '{ "reg"')}: devices[0]: missing required field "compatible"`,
      `plat.json:${loc(text, '[] }', 1)}: devices[1].compatible: expected a string or a non-empty array of strings, got an empty array`,
    ]);
    const reg = withDevices('{ "name": "a", "compatible": "x", "reg": [{ "base": 0 }] }');
    assert.deepEqual(errorsOf(reg), [`plat.json:${loc(reg, '{ "base"')}: devices[0].reg[0]: missing required field "size"`]);
    const drv = '{ "drivers": [{ "isolation": "ic1" }] }';
    assert.deepEqual(errorsOf(drv), [`plat.json:1:15: drivers[0]: missing required field "name"`]);
  });

  it('reports unknown keys at the key, with "did you mean" when close', () => {
    const text = `{
  "devcies": [],
  "options": { "watchdog": 5 },
  "devices": [{ "name": "a", "compatible": "x", "interupts": [1], "reg": [{ "base": 0, "size": 1, "flags": 0 }], "colour": 1 }],
  "drivers": [{ "name": "x", "param": {} }]
}`;
    const e = failure(text);
    assert.deepEqual(e.diagnostics.map((d) => formatDiagnostic(d)), [
      `plat.json:2:3: devcies: unknown key "devcies" (did you mean "devices"?)`,
      `plat.json:3:16: options.watchdog: unknown key "watchdog" (did you mean "watchdogMs"?)`,
      `plat.json:${loc(text, '"interupts"')}: devices[0].interupts: unknown key "interupts" (did you mean "interrupts"?)`,
      `plat.json:${loc(text, '"flags"')}: devices[0].reg[0].flags: unknown key "flags"`,
      `plat.json:${loc(text, '"colour"')}: devices[0].colour: unknown key "colour"`,
      `plat.json:${loc(text, '"param"')}: drivers[0].param: unknown key "param" (did you mean "params"?)`,
    ]);
    assert.deepEqual(e.diagnostics[0]!.suggestions, ['did you mean "devices"?']);
    assert.deepEqual(e.diagnostics[4]!.suggestions, ['known keys: name, compatible, reg, interrupts, properties, isolation, driver, model']);
    assert.ok(e.suggestions.includes('devices[0].interupts: did you mean "interrupts"?'));
  });

  it('reports duplicate device names and duplicate driver entries', () => {
    const text = `{
  "drivers": ["hmecho", { "name": "hmecho", "isolation": "ic2" }],
  "devices": [
    { "name": "echo0", "compatible": "x" },
    { "name": "echo0", "compatible": "x" }
  ]
}`;
    const e = failure(text);
    assert.deepEqual(e.diagnostics.map((d) => formatDiagnostic(d)), [
      `plat.json:2:35: drivers[1].name: driver "hmecho" is already listed at drivers[0]`,
      `plat.json:5:15: devices[1].name: duplicate device name "echo0" (already used by devices[0])`,
    ]);
    assert.deepEqual(e.diagnostics[1]!.suggestions, ['rename it, e.g. to "echo1"']);
  });

  it('reports overlapping MMIO windows against the first window they overlap', () => {
    const text = withDevices(
      '{ "name": "uart0", "compatible": "x", "reg": [{ "base": "0x1800", "size": "0x1000" }] }',
      '{ "name": "echo0", "compatible": "x", "reg": [{ "base": "0x1800", "size": "0x1000" }] }',
      '{ "name": "ok0", "compatible": "x", "reg": [{ "base": "0x8000", "size": "0x1000" }, ["0x9000", "0x100"], ["0x9080", 16]] }',
      '{ "name": "late", "compatible": "x", "reg": [{ "base": "0x1000", "size": "0x1000" }] }',
    );
    assert.deepEqual(errorsOf(text), [
      `plat.json:${loc(text, '{ "base"', 1)}: devices[1].reg[0]: [0x1800..0x27ff] overlaps devices[0].reg[0] (uart0) [0x1800..0x27ff]`,
      `plat.json:${loc(text, '["0x9080"')}: devices[2].reg[2]: [0x9080..0x908f] overlaps devices[2].reg[1] (ok0) [0x9000..0x90ff]`,
      `plat.json:${loc(text, '{ "base"', 3)}: devices[3].reg[0]: [0x1000..0x1fff] overlaps devices[0].reg[0] (uart0) [0x1800..0x27ff]`,
    ]);
  });

  it('reports zero-size windows and windows past 2^48', () => {
    const text = withDevices(
      '{ "name": "a", "compatible": "x", "reg": [{ "base": "0x1000", "size": 0 }, ["0xffffffffffff", 2], ["0x1000000000000", "0x1"]] }',
    );
    assert.deepEqual(errorsOf(text), [
      `plat.json:${loc(text, '0 }')}: devices[0].reg[0].size: zero-size MMIO window`,
      `plat.json:${loc(text, '["0xffffffffffff"')}: devices[0].reg[1]: window [0xffffffffffff..0x1000000000000] extends beyond the 48-bit physical address space (last address 0xffffffffffff)`,
      `plat.json:${loc(text, '["0x1000000000000"')}: devices[0].reg[2]: window [0x1000000000000..0x1000000000000] extends beyond the 48-bit physical address space (last address 0xffffffffffff)`,
    ]);
  });

  it('reports IRQs used twice and IRQs out of range', () => {
    const text = withDevices(
      '{ "name": "uart0", "compatible": "x", "interrupts": [33] }',
      '{ "name": "echo0", "compatible": "x", "interrupts": [40, 40] }',
      '{ "name": "dup0", "compatible": "x", "interrupts": [33, 1024, -1] }',
    );
    const e = failure(text);
    assert.deepEqual(e.diagnostics.map((d) => formatDiagnostic(d)), [
      `plat.json:${loc(text, '40]')}: devices[1].interrupts[1]: IRQ 40 is listed twice (first at devices[1].interrupts[0])`,
      `plat.json:${loc(text, '33', 1)}: devices[2].interrupts[0]: IRQ 33 is already used by devices[0] (uart0)`,
      `plat.json:${loc(text, '1024')}: devices[2].interrupts[1]: IRQ 1024 is out of range (0..1023)`,
      `plat.json:${loc(text, '-1')}: devices[2].interrupts[2]: IRQ -1 is out of range (0..1023)`,
    ]);
    assert.deepEqual(e.diagnostics[1]!.suggestions, ['use a free IRQ, e.g. 32']);
  });

  it('reports bad isolation classes wherever they appear', () => {
    const text = `{
  "options": { "isolation": "IC1" },
  "drivers": [{ "name": "a", "isolation": "ic3" }],
  "devices": [{ "name": "a", "compatible": "x", "isolation": 2 }]
}`;
    assert.deepEqual(errorsOf(text), [
      'plat.json:2:29: options.isolation: isolation class must be ic0, ic1 or ic2, got "IC1" (did you mean "ic1"?)',
      'plat.json:3:43: drivers[0].isolation: isolation class must be ic0, ic1 or ic2, got "ic3"',
      'plat.json:4:62: devices[0].isolation: isolation class must be ic0, ic1 or ic2, got 2',
    ]);
  });

  it('reports unknown driver names against the index, with the closest known names', () => {
    const text = `{
  "drivers": ["hmeco", { "name": "hmecho", "params": { "buffer_sise": 1, "verbose": 1 } }, { "name": "zzz" }],
  "devices": [{ "name": "a", "compatible": "x", "driver": "hmuar" }]
}`;
    const e = failure(text, { driverIndex: INDEX });
    assert.deepEqual(e.diagnostics.map((d) => formatDiagnostic(d)), [
      'plat.json:2:15: drivers[0]: unknown driver "hmeco" (did you mean "hmecho"?)',
      `plat.json:${loc(text, '"buffer_sise"')}: drivers[1].params.buffer_sise: driver hmecho has no parameter "buffer_sise" (did you mean "buffer_size"?)`,
      `plat.json:${loc(text, '1 }')}: drivers[1].params.verbose: expected true or false (parameter verbose of hmecho is bool), got 1`,
      `plat.json:${loc(text, '"zzz"')}: drivers[2].name: unknown driver "zzz"`,
      `plat.json:${loc(text, '"hmuar"')}: devices[0].driver: unknown driver "hmuar" (did you mean "hmuart"?)`,
    ]);
    assert.deepEqual(e.diagnostics[0]!.suggestions, ['did you mean "hmecho"?']);
    assert.deepEqual(e.diagnostics[3]!.suggestions, ['known drivers: hmecho, hmuart, hmufs']);
  });

  it('reports duplicate JSON keys', () => {
    const text = '{\n  "name": "a",\n  "name": "b"\n}';
    assert.deepEqual(errorsOf(text), ['plat.json:3:3: name: duplicate key (first defined at 2:3; JSON keeps only the last)']);
  });

  it('collects every error into one PlatformError, in file order', () => {
    const text = withDevices(
      '{ "name": "a", "compatible": "x", "interrupts": [5000], "reg": [["0x0", "0x1000"]] }',
      '{ "name": "a", "compatible": "x", "reg": [["0x800", "0x10"]], "isolation": "ic9" }',
    );
    const e = failure(text);
    assert.equal(e.message.split('\n')[0], 'platform file has 4 errors');
    assert.deepEqual(e.diagnostics.map((d) => d.path), ['devices[0].interrupts[0]', 'devices[1].name', 'devices[1].reg[0]', 'devices[1].isolation']);
    assert.equal(e.message.split('\n').length, 5);
  });
});

describe('loadPlatformFile / loadPlatformWithDrivers', () => {
  it('reads a file, resolving driverPaths next to it, and names the file in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hmdrv-platform-'));
    try {
      const file = join(dir, 'board.json');
      await writeFile(file, '{ "driverPaths": ["./drivers"], "devices": [] }');
      const spec = await loadPlatformFile(file);
      assert.deepEqual([spec.name, spec.source, spec.driverPaths], ['board', file, [join(dir, 'drivers')]]);

      await writeFile(file, '{\n  "devices": [{ "name": "a" }]\n}');
      await assert.rejects(loadPlatformFile(file), (e: unknown) => e instanceof PlatformError && e.message.includes(`${file}:2:15: devices[0]: missing required field "compatible"`));

      await assert.rejects(loadPlatformFile(join(dir, 'nope.json')), (e: unknown) => e instanceof PlatformError && /cannot read platform file: ENOENT/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('builds the driver index from the platform driverPaths, then the given dirs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hmdrv-platform-'));
    try {
      const writeDriver = async (base: string, name: string, compatible: string, extra: Record<string, unknown> = {}, entry = true) => {
        await mkdir(join(base, name), { recursive: true });
        await writeFile(join(base, name, 'manifest.json'), JSON.stringify({ name, compatible, entry: `./${name}.js`, kind: 'native', ...extra }));
        if (entry) await writeFile(join(base, name, `${name}.js`), 'export default {};\n');
      };
      await writeDriver(join(dir, 'local'), 'hmecho', 'local,echo');
      await writeDriver(join(dir, 'builtin'), 'hmecho', 'builtin,echo');
      await writeDriver(join(dir, 'builtin'), 'hmuart', 'ns16550a');
      await writeDriver(join(dir, 'builtin'), 'hmufs', 'hmdrv,ufshc', {}, false);
      const file = join(dir, 'board.json');
      await writeFile(file, JSON.stringify({ driverPaths: ['./local'], drivers: ['hmecho', 'hmuart'] }));
      const { platform, drivers } = await loadPlatformWithDrivers(file, { driverDirs: [join(dir, 'builtin')] });
      assert.deepEqual(platform.drivers.map((d) => d.name), ['hmecho', 'hmuart']);
      assert.deepEqual(drivers.get('hmecho')!.compatible, ['local,echo']); // the platform's own path wins
      assert.equal(drivers.problems.length, 2); // the shadowed hmecho, hmufs without entry

      await writeFile(file, JSON.stringify({ driverPaths: ['./local'], drivers: ['hmufs'] }));
      await assert.rejects(loadPlatformWithDrivers(file, { driverDirs: [join(dir, 'builtin')] }), (e: unknown) => {
        assert.ok(e instanceof PlatformError);
        assert.match(e.message, /drivers\[0\]: unknown driver "hmufs"/);
        assert.ok(e.diagnostics[0]!.suggestions.some((s) => s.startsWith('driver hmufs was skipped: ') && s.includes('does not exist')), e.diagnostics[0]!.suggestions.join('\n'));
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
