/**
 * One suite, three isolation classes: the same driver (samples/hmecho) must give the same
 * results in IC0, IC1 and IC2, including its error answers, and the platform must contain its
 * failures (throw, kill -9, hang) the same way.
 */
import 'reflect-metadata';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootPlatform } from '../containers/boot.js';
import { packageRoot } from '../devices/native/index.js';

/** hmecho alone (the default platform also boots UFS, NICs and a display). */
const ECHO = join(packageRoot(), 'samples', 'platforms', 'echo.platform.json');
import type { BootedKernel } from '../framework/boot.js';
import { O, POLL } from '../framework/vfs/types.js';
import { ioctlNumber } from '../framework/platform/ioctl.js';
import type { IsolationClass } from '../framework/platform/types.js';
import { liveDisposableStores } from '../framework/lifecycle/disposable.js';

const IOC = {
  RESET: ioctlNumber({ dir: 'none', type: 'E', nr: 0, size: 0 }),
  GET_COUNT: ioctlNumber({ dir: 'read', type: 'E', nr: 1, size: 4 }),
  GET_SIZE: ioctlNumber({ dir: 'read', type: 'E', nr: 2, size: 4 }),
  SET_SIZE: ioctlNumber({ dir: 'write', type: 'E', nr: 3, size: 4 }),
  GET_STATS: ioctlNumber({ dir: 'read', type: 'E', nr: 4, size: 32 }),
  PING: ioctlNumber({ dir: 'readwrite', type: 'E', nr: 5, size: 8 }),
  PUSH: ioctlNumber({ dir: 'write', type: 'E', nr: 6, size: 4 }),
};
const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await sleep(20);
  }
}

