/**
 * @module linux/etherdevice.h + linux/if_ether.h
 * Ethernet devices: `alloc_etherdev` (+ `devm_alloc_etherdev`), `ether_setup`,
 * `eth_type_trans`, the address helpers (`eth_hw_addr_set`, `ether_addr_copy`,
 * `ether_addr_equal`, `is_valid_ether_addr`, `is_zero_ether_addr`, `is_multicast_ether_addr`,
 * `is_broadcast_ether_addr`, `eth_random_addr`, `eth_hw_addr_random`), the default
 * `ndo_set_mac_address` (`eth_mac_addr`) and `ndo_validate_addr` (`eth_validate_addr`),
 * `eth_skb_pad`, and the ETH_* / ETH_P_* constants.
 *
 * Differs from Linux: see netdevice.ts (the private area of alloc_etherdev). `eth_type_trans`
 * returns the EtherType in host order, like `skb->protocol` here.
 */
import type { Device } from './device.js';
import { EADDRNOTAVAIL, EBUSY } from './errno.js';
import {
  __netdev_info_changed, alloc_netdev, ARPHRD_ETHER, free_netdev, IFF_BROADCAST, IFF_LIVE_ADDR_CHANGE, IFF_MULTICAST,
  NET_ADDR_RANDOM, NET_ADDR_SET, NET_NAME_UNKNOWN, netif_running, type NetDevice, type Sockaddr,
} from './netdevice.js';
import { PACKET_BROADCAST, PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST, skb_pull, skb_put_padto, skb_reset_mac_header, type SkBuff } from './skbuff.js';

export const ETH_ALEN = 6, ETH_TLEN = 2, ETH_HLEN = 14, ETH_ZLEN = 60, ETH_DATA_LEN = 1500, ETH_FRAME_LEN = 1514,
  ETH_FCS_LEN = 4, ETH_MIN_MTU = 68, ETH_MAX_MTU = 0xffff, VLAN_HLEN = 4, VLAN_ETH_HLEN = 18;
export const ETH_P_ALL = 0x0003, ETH_P_802_3 = 0x0001, ETH_P_802_2 = 0x0004, ETH_P_IP = 0x0800, ETH_P_ARP = 0x0806,
  ETH_P_8021Q = 0x8100, ETH_P_IPV6 = 0x86dd, ETH_P_802_3_MIN = 0x0600;

/** ether_setup: an Ethernet device's defaults (MTU 1500, broadcast ff:ff:..., txqueuelen 1000). */
export function ether_setup(dev: NetDevice): void {
  dev.type = ARPHRD_ETHER;
  dev.hard_header_len = ETH_HLEN;
  dev.mtu = ETH_DATA_LEN;
  dev.min_mtu = ETH_MIN_MTU;
  dev.max_mtu = ETH_DATA_LEN;
  dev.addr_len = ETH_ALEN;
  dev.tx_queue_len = 1000;
  dev.flags = IFF_BROADCAST | IFF_MULTICAST;
  dev.broadcast.fill(0xff);
}

/** alloc_etherdev(sizeof_priv): `priv` is a size or the private object itself (netdev_priv). */
export function alloc_etherdev(priv: number | object): NetDevice | null {
  return alloc_netdev(priv, 'eth%d', NET_NAME_UNKNOWN, ether_setup);
}
export const alloc_etherdev_mq = (priv: number | object, _queues: number): NetDevice | null => alloc_etherdev(priv);

/** devm_alloc_etherdev: freed with the binding (free_netdev runs after unbind). */
export function devm_alloc_etherdev(dev: Device, priv: number | object): NetDevice | null {
  const nd = alloc_etherdev(priv);
  if (nd) dev.devres.push(() => free_netdev(nd));
  return nd;
}

