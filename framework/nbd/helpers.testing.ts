/**
 * @module nbd/helpers.testing
 * Shared bits of the NBD tests: a server over a fake block device, error assertions, polling.
 * Not part of the public API.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { NbdRequestError, type NbdTarget } from './client.testing.js';
import { fakeDisk, type FakeBlockDevice, type FakeBlockOptions } from '../vfs/fake-block.fixture.js';
import { NbdServer, type NbdServerOptions } from './server.js';
import type { Vfs } from '../vfs/vfs.js';

export interface Started {
  vfs: Vfs;
  dev: FakeBlockDevice;
  server: NbdServer;
  target: NbdTarget;
  logs: string[];
}

/** A server on 127.0.0.1 (any port) exporting a fresh fake disk (1 MiB unless told). */
export async function startServer(dev: Partial<FakeBlockOptions> = {}, opts: Partial<NbdServerOptions> = {}): Promise<Started> {
  const { vfs, dev: device, path } = fakeDisk({ size: 1 << 20, ...dev });
  const logs: string[] = [];
  const server = await NbdServer.listen(vfs, { path, port: 0, log: (m) => logs.push(m), ...opts });
  const target: NbdTarget = server.address.socketPath !== undefined
    ? { socketPath: server.address.socketPath }
    : { port: server.address.port! };
  return { vfs, dev: device, server, target, logs };
}

/** Asserts that `p` rejects with NBD error `errno`. */
export async function rejectsWith(p: Promise<unknown>, errno: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NbdRequestError, `expected an NbdRequestError, got ${String(e)}`);
    assert.equal(e.errno, errno);
    return true;
  });
}

/** Polls `cond` until true (or fails after `ms`). */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Deterministic pseudo-random bytes. */
export function pattern(length: number, seed = 1): Buffer {
  const b = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
