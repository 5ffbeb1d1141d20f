/**
 * @module linux/netdevice.h
 * Network devices: `struct net_device` + `net_device_ops`, registration (`register_netdev`,
 * `unregister_netdev`, `devm_register_netdev`, `free_netdev`, `SET_NETDEV_DEV`), carrier and
 * queue state (`netif_carrier_on/off/ok`, `netif_start/stop/wake_queue`, `netif_queue_stopped`,
 * `netdev_xmit_more`), receive (`netif_receive_skb`, `napi_gro_receive`, `netif_rx`), NAPI
 * (`netif_napi_add`, `napi_enable/disable`, `napi_schedule(_prep)`, `__napi_schedule`,
 * `napi_complete_done`), BQL accounting, the tx watchdog (`ndo_tx_timeout`) and `netdev_*`
 * logging. Ethernet helpers are in etherdevice.ts, socket buffers in skbuff.ts.
 *
 * How a net_device reaches the kernel: `register_netdev` registers a node of kind 'net' named
 * "eth%d"; the kernel names the interface, creates /sys/class/net/<name> and talks to the
 * device through the node's file operations (framework/net/abi.ts): the kernel opening it
 * read-write is `ndo_open`, its release `ndo_stop`, a write a batch of frames handed one by one
 * to `ndo_start_xmit`, a read the batch of frames the driver passed to `netif_receive_skb`
 * since the last read (plus the carrier and queue state), ioctls `ndo_get_stats64`,
 * `ndo_set_mac_address` and `ndo_change_mtu`. Frames are batched both ways.
 *
 * Differs from Linux, and why:
 * - **No per-CPU softirq**: NAPI polls run in softirq context (`in_softirq()`) in a microtask
 *   right after the IRQ handler that scheduled them returns, in the driver's env, as many
 *   rounds as the budget allows: a poll that used its whole weight is polled again, up to
 *   `netdev_budget` (300) frames or 2 ms per run, after which the rest runs in a later
 *   event-loop task (Linux hands it to ksoftirqd). Polls must be synchronous.
 * - **Received frames are queued for the kernel** (Linux processes them inside the softirq):
 *   at most `netdev_max_backlog` (1000) frames per device; beyond that they are dropped and
 *   counted in rx_dropped, as Linux's backlog drops. One notification per softirq run tells
 *   the kernel to read them.
 * - `ndo_start_xmit` runs with bottom halves disabled (as under dev_queue_xmit) and must be
 *   synchronous. A frame is retried, never lost, when the driver returns NETDEV_TX_BUSY or has
 *   stopped its queue: the kernel keeps it until the driver wakes the queue. NETDEV_TX_BUSY
 *   without stopping the queue is reported (the queue is stopped for it).
 * - `alloc_etherdev(sizeof_priv)` takes a size (the private area is a zeroed Uint8Array) or
 *   the private object itself (`alloc_etherdev(new MyAdapter())`); `netdev_priv<T>(dev)`.
 * - `register_netdev`, `unregister_netdev`, `ndo_open`, `ndo_stop` are async (they sleep in
 *   Linux too); a driver must call `SET_NETDEV_DEV(netdev, &pdev->dev)` before registering (its
 *   binding is how the kernel knows the parent device).
 * - BQL (`netdev_sent_queue`/`netdev_completed_queue`) is accounting only: it never stops the
 *   queue. `watchdog_timeo` is in milliseconds (Linux: jiffies).
 * - Linux keeps `skb->protocol` big-endian; here it is the EtherType in host order (compare
 *   with `ETH_P_IP`, not `htons(ETH_P_IP)`).
 */
import type { DriverEnv, DriverFile, DriverFileOps } from '../framework/driver-port.js';
import {
  decodeFrames, encodeStats, NETDEV_FRAME_HEADER, NETDEV_IOC, NETDEV_RX, NETDEV_RX_HEADER, writeU32, zeroStats,
  type NetdevInfo, type NetdevStats,
} from '../framework/net/abi.js';
import { FrameQueue } from '../framework/net/frame-queue.js';
import { kapi_fault, kapi_report } from './bug.js';
import type { Device } from './device.js';
import { EADDRNOTAVAIL, EAGAIN, EBUSY, EINVAL, ENODEV, EOPNOTSUPP, ENETDOWN } from './errno.js';
import { O_ACCMODE, O_RDONLY } from './fs.js';
import { setDriverEnv, driverEnv } from './kernel.js';
import { enter_softirq, exit_softirq, local_bh_disable, local_bh_enable } from './preempt.js';
import { __skb_from_frame, PACKET_OUTGOING, type SkBuff } from './skbuff.js';

