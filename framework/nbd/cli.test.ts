/**
 * `hmdrv export nbd` end to end through the real bin, against a stand-in control server that
 * serves only the `exportNbd` method with NbdExports over a fake block device (the platform's
 * ControlServer gets the same method from the lead's wiring). Also NbdExports itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { HmError } from '../errors/hm-error.js';
import { toWireError } from '../control/wire-error.js';
import { NbdTestClient } from './client.testing.js';
import { NbdExports, parseExportSpec, type ExportNbdParams } from './exports.js';
import { fakeDisk } from '../vfs/fake-block.fixture.js';
import { pattern } from './helpers.testing.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'cli', 'bin', 'run.js');
const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', HMDRV_SOCKET: '', OCLIF_COLUMNS: '500' };

interface Run { code: number; stdout: string; stderr: string }

function hmdrv(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Newline-delimited JSON control protocol, `exportNbd` only. */
function standInControlServer(path: string, exports: NbdExports): Promise<Server> {
  const server = createServer((sock) => {
    let buf = '';
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, nl)) as { id: number; method: string; params: ExportNbdParams };
        buf = buf.slice(nl + 1);
        const answer = req.method === 'exportNbd'
          ? exports.export(req.params).then((result) => ({ id: req.id, result }))
          : Promise.reject(new HmError('ENOSYS', `unknown method '${req.method}'`));
        void answer.catch((e: unknown) => ({ id: req.id, error: toWireError(e) }))
          .then((msg) => sock.write(`${JSON.stringify(msg)}\n`));
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmnbd-cli-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('hmdrv export nbd', { skip: existsSync(bin) ? false : 'cli/bin/run.js not found' }, () => {
  let exports: NbdExports;
  let control: Server;
  let sock: string;
  let dev: ReturnType<typeof fakeDisk>['dev'];

  before(async () => {
    const fake = fakeDisk({ size: 1 << 20 });
    dev = fake.dev;
    exports = new NbdExports(fake.vfs);
    sock = join(dir, 'control.sock');
    control = await standInControlServer(sock, exports);
  });
  after(async () => {
    await exports.closeAll();
    await new Promise((resolve) => control.close(resolve));
  });

  it('asks the platform for the export and prints its URI; the export serves clients', async () => {
    const r = await hmdrv('export', 'nbd', '/dev/fake0', '--port', '0', '--socket', sock);
    assert.equal(r.code, 0, r.stderr);
    const m = /^\/dev\/fake0 exported read-write at (nbd:\/\/127\.0\.0\.1:(\d+)\/fake0)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const c = await NbdTestClient.connect({ port: Number(m[2]) }, 'fake0');
    await c.write(0, pattern(512));
    assert.deepEqual(dev.data.subarray(0, 512), pattern(512));
    await c.disconnect();
    // the same request again returns the running export
    const again = await hmdrv('export', 'nbd', '/dev/fake0', '--json', '--socket', sock);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { uri: string }).uri, m[1]);
  });

  it('a conflicting request fails with EBUSY; a missing device with ENOENT; --port and --socket-path exclude each other', async () => {
    const busy = await hmdrv('export', 'nbd', '/dev/fake0', '--read-only', '--socket', sock);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /already exported at nbd:\/\//);
    const missing = await hmdrv('export', 'nbd', '/dev/nope', '--socket', sock);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ENOENT/);
    const usage = await hmdrv('export', 'nbd', '/dev/fake0', '--port', '1', '--socket-path', 'x', '--socket', sock);
    assert.equal(usage.code, 2);
  });

  it('--socket-path --read-only --json: a read-only export on a unix socket', async () => {
    await exports.unexport('/dev/fake0');
    const path = join(dir, 'fake0.nbd');
    const r = await hmdrv('export', 'nbd', '/dev/fake0', '--socket-path', path, '--read-only', '--name', 'disk', '--json', '--socket', sock);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(result, {
      path: '/dev/fake0', exportName: 'disk', uri: `nbd+unix:///disk?socket=${path}`, readOnly: true, socketPath: path, connections: 0,
    });
    const c = await NbdTestClient.connect({ socketPath: path }, 'disk');
    assert.equal((await c.read(0, 512)).length, 512);
    await c.disconnect();
    assert.deepEqual(exports.list().map((e) => e.uri), [result.uri]);
  });
});

describe('NbdExports', () => {
  it('parses --nbd specs', () => {
    assert.deepEqual(parseExportSpec('/dev/sda'), { path: '/dev/sda' });
    assert.deepEqual(parseExportSpec('/dev/sda:10810'), { path: '/dev/sda', port: 10810 });
    assert.deepEqual(parseExportSpec('/dev/sda:0:ro'), { path: '/dev/sda', port: 0, readOnly: true });
    assert.deepEqual(parseExportSpec('/dev/sdb:/run/sdb.sock'), { path: '/dev/sdb', socketPath: '/run/sdb.sock' });
    for (const bad of ['sda', '/dev/sda:99999', '/dev/sda:x', '/dev/sda:1:2', '/dev/sda:ro:ro', '/dev/sda:1:/s']) {
      assert.throws(() => parseExportSpec(bad), (e: unknown) => e instanceof HmError && e.code === 'EINVAL', bad);
    }
  });

  it('exports, lists, refuses a conflicting second export, unexports and closes all', async () => {
    const { vfs } = fakeDisk({ size: 1 << 20 });
    vfs.symlink('/dev/fake0', '/dev/disk0');
    const lines: string[] = [];
    const exports = new NbdExports(vfs, (l) => lines.push(l));
    try {
      const a = await exports.export({ path: '/dev/disk0', port: 0 });
      assert.equal(a.path, '/dev/fake0', 'exported under its real path');
      assert.deepEqual(await exports.export({ path: '/dev/fake0' }), a);
      await assert.rejects(exports.export({ path: '/dev/fake0', readOnly: true }), (e: unknown) => e instanceof HmError && e.code === 'EBUSY');
      const c = await NbdTestClient.connect({ port: a.port! });
      assert.equal(exports.list()[0]!.connections, 1);
      assert.equal(await exports.unexport('/dev/disk0'), true);
      await c.closed;
      assert.equal(await exports.unexport('/dev/disk0'), false);
      await exports.export({ path: '/dev/fake0', port: 0, readOnly: true });
      assert.equal(exports.list().length, 1);
      assert.ok(lines.some((l) => /exporting \/dev\/fake0 at nbd:/.test(l)), lines.join('\n'));
    } finally {
      await exports.closeAll();
    }
    assert.deepEqual(exports.list(), []);
  });
});
