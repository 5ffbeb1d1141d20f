/** wait_event, wait_event_timeout (jiffies = ms), wait_event_killable. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCHEDULE_TIMEOUT } from './time.js';
import { init_waitqueue_head, wait_event, wait_event_killable, wait_event_timeout, wake_up } from './wait.js';

describe('wait_event*', () => {
  it('wait_event resolves after the wake_up that makes the condition true', async () => {
    const wq = init_waitqueue_head();
    let ready = false, done = false;
    const p = wait_event(wq, () => ready).then(() => { done = true; });
    wake_up(wq);
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'a wake_up with the condition false does not end the wait');
    ready = true;
    wake_up(wq);
    await p;
    assert.equal(done, true);
    assert.equal(await wait_event_killable(wq, () => true), 0);
  });

  it('wait_event_timeout: jiffies left (>= 1) on success, 0 on timeout', async () => {
    const wq = init_waitqueue_head();
    let ready = false;
    const p = wait_event_timeout(wq, () => ready, 60_000);
    ready = true;
    wake_up(wq);
    const left = await p;
    assert.ok(left >= 1 && left <= 60_000, `left ${left}`);
    assert.equal(await wait_event_timeout(wq, () => false, 5), 0);
    assert.ok(await wait_event_timeout(wq, () => true, 0) >= 1, 'a condition already true wins even with no time');
  });

  it('MAX_SCHEDULE_TIMEOUT waits without a timer', async () => {
    const wq = init_waitqueue_head();
    let ready = false;
    const p = wait_event_timeout(wq, () => ready, MAX_SCHEDULE_TIMEOUT);
    await new Promise((r) => setTimeout(r, 5));
    ready = true;
    wake_up(wq);
    assert.ok(await p >= 1);
  });
});
