/**
 * e1000: a Linux-style driver for the Intel 82540EM model (devices/nic), in the shape of Linux's
 * drivers/net/ethernet/intel/e1000/e1000_main.c, simplified:
 *
 * - probe: ioremap, reset, EEPROM checksum and MAC address, PHY identity, register_netdev
 *   ("eth%d"), carrier off until the watchdog sees the link;
 * - ndo_open: rings in DMA memory, TX/RX configuration (TDBAL/TDLEN/TDH/TDT, TCTL; RDBAL/RDLEN/
 *   RDH/RDT, RCTL; ITR), request_irq, napi_enable, IMS, then ICS = LSC to start the watchdog;
 * - interrupt: read ICR (clears it), LSC → watchdog, mask everything (IMC), schedule NAPI;
 * - NAPI poll: reclaim TX, clean RX up to the budget, unmask when done;
 * - watchdog (delayed work, every 2 s and on LSC): link up/down → carrier on/off, statistics;
 * - ndo_get_stats64: software packet/byte counters + the hardware's error counters.
 *
 * Module parameters (Linux e1000's names): TxDescriptors, RxDescriptors (80..4096, multiples of
 * 8; default 256) and InterruptThrottleRate (interrupts/s; 0 = off; default 20000, ITR).
 * See e1000_rings.ts for how buffers reach the device.
 */
import {
  cancel_delayed_work_sync, dev_err, dev_err_probe, dev_info, devm_alloc_etherdev, devm_ioremap_resource,
  devm_register_netdev, dma_set_mask_and_coherent, DMA_BIT_MASK, eth_hw_addr_set, free_irq, INIT_DELAYED_WORK, INIT_WORK,
  IORESOURCE_MEM, IRQ_HANDLED, IRQ_NONE, IRQF_SHARED, is_valid_ether_addr, module_param, module_platform_driver,
  napi_complete_done, napi_disable, napi_enable, napi_schedule_prep, __napi_schedule, netdev_err, netdev_info, netdev_priv,
  netif_carrier_off, netif_carrier_ok, netif_carrier_on, netif_napi_add, netif_running, netif_start_queue, netif_tx_disable,
  netif_wake_queue, platform_get_irq, platform_get_resource, request_irq, schedule_delayed_work, schedule_work,
  SET_NETDEV_DEV, DelayedWork, WorkStruct, EADDRNOTAVAIL, EIO, ENOMEM, EINVAL,
  NapiStruct, type IoMem, type NetDevice, type NetDeviceOps, type PlatformDevice, type RtnlLinkStats64, type Sockaddr,
} from '../../linux-kapi/index.js';
import { IMS_ENABLE_MASK, ICR, PHY_REG } from '../../devices/nic/e1000.regs.js';
import {
  B, e1000_init_hw, e1000_link, e1000_rar_set, e1000_read_mac_addr, e1000_read_phy_reg, e1000_reset_hw,
  e1000_update_stats, e1000_validate_eeprom_checksum, e1000_zero_stats, er32, ew32, R, type E1000HwStats,
} from './e1000_hw.js';
import {
  e1000_alloc_rx_buffers, e1000_clean_rx_irq, e1000_clean_tx_irq, e1000_clean_tx_ring, e1000_configure_rx,
  e1000_configure_tx, e1000_desc_unused, e1000_free_rx_resources, e1000_free_tx_resources, e1000_setup_rx_resources,
  e1000_setup_tx_resources, e1000_txd_cmd, e1000_xmit_frame, type E1000RingCtx, type E1000RxRing, type E1000SwStats,
  type E1000TxRing,
} from './e1000_rings.js';

const DRV_NAME = 'e1000';
const WATCHDOG_MS = 2000;

interface E1000Adapter extends E1000RingCtx {
  pdev: PlatformDevice;
  irq: number;
  tx_count: number;
  rx_count: number;
  itr: number;
  tx_ring: E1000TxRing | null;
  rx_ring: E1000RxRing | null;
  hwstats: E1000HwStats;
  watchdog_task: DelayedWork;
  reset_task: WorkStruct;
  link_speed: number;
  tx_timeout_count: number;
  /** TIDV / TADV (1.024 µs units). */
  tidv: number;
  tadv: number;
}

function ringParam(name: string, fallback: number): number {
  const v = Number(module_param(name, fallback));
  return Number.isInteger(v) && v >= 80 && v <= 4096 && v % 8 === 0 ? v : fallback;
}

