/**
 * Driver code that runs outside a downcall (a kapi timer callback) and throws is contained like
 * any driver fault: logged, the container restarted, the device re-probed — in every class, and
 * never taking the kernel down (IC0 runs in the kernel's own isolate).
 */
import 'reflect-metadata';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootPlatform } from '../containers/boot.js';
import type { IsolationClass } from '../framework/platform/types.js';

const ENTRY = fileURLToPath(new URL('../linux-kapi/fixtures/timer-bomb-driver.js', import.meta.url));

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  it(`a throwing timer callback is a contained fault (${ic})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hmdrv-bomb-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ name: 'timer-bomb', compatible: ['test,timer-bomb'], entry: ENTRY, kind: 'linux', isolation: ic }));
    const plat = join(dir, 'p.json');
    writeFileSync(plat, JSON.stringify({ name: 'bomb', driverPaths: [dir], devices: [{ name: 'bomb0', compatible: ['test,timer-bomb'] }] }));
    const k = await bootPlatform({ platform: plat });
    try {
      const end = Date.now() + 5000;
      while (Date.now() < end && !(k.containers()[0]?.restarts >= 1 && k.containers()[0]?.state === 'running')) await new Promise((r) => setTimeout(r, 20));
      assert.ok(k.containers()[0]!.restarts >= 1, 'restarted');
      assert.match(k.log.entries().map((e) => e.message).join('\n'), /timer bomb/);
    } finally { await k.shutdown(); }
  });
}