for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
  describe(`hmecho in ${ic}`, () => {
    let k: BootedKernel;
    before(async () => { k = await bootPlatform({ platform: ECHO, isolation: ic, watchdogMs: 600 }); });
    after(async () => { await k.shutdown(); });

    it('binds echo0 in the requested class and creates /dev and /sys entries', async () => {
      const d = k.devices().find((x) => x.name === 'echo0')!;
      assert.equal(d.state, 'bound');
      assert.equal(d.isolation, ic);
      assert.deepEqual(d.nodes, ['/dev/hmecho']);
      const st = await k.vfs.stat('/dev/hmecho');
      assert.ok(st.isCharacterDevice());
      assert.equal(st.major, 10);
      assert.equal(await k.vfs.readFile('/sys/class/misc/hmecho/dev', { encoding: 'utf8' }), `10:${st.minor}\n`);
      // Linux's layout: the class device lives under its parent, the class links to it.
      assert.equal(await k.vfs.realpath('/sys/class/misc/hmecho'), '/sys/devices/platform/echo0/misc/hmecho');
      assert.equal(await k.vfs.realpath('/sys/class/misc/hmecho/device'), '/sys/devices/platform/echo0');
      assert.equal(await k.vfs.realpath('/sys/class/misc/hmecho/subsystem'), '/sys/class/misc');
      assert.equal(await k.vfs.readlink('/sys/bus/platform/devices/echo0'), '../../../devices/platform/echo0');
      assert.equal(await k.vfs.realpath('/sys/devices/platform/echo0/driver'), '/sys/bus/platform/drivers/hmecho');
      assert.match(await k.vfs.readFile('/proc/interrupts', { encoding: 'utf8' }) as string, /32:\s+0\s+hmdrv-intc/);
    });

    it('writes and reads back through the FIFO', async () => {
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
      assert.equal((await fh.write('hello, driver')).bytesWritten, 13);
      const b = Buffer.alloc(64);
      const { bytesRead } = await fh.read(b, 0, 64, null);
      assert.equal(b.subarray(0, bytesRead).toString(), 'hello, driver');
      await fh.close();
    });

    it('answers a nonblocking read of an empty FIFO with EAGAIN, and pread with ESPIPE', async () => {
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR | O.NONBLOCK);
      await assert.rejects(fh.read(Buffer.alloc(8), 0, 8, null), { code: 'EAGAIN', syscall: 'read', path: '/dev/hmecho' });
      await assert.rejects(k.vfs.pread(fh.fd, Buffer.alloc(8), 0), { code: 'ESPIPE' });
      await fh.close();
    });

    it('blocks a read until a writer arrives, and poll reports readiness', async () => {
      const r = await k.vfs.open('/dev/hmecho', O.RDONLY);
      const w = await k.vfs.open('/dev/hmecho', O.WRONLY);
      assert.equal(await r.poll(POLL.IN, 0), 0);
      const pending = r.read(Buffer.alloc(8), 0, 8, null);
      const polled = w.poll(POLL.OUT, 1000);
      assert.ok((await polled) & POLL.OUT);
      await sleep(30);
      await w.write('x');
      assert.equal((await pending).bytesRead, 1);
      const waiting = r.poll(POLL.IN, 2000);
      await sleep(20);
      await w.write('yz');
      assert.ok((await waiting) & POLL.IN);
      await r.close(); await w.close();
    });

    it('handles ioctls with Linux errno for wrong numbers, sizes and buffers', async () => {
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
      await fh.ioctl(IOC.RESET);
      await fh.write('abcd');
      const out = Buffer.alloc(4);
      assert.equal((await fh.ioctl(IOC.GET_COUNT, out)).ret, 0);
      assert.equal(out.readUInt32LE(), 4);
      const ping = Buffer.alloc(8); ping.writeBigUInt64LE(41n);
      await fh.ioctl(IOC.PING, ping);
      assert.equal(ping.readBigUInt64LE(), 42n);
      await fh.ioctl(IOC.SET_SIZE, u32(128));
      await fh.ioctl(IOC.GET_SIZE, out);
      assert.equal(out.readUInt32LE(), 128);
      // same command number, wrong size encoded: EINVAL; unknown nr or magic: ENOTTY
      await assert.rejects(fh.ioctl(ioctlNumber({ dir: 'read', type: 'E', nr: 1, size: 8 }), Buffer.alloc(8)), { code: 'EINVAL', syscall: 'ioctl' });
      await assert.rejects(fh.ioctl(ioctlNumber({ dir: 'read', type: 'E', nr: 99, size: 4 }), Buffer.alloc(4)), { code: 'ENOTTY' });
      await assert.rejects(fh.ioctl(ioctlNumber({ dir: 'read', type: 'Q', nr: 1, size: 4 }), Buffer.alloc(4)), { code: 'ENOTTY' });
      // right command, user buffer too short: EFAULT (copy_to_user fails)
      await assert.rejects(fh.ioctl(IOC.GET_STATS, Buffer.alloc(8)), { code: 'EFAULT' });
      // out-of-range value: EINVAL
      await assert.rejects(fh.ioctl(IOC.SET_SIZE, u32(2)), { code: 'EINVAL' });
      await fh.ioctl(IOC.SET_SIZE, u32(4096));
      await fh.close();
      await assert.rejects(fh.ioctl(IOC.RESET), { code: 'EBADF' });
    });

    it('moves transfers larger than one channel message in short, ordered pieces', async () => {
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
      await fh.ioctl(IOC.RESET);
      await fh.ioctl(IOC.SET_SIZE, u32(1 << 20));
      const data = Buffer.alloc(1 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
      const w = await fh.write(data);
      assert.ok(w.bytesWritten > 0 && w.bytesWritten < data.length, 'a single call is short');
      let done = w.bytesWritten;
      while (done < data.length) done += (await fh.write(data.subarray(done))).bytesWritten;
      const back = Buffer.alloc(data.length);
      for (let got = 0; got < back.length;) got += (await fh.read(back, got, back.length - got, null)).bytesRead;
      assert.ok(back.equals(data));
      await fh.ioctl(IOC.SET_SIZE, u32(4096));
      await fh.close();
    });

    it('maps a shared mailbox and pushes from it without read/write', async () => {
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
      await fh.ioctl(IOC.RESET);
      const view = await fh.mmap(4096, 0);
      view.set(Buffer.from('zero-copy'), 0);
      assert.equal((await fh.ioctl(IOC.PUSH, u32(9))).ret, 9);
      const b = Buffer.alloc(16);
      const { bytesRead } = await fh.read(b, 0, 16, null);
      assert.equal(b.subarray(0, bytesRead).toString(), 'zero-copy');
      await assert.rejects(fh.mmap(8192, 0), { code: 'EINVAL' });
      await fh.close();
    });

    it('checks permissions against the caller', async () => {
      await assert.rejects(k.vfs.writeFile('/sys/bus/platform/drivers/hmecho/unbind', 'echo0', { cred: { uid: 1000, gid: 1000 } }), { code: 'EACCES' });
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR, { cred: { uid: 1000, gid: 1000 } }); // 0666
      await fh.close();
    });

    it('unbinds and rebinds through sysfs, releasing everything the binding held', async () => {
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
      const minor = (await k.vfs.stat('/dev/hmecho')).minor;
      const before = liveDisposableStores();
      await k.vfs.writeFile('/sys/bus/platform/drivers/hmecho/unbind', 'echo0');
      assert.equal(k.vfs.exists('/dev/hmecho'), false);
      assert.equal(k.vfs.exists('/sys/class/misc/hmecho'), false);
      assert.equal(k.vfs.exists('/sys/devices/platform/echo0/misc/hmecho'), false);
      assert.equal(k.vfs.exists('/sys/devices/platform/echo0/driver'), false);
      await assert.rejects(fh.write('x'), { code: 'ENODEV' });
      await fh.close();
      assert.ok(liveDisposableStores() < before, 'binding scope disposed');
      await assert.rejects(k.vfs.writeFile('/sys/bus/platform/drivers/hmecho/unbind', 'echo0'), { code: 'ENODEV' });
      await k.vfs.writeFile('/sys/bus/platform/drivers/hmecho/bind', 'echo0');
      assert.equal(k.devices()[0]!.state, 'bound');
      const again = await k.vfs.open('/dev/hmecho', O.RDWR);
      await again.write('back'); await again.close();
      assert.equal((await k.vfs.stat('/dev/hmecho')).minor, minor, 'the freed misc minor is reused');
    });

    it('fails a blocking read with EIO when its container dies, then serves again', async () => {
      const before = k.containers().find((c) => c.driver === 'hmecho')!.restarts;
      const fh = await k.vfs.open('/dev/hmecho', O.RDWR);
      await fh.ioctl(IOC.RESET);
      const blocked = fh.read(Buffer.alloc(8), 0, 8, null).then(() => 'ok', (e) => e.code);
      await sleep(20);
      const dm = (k as unknown as { dm: { containers: Map<string, { host: { kill(e: unknown): void } }> } }).dm;
      for (const c of dm.containers.values()) c.host.kill({ reason: 'crash', detail: 'test: container died' });
      assert.equal(await blocked, 'EIO');
      await assert.rejects(fh.write('x'), { code: 'EIO' });
      await fh.close();
      const restarted = await until(() => k.containers().find((x) => x.driver === 'hmecho')!, (x) => x.state === 'running' && x.restarts > before);
      assert.equal(restarted.state, 'running');
      const again = await k.vfs.open('/dev/hmecho', O.RDWR);
      await again.write('alive');
      const b = Buffer.alloc(8);
      assert.equal((await again.read(b, 0, 8, null)).bytesRead, 5);
      await again.close();
    });
  });
}

