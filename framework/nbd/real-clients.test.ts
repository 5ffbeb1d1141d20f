/**
 * NbdServer against real NBD clients: nbdinfo and nbdcopy (libnbd-bin), qemu-img and qemu-io
 * (qemu-utils), fio's nbd engine (fio). Each test skips itself when its tool is missing
 * (`apt-get install libnbd-bin qemu-utils fio`). The clients run as child processes while the
 * server runs in this process over a slow-ish fake disk that moves at most 128 KiB a call.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type Started } from './helpers.testing.js';

const DISK = 64 << 20;
const TIMEOUT_MS = 120_000;

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function fioHasNbd(): boolean {
  if (!has('fio')) return false;
  const r = spawnSync('fio', ['--enghelp=nbd'], { encoding: 'utf8' });
  return r.status === 0 && /uri/.test(r.stdout);
}

const skip = (tool: string, ok = has(tool)) => (ok ? false : `${tool} is not installed`);

interface Run { stdout: string; stderr: string }

/** Runs a tool to completion; rejects (with its output) if it fails. */
/** Clients run in a scratch directory: fio drops its verify-state files in the working directory. */
const SCRATCH = mkdtempSync(join(tmpdir(), 'hmdrv-nbd-clients-'));

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: TIMEOUT_MS, maxBuffer: 64 << 20, encoding: 'utf8', cwd: SCRATCH }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** A slow-ish disk: every third operation waits a millisecond; 128 KiB per call at most. */
function start(opts: Parameters<typeof startServer>[1] = {}): Promise<Started> {
  let n = 0;
  return startServer({ size: DISK, maxChunk: 128 << 10, delay: () => (n++ % 3 === 0 ? 1 : 0) }, opts);
}

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmnbd-real-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('real NBD clients', () => {
  it('nbdinfo sees the size, flags and block sizes (TCP, unix socket, read-only)', { skip: skip('nbdinfo') }, async () => {
    const tcp = await start();
    const unix = await start({ socketPath: join(dir, 'info.sock'), readOnly: true });
    try {
      const info = JSON.parse((await run('nbdinfo', ['--json', tcp.server.uri])).stdout) as { exports: Record<string, unknown>[] };
      const e = info.exports[0]!;
      assert.equal(e['export-size'], DISK);
      assert.equal(e['export-name'], 'fake0');
      assert.equal(e.is_read_only, false);
      for (const can of ['can_flush', 'can_fua', 'can_trim', 'can_zero', 'can_multi_conn', 'can_cache']) assert.equal(e[can], true, can);
      assert.equal(e.block_size_minimum, 512);
      assert.equal(e.block_size_maximum, 32 << 20);
      assert.equal((await run('nbdinfo', ['--size', `nbd://127.0.0.1:${tcp.server.address.port}`])).stdout.trim(), String(DISK));
      const ro = JSON.parse((await run('nbdinfo', ['--json', unix.server.uri])).stdout) as { exports: Record<string, unknown>[] };
      assert.equal(ro.exports[0]!.is_read_only, true);
      assert.equal(ro.exports[0]!['export-size'], DISK);
    } finally {
      await Promise.all([tcp.server.close(), unix.server.close()]);
    }
  });

  it('nbdcopy writes a random file to the export and reads it back, byte for byte', { skip: skip('nbdcopy') }, async () => {
    const { server, dev } = await start();
    try {
      const src = randomBytes(24 << 20);
      const srcFile = join(dir, 'src.bin');
      const backFile = join(dir, 'back.bin');
      await writeFile(srcFile, src);
      await run('nbdcopy', ['--requests=32', srcFile, server.uri]);
      assert.ok(dev.data.subarray(0, src.length).equals(src), 'device content differs from the source');
      await run('nbdcopy', [server.uri, backFile]);
      const back = await readFile(backFile);
      assert.equal(back.length, DISK);
      assert.ok(back.subarray(0, src.length).equals(src), 'read back differs from the source');
      assert.ok(back.subarray(src.length).every((b) => b === 0), 'the rest of the disk is not zero');
      assert.ok(server.stats().connections >= 2, 'nbdcopy used one connection (no multi-conn)');
      assert.ok(dev.maxActive > 1, `requests ran one at a time (maxActive ${dev.maxActive})`);
      assert.equal(server.stats().errors, 0);
    } finally {
      await server.close();
    }
  });

  it('qemu-img info/compare and qemu-io write, read, zero, discard and flush', { skip: skip('qemu-img') }, async () => {
    const { server, dev } = await start();
    try {
      const info = JSON.parse((await run('qemu-img', ['info', '--output=json', server.uri])).stdout) as Record<string, unknown>;
      assert.equal(info['virtual-size'], DISK);
      const image = randomBytes(4 << 20);
      dev.data.set(image, 0);
      const imageFile = join(dir, 'image.raw');
      await writeFile(imageFile, image);
      const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', imageFile, server.uri]);
      assert.match(cmp.stdout, /Images are identical/);
      if (!has('qemu-io')) return;
      dev.data.fill(0xee, 8 << 20, 12 << 20);
      await run('qemu-io', ['-f', 'raw',
        '-c', 'write -P 0x5a 1M 192k', '-c', 'read -P 0x5a 1M 192k',
        '-c', 'aio_write -P 0x11 0 4k', '-c', 'aio_flush',
        '-c', 'write -z 8M 1M', '-c', 'discard 10M 64k', '-c', 'flush',
        server.uri]);
      assert.ok(dev.data.subarray(1 << 20, (1 << 20) + (192 << 10)).every((b) => b === 0x5a));
      assert.ok(dev.data.subarray(0, 4096).every((b) => b === 0x11));
      assert.ok(dev.data.subarray(8 << 20, 9 << 20).every((b) => b === 0));
      assert.ok(dev.data.subarray(9 << 20, 10 << 20).every((b) => b === 0xee));
      assert.ok(dev.syncs >= 1, 'no flush reached the device');
      assert.equal(server.stats().errors, 0);
    } finally {
      await server.close();
    }
  });

  it('fio (nbd engine): random read/write at iodepth 16 with crc32c verification', { skip: skip('fio with the nbd engine', fioHasNbd()) }, async () => {
    const { server, dev } = await start();
    try {
      const common = ['--ioengine=nbd', `--uri=nbd://127.0.0.1:${server.address.port}/`, '--bs=4k', '--iodepth=16',
        '--size=16M', '--verify=crc32c', '--output-format=json'];
      const mixed = await run('fio', ['--name=randrw', '--rw=randrw', ...common]);
      const written = await run('fio', ['--name=randwrite', '--rw=randwrite', '--do_verify=1', ...common]);
      for (const r of [mixed, written]) {
        const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: { error: number; read: { io_bytes: number }; write: { io_bytes: number } }[] };
        const job = json.jobs[0]!;
        assert.equal(job.error, 0);
        assert.ok(job.write.io_bytes > 0);
        assert.ok(job.read.io_bytes > 0, 'fio read nothing back (no verification)');
      }
      assert.ok(dev.maxActive > 1, `requests ran one at a time (maxActive ${dev.maxActive})`);
      assert.equal(server.stats().errors, 0);
    } finally {
      await server.close();
    }
  });

  it('fio verification is real: a disk that flips a bit now and then is caught', { skip: skip('fio with the nbd engine', fioHasNbd()) }, async () => {
    const { server, dev } = await start();
    const read = dev.read.bind(dev);
    let reads = 0;
    dev.read = async (file, length, position) => {
      const r = await read(file, length, position);
      if (++reads % 50 === 0 && r.data.length > 0) r.data[r.data.length - 1]! ^= 1;
      return r;
    };
    try {
      await assert.rejects(run('fio', ['--name=corrupt', '--rw=randwrite', '--do_verify=1', '--ioengine=nbd',
        `--uri=nbd://127.0.0.1:${server.address.port}/`, '--bs=4k', '--iodepth=16', '--size=8M', '--verify=crc32c']),
      /verify failed/);
    } finally {
      await server.close();
    }
  });
});
