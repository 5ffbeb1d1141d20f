/**
 * The debug mode against a deliberately buggy driver (fixtures/buggy-driver.ts), run through
 * module_platform_driver and its file operations and IRQ handler as a container would: every
 * detector fires, names the driver's call site, is counted, and nothing throws.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverFile, UserArg } from '../framework/driver-port.js';
import { kapiBugs } from './bug.js';
import { kapi_debug_counts, kapi_debug_enabled } from './debug.js';
import { fakeDmaEnv } from './fixtures/dma-env.fixture.js';
import buggy, * as B from './fixtures/buggy-driver.js';

const f = fakeDmaEnv({ name: 'buggy0', properties: { 'kapi-debug': true } });
const file: DriverFile = { id: 1, flags: 2, cred: { uid: 0, gid: 0 } };
const arg = (): UserArg => ({ value: 0, in: null, out: null });
const SITE = /buggy-driver\.js:\d+/;

async function ioctl(cmd: number): Promise<number> {
  return f.nodes.get('/dev/buggy')!.ioctl!(file, cmd, arg());
}
/** Log lines logged since `from`, joined. */
const since = (from: number): string => f.logs.slice(from).join('\n');
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

before(async () => {
  buggy.init!(f.env, {});
  assert.equal(await buggy.probe(f.dev.handle as DeviceHandle), 0);
  assert.equal(kapi_debug_enabled(f.env), true, 'the kapi-debug property turned the mode on');
  await f.nodes.get('/dev/buggy')!.open!(file);
});

describe('sleeping in atomic context', () => {
  it('msleep with a spinlock held', async () => {
    const from = f.logs.length;
    assert.equal(await ioctl(B.BUG_SLEEP_IN_SPINLOCK), 0);
    const log = since(from);
    assert.match(log, /BUG: sleeping function called from invalid context: msleep\(\) in task context \(in_atomic\(\): 1, irqs_disabled\(\): 0, preempt_count: 1, held spinlocks: buggy\.spin\)/);
    assert.match(log, SITE);
  });

  it('kmalloc(GFP_KERNEL) in the IRQ handler', () => {
    const from = f.logs.length;
    f.irqs.get(5)!(5);
    const log = since(from);
    assert.match(log, /BUG: sleeping function called from invalid context: kmalloc\(GFP_KERNEL\) in hardirq context/);
    assert.match(log, /buggy_irq .*buggy-driver\.js:\d+/);
  });
});

describe('lockdep', () => {
  it('reports a lock-order inversion with both chains and their call sites', async () => {
    const from = f.logs.length;
    assert.equal(await ioctl(B.BUG_LOCK_AB), 0);
    assert.equal(since(from), '', 'a first order is not a bug');
    assert.equal(await ioctl(B.BUG_LOCK_BA), 0);
    const log = since(from);
    assert.match(log, /WARNING: possible circular locking dependency detected/);
    assert.match(log, /unlocked_ioctl|ioctl is trying to acquire lock buggy\.a at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+/);
    assert.match(log, /but already holds lock buggy\.b, taken at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+/);
    assert.match(log, /the existing dependency chain \(in reverse order\) is:\n {2}-> #1: buggy\.b taken at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+:\d+\)\n {7}while holding buggy\.a \(taken at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+:\d+\)\)/);
    // The two acquisitions of the established chain are on other lines than the new one.
    const lines = [...log.matchAll(/buggy-driver\.js:(\d+)/g)].map((m) => Number(m[1]));
    assert.ok(new Set(lines).size >= 3, `four sites, at least three distinct lines: ${lines.join(',')}`);
    // Reported once: the same inversion again is only counted.
    await ioctl(B.BUG_LOCK_BA);
    assert.equal(since(from).match(/circular locking/g)!.length, 1);
    assert.equal(kapiBugs().find((b) => b.kind === 'lockdep-circular')!.count, 2);
  });

  it('reports taking the same mutex twice', async () => {
    const from = f.logs.length;
    await ioctl(B.BUG_RECURSIVE);
    assert.match(since(from), /WARNING: possible recursive locking detected\n {2}trying to acquire buggy\.a at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+:\d+\)\n {2}but it is already held, taken at/);
  });

  it('reports a spinlock taken in hardirq context and with IRQs enabled', async () => {
    const from = f.logs.length;
    assert.equal(await ioctl(B.BUG_SPIN_IN_TASK), 0);
    const log = since(from);
    assert.match(log, /WARNING: inconsistent lock state: inconsistent \{IN-HARDIRQ-W\} -> \{HARDIRQ-ON-W\} usage\./);
    assert.match(log, /lock buggy\.irq_lock was taken in hardirq context at \S*buggy_irq.* .*buggy-driver\.js:\d+:\d+\)\n {2}and with IRQs enabled at (async )?\S*buggy_ioctl/);
  });
});

