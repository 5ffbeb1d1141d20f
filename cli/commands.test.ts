/**
 * The `hmdrv` commands end to end through the real bin (cli/bin/run.js, ~300 ms a process).
 * The attach commands talk to a ControlServer in this process over a fake kernel; `run` is
 * tested against the real bootKernel when it is implemented.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ControlServer } from '../framework/control/server.js';
import { createFakeKernel, type FakeKernel } from '../framework/control/testing/fake-kernel.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'cli', 'bin', 'run.js');
// Wide columns: oclif wraps error lines at 80 columns when stderr is not a terminal.
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', HMDRV_SOCKET: '', OCLIF_COLUMNS: '500' };

interface Run { code: number; stdout: string; stderr: string }

/** Runs `hmdrv ...args` to completion (never rejects). */
function hmdrv(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env, timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Asserts the one-line error shape: `Error: <message>`, optional `Try this:`, no stack trace. */
function assertCleanError(r: Run, message: string, suggestion?: string): void {
  assert.notEqual(r.code, 0);
  const text = r.stderr.replace(/^\s*›\s*/gm, '');
  assert.ok(text.includes(`Error: ${message}`), text);
  if (suggestion !== undefined) assert.ok(text.includes(`Try this: ${suggestion}`), text);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

let dir: string;
let kernel: FakeKernel;
let server: ControlServer;
let sock: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hmcli-'));
  sock = join(dir, 'control.sock');
  kernel = createFakeKernel();
  server = await ControlServer.listen(kernel, sock);
});
after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hmdrv attach commands', () => {
  it('--help lists the commands; command help shows flags', async () => {
    const [top, ioctl] = await Promise.all([hmdrv('--help'), hmdrv('ioctl', '--help')]);
    assert.equal(top.code, 0);
    for (const c of ['run', 'devices', 'ls', 'cat', 'write', 'ioctl', 'stop']) assert.match(top.stdout, new RegExp(`^\\s+${c}\\s`, 'm'));
    assert.equal(ioctl.code, 0);
    assert.match(ioctl.stdout, /hmdrv ioctl PATH CMD \[ARGS\.\.\.\]/);
    assert.match(ioctl.stdout, /--socket=PATH/);
  });

  it('dmesg prints the kernel log with timestamps; --level filters; --json', async () => {
    const [all, errs, json] = await Promise.all([
      hmdrv('dmesg', '--socket', sock), hmdrv('dmesg', '--level', 'err', '-x', '--socket', sock), hmdrv('dmesg', '--json', '--socket', sock),
    ]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^\[\s+0\.001000\] kernel: booting fake platform$/m);
    assert.equal(errs.stdout.trim(), 'err    [    0.002000] ns16550 uart0: fake error');
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
  });

  it('devices: --json parses; the table shows each section', async () => {
    const [json, table] = await Promise.all([hmdrv('devices', '--json', '--socket', sock), hmdrv('devices', '--socket', sock)]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { devices: { name: string }[]; drivers: { name: string }[]; containers: unknown[] };
    assert.deepEqual(parsed.devices.map((d) => d.name), ['echo0', 'uart0']);
    assert.equal(parsed.drivers[0]!.name, 'hmecho');
    assert.equal(parsed.containers.length, 1);
    assert.match(table.stdout, /^DEVICE\s+COMPATIBLE\s+DRIVER\s+CLASS\s+STATE\s+NODES$/m);
    assert.match(table.stdout, /^echo0\s+hmdrv,echo\s+hmecho\s+ic1\s+bound\s+\/dev\/echo0$/m);
    assert.match(table.stdout, /^CONTAINER\s/m);
  });

  it('ls: ls -l lines with device numbers and link targets; --json', async () => {
    const [dev, cls, json] = await Promise.all([
      hmdrv('ls', '/dev', '--socket', sock), hmdrv('ls', '/sys/class/hmecho', '--socket', sock), hmdrv('ls', '/dev', '--json', '--socket', sock),
    ]);
    assert.match(dev.stdout, /^crw-rw-rw-\s+1\s+0\s+0\s+240, 0\s+echo0$/m);
    assert.match(cls.stdout, /^lrwxrwxrwx .* echo0 -> \.\.\/\.\.\/devices\/platform\/echo0$/m);
    assert.equal((JSON.parse(json.stdout) as { entries: { name: string }[] }).entries[0]!.name, 'echo0');
  });

  it('write then cat round-trips text (raw) and binary (--json base64)', async () => {
    const w = await hmdrv('write', '/dev/echo0', 'hello', '--newline', '--socket', sock);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout.trim(), '6 bytes written to /dev/echo0');
    const c = await hmdrv('cat', '/dev/echo0', '--socket', sock);
    assert.equal(c.stdout, 'hello\n');
    const wx = await hmdrv('write', '/dev/echo0', '--hex', 'ff fe 00', '--json', '--socket', sock);
    assert.deepEqual(JSON.parse(wx.stdout), { path: '/dev/echo0', bytesWritten: 3 });
    const cj = await hmdrv('cat', '/dev/echo0', '--json', '--socket', sock);
    assert.deepEqual(JSON.parse(cj.stdout), { path: '/dev/echo0', data: '//4A', encoding: 'base64', bytes: 3 });
  });

  it('ioctl by name decodes per the declared format; ARGS are packed', async () => {
    await hmdrv('write', '/dev/echo0', 'abcd', '--socket', sock);
    const [count, add] = await Promise.all([
      hmdrv('ioctl', '/dev/echo0', 'HMECHO_IOC_GET_COUNT', '--socket', sock),
      hmdrv('ioctl', '/dev/echo0', 'HMECHO_IOC_ADD', '2', '0x3', '--json', '--socket', sock),
    ]);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout, 'HMECHO_IOC_GET_COUNT (0x80044501): ret 0\nout (u32): 4\n');
    assert.deepEqual((JSON.parse(add.stdout) as { decoded: number[] }).decoded, [5, 6]);
    await hmdrv('ioctl', '/dev/echo0', 'HMECHO_IOC_RESET', '--socket', sock);
    assert.equal(kernel.echo.buffered, 0);
  });

  it('errors: unknown ioctl lists the declared names; ENOENT reads like fs; no platform says how to start one', async () => {
    const [unknown, enoent, down] = await Promise.all([
      hmdrv('ioctl', '/dev/echo0', 'NOPE', '--socket', sock),
      hmdrv('cat', '/dev/nope', '--socket', sock),
      hmdrv('devices', '--socket', join(dir, 'nobody.sock')),
    ]);
    assertCleanError(unknown, "unknown ioctl 'NOPE' for /dev/echo0");
    assert.match(unknown.stderr, /\* HMECHO_IOC_GET_COUNT \(u32\)/);
    assertCleanError(enoent, "ENOENT: no such file or directory, open '/dev/nope'");
    assertCleanError(down, `no hmdrv platform is running (socket ${join(dir, 'nobody.sock')})`, 'start the platform with `hmdrv run`');
    assert.equal(down.stderr.trim().split('\n').length, 2, 'one error line plus one suggestion');
  });

  it('stop asks the platform to shut down and waits until it has', async () => {
    const stopSock = join(dir, 'stop.sock');
    const k = createFakeKernel();
    await ControlServer.listen(k, stopSock);
    const r = await hmdrv('stop', '--socket', stopSock);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'platform stopped');
    assert.equal(k.shutdownCalls, 1);
  });

  it('run refuses a socket that a live platform serves', async () => {
    const r = await hmdrv('run', '--socket', sock, '--quiet');
    assertCleanError(r, `another hmdrv platform is already serving ${sock}`, undefined);
  });
});