export const is_zero_ether_addr = (a: Uint8Array): boolean => a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 0 && a[4] === 0 && a[5] === 0;
export const is_multicast_ether_addr = (a: Uint8Array): boolean => (a[0]! & 1) === 1;
export const is_local_ether_addr = (a: Uint8Array): boolean => (a[0]! & 2) === 2;
export const is_broadcast_ether_addr = (a: Uint8Array): boolean => (a[0]! & a[1]! & a[2]! & a[3]! & a[4]! & a[5]!) === 0xff;
export const is_unicast_ether_addr = (a: Uint8Array): boolean => !is_multicast_ether_addr(a);
/** Not multicast, not all zeros (broadcast is multicast). */
export const is_valid_ether_addr = (a: Uint8Array): boolean => !is_multicast_ether_addr(a) && !is_zero_ether_addr(a);

export function ether_addr_copy(dst: Uint8Array, src: Uint8Array): void { dst.set(src.subarray(0, ETH_ALEN)); }
export function ether_addr_equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (a[i] !== b[i]) return false;
  return true;
}
export function eth_zero_addr(a: Uint8Array): void { a.fill(0, 0, ETH_ALEN); }
export function eth_broadcast_addr(a: Uint8Array): void { a.fill(0xff, 0, ETH_ALEN); }

/** eth_random_addr: a random locally administered unicast address. */
export function eth_random_addr(a: Uint8Array): void {
  for (let i = 0; i < ETH_ALEN; i++) a[i] = Math.floor(Math.random() * 256);
  a[0] = (a[0]! & 0xfe) | 0x02;
}

/** eth_hw_addr_set: sets dev->dev_addr (the kernel is told if the device is registered). */
export function eth_hw_addr_set(dev: NetDevice, addr: Uint8Array): void {
  dev.dev_addr.set(addr.subarray(0, ETH_ALEN));
  __netdev_info_changed(dev);
}
export const dev_addr_set = eth_hw_addr_set;

/** eth_hw_addr_random: a random address, marked NET_ADDR_RANDOM. */
export function eth_hw_addr_random(dev: NetDevice): void {
  const a = new Uint8Array(ETH_ALEN);
  eth_random_addr(a);
  dev.addr_assign_type = NET_ADDR_RANDOM;
  eth_hw_addr_set(dev, a);
}

/** eth_validate_addr: the default ndo_validate_addr. */
export const eth_validate_addr = (dev: NetDevice): number => (is_valid_ether_addr(dev.dev_addr) ? 0 : -EADDRNOTAVAIL);

/** eth_mac_addr: the default ndo_set_mac_address (refused while running unless IFF_LIVE_ADDR_CHANGE). */
export function eth_mac_addr(dev: NetDevice, addr: Sockaddr): number {
  if (!(dev.priv_flags & IFF_LIVE_ADDR_CHANGE) && netif_running(dev)) return -EBUSY;
  if (!is_valid_ether_addr(addr.sa_data)) return -EADDRNOTAVAIL;
  dev.addr_assign_type = NET_ADDR_SET;
  eth_hw_addr_set(dev, addr.sa_data);
  return 0;
}

/**
 * eth_type_trans: marks the Ethernet header (skb->mac_header), pulls it, sets skb->dev and
 * pkt_type, and returns the protocol (EtherType, or ETH_P_802_3 / ETH_P_802_2 for 802.3 frames).
 */
export function eth_type_trans(skb: SkBuff, dev: NetDevice): number {
  skb.dev = dev;
  skb_reset_mac_header(skb);
  const h = skb.data;
  if (h.length < ETH_HLEN) { skb_pull(skb, h.length); return 0; }
  if (is_multicast_ether_addr(h)) skb.pkt_type = is_broadcast_ether_addr(h) ? PACKET_BROADCAST : PACKET_MULTICAST;
  else skb.pkt_type = ether_addr_equal(h, dev.dev_addr) ? PACKET_HOST : PACKET_OTHERHOST;
  const proto = (h[12]! << 8) | h[13]!;
  skb_pull(skb, ETH_HLEN);
  if (proto >= ETH_P_802_3_MIN) return proto;
  return skb.len >= 2 && skb.head[skb.data_off] === 0xff && skb.head[skb.data_off + 1] === 0xff ? ETH_P_802_3 : ETH_P_802_2;
}

/** eth_skb_pad: pads a frame to ETH_ZLEN (60) bytes; 0 or -ENOMEM. */
export const eth_skb_pad = (skb: SkBuff): number => skb_put_padto(skb, ETH_ZLEN);
