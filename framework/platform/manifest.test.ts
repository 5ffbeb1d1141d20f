import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from './diagnostic.js';
import { checkParamValue, loadManifest, parseManifest } from './manifest.js';

const FILE = '/drivers/hmecho/manifest.json';

const GOOD = {
  name: 'hmecho',
  description: 'echo device',
  compatible: ['hmdrv,echo'],
  entry: './hmecho.js',
  kind: 'linux',
  ioctls: [
    { name: 'ECHO_GET_SIZE', dir: 'read', type: 'E', nr: 1, size: 4, format: 'u32', description: 'buffer size' },
    { name: 'ECHO_SET_SIZE', dir: 'write', type: 'E', nr: 3, format: 'u32' },
    { name: 'ECHO_RESET', dir: 'none', type: 'E', nr: 0 },
    { name: 'ECHO_STATS', dir: 'readwrite', type: 0x45, nr: 5, size: 16, format: 'u64,u64' },
  ],
  params: { buffer_size: { type: 'uint', default: 4096, description: 'bytes' }, verbose: { type: 'bool', default: false } },
};

/** Problems as `line:col path: message` (file name left out). */
function problems(json: unknown): string[] {
  const text = typeof json === 'string' ? json : JSON.stringify(json, null, 2);
  const r = parseManifest(text, FILE);
  assert.equal(r.manifest, undefined, 'expected problems');
  return r.problems.map((d) => formatDiagnostic(d).slice(FILE.length + 1));
}