// ---- interrupts and NAPI ---------------------------------------------------------------------------

function e1000_irq_enable(a: E1000Adapter): void {
  ew32(a.hw, R.IMS, IMS_ENABLE_MASK);
}

function e1000_irq_disable(a: E1000Adapter): void {
  ew32(a.hw, R.IMC, 0xffffffff);
}

/** e1000_intr: the hardirq handler. */
function e1000_intr(_irq: number, data: unknown): number {
  const a = netdev_priv<E1000Adapter>(data as NetDevice);
  const icr = er32(a.hw, R.ICR); // read clears
  if (!icr) return IRQ_NONE; // shared line, not us
  if (icr & (ICR.RXSEQ | ICR.LSC) && !a.down) schedule_delayed_work(a.watchdog_task, 1);
  // Mask everything until the poll is done (the runtime flushes this write before EOI).
  e1000_irq_disable(a);
  if (napi_schedule_prep(a.napi)) __napi_schedule(a.napi);
  else if (!a.down) e1000_irq_enable(a);
  return IRQ_HANDLED;
}

/** e1000_clean: the NAPI poll. */
function e1000_clean(a: E1000Adapter, budget: number): number {
  const txDone = e1000_clean_tx_irq(a, a.tx_ring!, budget);
  const work = e1000_clean_rx_irq(a, a.rx_ring!, budget);
  if (!txDone || work === budget) return budget;
  if (napi_complete_done(a.napi, work) && !a.down) e1000_irq_enable(a);
  return work;
}

// ---- link watchdog and statistics ----------------------------------------------------------------------

function e1000_watchdog(a: E1000Adapter): void {
  const link = e1000_link(a.hw);
  if (link.up) {
    if (!netif_carrier_ok(a.netdev)) {
      a.link_speed = link.speed;
      netdev_info(a.netdev, `NIC Link is Up ${link.speed} Mbps ${link.fullDuplex ? 'Full' : 'Half'} Duplex, Flow Control: None`);
      ew32(a.hw, R.TCTL, er32(a.hw, R.TCTL) | B.TCTL.EN);
      netif_carrier_on(a.netdev);
      if (a.tx_ring && e1000_desc_unused(a.tx_ring) >= 32) netif_wake_queue(a.netdev);
    }
  } else if (netif_carrier_ok(a.netdev)) {
    a.link_speed = 0;
    netdev_info(a.netdev, 'NIC Link is Down');
    netif_carrier_off(a.netdev);
  }
  e1000_update_stats(a.hw, a.hwstats);
  if (!a.down) schedule_delayed_work(a.watchdog_task, WATCHDOG_MS);
}

function e1000_get_stats64(netdev: NetDevice, s: RtnlLinkStats64): void {
  const a = netdev_priv<E1000Adapter>(netdev);
  const h = a.hwstats;
  e1000_update_stats(a.hw, h);
  s.rx_packets = a.sw.rx_packets;
  s.rx_bytes = a.sw.rx_bytes;
  s.tx_packets = a.sw.tx_packets;
  s.tx_bytes = a.sw.tx_bytes;
  s.multicast = h.mprc;
  s.collisions = h.colc;
  s.rx_length_errors = h.ruc + h.roc;
  s.rx_crc_errors = h.crcerrs;
  s.rx_frame_errors = h.algnerrc;
  s.rx_missed_errors = h.mpc;
  s.rx_errors = h.rxerrc + h.crcerrs + h.algnerrc + h.ruc + h.roc + h.cexterr + a.sw.rx_errors;
  s.tx_aborted_errors = h.ecol;
  s.tx_window_errors = h.latecol;
  s.tx_carrier_errors = h.tncrs;
  s.tx_errors = h.ecol + h.latecol;
  s.tx_dropped = a.sw.tx_dropped;
}

// ---- open / close ------------------------------------------------------------------------------------------

/** e1000_configure + e1000_up: program the hardware for the allocated rings. */
function e1000_up(a: E1000Adapter): void {
  e1000_init_hw(a.hw, a.netdev.dev_addr);
  e1000_configure_tx(a.hw, a.tx_ring!, a.tidv, a.tadv);
  e1000_configure_rx(a.hw, a.rx_ring!, a.itr);
  e1000_alloc_rx_buffers(a.hw, a.rx_ring!, e1000_desc_unused(a.rx_ring!));
  a.down = false;
  napi_enable(a.napi);
  e1000_irq_enable(a);
  netif_start_queue(a.netdev);
  ew32(a.hw, R.ICS, ICR.LSC); // fire a link status change interrupt to start the watchdog
}