describe('supervision of real failures', () => {
  it('kill -9 of an IC2 container during I/O: caller gets EIO, node serves again', async () => {
    const k = await bootPlatform({ platform: ECHO, isolation: 'ic2', watchdogMs: 2000 });
    try {
      const pid = k.containers()[0]!.pid!;
      const fh = await k.vfs.open('/dev/hmecho', O.RDONLY);
      const blocked = fh.read(Buffer.alloc(8), 0, 8, null).then(() => 'ok', (e) => e.code);
      await sleep(30);
      process.kill(pid, 'SIGKILL');
      assert.equal(await blocked, 'EIO');
      await fh.close();
      const t0 = Date.now();
      const again = await k.vfs.open('/dev/hmecho', O.RDWR); // waits for the restart
      await again.write('ok');
      assert.ok(Date.now() - t0 < 5000);
      assert.notEqual(k.containers()[0]!.pid, pid);
      await again.close();
    } finally { await k.shutdown(); }
  });

  for (const ic of ['ic0', 'ic1', 'ic2'] as IsolationClass[]) {
    it(`a throwing driver and a hanging driver are contained (${ic})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hmdrv-faulty-'));
      const fixture = new URL('../containers/fixtures/', import.meta.url).pathname;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({
        name: 'faulty', compatible: ['test,faulty'], entry: join(fixture, 'null-driver.js'), kind: 'native', isolation: ic,
      }));
      const plat = join(dir, 'p.json');
      writeFileSync(plat, JSON.stringify({ name: 't', driverPaths: [dir], devices: [{ name: 'faulty0', compatible: ['test,faulty'] }] }));
      const k = await bootPlatform({ platform: plat, watchdogMs: 400 });
      try {
        const fh = await k.vfs.open('/dev/faulty0', O.RDWR);
        assert.equal((await fh.ioctl(1, 41)).ret, 42);
        await assert.rejects(fh.ioctl(2, 0), { code: 'EIO' }); // driver throws
        await fh.close();
        await until(() => k.containers()[0]!, (c) => c.state === 'running' && c.restarts >= 1);
        if (ic !== 'ic0') {
          const h = await k.vfs.open('/dev/faulty0', O.RDWR);
          await assert.rejects(h.ioctl(4, 0), { code: 'EIO' }); // driver busy-loops: watchdog
          await h.close();
          await until(() => k.containers()[0]!, (c) => c.state === 'running' && c.restarts >= 2);
        }
        const h2 = await k.vfs.open('/dev/faulty0', O.RDWR);
        assert.equal((await h2.ioctl(1, 1)).ret, 2);
        await h2.close();
      } finally { await k.shutdown(); }
    });
  }
});