describe('parseManifest', () => {
  it('reads a valid manifest with defaults and absolute paths', () => {
    const r = parseManifest(JSON.stringify(GOOD), FILE);
    assert.deepEqual(r.problems, []);
    const m = r.manifest!;
    assert.equal(m.name, 'hmecho');
    assert.equal(m.isolation, 'ic1');
    assert.equal(m.dir, '/drivers/hmecho');
    assert.equal(m.entryPath, '/drivers/hmecho/hmecho.js');
    assert.deepEqual(m.ioctls!.map((i) => i.size), [4, 4, 0, 16]); // SET_SIZE and RESET got sizes from format / dir none
    assert.deepEqual(m.params!.buffer_size, { type: 'uint', default: 4096, description: 'bytes' });
  });

  it('accepts a compatible string and an explicit isolation class', () => {
    const m = parseManifest(JSON.stringify({ ...GOOD, compatible: 'hmdrv,echo', isolation: 'ic2', ioctls: undefined, params: undefined }), FILE).manifest!;
    assert.deepEqual(m.compatible, ['hmdrv,echo']);
    assert.equal(m.isolation, 'ic2');
    assert.equal('ioctls' in m, false);
  });

  it('reports missing fields, unknown keys and bad values, each at its place', () => {
    const text = '{\n  "name": "hm echo",\n  "compatable": ["x"],\n  "entry": "",\n  "kind": "linus",\n  "isolation": "ic7"\n}';
    assert.deepEqual(problems(text), [
      '3:3: compatable: unknown key "compatable" (did you mean "compatible"?)',
      '1:1: missing required field "compatible"',
      '2:11: name: driver name "hm echo" may contain only letters, digits, "_" and "-"',
      '4:12: entry: expected a non-empty string, got ""',
      '5:11: kind: kind must be linux or native, got "linus" (did you mean "linux"?)',
      '6:16: isolation: isolation class must be ic0, ic1 or ic2, got "ic7"',
    ]);
  });

  it('checks ioctl declarations', () => {
    const bad = {
      ...GOOD,
      ioctls: [
        { name: 'A', dir: 'read', type: 'E', nr: 1, size: 8, format: 'u32' },
        { name: 'A', dir: 'read', type: 'E', nr: 2, size: 4 },
        { name: 'B', dir: 'none', type: 'E', nr: 2, size: 4 },
        { name: 'C', dir: 'read', type: 'E', nr: 2, size: 4 },
        { name: 'D', dir: 'read', type: 'E', nr: 300, size: 4 },
        { name: 'E', dir: 'read', type: 'EE', nr: 4, size: 4 },
        { name: 'F', dir: 'read', type: 'E', nr: 5 },
        { name: 'G', dir: 'read', type: 'E', nr: 6, format: 'u128' },
        { name: 'H', dir: 'get', type: 'E', nr: 7, size: 4, flags: 1 },
      ],
    };
    const msgs = problems(bad).map((p) => p.replace(/^\d+:\d+: /, ''));
    assert.deepEqual(msgs, [
      'ioctls[0].size: size 8 does not match format "u32" (4 bytes)',
      'ioctls[1].name: ioctl A is already declared at ioctls[0]',
      'ioctls[2].size: an ioctl with dir "none" (_IO) carries no argument; size must be 0, got 4',
      'ioctls[3]: ioctl number 0x80044502 is already used by ioctls[1] (A)',
      'ioctls[4].nr: expected an integer in 0..255, got 300',
      'ioctls[5].type: expected one character or an integer in 0..255, got "EE"',
      'ioctls[6]: missing required field "size" (bytes of the argument)',
      'ioctls[7].format: unknown format "u128" (expected a comma list of u8, u16, u32, u64, i8, i16, i32, i64, or "bytes")',
      'ioctls[7]: missing required field "size" (bytes of the argument)',
      'ioctls[8].flags: unknown key "flags"',
      'ioctls[8].dir: ioctl dir must be none, read, write or readwrite, got "get"',
    ]);
  });

  it('checks parameter declarations and defaults', () => {
    const bad = { ...GOOD, params: { size: { type: 'uint', default: -1 }, 'bad-name': { type: 'bool', default: true }, mode: { type: 'string', default: 'x' }, n: { type: 'int' } } };
    const msgs = problems(bad).map((p) => p.replace(/^\d+:\d+: /, ''));
    assert.deepEqual(msgs, [
      'params.size.default: expected a 32-bit unsigned integer (type uint), got -1',
      'params["bad-name"]: parameter name "bad-name" must be an identifier (letters, digits, "_")',
      'params.mode.type: parameter type must be int, uint, bool or charp, got "string"',
      'params.n: missing required field "default"',
    ]);
  });

  it('reports bad JSON with its position and names the driver in every problem it can', () => {
    const r = parseManifest('{\n  "name": "x",\n}', FILE);
    assert.equal(r.manifest, undefined);
    assert.equal(formatDiagnostic(r.problems[0]!, ''), `${FILE}:2:14: invalid JSON: trailing comma before "}" is not allowed in JSON\n  "name": "x",\n             ^`);
    const named = parseManifest(JSON.stringify({ ...GOOD, kind: 'x' }), FILE);
    assert.equal(named.problems[0]!.driver, 'hmecho');
  });
});

describe('loadManifest', () => {
  it('reports a missing entry module at the "entry" field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hmdrv-manifest-'));
    try {
      const file = join(dir, 'manifest.json');
      await writeFile(file, JSON.stringify({ ...GOOD, ioctls: undefined, params: undefined }, null, 2));
      const r = await loadManifest(file);
      assert.equal(r.manifest, undefined);
      assert.equal(formatDiagnostic(r.problems[0]!), `${file}:7:12: entry: entry module ${join(dir, 'hmecho.js')} does not exist`);
      await writeFile(join(dir, 'hmecho.js'), 'export default {};\n');
      assert.equal((await loadManifest(file)).manifest?.entryPath, join(dir, 'hmecho.js'));
      const missing = await loadManifest(join(dir, 'nope.json'));
      assert.match(missing.problems[0]!.message, /^cannot read manifest: ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('checkParamValue', () => {
  it('applies the ranges of Linux module parameter types', () => {
    assert.equal(checkParamValue('int', -5), undefined);
    assert.equal(checkParamValue('int', 2 ** 31), 'a 32-bit signed integer');
    assert.equal(checkParamValue('uint', 2 ** 32 - 1), undefined);
    assert.equal(checkParamValue('uint', 1.5), 'a 32-bit unsigned integer');
    assert.equal(checkParamValue('bool', 1), 'true or false');
    assert.equal(checkParamValue('charp', 'x'), undefined);
  });
});