export const NETDEV_TX_OK = 0x00, NETDEV_TX_BUSY = 0x10;
export type netdev_tx_t = number;
export const NET_RX_SUCCESS = 0, NET_RX_DROP = 1;
/** gro_result_t */
export const GRO_MERGED = 0, GRO_MERGED_FREE = 1, GRO_HELD = 2, GRO_NORMAL = 3, GRO_CONSUMED = 4;
export const NAPI_POLL_WEIGHT = 64;
export const IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_DEBUG = 0x4, IFF_LOOPBACK = 0x8, IFF_POINTOPOINT = 0x10,
  IFF_NOARP = 0x80, IFF_PROMISC = 0x100, IFF_ALLMULTI = 0x200, IFF_MULTICAST = 0x1000;
/** priv_flags */
export const IFF_LIVE_ADDR_CHANGE = 0x100000;
export const ARPHRD_ETHER = 1;
export const NET_NAME_UNKNOWN = 0, NET_NAME_ENUM = 1, NET_NAME_PREDICTABLE = 2, NET_NAME_USER = 3;
export const NET_ADDR_PERM = 0, NET_ADDR_RANDOM = 1, NET_ADDR_STOLEN = 2, NET_ADDR_SET = 3;
export const MAX_ADDR_LEN = 32;
export const IFNAMSIZ = 16;

/** Frames per device waiting for the kernel before receives are dropped (Linux default). */
export let netdev_max_backlog = 1000;
/** Frames one softirq run may poll (Linux default). */
export let netdev_budget = 300;
/** Time one softirq run may take (Linux netdev_budget_usecs: 2000). */
export let netdev_budget_usecs = 2000;
/** Tunables (Linux sysctls net.core.*), for tests and benchmarks. */
export function set_netdev_sysctl(o: { max_backlog?: number; budget?: number; budget_usecs?: number }): void {
  if (o.max_backlog !== undefined) netdev_max_backlog = o.max_backlog;
  if (o.budget !== undefined) netdev_budget = o.budget;
  if (o.budget_usecs !== undefined) netdev_budget_usecs = o.budget_usecs;
}

/** struct rtnl_link_stats64 (and the legacy net_device_stats: the same names). */
export type RtnlLinkStats64 = NetdevStats;
export type rtnl_link_stats64 = RtnlLinkStats64;
export type NetDeviceStats = NetdevStats;

export interface Sockaddr { sa_family: number; sa_data: Uint8Array }

/** struct net_device_ops (the members hmdrv calls). */
export interface NetDeviceOps {
  ndo_init?(dev: NetDevice): number;
  ndo_uninit?(dev: NetDevice): void;
  ndo_open?(dev: NetDevice): number | Promise<number>;
  ndo_stop?(dev: NetDevice): number | Promise<number>;
  /** Must be synchronous; returns NETDEV_TX_OK (the skb is the driver's) or NETDEV_TX_BUSY. */
  ndo_start_xmit(skb: SkBuff, dev: NetDevice): netdev_tx_t;
  ndo_set_mac_address?(dev: NetDevice, addr: Sockaddr): number | Promise<number>;
  ndo_validate_addr?(dev: NetDevice): number;
  ndo_change_mtu?(dev: NetDevice, new_mtu: number): number | Promise<number>;
  ndo_get_stats64?(dev: NetDevice, stats: RtnlLinkStats64): void;
  ndo_tx_timeout?(dev: NetDevice, txqueue: number): void;
  ndo_set_rx_mode?(dev: NetDevice): void;
}
export type net_device_ops = NetDeviceOps;

/** What the kapi keeps per net_device (not for drivers). */
interface NetdevKernelState {
  env: DriverEnv | null;
  node: number;
  up: boolean;
  carrier: boolean;
  present: boolean;
  txStopped: boolean;
  /** The kernel saw the queue stopped (a short write): tell it when it wakes. */
  kernelWaits: boolean;
  notifyPending: boolean;
  /** Something to tell the kernel before register_netdev learned the node id (see there). */
  notifyLater: boolean;
  infoChanged: boolean;
  rxq: FrameQueue;
  core: { rx_dropped: number; tx_dropped: number };
  trans_start: number;
  stoppedAt: number;
  watchdog: NodeJS.Timeout | null;
  bql: { inflight: number; sent: number; completed: number };
  napis: Set<NapiStruct>;
  freed: boolean;
  /** ndo_open, ndo_stop and unregistration run one at a time (Linux: under rtnl_lock). */
  rtnl: Promise<unknown>;
}

