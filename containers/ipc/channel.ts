/**
 * @module channel
 * The shared memory of one kernel <-> container channel: two rings, kernel-to-container
 * ("down") then container-to-kernel ("up"). In IC1 it is a SharedArrayBuffer handed to the
 * worker; in IC2 it is a memfd mapped by both processes (the native core).
 */
import { native } from '../../devices/native/index.js';
import { Endpoint, type EndpointOptions } from '../../devices/ipc/endpoint.js';
import { Ring, ringBytes } from '../../devices/ipc/ring.js';

/**
 * Default ring capacity: 1 MiB per direction (a message may carry up to 256 KiB; the VFS
 * moves at most 128 KiB per call). Every page of it becomes resident once traffic has gone
 * round the ring, so it is part of each container's memory cost.
 */
export const DEFAULT_RING_CAPACITY = 1 << 20;

export interface ChannelMemory {
  buffer: SharedArrayBuffer;
  capacity: number;
  /** memfd backing the buffer (IC2), to be passed to the child. */
  fd?: number;
}

export function channelBytes(capacity: number): number {
  return 2 * ringBytes(capacity);
}

/** Allocates channel memory: plain SAB (same process) or a memfd mapping (cross-process). */
export function createChannelMemory(shared: 'thread' | 'process', capacity = DEFAULT_RING_CAPACITY): ChannelMemory {
  const bytes = channelBytes(capacity);
  // Page-aligned so that 64-byte ring records are whole cache lines (see native allocAligned).
  if (shared === 'thread') return { buffer: native().allocAligned(bytes), capacity };
  const n = native();
  const fd = n.memfdCreate('hmdrv-channel', bytes);
  return { buffer: n.mapFd(fd, bytes), capacity, fd };
}

export type Side = 'kernel' | 'container';

/** Opens one side's endpoint over channel memory. */
export function openEndpoint(mem: { buffer: SharedArrayBuffer; capacity: number }, side: Side,
  opts: Omit<EndpointOptions, 'tx' | 'rx'>): Endpoint {
  const down = new Ring(mem.buffer, 0, mem.capacity);
  const up = new Ring(mem.buffer, ringBytes(mem.capacity), mem.capacity);
  return new Endpoint({ ...opts, tx: side === 'kernel' ? down : up, rx: side === 'kernel' ? up : down });
}
