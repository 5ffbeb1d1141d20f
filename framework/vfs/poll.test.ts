import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Vfs } from './vfs.js';
import { POLL } from './types.js';
import { EchoDevice } from './fake-devices.fixture.js';

function setup(): { vfs: Vfs; echo: EchoDevice; quiet: EchoDevice } {
  const vfs = new Vfs();
  const echo = new EchoDevice(() => vfs.notifyPoll('/echo'));
  const quiet = new EchoDevice(); // never notifies: a driver that forgot wake_up
  vfs.mknod('/echo', { major: 10, minor: 1, ops: echo });
  vfs.mknod('/quiet', { major: 10, minor: 2, ops: quiet });
  return { vfs, echo, quiet };
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('poll', () => {
  it('returns at once with revents for every request when something is ready', async () => {
    const { vfs } = setup();
    const r = await vfs.openFd('/echo', 'r');
    const w = await vfs.openFd('/echo', 'w');
    const start = Date.now();
    const res = await vfs.poll([{ fd: r, events: POLL.IN }, { fd: w, events: POLL.OUT }], -1);
    assert.ok(Date.now() - start < 100);
    assert.deepEqual(res, [{ fd: r, revents: 0 }, { fd: w, revents: POLL.OUT }]);
  });

  it('timeout 0 only checks', async () => {
    const { vfs } = setup();
    const r = await vfs.openFd('/echo', 'r');
    assert.deepEqual(await vfs.poll([{ fd: r, events: POLL.IN }], 0), [{ fd: r, revents: 0 }]);
  });

  it('returns revents 0 when the timeout passes', async () => {
    const { vfs } = setup();
    const r = await vfs.openFd('/echo', 'r');
    const start = Date.now();
    assert.deepEqual(await vfs.poll([{ fd: r, events: POLL.IN }], 40), [{ fd: r, revents: 0 }]);
    assert.ok(Date.now() - start >= 35, 'waited for the timeout');
  });

  it('wakes on notifyPoll and re-polls the node', async () => {
    const { vfs } = setup();
    const r = await vfs.openFd('/echo', 'r');
    const w = await vfs.openFd('/echo', 'w');
    const start = Date.now();
    const polling = vfs.poll([{ fd: r, events: POLL.IN | POLL.RDNORM }], 5000);
    await tick(20);
    await vfs.write(w, 'x'); // the echo device calls notifyPoll('/echo')
    assert.deepEqual(await polling, [{ fd: r, revents: POLL.IN | POLL.RDNORM }]);
    assert.ok(Date.now() - start < 1000);
  });

  it('waits forever with -1 and undefined until notified', async () => {
    const { vfs } = setup();
    const r = await vfs.openFd('/echo', 'r');
    const w = await vfs.openFd('/echo', 'w');
    const a = vfs.poll([{ fd: r, events: POLL.IN }], -1);
    const b = vfs.poll([{ fd: r, events: POLL.IN }]);
    await tick(10);
    await vfs.write(w, 'y');
    assert.equal((await a)[0]!.revents, POLL.IN);
    assert.equal((await b)[0]!.revents, POLL.IN);
  });

  it('a notification for another node or a spurious one does not end the wait', async () => {
    const { vfs, quiet } = setup();
    const r = await vfs.openFd('/quiet', 'r');
    const start = Date.now();
    const polling = vfs.poll([{ fd: r, events: POLL.IN }], 80);
    await tick(10);
    vfs.notifyPoll('/echo');
    vfs.notifyPoll('/quiet'); // nothing queued yet: re-polls, still not ready, sleeps again
    vfs.notifyPoll('/does/not/exist');
    assert.deepEqual(await polling, [{ fd: r, revents: 0 }]);
    assert.ok(Date.now() - start >= 70);
    // A driver that does not notify is only seen at the next wake-up.
    const w = await vfs.openFd('/quiet', 'w');
    const later = vfs.poll([{ fd: r, events: POLL.IN }], 2000);
    await vfs.write(w, 'z');
    assert.equal(quiet.pending, 1);
    await tick(10);
    vfs.notifyPoll('/quiet');
    assert.equal((await later)[0]!.revents, POLL.IN);
  });

  it('unknown fds report POLLNVAL and negative fds are ignored', async () => {
    const { vfs } = setup();
    const w = await vfs.openFd('/echo', 'w');
    const res = await vfs.poll([{ fd: 99, events: POLL.IN }, { fd: -1, events: POLL.IN }, { fd: w, events: POLL.OUT }], -1);
    assert.deepEqual(res, [{ fd: 99, revents: POLL.NVAL }, { fd: -1, revents: 0 }, { fd: w, revents: POLL.OUT }]);
    await vfs.close(w);
    assert.deepEqual(await vfs.poll([{ fd: w, events: POLL.OUT }], 1000), [{ fd: w, revents: POLL.NVAL }]);
  });

  it('POLLERR and POLLHUP are reported even when not asked for (revoked file)', async () => {
    const { vfs, echo } = setup();
    const r = await vfs.openFd('/echo', 'r');
    const polling = vfs.poll([{ fd: r, events: POLL.IN }], -1);
    await tick(10);
    assert.equal(vfs.revokeOpenFiles(echo, 'ENODEV'), 1);
    assert.deepEqual(await polling, [{ fd: r, revents: POLL.ERR | POLL.HUP }]);
  });

  it('does not leave sleepers behind', async () => {
    const { vfs } = setup();
    const r = await vfs.openFd('/echo', 'r');
    await vfs.poll([{ fd: r, events: POLL.IN }], 5);
    const hub = (vfs as unknown as { hub: { sleepers: number } }).hub;
    assert.equal(hub.sleepers, 0);
  });

  it('FileHandle.poll returns the revents of its fd', async () => {
    const { vfs } = setup();
    const fh = await vfs.open('/echo', 'r+');
    assert.equal(await fh.poll(POLL.IN | POLL.OUT, 0), POLL.OUT);
    const waiting = fh.poll(POLL.IN, 2000);
    await fh.write('a');
    assert.equal(await waiting, POLL.IN);
    await fh.close();
    await assert.rejects(fh.poll(POLL.IN, 0), { code: 'EBADF', syscall: 'poll' });
  });
});