/** struct net_device. */
export class NetDevice {
  /** "eth%d" until registered, then the kernel's name ("eth0"). */
  name = 'eth%d';
  ifindex = 0;
  /** The hardware address; set it with eth_hw_addr_set (Linux 5.17+: dev_addr is const). */
  readonly dev_addr = new Uint8Array(6);
  readonly perm_addr = new Uint8Array(6);
  readonly broadcast = new Uint8Array(6);
  addr_len = 6;
  addr_assign_type = NET_ADDR_PERM;
  type = ARPHRD_ETHER;
  mtu = 1500;
  min_mtu = 68;
  max_mtu = 1500;
  hard_header_len = 14;
  flags = 0;
  priv_flags = 0;
  features = 0;
  hw_features = 0;
  tx_queue_len = 1000;
  /** ms (Linux: jiffies) a stopped queue may stay stopped before ndo_tx_timeout. */
  watchdog_timeo = 5000;
  netdev_ops: NetDeviceOps | null = null;
  ethtool_ops: unknown = null;
  /** Software counters (dev->stats), used when there is no ndo_get_stats64. */
  readonly stats: NetDeviceStats = zeroStats();
  /** SET_NETDEV_DEV sets the parent. */
  readonly dev: { parent: Device | null } = { parent: null };
  irq = 0;
  msg_enable = 0;
  reg_state: 'uninitialized' | 'registered' | 'unregistered' = 'uninitialized';
  /** netdev_priv(). */
  priv: unknown;
  /** @internal */
  readonly _k: NetdevKernelState = {
    env: null, node: 0, up: false, carrier: true, present: true, txStopped: false, kernelWaits: false,
    notifyPending: false, notifyLater: false, infoChanged: false, rxq: new FrameQueue(), core: { rx_dropped: 0, tx_dropped: 0 },
    trans_start: 0, stoppedAt: 0, watchdog: null, bql: { inflight: 0, sent: 0, completed: 0 }, napis: new Set(), freed: false,
    rtnl: Promise.resolve(),
  };

  constructor(priv: unknown) { this.priv = priv; }
}
export type net_device = NetDevice;

export function netdev_priv<T>(dev: NetDevice): T { return dev.priv as T; }
export const netdev_name = (dev: NetDevice): string => dev.name;

/**
 * alloc_netdev(sizeof_priv, name, name_assign_type, setup): `priv` is a size (a zeroed
 * Uint8Array becomes the private area) or the private object itself.
 */
export function alloc_netdev(priv: number | object, name: string, _nameAssignType: number, setup: (dev: NetDevice) => void): NetDevice | null {
  if (typeof priv === 'number' && (!Number.isInteger(priv) || priv < 0)) return null;
  const dev = new NetDevice(typeof priv === 'number' ? new Uint8Array(priv) : priv);
  dev.name = name;
  setup(dev);
  return dev;
}

/** SET_NETDEV_DEV(netdev, &pdev->dev). */
export function SET_NETDEV_DEV(ndev: NetDevice, parent: Device): void { ndev.dev.parent = parent; }

export function free_netdev(dev: NetDevice): void {
  if (dev.reg_state === 'registered') kapi_report('netdev', 3, `free_netdev(${dev.name}) while still registered`);
  for (const n of [...dev._k.napis]) netif_napi_del(n);
  dev._k.freed = true;
}

// ---- logging ------------------------------------------------------------------------------------

function netdevLog(level: 3 | 4 | 5 | 6 | 7, dev: NetDevice, msg: string): void {
  const env = dev._k.env ?? dev.dev.parent?.env ?? driverEnv();
  env.log(level, `${dev.name}: ${msg}`, dev.dev.parent?.binding);
}
export const netdev_err = (dev: NetDevice, m: string): void => netdevLog(3, dev, m);
export const netdev_warn = (dev: NetDevice, m: string): void => netdevLog(4, dev, m);
export const netdev_notice = (dev: NetDevice, m: string): void => netdevLog(5, dev, m);
export const netdev_info = (dev: NetDevice, m: string): void => netdevLog(6, dev, m);
export const netdev_dbg = (dev: NetDevice, m: string): void => netdevLog(7, dev, m);

// ---- link and queue state --------------------------------------------------------------------------

/** Devices with something new for the kernel, told at the end of the current softirq run. */
const dirty = new Set<NetDevice>();
let flushQueued = false;
let inSoftirq = 0;

function kick(dev: NetDevice): void {
  dirty.add(dev);
  if (inSoftirq || flushQueued) return;
  flushQueued = true;
  queueMicrotask(flushNotifications);
}

