/**
 * Device manager behaviour that needs real containers: deferred probe retried when another
 * device binds, resources of a failed or deferred probe released, bind/unbind errors.
 */
import 'reflect-metadata';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootPlatform } from '../containers/boot.js';
import { packageRoot } from '../devices/native/index.js';

const ECHO = join(packageRoot(), 'samples', 'platforms', 'echo.platform.json');
import { liveDisposableStores } from '../framework/lifecycle/disposable.js';

function platform(devices: unknown[], isolation = 'ic1'): string {
  const dir = mkdtempSync(join(tmpdir(), 'hmdrv-dm-'));
  const fixture = new URL('../containers/fixtures/', import.meta.url).pathname;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
    name: 'defer-driver', compatible: ['test,defer'], entry: join(fixture, 'defer-driver.js'), kind: 'native', isolation,
  }));
  const p = join(dir, 'platform.json');
  writeFileSync(p, JSON.stringify({ name: 'dm-test', driverPaths: [dir], devices }));
  return p;
}

describe('device manager', () => {
  it('retries a deferred probe when another device binds, releasing what the deferred probe held', async () => {
    const k = await bootPlatform({ platform: platform([
      { name: 'late', compatible: ['test,defer'], properties: { 'defer-count': 1 } },
      { name: 'echo0', compatible: ['hmdrv,echo'], properties: {} },
    ]) });
    try {
      const late = k.devices().find((d) => d.name === 'late')!;
      assert.equal(late.state, 'bound');
      // the node from the deferred attempt was released, so the retry could register it again
      assert.equal(await k.vfs.readFile('/dev/late', { encoding: 'utf8' }), 'attempt 2');
      assert.match(k.log.entries().map((e) => e.message).join('\n'), /late: probe deferred/);
    } finally { await k.shutdown(); }
  });

  it('leaves a device deferred when nothing else binds, and failed when probe fails', async () => {
    const before = liveDisposableStores();
    const k = await bootPlatform({ platform: platform([
      { name: 'never', compatible: ['test,defer'], properties: { 'defer-count': 99 } },
      { name: 'broken', compatible: ['test,defer'], properties: { fail: true } },
    ]) });
    try {
      const byName = Object.fromEntries(k.devices().map((d) => [d.name, d]));
      assert.equal(byName.never!.state, 'deferred');
      assert.equal(byName.broken!.state, 'failed');
      assert.match(byName.broken!.error!, /EIO/);
      assert.equal(k.vfs.exists('/dev/never'), false);
      assert.equal(k.vfs.exists('/dev/broken'), false);
      await assert.rejects(k.bind('nosuch'), { code: 'ENODEV' });
      await assert.rejects(k.bind('broken', 'nosuchdriver'), { code: 'ENOENT' });
    } finally { await k.shutdown(); }
    assert.equal(liveDisposableStores(), before, 'no binding scope leaked');
  });

  it('refuses to bind a bound device and unbinds cleanly', async () => {
    const k = await bootPlatform({ platform: ECHO, isolation: 'ic0' });
    try {
      await assert.rejects(k.bind('echo0'), { code: 'EBUSY' });
      await k.unbind('echo0');
      assert.equal(k.devices()[0]!.state, 'unbound');
      assert.equal(k.containers().length, 0, 'the idle container was stopped');
      await k.bind('echo0');
      assert.equal(k.devices()[0]!.state, 'bound');
    } finally { await k.shutdown(); }
  });
});