describe('DMA API debugging', () => {
  it('double unmap names where it was first unmapped', async () => {
    const from = f.logs.length;
    assert.equal(await ioctl(B.BUG_DMA_DOUBLE_UNMAP), 0);
    assert.match(since(from), /DMA-API: buggy0: device driver frees DMA memory twice \[device address=0x[0-9a-f]{8}\] \[size=256 bytes\] \(dma_unmap_single; first unmapped at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+:\d+\)\) at (async )?\S*buggy_ioctl/);
  });

  it('unchecked map error, other size and direction at unmap', async () => {
    const from = f.logs.length;
    await ioctl(B.BUG_DMA_WRONG_SIZE);
    const log = since(from);
    assert.match(log, /DMA-API: buggy0: device driver frees DMA memory with different size \[device address=0x[0-9a-f]+\] \[map size=256 bytes\] \[unmap size=128 bytes\]/);
    assert.match(log, /different direction .*\[mapped with DMA_FROM_DEVICE\] \[unmapped with DMA_TO_DEVICE\]/);
    assert.match(log, /DMA-API: buggy0: device driver failed to check map error \[device address=0x[0-9a-f]+\] \[size=256 bytes\] \[mapped as single\] \(mapped at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+:\d+\)\)/);
  });

  it('sync in the wrong direction', async () => {
    const from = f.logs.length;
    await ioctl(B.BUG_DMA_SYNC_DIR);
    assert.match(since(from), /DMA-API: buggy0: device driver syncs DMA memory with different direction .*\[mapped with DMA_TO_DEVICE\] \[synced with DMA_FROM_DEVICE\] \(dma_sync_single_for_cpu\)/);
  });

  it('the CPU writing a TO_DEVICE buffer while the device owns it', async () => {
    const from = f.logs.length;
    await ioctl(B.BUG_DMA_CPU_TOUCH);
    assert.match(since(from), /DMA-API: buggy0: CPU wrote to a DMA_TO_DEVICE buffer while the device owned it .*\[first changed byte at offset 10\] \(the device never saw the change/);
  });

  it('an unmapped address written to a device register', async () => {
    const from = f.logs.length;
    await ioctl(B.BUG_DMA_USE_AFTER_UNMAP);
    assert.match(since(from), /DMA-API: buggy0: device driver writes an unmapped DMA address to the device \(use after dma_unmap\) \[device address=0x[0-9a-f]+\] \[register offset 0x10\] \(unmapped at (async )?\S*buggy_ioctl.* .*\) at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+/);
  });
});

describe('MMIO outside the mapped window', () => {
  it('is refused, reads all ones, and is reported with the site', async () => {
    const from = f.logs.length;
    assert.equal(await ioctl(B.BUG_MMIO_OUTSIDE), 0);
    assert.match(since(from), /MMIO 32-bit access at offset 0x100 outside the mapped window \[0x10000000, \+0x100\) at (async )?\S*buggy_ioctl.* .*buggy-driver\.js:\d+/);
  });
});

describe('resources left at unbind', () => {
  it('lists every one, naming the driver and where it was set up', async () => {
    assert.equal(await ioctl(B.BUG_HOLD_MUTEX), 0);
    await tick();
    const from = f.logs.length;
    await buggy.remove!(f.dev.handle as DeviceHandle);
    const log = since(from);
    assert.match(log, /WARNING: buggy buggy0: IRQ 5 \(buggy\) still requested \(request_irq without free_irq\) at unbind at (async )?\S*buggy_probe .*buggy-driver\.js:\d+/);
    assert.match(log, /DMA-API: buggy0: device driver has pending DMA allocations while released from device \[count=\d+\] \(buggy, at unbind\)/);
    assert.match(log, /WARNING: buggy buggy0: DMA mapping \[device address=0x[0-9a-f]+\] \[size=128 bytes\] \[DMA_TO_DEVICE\] not unmapped at unbind at (async )?\S*buggy_probe/);
    assert.match(log, /WARNING: buggy buggy0: misc device \/dev\/buggy still registered \(misc_deregister missing in remove.*\) at unbind at (async )?\S*buggy_probe/);
    assert.match(log, /WARNING: buggy buggy0: attribute buggy_attr still registered .* at unbind at (async )?\S*buggy_probe/);
    assert.match(log, /WARNING: buggy buggy0: timer_list buggy_watchdog still pending \(cancelled now; .*\) at unbind at (async )?\S*buggy_probe/);
    assert.match(log, /WARNING: buggy buggy0: work buggy_work on workqueue events still running/);
    assert.match(log, /WARNING: buggy buggy0: lock buggy\.held still held at unbind at (async )?\S*buggy_ioctl/);
    assert.equal(f.irqs.size, 0, 'the leaked IRQ was freed');
  });

  it('counts every kind of report', () => {
    const c = kapi_debug_counts();
    for (const k of ['sleep-in-atomic', 'lockdep-circular', 'lockdep-recursive', 'lockdep-irq-state', 'dma-double-unmap', 'dma-unmap-size',
      'dma-unmap-dir', 'dma-map-error-unchecked', 'dma-sync-dir', 'dma-cpu-touch', 'dma-use-after-unmap', 'mmio-outside', 'leak-irq',
      'leak-dma', 'leak-node', 'leak-timer', 'leak-work', 'leak-lock']) {
      assert.ok((c[k] ?? 0) >= 1, `${k} counted: ${JSON.stringify(c)}`);
    }
  });
});