function flushNotifications(): void {
  flushQueued = false;
  for (const dev of dirty) {
    const k = dev._k;
    if (!k.node) { k.notifyLater = true; continue; }
    if (k.notifyPending || !k.env) continue;
    k.notifyPending = true;
    k.env.pollNotify(k.node);
  }
  dirty.clear();
}

export function netif_carrier_on(dev: NetDevice): void {
  if (dev._k.carrier) return;
  dev._k.carrier = true;
  kick(dev);
}

export function netif_carrier_off(dev: NetDevice): void {
  if (!dev._k.carrier) return;
  dev._k.carrier = false;
  kick(dev);
}

export const netif_carrier_ok = (dev: NetDevice): boolean => dev._k.carrier;
/** __LINK_STATE_START: the device is open (between ndo_open and ndo_stop). */
export const netif_running = (dev: NetDevice): boolean => dev._k.up;
export const netif_device_present = (dev: NetDevice): boolean => dev._k.present;
export const netif_oper_up = (dev: NetDevice): boolean => dev._k.up && dev._k.carrier;

export function netif_device_detach(dev: NetDevice): void {
  dev._k.present = false;
  if (dev._k.up) netif_stop_queue(dev);
}

export function netif_device_attach(dev: NetDevice): void {
  dev._k.present = true;
  if (dev._k.up) netif_wake_queue(dev);
}

export function netif_start_queue(dev: NetDevice): void { dev._k.txStopped = false; }

export function netif_stop_queue(dev: NetDevice): void {
  if (!dev._k.txStopped) { dev._k.txStopped = true; dev._k.stoppedAt = performance.now(); }
}

export function netif_wake_queue(dev: NetDevice): void {
  const k = dev._k;
  k.txStopped = false;
  if (k.kernelWaits) { k.kernelWaits = false; kick(dev); }
}

export const netif_queue_stopped = (dev: NetDevice): boolean => dev._k.txStopped;
export const netif_tx_start_all_queues = netif_start_queue;
export const netif_tx_stop_all_queues = netif_stop_queue;
export const netif_tx_wake_all_queues = netif_wake_queue;
export const netif_tx_disable = netif_stop_queue;
/** netif_trans_update: the last time a frame was handed to the hardware (for the watchdog). */
export function netif_trans_update(dev: NetDevice): void { dev._k.trans_start = performance.now(); }

let xmitMore = false;
/** True inside ndo_start_xmit when the kernel has more frames for the device right after this one. */
export const netdev_xmit_more = (): boolean => xmitMore;

/** BQL: bytes handed to the hardware (accounting only). */
export function netdev_sent_queue(dev: NetDevice, bytes: number): void {
  dev._k.bql.inflight += bytes;
  dev._k.bql.sent += bytes;
}
/** BQL: frames and bytes the hardware completed. */
export function netdev_completed_queue(dev: NetDevice, _pkts: number, bytes: number): void {
  dev._k.bql.inflight = Math.max(0, dev._k.bql.inflight - bytes);
  dev._k.bql.completed += bytes;
}
export function netdev_reset_queue(dev: NetDevice): void { dev._k.bql.inflight = 0; }

// ---- receive ------------------------------------------------------------------------------------------

/** Hands a received frame (Ethernet header pulled by eth_type_trans) to the kernel. */
export function netif_receive_skb(skb: SkBuff): number {
  const dev = skb.dev;
  if (!dev) { kapi_report('netdev', 3, 'netif_receive_skb: skb->dev is NULL'); return NET_RX_DROP; }
  const k = dev._k;
  skb.freed = true;
  if (!k.up) { k.core.rx_dropped++; return NET_RX_DROP; }
  if (k.rxq.length >= netdev_max_backlog) { k.core.rx_dropped++; return NET_RX_DROP; }
  const start = skb.mac_header >= 0 ? skb.mac_header : skb.data_off;
  k.rxq.push(skb.head.subarray(start, skb.tail));
  kick(dev);
  return NET_RX_SUCCESS;
}

export const netif_receive_skb_list = (skbs: SkBuff[]): void => { for (const s of skbs) netif_receive_skb(s); };
/** netif_rx: from an IRQ handler without NAPI; the same path here. */
export const netif_rx = netif_receive_skb;
export function napi_gro_receive(_napi: NapiStruct, skb: SkBuff): number {
  return netif_receive_skb(skb) === NET_RX_SUCCESS ? GRO_NORMAL : GRO_CONSUMED;
}
export function napi_gro_flush(_napi: NapiStruct, _flushOld: boolean): void {}

// ---- NAPI ------------------------------------------------------------------------------------------------

