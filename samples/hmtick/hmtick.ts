/**
 * hmtick: a Linux-style driver for the "tick" demo device (devices/demo), exercising the
 * machine end to end: ioremap + readl/writel on posted/non-posted MMIO, a level-triggered IRQ
 * acknowledged with a W1C write, and a misc device whose read blocks until the next tick.
 *
 * /dev/hmtick: read() waits for the next tick and returns "<count>\n"; poll() reports POLLIN
 * when a tick arrived since the file's last read; ioctl HMTICK_IOC_GET_COUNT reads the device's
 * COUNT register; HMTICK_IOC_DMA_COUNT has the device DMA its counter into a coherent buffer
 * and returns what arrived there.
 */
import {
  _IOR, copy_to_user, dev_err, dev_info, dev_err_probe, devm_add_action_or_reset, devm_ioremap_resource, devm_request_irq,
  EFAULT, ENODEV, ENOTTY, IORESOURCE_MEM, init_waitqueue_head, IRQ_HANDLED, IRQ_NONE, IS_ERR, misc_deregister,
  misc_register, MISC_DYNAMIC_MINOR, module_platform_driver, of_property_read_u32, platform_get_irq,
  platform_get_resource, poll_wait, POLLIN, POLLRDNORM, readl, wait_event_interruptible, wake_up_interruptible, writel,
  readl_poll_timeout, dma_set_mask_and_coherent, EAGAIN, O_NONBLOCK, DMA_BIT_MASK, dmam_alloc_coherent, EIO, ENOMEM, type CoherentBuffer,
  type File, type FileOperations, type IoMem, type MiscDevice, type PlatformDevice, type UserPtr, type WaitQueueHead,
} from '../../linux-kapi/index.js';
import { TICK_REGS } from '../../devices/demo/tick.regs.js';

export const HMTICK_IOC_GET_COUNT = _IOR('T', 1, 4);
export const HMTICK_IOC_DMA_COUNT = _IOR('T', 2, 4);

const R = TICK_REGS.offsets;
const B = TICK_REGS.bits;

interface Tick {
  misc: MiscDevice;
  base: IoMem;
  dma: CoherentBuffer;
  ticks: number;
  wq: WaitQueueHead;
}

const ticks = new Map<MiscDevice, Tick>();
const seen = new WeakMap<File, number>();
/** The COUNT each file's last read returned. */
const returned = new WeakMap<File, number>();

function hmtick_irq(_irq: number, devId: unknown): number {
  const t = devId as Tick;
  const is = readl(t.base, R.IS);
  if (!(is & B.IS.TICK)) return IRQ_NONE;
  writel(B.IS.TICK, t.base, R.IS); // W1C: deassert before returning, the line is level-triggered
  t.ticks++;
  wake_up_interruptible(t.wq);
  return IRQ_HANDLED;
}

async function hmtick_read(filp: File, buf: UserPtr, count: number): Promise<number> {
  const t = filp.private_data as Tick;
  let last = seen.get(filp) ?? t.ticks;
  if (t.ticks === last && filp.f_flags & O_NONBLOCK) return -EAGAIN;
  // An interrupt raised before the previous read sampled COUNT is delivered after it: wait until
  // the device counted a tick this file has not been given yet.
  let now: number;
  for (;;) {
    const r = await wait_event_interruptible(t.wq, () => t.ticks !== last);
    if (r) return r;
    last = t.ticks;
    now = readl(t.base, R.COUNT);
    if (now !== returned.get(filp) || filp.f_flags & O_NONBLOCK) break;
  }
  seen.set(filp, last);
  returned.set(filp, now);
  const text = new TextEncoder().encode(`${now}\n`).subarray(0, count);
  return copy_to_user(buf, text) ? -EFAULT : text.length;
}

const hmtick_fops: FileOperations = {
  open: (_inode, filp) => {
    const t = ticks.get(filp.private_data as MiscDevice);
    if (!t) return -ENODEV;
    filp.private_data = t;
    seen.set(filp, t.ticks);
    return 0;
  },
  read: hmtick_read,
  poll: (filp) => {
    const t = filp.private_data as Tick;
    poll_wait(filp, t.wq, null);
    return t.ticks !== seen.get(filp) ? POLLIN | POLLRDNORM : 0;
  },
  unlocked_ioctl: async (filp, cmd, arg) => {
    const t = filp.private_data as Tick;
    if (typeof arg === 'number') return -ENOTTY;
    if (cmd === HMTICK_IOC_GET_COUNT) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, readl(t.base, R.COUNT), true);
      return copy_to_user(arg, b) ? -EFAULT : 0;
    }
    if (cmd === HMTICK_IOC_DMA_COUNT) {
      t.dma.cpu_addr.fill(0);
      writel(B.IS.DMA_DONE | B.IS.DMA_ERR, t.base, R.IS);
      writel(t.dma.dma_handle, t.base, R.DMA_ADDR);
      writel(B.DMA_GO.GO, t.base, R.DMA_GO);
      const [err, is] = await readl_poll_timeout(t.base, R.IS, (v) => (v & (B.IS.DMA_DONE | B.IS.DMA_ERR)) !== 0, 100, 100_000);
      if (err || is & B.IS.DMA_ERR) return -EIO;
      return copy_to_user(arg, t.dma.cpu_addr.subarray(0, 4)) ? -EFAULT : 0;
    }
    return -ENOTTY;
  },
};

async function hmtick_probe(pdev: PlatformDevice): Promise<number> {
  const dev = pdev.dev;
  const base = devm_ioremap_resource(dev, platform_get_resource(pdev, IORESOURCE_MEM, 0));
  if (IS_ERR(base)) return dev_err_probe(dev, base, 'cannot map registers');
  const id = readl(base, R.ID);
  if (id !== TICK_REGS.registers.find((r) => r.name === 'ID')!.reset) {
    dev_err(dev, `unexpected ID 0x${id.toString(16)}`);
    return -ENODEV;
  }
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return dev_err_probe(dev, irq, 'no IRQ');
  const [err, period] = of_property_read_u32(dev, 'period-us');
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))) return -EIO;
  const dma = await dmam_alloc_coherent(dev, 4096);
  if (!dma) return -ENOMEM;
  const t: Tick = { misc: { minor: MISC_DYNAMIC_MINOR, name: 'hmtick', fops: hmtick_fops, parent: dev, mode: 0o444 }, base, dma, ticks: 0, wq: init_waitqueue_head() };
  writel(0, base, R.CTRL);
  writel(0xffffffff, base, R.IS);
  writel(err ? 10_000 : period, base, R.PERIOD_US);
  let r = await devm_request_irq(dev, irq, hmtick_irq, 0, 'hmtick', t);
  if (r) return dev_err_probe(dev, r, 'cannot request IRQ');
  writel(B.IE.TICK, base, R.IE);
  writel(B.CTRL.EN | B.CTRL.RESET_COUNT, base, R.CTRL);
  devm_add_action_or_reset(dev, () => { writel(0, base, R.CTRL); writel(0, base, R.IE); });
  ticks.set(t.misc, t); // ready before the node goes live
  r = await misc_register(t.misc);
  if (r) { ticks.delete(t.misc); return r; }
  devm_add_action_or_reset(dev, async () => { ticks.delete(t.misc); await misc_deregister(t.misc); });
  dev_info(dev, `tick every ${readl(base, R.PERIOD_US)} us on IRQ ${irq}`);
  return 0;
}

export default module_platform_driver({
  probe: hmtick_probe,
  driver: { name: 'hmtick', of_match_table: [{ compatible: 'hmdrv,tick' }] },
});