/** e1000_down: stop receive and transmit, quiesce NAPI and interrupts, reset the MAC. */
async function e1000_down(a: E1000Adapter): Promise<void> {
  a.down = true;
  ew32(a.hw, R.RCTL, er32(a.hw, R.RCTL) & ~B.RCTL.EN);
  netif_tx_disable(a.netdev);
  ew32(a.hw, R.TCTL, er32(a.hw, R.TCTL) & ~B.TCTL.EN);
  napi_disable(a.napi);
  e1000_irq_disable(a);
  await cancel_delayed_work_sync(a.watchdog_task);
  netif_carrier_off(a.netdev);
  await e1000_reset_hw(a.hw);
  if (a.tx_ring) e1000_clean_tx_ring(a, a.tx_ring);
}

async function e1000_open(netdev: NetDevice): Promise<number> {
  const a = netdev_priv<E1000Adapter>(netdev);
  netif_carrier_off(netdev);
  a.tx_ring = await e1000_setup_tx_resources(a.dev, a.tx_count);
  a.rx_ring = a.tx_ring ? await e1000_setup_rx_resources(a.dev, a.rx_count) : null;
  if (!a.tx_ring || !a.rx_ring) {
    netdev_err(netdev, 'Unable to allocate descriptor rings');
    await e1000_free_rings(a);
    return -ENOMEM;
  }
  const r = await request_irq(a.irq, e1000_intr, IRQF_SHARED, netdev.name, netdev);
  if (r) {
    netdev_err(netdev, `Unable to allocate interrupt: ${r}`);
    await e1000_free_rings(a);
    return r;
  }
  e1000_up(a);
  return 0;
}

async function e1000_free_rings(a: E1000Adapter): Promise<void> {
  if (a.tx_ring) await e1000_free_tx_resources(a, a.tx_ring);
  if (a.rx_ring) await e1000_free_rx_resources(a.dev, a.rx_ring);
  a.tx_ring = null;
  a.rx_ring = null;
}

async function e1000_close(netdev: NetDevice): Promise<number> {
  const a = netdev_priv<E1000Adapter>(netdev);
  await e1000_down(a);
  await free_irq(a.irq, netdev);
  await e1000_free_rings(a);
  return 0;
}

/** ndo_tx_timeout: the hardware stopped completing frames; reset it (Linux: reset_task). */
function e1000_tx_timeout(netdev: NetDevice): void {
  const a = netdev_priv<E1000Adapter>(netdev);
  a.tx_timeout_count++;
  schedule_work(a.reset_task);
}

async function e1000_reinit(a: E1000Adapter): Promise<void> {
  if (a.down || !netif_running(a.netdev)) return;
  netdev_err(a.netdev, 'Reset adapter');
  await e1000_down(a);
  e1000_up(a);
}

function e1000_set_mac(netdev: NetDevice, addr: Sockaddr): number {
  const a = netdev_priv<E1000Adapter>(netdev);
  if (!is_valid_ether_addr(addr.sa_data)) return -EADDRNOTAVAIL;
  eth_hw_addr_set(netdev, addr.sa_data);
  e1000_rar_set(a.hw, addr.sa_data, 0);
  return 0;
}

function e1000_change_mtu(netdev: NetDevice, mtu: number): number {
  if (mtu < netdev.min_mtu || mtu > netdev.max_mtu) return -EINVAL;
  netdev_info(netdev, `changing MTU from ${netdev.mtu} to ${mtu}`);
  netdev.mtu = mtu;
  return 0;
}

const e1000_netdev_ops: NetDeviceOps = {
  ndo_open: e1000_open,
  ndo_stop: e1000_close,
  ndo_start_xmit: (skb, netdev) => {
    const a = netdev_priv<E1000Adapter>(netdev);
    return e1000_xmit_frame(a, a.tx_ring!, skb);
  },
  ndo_get_stats64: e1000_get_stats64,
  ndo_set_mac_address: e1000_set_mac,
  ndo_change_mtu: e1000_change_mtu,
  ndo_tx_timeout: e1000_tx_timeout,
};

// ---- probe ----------------------------------------------------------------------------------------------------