const NAPI_STATE_SCHED = 1, NAPI_STATE_MISSED = 2, NAPI_STATE_DISABLE = 4;

export type NapiPoll = (napi: NapiStruct, budget: number) => number;

/** struct napi_struct. */
export class NapiStruct {
  dev: NetDevice | null = null;
  poll: NapiPoll | null = null;
  weight = NAPI_POLL_WEIGHT;
  /** @internal NAPI_STATE_* bits. */
  state = NAPI_STATE_SCHED;
  /** @internal */
  onList = false;
  /** @internal */
  env: DriverEnv | null = null;
}
export type napi_struct = NapiStruct;

const pollList: NapiStruct[] = [];
let rxActionQueued = false;

export function netif_napi_add_weight(dev: NetDevice, napi: NapiStruct, poll: NapiPoll, weight: number): void {
  napi.dev = dev;
  napi.poll = poll;
  napi.weight = weight > 0 ? weight : NAPI_POLL_WEIGHT;
  napi.state = NAPI_STATE_SCHED; // disabled until napi_enable, as Linux
  napi.env = dev.dev.parent?.env ?? dev._k.env ?? driverEnv();
  dev._k.napis.add(napi);
}

/** netif_napi_add(dev, napi, poll): weight NAPI_POLL_WEIGHT (64). */
export function netif_napi_add(dev: NetDevice, napi: NapiStruct, poll: NapiPoll, weight = NAPI_POLL_WEIGHT): void {
  netif_napi_add_weight(dev, napi, poll, weight);
}

export function netif_napi_del(napi: NapiStruct): void {
  napi_disable(napi);
  napi.dev?._k.napis.delete(napi);
}

export function napi_enable(napi: NapiStruct): void {
  napi.state &= ~(NAPI_STATE_SCHED | NAPI_STATE_DISABLE | NAPI_STATE_MISSED);
}

/** napi_disable: no poll runs afterwards until napi_enable (polls are synchronous, so none is running). */
export function napi_disable(napi: NapiStruct): void {
  const i = pollList.indexOf(napi);
  if (i >= 0) pollList.splice(i, 1);
  napi.onList = false;
  napi.state = NAPI_STATE_SCHED;
}

/** napi_schedule_prep: true if the caller now owns the scheduling (and must call __napi_schedule). */
export function napi_schedule_prep(napi: NapiStruct): boolean {
  if (napi.state & NAPI_STATE_DISABLE) return false;
  if (napi.state & NAPI_STATE_SCHED) { napi.state |= NAPI_STATE_MISSED; return false; }
  napi.state |= NAPI_STATE_SCHED;
  return true;
}

export function __napi_schedule(napi: NapiStruct): void {
  if (!napi.onList) { pollList.push(napi); napi.onList = true; }
  if (!rxActionQueued && !inSoftirq) { rxActionQueued = true; queueMicrotask(net_rx_action); }
}
export const __napi_schedule_irqoff = __napi_schedule;

export function napi_schedule(napi: NapiStruct): boolean {
  if (!napi_schedule_prep(napi)) return false;
  __napi_schedule(napi);
  return true;
}
export const napi_schedule_irqoff = napi_schedule;

/** Call when a poll did less than its budget; false if it must poll again (a schedule came meanwhile). */
export function napi_complete_done(napi: NapiStruct, _workDone: number): boolean {
  if (napi.state & NAPI_STATE_MISSED) {
    napi.state &= ~NAPI_STATE_MISSED;
    __napi_schedule(napi);
    return false;
  }
  napi.state &= ~NAPI_STATE_SCHED;
  return true;
}
export const napi_complete = (napi: NapiStruct): boolean => napi_complete_done(napi, 0);

