/**
 * netdevice/skbuff/etherdevice without a kernel: socket buffer arithmetic, eth_type_trans,
 * NAPI scheduling (budget repeats, MISSED, complete), and the net node's protocol as the kernel
 * speaks it (framework/net/abi.ts): batched writes to ndo_start_xmit with xmit_more and queue
 * back-pressure, batched reads of received frames with the link state, ioctls.
 */
import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceHandle, DriverEnv, DriverFile, DriverFileOps, NodeSpec } from '../framework/driver-port.js';
import { decodeFrames, decodeStats, encodeFrames, NETDEV_IOC, NETDEV_RX, readU32 } from '../framework/net/abi.js';
import { Device } from './device.js';
import {
  alloc_etherdev, eth_hw_addr_set, eth_type_trans, ETH_P_IP, is_valid_ether_addr, eth_random_addr,
} from './etherdevice.js';
import {
  napi_complete_done, napi_enable, napi_schedule, NapiStruct, NETDEV_TX_BUSY, NETDEV_TX_OK, netdev_xmit_more,
  netif_carrier_on, netif_napi_add, netif_receive_skb, netif_stop_queue, netif_wake_queue, register_netdev,
  SET_NETDEV_DEV, unregister_netdev, type NetDevice,
} from './netdevice.js';
import {
  alloc_skb, netdev_alloc_skb, NET_SKB_PAD, PACKET_BROADCAST, PACKET_HOST, skb_headroom, skb_pull, skb_push, skb_put,
  skb_put_data, skb_reserve, skb_tailroom, type SkBuff,
} from './skbuff.js';
import { EAGAIN, ENETDOWN, EINVAL } from './errno.js';

interface Fake { env: DriverEnv; ops: DriverFileOps | null; spec: NodeSpec | null; notifies: number; logs: string[]; dev: Device }

function fakeEnv(): Fake {
  const f: Fake = { env: null as never, ops: null, spec: null, notifies: 0, logs: [], dev: null as never };
  f.env = {
    isolation: 'ic0', mmio: null,
    log: (_l: number, m: string) => { f.logs.push(m); },
    registerNode: async (_b: number, spec: NodeSpec, ops: DriverFileOps) => { f.ops = ops; f.spec = spec; return { node: 7, major: 0, minor: 3, name: 'eth0' }; },
    unregisterNode: async () => { f.ops = null; },
    pollNotify: () => { f.notifies++; },
    reportFault: (e: unknown) => { throw e; },
  } as unknown as DriverEnv;
  f.dev = new Device(f.env, { binding: 1, spec: { name: 'nic0', compatible: [], reg: [], interrupts: [], properties: {} }, params: {} } as unknown as DeviceHandle, 'nic0');
  return f;
}

const file = (flags: number, id = 1): DriverFile => ({ id, flags, cred: { uid: 0, gid: 0 } });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function ethFrame(len: number, seq: number): Uint8Array {
  const b = new Uint8Array(len);
  b.set([0x52, 0x54, 0, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 2, 0x88, 0xb5], 0);
  b[14] = seq;
  return b;
}

