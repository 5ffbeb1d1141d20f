import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostic } from './diagnostic.js';
import { DriverIndex } from './driver-index.js';
import type { DriverManifest } from './types.js';

/** Writes `<dir>/manifest.json` (and the entry module unless `entry` is false). */
async function driver(dir: string, manifest: Record<string, unknown> | string, entry = true): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
  if (entry && typeof manifest !== 'string') await writeFile(join(dir, String(manifest.entry)), 'export default {};\n');
}

const m = (name: string, compatible: string[], extra: Record<string, unknown> = {}) => ({ name, compatible, entry: `./${name}.js`, kind: 'linux', ...extra });

describe('DriverIndex.scan', () => {
  let root: string;
  let a: string;
  let b: string;
  let index: DriverIndex;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'hmdrv-index-'));
    a = join(root, 'a');
    b = join(root, 'b');
    await driver(a, m('topdrv', ['hmdrv,top'])); // a manifest directly in the scanned dir
    await driver(join(a, 'hmecho'), m('hmecho', ['hmdrv,echo'], { isolation: 'ic2' }));
    await driver(join(a, 'broken'), '{ "name": "broken", }');
    await driver(join(a, 'invalid'), m('invalid', ['x'], { kind: 'rust', entyr: 'x' }));
    await driver(join(a, 'noentry'), m('noentry', ['hmdrv,noentry']), false);
    await mkdir(join(a, 'empty'));
    await driver(join(a, 'deep', 'nested'), m('nested', ['hmdrv,nested'])); // two levels down: not scanned
    await driver(join(b, 'hmecho'), m('hmecho', ['hmdrv,echo2'])); // duplicate name: a wins
    await driver(join(b, 'hmuart'), m('hmuart', ['ns16550a']));
    await symlink(join(b, 'hmuart'), join(b, 'zz-link')); // a symlinked driver dir is followed
    index = await DriverIndex.scan([a, b, join(root, 'missing'), a]);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds manifests in each dir and its immediate subdirectories, in order', () => {
    assert.deepEqual(index.names(), ['topdrv', 'hmecho', 'hmuart']);
    assert.deepEqual(index.all().map((d) => d.name), index.names());
  });

  it('resolves entryPath and dir, and applies the isolation default', () => {
    const echo = index.get('hmecho')!;
    assert.equal(echo.dir, join(a, 'hmecho'));
    assert.equal(echo.entryPath, join(a, 'hmecho', 'hmecho.js'));
    assert.equal(echo.isolation, 'ic2');
    assert.equal(index.get('hmuart')!.isolation, 'ic1');
    assert.equal(index.get('nested'), undefined);
  });

  it('lets the first dir win on duplicate names and records a problem', () => {
    assert.deepEqual(index.get('hmecho')!.compatible, ['hmdrv,echo']);
    const dup = index.problems.find((p) => p.message.includes('already provided'))!;
    assert.equal(dup.file, join(b, 'hmecho', 'manifest.json'));
    assert.equal(dup.message, `driver "hmecho" is already provided by ${join(a, 'hmecho', 'manifest.json')}; this one is ignored`);
  });

  it('records bad manifests, missing entries and missing dirs as problems, naming file and field', () => {
    const lines = index.problems.map((p) => formatDiagnostic(p, ''));
    const hmuartDup = lines.filter((l) => l.startsWith(join(b, 'zz-link')));
    assert.equal(hmuartDup.length, 1, 'the symlinked copy is a duplicate of hmuart');
    assert.ok(lines.includes(`${join(a, 'broken', 'manifest.json')}:1:19: invalid JSON: trailing comma before "}" is not allowed in JSON\n{ "name": "broken", }\n                  ^`), lines.join('\n'));
    const invalid = join(a, 'invalid', 'manifest.json');
    assert.ok(lines.includes(`${invalid}:8:3: entyr: unknown key "entyr" (did you mean "entry"?)`), lines.join('\n'));
    assert.ok(lines.includes(`${invalid}:7:11: kind: kind must be linux or native, got "rust"`), lines.join('\n'));
    const noentry = join(a, 'noentry', 'manifest.json');
    assert.ok(lines.includes(`${noentry}:6:12: entry: entry module ${join(a, 'noentry', 'noentry.js')} does not exist`), lines.join('\n'));
    assert.ok(lines.includes(`${join(root, 'missing')}: driver directory does not exist or is not a directory`), lines.join('\n'));
    // broken, invalid (2), noentry, duplicate hmecho, duplicate hmuart (zz-link), missing dir
    assert.equal(index.problems.length, 7, lines.join('\n'));
  });

  it('explains why a driver is missing', () => {
    assert.equal(index.problemsFor('noentry').length, 1);
    assert.equal(index.problemsFor('invalid').length, 2);
    assert.deepEqual(index.problemsFor('hmuart').map((p) => p.file), [join(b, 'zz-link', 'manifest.json')]);
  });
});