/** The NET_RX softirq: polls scheduled NAPI instances (see the module comment). */
function net_rx_action(): void {
  rxActionQueued = false;
  const end = performance.now() + netdev_budget_usecs / 1000;
  let budget = netdev_budget;
  enter_softirq();
  inSoftirq++;
  try {
    while (pollList.length) {
      const n = pollList.shift()!;
      n.onList = false;
      if (!(n.state & NAPI_STATE_SCHED) || !n.poll) continue;
      if (n.env) setDriverEnv(n.env);
      let work: unknown;
      try {
        work = n.poll(n, n.weight);
      } catch (e) {
        n.state &= ~NAPI_STATE_SCHED;
        kapi_fault(e, `napi poll of ${n.dev?.name ?? '?'}`, n.env);
        continue;
      }
      if (typeof work !== 'number' || !Number.isInteger(work) || work < 0 || work > n.weight) {
        kapi_report('napi', 3, `NAPI poll of ${n.dev?.name ?? '?'} returned ${work instanceof Promise ? 'a Promise (polls must be synchronous)' : String(work)}, budget ${n.weight}`);
        work = typeof work === 'number' && work > n.weight ? n.weight : 0;
      }
      const w = work as number;
      if (w >= n.weight) {
        if ((n.state & NAPI_STATE_SCHED) && !n.onList) { pollList.push(n); n.onList = true; }
      } else if ((n.state & NAPI_STATE_SCHED) && !n.onList) {
        kapi_report('napi', 4, `NAPI poll of ${n.dev?.name ?? '?'} did ${w} < budget ${n.weight} without napi_complete_done`);
        n.state &= ~NAPI_STATE_SCHED;
      }
      budget -= w;
      if (budget <= 0 || performance.now() > end) break;
    }
  } finally {
    inSoftirq--;
    exit_softirq();
    flushNotifications();
  }
  if (pollList.length && !rxActionQueued) {
    rxActionQueued = true;
    setImmediate(net_rx_action); // budget used up: let the event loop run (Linux: ksoftirqd)
  }
}

// ---- registration and the kernel's side of the node --------------------------------------------------

function infoOf(dev: NetDevice): NetdevInfo {
  const mac = (b: Uint8Array): string => Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
  return {
    address: mac(dev.dev_addr), broadcast: mac(dev.broadcast), mtu: dev.mtu, minMtu: dev.min_mtu, maxMtu: dev.max_mtu,
    type: dev.type, carrier: dev._k.carrier, txQueueLen: dev.tx_queue_len,
  };
}

/** dev_get_stats: the driver's ndo_get_stats64 (or dev->stats) plus the kapi's own drops. */
export function dev_get_stats(dev: NetDevice): RtnlLinkStats64 {
  const s = zeroStats();
  if (dev.netdev_ops?.ndo_get_stats64) dev.netdev_ops.ndo_get_stats64(dev, s);
  else Object.assign(s, dev.stats);
  s.rx_dropped += dev._k.core.rx_dropped;
  s.tx_dropped += dev._k.core.tx_dropped;
  return s;
}

function startWatchdog(dev: NetDevice): void {
  const k = dev._k;
  if (!dev.netdev_ops?.ndo_tx_timeout || dev.watchdog_timeo <= 0 || k.watchdog) return;
  k.watchdog = setInterval(() => {
    if (!k.up || !k.txStopped || !k.carrier || !k.present) return;
    const since = Math.max(k.trans_start, k.stoppedAt);
    if (performance.now() - since < dev.watchdog_timeo) return;
    if (k.env) setDriverEnv(k.env);
    netdev_err(dev, `NETDEV WATCHDOG: transmit queue 0 timed out ${Math.round(performance.now() - since)} ms`);
    k.stoppedAt = performance.now();
    enter_softirq();
    try { dev.netdev_ops?.ndo_tx_timeout?.(dev, 0); } catch (e) { kapi_fault(e, `ndo_tx_timeout of ${dev.name}`, k.env); } finally { exit_softirq(); }
  }, Math.max(100, dev.watchdog_timeo / 2));
  k.watchdog.unref?.();
}

function stopWatchdog(dev: NetDevice): void {
  if (dev._k.watchdog) clearInterval(dev._k.watchdog);
  dev._k.watchdog = null;
}

type M<T> = T | Promise<T>;
const then = <T, R>(v: M<T>, f: (t: T) => R): M<R> => (v instanceof Promise ? v.then(f) : f(v));

/** Runs `fn` after the device's earlier open/stop/unregister finished (rtnl_lock). */
function rtnl<T>(dev: NetDevice, fn: () => M<T>): Promise<T> {
  const k = dev._k;
  const r = k.rtnl.then(() => { if (k.env) setDriverEnv(k.env); return fn(); });
  k.rtnl = r.catch(() => undefined);
  return r;
}

