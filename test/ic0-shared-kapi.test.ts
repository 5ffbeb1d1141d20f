/**
 * Several linux-kapi drivers in IC0 share the kapi module; each must still reach its own
 * container (regression: the driver initialised last used to capture every IC0 driver's env).
 */
import 'reflect-metadata';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootPlatform } from '../containers/boot.js';
import { O } from '../framework/vfs/types.js';

it('two Linux drivers in IC0 each keep their own env (mmap, module params, nodes)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hmdrv-ic0-'));
  const plat = join(dir, 'p.json');
  writeFileSync(plat, JSON.stringify({ name: 'both', devices: [
    { name: 'echo0', compatible: ['hmdrv,echo'] },
    { name: 'count0', compatible: ['tutorial,counter'] },
  ] }));
  const k = await bootPlatform({ platform: plat, isolation: 'ic0' });
  try {
    assert.deepEqual(k.devices().map((d) => d.state), ['bound', 'bound']);
    const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
    assert.equal((await fh.mmap(4096, 0)).length, 4096);
    await fh.close();
    assert.ok(k.vfs.exists('/dev/count0'));
  } finally { await k.shutdown(); }
});