describe('skbuff', () => {
  it('puts, pushes, pulls and reserves like Linux; overruns are a BUG', () => {
    const skb = netdev_alloc_skb(null, 100)!;
    assert.equal(skb_headroom(skb), NET_SKB_PAD);
    assert.equal(skb.len, 0);
    skb_put_data(skb, Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual(Array.from(skb.data), [1, 2, 3, 4]);
    skb_push(skb, 2).set([9, 9]);
    assert.deepEqual(Array.from(skb.data), [9, 9, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(skb_pull(skb, 3)!), [2, 3, 4]);
    assert.equal(skb_pull(skb, 99), null);
    assert.equal(skb_tailroom(skb), 100 - 4, 'push and pull move data, not the tail');
    const small = alloc_skb(8)!;
    skb_reserve(small, 4);
    assert.throws(() => skb_put(small, 5), /skb_over_panic/);
    assert.throws(() => skb_push(small, 5), /skb_under_panic/);
  });

  it('eth_type_trans pulls the header and classifies the frame', () => {
    const nd = alloc_etherdev(0)!;
    eth_hw_addr_set(nd, Uint8Array.of(0x52, 0x54, 0, 0, 0, 1));
    const f = ethFrame(60, 1);
    f[12] = 0x08; f[13] = 0x00;
    let skb = netdev_alloc_skb(nd, 60)!;
    skb_put_data(skb, f);
    assert.equal(eth_type_trans(skb, nd), ETH_P_IP);
    assert.equal(skb.len, 46);
    assert.equal(skb.pkt_type, PACKET_HOST);
    f.fill(0xff, 0, 6);
    skb = netdev_alloc_skb(nd, 60)!;
    skb_put_data(skb, f);
    eth_type_trans(skb, nd);
    assert.equal(skb.pkt_type, PACKET_BROADCAST);
    const a = new Uint8Array(6);
    eth_random_addr(a);
    assert.ok(is_valid_ether_addr(a) && (a[0]! & 2) === 2);
  });
});

describe('NAPI', () => {
  it('polls after schedule, again while the budget is used up, and honours MISSED', async () => {
    const f = fakeEnv();
    const nd = alloc_etherdev({})!;
    SET_NETDEV_DEV(nd, f.dev);
    const napi = new NapiStruct();
    const plan = [64, 10];
    const seen: number[] = [];
    let missedOnce = true;
    netif_napi_add(nd, napi, (n, budget) => {
      const work = plan.shift() ?? 0;
      seen.push(budget);
      if (work < budget) {
        if (missedOnce) { missedOnce = false; assert.equal(napi_schedule(n), false); } // an IRQ during the poll
        if (!napi_complete_done(n, work)) return work; // MISSED: we are polled again
      }
      return work;
    });
    assert.equal(napi_schedule(napi), false, 'disabled until napi_enable');
    napi_enable(napi);
    assert.equal(napi_schedule(napi), true);
    assert.equal(napi_schedule(napi), false, 'already scheduled');
    await tick();
    assert.deepEqual(seen, [64, 64, 64], 'full budget -> again; MISSED -> once more');
    assert.equal(napi_schedule(napi), true, 'completed: schedulable again');
    await tick();
  });
});

describe('the net node protocol', () => {
  let f: Fake;
  let nd: NetDevice;
  let sent: { len: number; more: boolean }[];
  let busyAfter: number;

  beforeEach(async () => {
    f = fakeEnv();
    sent = [];
    busyAfter = Infinity;
    nd = alloc_etherdev({})!;
    SET_NETDEV_DEV(nd, f.dev);
    eth_hw_addr_set(nd, Uint8Array.of(0x52, 0x54, 0, 0, 0, 1));
    nd.netdev_ops = {
      ndo_open: () => { netif_carrier_on(nd); return 0; },
      ndo_start_xmit: (skb: SkBuff) => {
        if (sent.length >= busyAfter) { netif_stop_queue(nd); return NETDEV_TX_BUSY; }
        sent.push({ len: skb.len, more: netdev_xmit_more() });
        return NETDEV_TX_OK;
      },
      ndo_get_stats64: (_d, s) => { s.tx_packets = sent.length; },
    };
    assert.equal(await register_netdev(nd), 0);
    assert.equal(nd.name, 'eth0');
    assert.equal(nd.ifindex, 3);
    assert.equal(f.spec!.kind, 'net');
    assert.equal(f.spec!.path, 'eth%d');
  });

  it('refuses data before ndo_open (ENETDOWN) and opens once', async () => {
    const ctl = file(0, 1);
    assert.equal(await f.ops!.open!(ctl), 0);
    assert.equal(await f.ops!.write!(ctl, new Uint8Array(0), { value: 0 }), -ENETDOWN);
    const data = file(2, 2);
    assert.equal(await f.ops!.open!(data), 0);
    assert.equal(await f.ops!.open!(file(2, 3)), -16);
  });

  it('hands a batch to ndo_start_xmit frame by frame with xmit_more, and stops at a full queue', async () => {
    const data = file(2, 2);
    await f.ops!.open!(data);
    const frames = [ethFrame(60, 1), ethFrame(100, 2), ethFrame(1514, 3)];
    const batch = new Uint8Array(frames.reduce((s, x) => s + 4 + x.length, 0));
    encodeFrames(frames, batch);
    assert.equal(await f.ops!.write!(data, batch, { value: 0 }), batch.length);
    assert.deepEqual(sent, [{ len: 60, more: true }, { len: 100, more: true }, { len: 1514, more: false }]);
    busyAfter = 4;
    assert.equal(await f.ops!.write!(data, batch, { value: 0 }), 64, 'one frame taken, then the queue stopped');
    assert.equal(await f.ops!.write!(data, batch, { value: 0 }), -EAGAIN);
    const before = f.notifies;
    netif_wake_queue(nd);
    await tick();
    assert.equal(f.notifies, before + 1, 'the kernel is told the queue woke');
    const bad = new Uint8Array(8);
    bad[0] = 200;
    assert.equal(await f.ops!.write!(data, bad, { value: 0 }), -EINVAL, 'a truncated record');
  });

  it('queues received frames for the kernel and reads them in batches with the link state', async () => {
    const data = file(2, 2);
    await f.ops!.open!(data);
    for (let i = 0; i < 5; i++) {
      const skb = netdev_alloc_skb(nd, 200)!;
      skb_put_data(skb, ethFrame(60 + i, i));
      eth_type_trans(skb, nd);
      netif_receive_skb(skb);
    }
    await tick();
    assert.ok(f.notifies >= 1);
    const out = await f.ops!.read!(data, 8 + 2 * (4 + 61), { value: 0 }) as Uint8Array;
    const flags = readU32(out, 0);
    assert.ok(flags & NETDEV_RX.CARRIER);
    assert.ok(flags & NETDEV_RX.MORE);
    assert.equal(readU32(out, 4), 2);
    const got = decodeFrames(out, 8).frames;
    assert.deepEqual(got.map((x) => [x.length, x[14]]), [[60, 0], [61, 1]], 'whole frames, Ethernet header included');
    const rest = await f.ops!.read!(data, 1 << 16, { value: 0 }) as Uint8Array;
    assert.equal(readU32(rest, 4), 3);
    assert.equal(readU32(rest, 0) & NETDEV_RX.MORE, 0);
  });

  it('answers INFO and GET_STATS64, and unregisters after ndo_stop', async () => {
    const ctl = file(0, 1);
    await f.ops!.open!(ctl);
    const info = { value: 0, in: new Uint8Array(0), out: null as Uint8Array | null };
    assert.equal(await f.ops!.ioctl!(ctl, NETDEV_IOC.INFO, info), 0);
    const j = JSON.parse(new TextDecoder().decode(info.out!)) as { address: string; mtu: number };
    assert.deepEqual([j.address, j.mtu], ['52:54:00:00:00:01', 1500]);
    const st = { value: 0, in: new Uint8Array(0), out: null as Uint8Array | null };
    assert.equal(await f.ops!.ioctl!(ctl, NETDEV_IOC.GET_STATS64, st), 0);
    assert.equal(decodeStats(st.out!).tx_packets, 0);
    const mtu = { value: 10, in: null, out: null };
    assert.equal(await f.ops!.ioctl!(ctl, NETDEV_IOC.SET_MTU, mtu), -EINVAL);
    await f.ops!.open!(file(2, 2));
    await unregister_netdev(nd);
    assert.equal(f.ops, null);
    assert.equal(nd.reg_state, 'unregistered');
  });
});