/** The node's file operations: the protocol of framework/net/abi.ts. */
function netdevFileOps(dev: NetDevice, env: DriverEnv): DriverFileOps {
  const k = dev._k;
  const data = new WeakSet<DriverFile>();
  const ops = (): NetDeviceOps => dev.netdev_ops!;
  return {
    open(f) {
      setDriverEnv(env);
      if ((f.flags & O_ACCMODE) === O_RDONLY) return 0; // the kernel's control file
      return rtnl(dev, () => {
        // The kernel may open the node before register_netdev has resumed (its reply and our
        // open can be served back to back): only an unregistered device is refused.
        if (dev.reg_state === 'unregistered') return -ENODEV;
        if (k.up) return -EBUSY;
        const valid = ops().ndo_validate_addr ? ops().ndo_validate_addr!(dev) : (isValidMac(dev.dev_addr) ? 0 : -EADDRNOTAVAIL);
        if (valid < 0) return valid;
        return then(ops().ndo_open ? ops().ndo_open!(dev) : 0, (r) => {
          if (r < 0) return r;
          k.up = true;
          dev.flags |= IFF_UP;
          data.add(f);
          ops().ndo_set_rx_mode?.(dev);
          startWatchdog(dev);
          return 0;
        });
      });
    },
    release(f) {
      setDriverEnv(env);
      if (!data.has(f)) return 0;
      data.delete(f);
      return rtnl(dev, () => closeDevice(dev));
    },
    write(f, bytes) {
      setDriverEnv(env);
      if (!data.has(f) || !k.up || !k.present) return -ENETDOWN;
      const { frames, rest } = decodeFrames(bytes);
      if (rest !== bytes.length) return -EINVAL;
      return transmit(dev, frames);
    },
    read(f, length) {
      setDriverEnv(env);
      k.notifyPending = false;
      let flags = (k.carrier ? NETDEV_RX.CARRIER : 0) | (k.txStopped ? NETDEV_RX.TXQ_STOPPED : 0) | (k.infoChanged ? NETDEV_RX.INFO_CHANGED : 0);
      k.infoChanged = false;
      if (k.txStopped) k.kernelWaits = true;
      let n = 0, bytes = NETDEV_RX_HEADER;
      if (data.has(f)) {
        for (let fr = k.rxq.peek(0); fr && bytes + NETDEV_FRAME_HEADER + fr.length <= length; fr = k.rxq.peek(++n)) bytes += NETDEV_FRAME_HEADER + fr.length;
        if (n < k.rxq.length) flags |= NETDEV_RX.MORE;
      }
      const out = new Uint8Array(bytes);
      writeU32(out, 0, flags);
      writeU32(out, 4, n);
      let off = NETDEV_RX_HEADER;
      for (let i = 0; i < n; i++) {
        const fr = k.rxq.shift()!;
        writeU32(out, off, fr.length);
        out.set(fr, off + NETDEV_FRAME_HEADER);
        off += NETDEV_FRAME_HEADER + fr.length;
      }
      return out;
    },
    poll() {
      return (k.rxq.length ? 0x1 : 0) | (k.txStopped ? 0 : 0x4);
    },
    ioctl(_f, cmd, arg) {
      setDriverEnv(env);
      switch (cmd) {
        case NETDEV_IOC.INFO:
          arg.out = new TextEncoder().encode(JSON.stringify(infoOf(dev)));
          return 0;
        case NETDEV_IOC.GET_STATS64:
          arg.out = encodeStats(dev_get_stats(dev));
          return 0;
        case NETDEV_IOC.SET_MAC: {
          const a = arg.in;
          if (!a || a.length < 6) return -EINVAL;
          if (!ops().ndo_set_mac_address) return -EOPNOTSUPP;
          return then(ops().ndo_set_mac_address!(dev, { sa_family: ARPHRD_ETHER, sa_data: a.slice(0, 6) }), (r) => {
            if (r >= 0) k.infoChanged = true;
            return r;
          });
        }
        case NETDEV_IOC.SET_MTU: {
          const mtu = arg.value;
          if (!Number.isInteger(mtu) || mtu < dev.min_mtu || mtu > dev.max_mtu) return -EINVAL;
          if (!ops().ndo_change_mtu) { dev.mtu = mtu; return 0; }
          return ops().ndo_change_mtu!(dev, mtu);
        }
        default:
          return -EOPNOTSUPP;
      }
    },
  };
}

function isValidMac(a: Uint8Array): boolean {
  return (a[0]! & 1) === 0 && a.subarray(0, 6).some((b) => b !== 0);
}

/** dev_close: ndo_stop, then drop what was queued for the kernel. */
function closeDevice(dev: NetDevice): M<number> {
  const k = dev._k;
  if (!k.up) return 0;
  k.up = false;
  dev.flags &= ~IFF_UP;
  stopWatchdog(dev);
  return then(dev.netdev_ops?.ndo_stop ? dev.netdev_ops.ndo_stop(dev) : 0, (r) => {
    k.core.rx_dropped += k.rxq.drain().length;
    return typeof r === 'number' && r < 0 ? r : 0;
  });
}

