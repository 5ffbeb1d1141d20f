/**
 * The control socket end to end: a ControlServer over a fake kernel, driven by ControlClient
 * and by raw socket writes (malformed lines, pipelining).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HmError } from '../errors/hm-error.js';
import { ControlClient } from './client.js';
import { MAX_LINE_BYTES, type ControlResponse } from './protocol.js';
import { ControlServer } from './server.js';
import { createFakeKernel, type FakeKernel } from './testing/fake-kernel.js';
import { ControlError } from './wire-error.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString();

/** Sends raw `text` and collects `count` response lines. */
function rawExchange(sock: string, text: string, count: number): Promise<ControlResponse[]> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let buf = '';
    c.on('connect', () => c.write(text));
    c.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n').filter(Boolean);
      if (lines.length >= count) { c.end(); resolve(lines.map((l) => JSON.parse(l) as ControlResponse)); }
    });
    c.on('error', reject);
  });
}

/** Error a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<ControlError> {
  try { await p; } catch (e) { return e as ControlError; }
  assert.fail('expected a rejection');
}

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'hmctl-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

describe('ControlServer + ControlClient', () => {
  let kernel: FakeKernel;
  let server: ControlServer;
  let client: ControlClient;
  let sock: string;

  before(async () => {
    kernel = createFakeKernel();
    sock = join(dir, 'a.sock');
    server = await ControlServer.listen(kernel, sock);
    client = await ControlClient.connect(sock);
  });
  after(async () => { client.close(); await server.close(); });

  it('creates the socket file with mode 0600', async () => {
    assert.equal((await lstat(sock)).mode & 0o777, 0o600);
  });

  it('status, devices, drivers, containers', async () => {
    const status = await client.call('status', {});
    assert.equal(status.platform, 'fake');
    assert.equal(status.pid, process.pid);
    assert.equal(status.readyMs, 12);
    assert.ok(status.uptimeMs >= 0);
    const devices = await client.call('devices', {});
    assert.deepEqual(devices.map((d) => [d.name, d.state]), [['echo0', 'bound'], ['uart0', 'unbound']]);
    assert.equal((await client.call('drivers', {}))[0]!.ioctls.length, 4);
    assert.equal((await client.call('containers', {}))[0]!.isolation, 'ic1');
  });

  it('ls lists entries with types, device numbers and link targets', async () => {
    const dev = await client.call('ls', { path: '/dev' });
    const echo = dev.entries.find((e) => e.name === 'echo0');
    assert.ok(echo);
    assert.equal(echo.type, 'chr');
    assert.deepEqual([echo.major, echo.minor], [240, 0]);
    assert.equal(echo.mode & 0o777, 0o666);
    const cls = await client.call('ls', { path: '/sys/class/hmecho' });
    assert.deepEqual(cls.entries.map((e) => [e.name, e.type, e.target]), [['echo0', 'symlink', '../../devices/platform/echo0']]);
    const through = await client.call('ls', { path: '/sys/class/hmecho/echo0' });
    assert.deepEqual(through.entries.map((e) => e.name), ['buffered']);
    const single = await client.call('ls', { path: '/dev/echo0' });
    assert.equal(single.entries[0]!.name, '/dev/echo0');
  });

  it('stat follows links unless follow: false', async () => {
    assert.equal((await client.call('stat', { path: '/sys/class/hmecho/echo0' })).type, 'dir');
    const l = await client.call('stat', { path: '/sys/class/hmecho/echo0', follow: false });
    assert.equal(l.type, 'symlink');
    assert.equal(l.target, '../../devices/platform/echo0');
  });

  it('write then read round-trips bytes; an empty non-blocking read returns nothing', async () => {
    const w = await client.call('write', { path: '/dev/echo0', data: b64('hello\n') });
    assert.equal(w.bytesWritten, 6);
    const r = await client.call('read', { path: '/dev/echo0' });
    assert.equal(unb64(r.data), 'hello\n');
    assert.equal(r.bytes, 6);
    const empty = await client.call('read', { path: '/dev/echo0' });
    assert.deepEqual(empty, { data: '', bytes: 0, eof: false });
  });

  it('read honours length and reads generated files to EOF', async () => {
    await client.call('write', { path: '/dev/echo0', data: b64('abcdef') });
    assert.equal(unb64((await client.call('read', { path: '/dev/echo0', length: 2 })).data), 'ab');
    assert.equal(unb64((await client.call('read', { path: '/dev/echo0' })).data), 'cdef');
    const v = await client.call('read', { path: '/proc/version' });
    assert.equal(unb64(v.data), 'hmdrv fake kernel\n');
    assert.equal(v.eof, true);
    assert.equal(unb64((await client.call('read', { path: '/proc/version', offset: 6 })).data), 'fake kernel\n');
  });

  it('a follow read waits until another client writes', async () => {
    const other = await ControlClient.connect(sock);
    try {
      const pending = client.call('read', { path: '/dev/echo0', follow: true });
      await new Promise((r) => setTimeout(r, 50));
      await other.call('write', { path: '/dev/echo0', data: b64('late') });
      assert.equal(unb64((await pending).data), 'late');
    } finally { other.close(); }
  });

  it('binary data survives base64 both ways', async () => {
    const bytes = Buffer.from([0, 255, 254, 10, 13, 128]);
    await client.call('write', { path: '/dev/echo0', data: bytes.toString('base64') });
    assert.deepEqual(Buffer.from((await client.call('read', { path: '/dev/echo0' })).data, 'base64'), bytes);
  });

  it('ioctl by name decodes per format; argValues are encoded; numbers work too', async () => {
    await client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_RESET' });
    await client.call('write', { path: '/dev/echo0', data: b64('12345') });
    const count = await client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_GET_COUNT' });
    assert.equal(count.name, 'HMECHO_IOC_GET_COUNT');
    assert.equal(count.cmd, 0x80044501);
    assert.deepEqual(count.decoded, [5]);
    const stats = await client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_GET_STATS' });
    assert.deepEqual(stats.decoded, [1, 0, 5, 0]);
    const add = await client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_ADD', argValues: ['18446744073709551614', 1] });
    assert.deepEqual(add.decoded, ['18446744073709551615', '18446744073709551614']);
    const byNumber = await client.call('ioctl', { path: '/dev/echo0', cmd: '0x80044501' });
    assert.equal(byNumber.name, 'HMECHO_IOC_GET_COUNT');
    assert.deepEqual(byNumber.decoded, [5]);
  });

  it('ioctl: unknown names list the declared ones; bad arguments are EINVAL; unknown numbers reach the driver', async () => {
    const unknown = await rejection(client.call('ioctl', { path: '/dev/echo0', cmd: 'NOPE' }));
    assert.equal(unknown.code, 'EINVAL');
    assert.match(unknown.message, /unknown ioctl 'NOPE'/);
    assert.ok(unknown.suggestions.some((s) => s.startsWith('HMECHO_IOC_GET_COUNT')));
    const both = await rejection(client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_ADD', arg: 1, argValues: [1, 2] }));
    assert.equal(both.code, 'EINVAL');
    const range = await rejection(client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_ADD', argValues: [-1, 2] }));
    assert.match(range.message, /does not fit u64/);
    const junk = await rejection(client.call('ioctl', { path: '/dev/echo0', cmd: 'HMECHO_IOC_ADD', argValues: [{}, 2] } as never));
    assert.equal(junk.code, 'EINVAL');
    const notty = await rejection(client.call('ioctl', { path: '/dev/echo0', cmd: 0x1234 }));
    assert.equal(notty.code, 'ENOTTY');
    assert.equal(notty.errno, -25);
  });

  it('errors keep the fs error shape (code, errno, syscall, path, message)', async () => {
    const e = await rejection(client.call('read', { path: '/dev/nope' }));
    assert.ok(e instanceof ControlError);
    assert.deepEqual(
      { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message },
      { code: 'ENOENT', errno: -2, syscall: 'open', path: '/dev/nope', message: "ENOENT: no such file or directory, open '/dev/nope'" },
    );
    const bad = await rejection(client.call('read', { path: 42 } as never));
    assert.equal(bad.code, 'EINVAL');
    assert.match(bad.message, /params\.path/);
  });

  it('bind and unbind report the device; kernel errors carry suggestions', async () => {
    assert.equal((await client.call('bind', { device: 'uart0' }))?.state, 'bound');
    assert.equal((await client.call('unbind', { device: 'uart0' }))?.state, 'unbound');
    const e = await rejection(client.call('bind', { device: 'nope0' }));
    assert.equal(e.code, 'ENODEV');
    assert.deepEqual(e.suggestions, ['echo0', 'uart0']);
  });

  it('unknown methods answer ENOSYS', async () => {
    const e = await rejection(client.call('frobnicate', {}));
    assert.equal(e.code, 'ENOSYS');
    assert.equal(e.errno, -38);
  });

  it('malformed lines get an id:null EINVAL reply and the connection keeps working', async () => {
    const replies = await rawExchange(sock, '{not json\n[1,2]\n{"id":7,"method":"status","params":[]}\n{"id":8,"method":"status"}\n', 4);
    assert.deepEqual(replies.slice(0, 3).map((r) => [r.id, 'error' in r ? r.error.code : 'ok']), [[null, 'EINVAL'], [null, 'EINVAL'], [7, 'EINVAL']]);
    assert.equal(replies[3]!.id, 8);
    assert.ok('result' in replies[3]!);
  });

  it('a line over 16 MiB is answered with EMSGSIZE and skipped', async () => {
    const huge = `{"id":1,"method":"write","params":{"path":"/dev/echo0","data":"${'A'.repeat(MAX_LINE_BYTES)}"}}\n`;
    const replies = await rawExchange(sock, `${huge}{"id":2,"method":"status"}\n`, 2);
    assert.deepEqual(replies.map((r) => [r.id, 'error' in r ? r.error.code : 'ok']), [[null, 'EMSGSIZE'], [2, 'ok']]);
  });

  it('pipelined requests on one connection are answered in order', async () => {
    const lines = [JSON.stringify({ id: 0, method: 'ioctl', params: { path: '/dev/echo0', cmd: 'HMECHO_IOC_RESET' } })];
    lines.push(...[1, 2, 3].map((id) => JSON.stringify({ id, method: 'write', params: { path: '/dev/echo0', data: b64(String(id)) } })));
    lines.push(JSON.stringify({ id: 4, method: 'read', params: { path: '/dev/echo0' } }));
    const replies = await rawExchange(sock, `${lines.join('\n')}\n`, 5);
    assert.deepEqual(replies.map((r) => r.id), [0, 1, 2, 3, 4]);
    assert.equal(unb64((replies[4] as { result: { data: string } }).result.data), '123');
  });

  it('concurrent calls from two clients', async () => {
    const second = await ControlClient.connect(sock);
    try {
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => client.call('status', {})),
        ...Array.from({ length: 10 }, () => second.call('devices', {})),
      ]);
      assert.equal(results.length, 20);
    } finally { second.close(); }
  });
});

describe('ControlServer lifecycle', () => {
  it('replaces a stale socket file and removes it on close', async () => {
    const sock = join(dir, 'stale.sock');
    // A process that dies without cleaning up leaves its socket file behind.
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, ['-e',
        `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
      child.on('exit', () => resolve());
    });
    assert.ok((await lstat(sock)).isSocket());
    const server = await ControlServer.listen(createFakeKernel(), sock);
    const c = await ControlClient.connect(sock);
    assert.equal((await c.call('status', {})).platform, 'fake');
    c.close();
    await server.close();
    assert.equal(existsSync(sock), false);
  });

  it('refuses to take over a live server, and a path that is not a socket', async () => {
    const sock = join(dir, 'live.sock');
    const server = await ControlServer.listen(createFakeKernel(), sock);
    try {
      await assert.rejects(ControlServer.listen(createFakeKernel(), sock), (e: HmError) => {
        assert.equal(e.code, 'EADDRINUSE');
        assert.match(e.message, /already serving/);
        return true;
      });
      const c = await ControlClient.connect(sock); // the first server is unharmed
      assert.equal((await c.call('status', {})).platform, 'fake');
      c.close();
    } finally { await server.close(); }
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    await assert.rejects(ControlServer.listen(createFakeKernel(), file), { code: 'EEXIST' });
  });

  it('stop replies, then calls onStop', async () => {
    const sock = join(dir, 'stop1.sock');
    let stopped = 0;
    const server = await ControlServer.listen(createFakeKernel(), sock, { onStop: () => { stopped++; } });
    const c = await ControlClient.connect(sock);
    assert.deepEqual(await c.call('stop', {}), { stopping: true });
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, 1);
    c.close();
    await server.close();
  });

  it('stop without onStop shuts the kernel down and closes the server', async () => {
    const sock = join(dir, 'stop2.sock');
    const kernel = createFakeKernel();
    await ControlServer.listen(kernel, sock);
    const c = await ControlClient.connect(sock);
    await c.call('stop', {});
    await c.closed;
    assert.equal(kernel.shutdownCalls, 1);
    assert.equal(existsSync(sock), false);
  });

  it('pending calls fail when the server goes away', async () => {
    const sock = join(dir, 'gone.sock');
    const server = await ControlServer.listen(createFakeKernel(), sock);
    const c = await ControlClient.connect(sock);
    const outcome = assert.rejects(c.call('read', { path: '/dev/echo0', follow: true }), { code: 'ECONNRESET' });
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    await outcome;
  });

  it('connecting with nothing running is ENOTRUNNING with a suggestion', async () => {
    const sock = join(dir, 'nobody.sock');
    await assert.rejects(ControlClient.connect(sock), (e: HmError) => {
      assert.equal(e.code, 'ENOTRUNNING');
      assert.equal(e.message, `no hmdrv platform is running (socket ${sock})`);
      assert.deepEqual(e.suggestions, ['start the platform with `hmdrv run`']);
      return true;
    });
  });
});