describe('hmdrv run', () => {
  it('boots, serves devices --json, and exits 0 on stop', async (t) => {
    const runSock = join(dir, 'run.sock');
    // The default platform: hmecho, a UFS disk (backing files in a private state dir), two NICs
    // on one wire and a display.
    const child = spawn(process.execPath, [bin, 'run', '--socket', runSock], { env: { ...env, HMDRV_STATE_DIR: join(dir, 'state') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      child.stdout.on('data', () => { if (/^ready in \d+ ms; control socket /m.test(stdout)) { clearTimeout(timer); resolve(true); } });
      void exited.then(() => { clearTimeout(timer); resolve(false); });
    });
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      if (/not implemented/.test(stderr)) { t.skip('bootKernel not implemented'); return; }
      assert.fail(`hmdrv run did not become ready:\n${stdout}\n${stderr}`);
    }
    try {
      assert.ok(stdout.includes(`control socket ${runSock}`));
      const devices = await hmdrv('devices', '--json', '--socket', runSock);
      assert.equal(devices.code, 0, devices.stderr);
      const parsed = JSON.parse(devices.stdout) as { devices: { name: string; state: string; nodes: string[] }[]; drivers: unknown[]; containers: unknown[] };
      assert.deepEqual(parsed.devices.map((d) => `${d.name} ${d.state}`), ['echo0 bound', 'ufs0 bound', 'nic0 bound', 'nic1 bound', 'display0 bound']);
      assert.deepEqual(parsed.devices.flatMap((d) => d.nodes).sort(),
        ['/dev/dri/card0', '/dev/fb0', '/dev/hmecho', '/dev/sda', '/dev/sdb', '/sys/class/net/eth0', '/sys/class/net/eth1']);
      // The sample driver round trip, through the real kernel and a real container.
      assert.equal((await hmdrv('write', '/dev/hmecho', 'through the stack', '--socket', runSock)).code, 0);
      const cat = await hmdrv('cat', '/dev/hmecho', '--socket', runSock);
      assert.equal(cat.stdout, 'through the stack');
      const dmesg = await hmdrv('dmesg', '--socket', runSock);
      assert.equal(dmesg.code, 0, dmesg.stderr);
      assert.match(dmesg.stdout, /hmecho echo0: \/dev\/hmecho ready/);
      const stop = await hmdrv('stop', '--socket', runSock);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(await exited, 0, stderr);
      assert.match(stdout, /stopped\n$/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