/** Hands frames to ndo_start_xmit in order; returns the bytes consumed (whole frames) or -EAGAIN. */
function transmit(dev: NetDevice, frames: Uint8Array[]): number {
  const k = dev._k;
  const ops = dev.netdev_ops!;
  const max = dev.mtu + dev.hard_header_len + 4; // a VLAN tag may ride on top
  let lastValid = -1;
  for (let i = 0; i < frames.length; i++) if (frames[i]!.length >= dev.hard_header_len && frames[i]!.length <= max) lastValid = i;
  let consumed = 0;
  let sent = 0;
  local_bh_disable();
  try {
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.length < dev.hard_header_len || f.length > max) {
        k.core.tx_dropped++; // the kernel checks sizes first: this only catches a confused kernel
        consumed += NETDEV_FRAME_HEADER + f.length;
        continue;
      }
      if (k.txStopped) break;
      xmitMore = i < lastValid;
      const skb = __skb_from_frame(f, dev);
      skb.pkt_type = PACKET_OUTGOING;
      const r = ops.ndo_start_xmit(skb, dev);
      if (r === NETDEV_TX_BUSY) {
        if (!k.txStopped) {
          kapi_report('netdev', 4, `${dev.name}: ndo_start_xmit returned NETDEV_TX_BUSY while the queue is awake (stop the queue first)`);
          netif_stop_queue(dev);
        }
        break;
      }
      consumed += NETDEV_FRAME_HEADER + f.length;
      sent++;
    }
  } finally {
    xmitMore = false;
    local_bh_enable();
  }
  if (sent) k.trans_start = performance.now();
  if (consumed < batchLength(frames)) k.kernelWaits = true;
  return consumed === 0 && frames.length > 0 ? -EAGAIN : consumed;
}

function batchLength(frames: Uint8Array[]): number {
  let n = 0;
  for (const f of frames) n += NETDEV_FRAME_HEADER + f.length;
  return n;
}

/** register_netdev: the kernel names the interface (dev->name becomes "eth0"...). 0 or -errno. */
export async function register_netdev(dev: NetDevice): Promise<number> {
  const parent = dev.dev.parent;
  if (dev.reg_state === 'registered') return -EBUSY;
  if (!dev.netdev_ops?.ndo_start_xmit) { kapi_report('netdev', 3, `register_netdev(${dev.name}): no ndo_start_xmit`); return -EINVAL; }
  if (!parent) { kapi_report('netdev', 3, `register_netdev(${dev.name}): no parent device (call SET_NETDEV_DEV first)`); return -EINVAL; }
  if (dev.mtu < dev.min_mtu || dev.mtu > dev.max_mtu) return -EINVAL;
  if (dev.netdev_ops.ndo_init) { const r = dev.netdev_ops.ndo_init(dev); if (r < 0) return r; }
  const env = parent.env;
  const k = dev._k;
  k.env = env;
  if (dev.perm_addr.every((b) => b === 0)) dev.perm_addr.set(dev.dev_addr.subarray(0, 6));
  try {
    const r = await env.registerNode(parent.binding, { path: dev.name, kind: 'net', mode: 0, major: 0, minor: 0, className: 'net' }, netdevFileOps(dev, env));
    setDriverEnv(env);
    dev.name = r.name ?? dev.name;
    dev.ifindex = r.minor;
    k.node = r.node;
    dev.reg_state = 'registered';
    if (k.notifyLater) { k.notifyLater = false; kick(dev); }
    return 0;
  } catch (e) {
    setDriverEnv(env);
    dev.netdev_ops.ndo_uninit?.(dev);
    return (e as { errno?: number }).errno ?? -EINVAL;
  }
}

/** unregister_netdev: closes the device if open (ndo_stop), then the interface goes away. */
export async function unregister_netdev(dev: NetDevice): Promise<void> {
  const k = dev._k;
  if (dev.reg_state !== 'registered' || !k.env) return;
  const env = k.env;
  dev.reg_state = 'unregistered'; // an ndo_open queued behind us is refused
  await rtnl(dev, () => closeDevice(dev));
  setDriverEnv(env);
  const node = k.node;
  k.node = 0;
  dirty.delete(dev);
  await env.unregisterNode(node);
  setDriverEnv(env);
  dev.netdev_ops?.ndo_uninit?.(dev);
}

/** devm_register_netdev: unregistered with the binding. */
export async function devm_register_netdev(parent: Device, dev: NetDevice): Promise<number> {
  const r = await register_netdev(dev);
  if (r === 0) parent.devres.push(() => unregister_netdev(dev));
  return r;
}

/** @internal The info changed after registration (eth_hw_addr_set): tell the kernel. */
export function __netdev_info_changed(dev: NetDevice): void {
  if (dev.reg_state !== 'registered') return;
  dev._k.infoChanged = true;
  kick(dev);
}