const fake = (name: string, compatible: string[]): DriverManifest => ({
  name, compatible, entry: `./${name}.js`, kind: 'native', isolation: 'ic1', dir: `/d/${name}`, entryPath: `/d/${name}/${name}.js`,
});

describe('DriverIndex.match', () => {
  // Index order: the generic driver is found before the specific one.
  const index = DriverIndex.from([
    fake('generic', ['hmdrv,echo']),
    fake('specific', ['hmdrv,echo-v2', 'hmdrv,echo']),
    fake('second', ['HMDRV,ECHO']),
    fake('uart', ['ns16550a']),
  ]);

  it('prefers the driver matching the most specific compatible entry', () => {
    assert.equal(index.match({ compatible: ['hmdrv,echo-v2', 'hmdrv,echo'] })?.name, 'specific');
  });

  it('among drivers claiming the same entry, takes the first found', () => {
    assert.equal(index.match({ compatible: ['hmdrv,echo'] })?.name, 'generic');
  });

  it('compares compatible strings case-insensitively', () => {
    assert.equal(index.match({ compatible: ['Hmdrv,Echo'] })?.name, 'generic');
  });

  it('walks the list until something matches', () => {
    assert.equal(index.match({ compatible: ['acme,uart-9000', 'ns16550a'] })?.name, 'uart');
    assert.equal(index.match({ compatible: ['acme,nothing'] }), undefined);
  });

  it('lets a forced driver win outright, and match nothing if it does not exist', () => {
    assert.equal(index.match({ compatible: ['hmdrv,echo-v2'], driver: 'uart' })?.name, 'uart');
    assert.equal(index.match({ compatible: ['hmdrv,echo'], driver: 'nope' }), undefined);
  });

  it('lists every candidate, best first, each once', () => {
    const all = index.matchAll({ compatible: ['hmdrv,echo-v2', 'hmdrv,echo'], driver: 'uart' });
    assert.deepEqual(all.map((x) => [x.driver.name, x.reason, x.compatible, x.rank]), [
      ['uart', 'forced', undefined, -1],
      ['specific', 'compatible', 'hmdrv,echo-v2', 0],
      ['generic', 'compatible', 'hmdrv,echo', 1],
      ['second', 'compatible', 'hmdrv,echo', 1],
    ]);
  });

  it('narrows to the drivers a platform loads, keeping index order', () => {
    const loaded = index.only(['second', 'uart', 'missing']);
    assert.deepEqual(loaded.names(), ['second', 'uart']);
    assert.equal(loaded.match({ compatible: ['hmdrv,echo'] })?.name, 'second');
    assert.equal(loaded.match({ compatible: ['hmdrv,echo'], driver: 'generic' }), undefined);
  });

  it('records duplicates passed to from() as problems', () => {
    const dup = DriverIndex.from([fake('x', ['a']), fake('x', ['b'])]);
    assert.deepEqual(dup.names(), ['x']);
    assert.equal(dup.problems.length, 1);
    assert.equal(dup.match({ compatible: ['b'] }), undefined);
  });
});
