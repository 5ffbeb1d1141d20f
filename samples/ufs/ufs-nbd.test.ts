/**
 * /dev/sda of the UFS driver exported over NBD to real clients: nbdinfo (size, block sizes),
 * nbdcopy (a random image written through the whole stack and read back), qemu-img compare
 * and qemu-io (writes, flush). Each test skips itself when its tool is missing
 * (`apt-get install libnbd-bin qemu-utils`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NbdServer } from '../../framework/nbd/server.js';
import { O } from '../../framework/vfs/types.js';
import { bootUfs, diskStat, type UfsRig } from './ufs-rig.testing.js';

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const skip = (tool: string) => (has(tool) ? false : `${tool} is not installed`);

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 64 << 20, encoding: 'utf8', cwd }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('NBD export of the UFS disk to real clients (ic1)', () => {
  let rig: UfsRig;
  let server: NbdServer;
  before(async () => {
    rig = await bootUfs('ic1', { luns: ['64M'] });
    server = await NbdServer.listen(rig.k.vfs, { path: '/dev/sda', port: 0 });
  });
  after(async () => {
    await server?.close();
    await rig?.dispose();
  });

  it('nbdinfo sees the disk\'s size and block size', { skip: skip('nbdinfo') }, async () => {
    const info = JSON.parse(await run('nbdinfo', ['--json', server.uri], rig.dir)) as { exports: Record<string, unknown>[] };
    const e = info.exports[0]!;
    assert.equal(e['export-size'], 64 << 20);
    assert.equal(e['export-name'], 'sda');
    assert.equal(e.can_flush, true);
  });

  it('nbdcopy writes a random image through NBD, the VFS, blk-mq and the UFS driver, and reads it back', { skip: skip('nbdcopy'), timeout: 120_000 }, async () => {
    const before = await diskStat(rig.k);
    const image = randomBytes(24 << 20);
    const src = join(rig.dir, 'src.img'), back = join(rig.dir, 'back.img');
    await writeFile(src, image);
    await run('nbdcopy', ['--requests=16', src, server.uri], rig.dir);
    // What the driver wrote is on /dev/sda, seen without NBD.
    const fh = await rig.k.vfs.open('/dev/sda', O.RDONLY);
    const head = new Uint8Array(128 << 10);
    assert.equal((await fh.read(head, 0, head.length, 5 << 20)).bytesRead, head.length);
    await fh.close();
    assert.ok(Buffer.from(head).equals(image.subarray(5 << 20, (5 << 20) + head.length)));
    await run('nbdcopy', [server.uri, back], rig.dir);
    const got = await readFile(back);
    assert.equal(got.length, 64 << 20);
    assert.ok(got.subarray(0, image.length).equals(image), 'read back differs from the image');
    const after = await diskStat(rig.k);
    assert.ok(after[4]! - before[4]! >= (24 << 20) / (1 << 20), 'writes reached the disk');
    assert.ok(after[0]! - before[0]! >= (64 << 20) / (1 << 20), 'reads reached the disk');
    assert.equal(server.stats().errors, 0);
  });

  it('qemu-img compare and qemu-io write, read and flush', { skip: skip('qemu-io') }, async () => {
    const flushes = (await diskStat(rig.k))[15]!;
    await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 40M 192k', '-c', 'read -P 0x5a 40M 192k', '-c', 'flush', server.uri], rig.dir);
    assert.ok((await diskStat(rig.k))[15]! > flushes, 'the NBD flush reached the disk as a cache flush');
    const copy = join(rig.dir, 'copy.img');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', server.uri, copy], rig.dir);
    const out = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', copy, server.uri], rig.dir);
    assert.match(out, /Images are identical/);
    const img = await readFile(copy);
    assert.ok(img.subarray(40 << 20, (40 << 20) + (192 << 10)).every((b) => b === 0x5a));
  });
});