async function e1000_probe(pdev: PlatformDevice): Promise<number> {
  const dev = pdev.dev;
  const hw = devm_ioremap_resource(dev, platform_get_resource(pdev, IORESOURCE_MEM, 0));
  if (typeof hw === 'number') return dev_err_probe(dev, hw, 'cannot map registers');
  const irq = platform_get_irq(pdev, 0);
  if (irq < 0) return dev_err_probe(dev, irq, 'no IRQ');
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))) return dev_err_probe(dev, -EIO, 'No usable DMA configuration');

  const itrRate = Number(module_param('InterruptThrottleRate', 20000));
  const delay = (name: string, fallback: number): number => {
    const v = Number(module_param(name, fallback));
    return Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : fallback;
  };
  const tidv = delay('TxIntDelay', 8), tadv = delay('TxAbsIntDelay', 32);
  const a = {
    pdev, dev, hw: hw as IoMem, irq, down: true, tx_count: ringParam('TxDescriptors', 256), rx_count: ringParam('RxDescriptors', 256),
    itr: Number.isFinite(itrRate) && itrRate > 0 ? Math.min(0xffff, Math.round(1e9 / (itrRate * 256))) : 0,
    tx_ring: null, rx_ring: null, hwstats: e1000_zero_stats(), watchdog_task: new DelayedWork(), reset_task: new WorkStruct(),
    link_speed: 0, tx_timeout_count: 0, tidv, tadv, txd_cmd: e1000_txd_cmd(tidv), napi: new NapiStruct(),
    sw: { rx_packets: 0, rx_bytes: 0, tx_packets: 0, tx_bytes: 0, rx_errors: 0, tx_dropped: 0 } as E1000SwStats,
  } as Omit<E1000Adapter, 'netdev'> as E1000Adapter;
  const netdev = devm_alloc_etherdev(dev, a);
  if (!netdev) return -ENOMEM;
  a.netdev = netdev;
  SET_NETDEV_DEV(netdev, dev);
  netdev.netdev_ops = e1000_netdev_ops;
  netdev.watchdog_timeo = 5000;
  netdev.irq = irq;
  netdev.min_mtu = 46; // ETH_ZLEN - ETH_HLEN
  netif_napi_add(netdev, a.napi, (_napi, budget) => e1000_clean(a, budget));
  INIT_DELAYED_WORK(a.watchdog_task, () => e1000_watchdog(a));
  INIT_WORK(a.reset_task, () => e1000_reinit(a));

  if (await e1000_reset_hw(a.hw)) return dev_err_probe(dev, -EIO, 'hardware reset did not complete');
  if (!e1000_validate_eeprom_checksum(a.hw)) { dev_err(dev, 'The EEPROM Checksum Is Not Valid'); return -EIO; }
  const mac = e1000_read_mac_addr(a.hw);
  if (!mac) { dev_err(dev, 'EEPROM Read Error'); return -EIO; }
  eth_hw_addr_set(netdev, mac);
  if (!is_valid_ether_addr(netdev.dev_addr)) { dev_err(dev, 'Invalid MAC Address'); return -EIO; }
  const id1 = e1000_read_phy_reg(a.hw, PHY_REG.ID1), id2 = e1000_read_phy_reg(a.hw, PHY_REG.ID2);
  if (id1 < 0 || id2 < 0) { dev_err(dev, 'PHY does not answer on MDIO'); return -EIO; }
  e1000_init_hw(a.hw, netdev.dev_addr);

  netdev.name = 'eth%d';
  const r = await devm_register_netdev(dev, netdev);
  if (r) return dev_err_probe(dev, r, 'register_netdev failed');
  netif_carrier_off(netdev);
  const phyId = ((id1 << 16) | (id2 & 0xfff0)) >>> 0;
  dev_info(dev, `${netdev.name}: (PCI:33MHz:32-bit) ${Array.from(netdev.dev_addr, (b) => b.toString(16).padStart(2, '0')).join(':')}, PHY 0x${phyId.toString(16)}`);
  dev_info(dev, `${netdev.name}: Intel(R) PRO/1000 Network Connection`);
  return 0;
}

// No remove: devm unregisters the net_device (ndo_stop if up: rings and IRQ go there) and frees it.
export default module_platform_driver({
  probe: e1000_probe,
  driver: { name: DRV_NAME, of_match_table: [{ compatible: 'intel,82540em' }, { compatible: 'pci8086,100e' }] },
});
