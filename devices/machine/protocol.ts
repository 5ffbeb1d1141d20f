/**
 * @module machine/protocol
 * Messages between the machine thread (device models) and its clients.
 *
 * Port (one per driver container; the container is the producer of requests):
 *   MMIO_WRITE  notify  a1 = address, a2 = value, a3 = size    posted: queued in order, no reply
 *   MMIO_READ   request a1 = address, a3 = size -> a1 = value   non-posted: answered after every
 *                                                               earlier write of this port is done
 *   MMIO_SYNC   request -> 0                                    a barrier: answered once every earlier
 *                                                               write is done and its IRQ effects reported
 *   A read of an address the port was not granted returns all ones (a PCIe master abort) and the
 *   access is logged as a fault; a write there is dropped and logged.
 *
 * Control (kernel <-> machine):
 *   GRANT_WINDOW  request a0 = port, a1 = base, a2 = size     the port may access [base, base+size)
 *   REVOKE_WINDOW request a0 = port, a1 = base
 *   GRANT_DMA     request a0 = device index, a1 = addr, a2 = size, a3 = dir (0 to, 1 from, 2 both)
 *   REVOKE_DMA    request a0 = device index, a1 = addr
 *   OPEN_PORT     request a0 = port; payload = json { capacity, signal } (memory arrives by postMessage)
 *   CLOSE_PORT    request a0 = port
 *   RESET_DEVICE  request a0 = device index
 *   IRQ_LEVEL     notify (machine -> kernel) a0 = line, a3 = level
 *   LOG           notify (machine -> kernel) a0 = level, payload = text
 *   STATS         request -> payload = json per device
 *   CABLE         request a0 = device index, a1 = 1 plug / 0 unplug: a NIC's cable (a wire
 *                 goes down at both ends, a switch port alone) -> 0, -ENODEV, -EOPNOTSUPP
 *   SCANOUT       request a0 = device index -> payload = json: what a display model scans out now
 *                 (its currentMode(): a mode object, or a string saying why nothing is shown);
 *                 -ENODEV without a model, -EOPNOTSUPP for a model that is not a display
 */
import type { ModelModule } from './models.js';
export const MOp = {
  MMIO_WRITE: 1, MMIO_READ: 2, MMIO_SYNC: 3,
  GRANT_WINDOW: 10, REVOKE_WINDOW: 11, GRANT_DMA: 12, REVOKE_DMA: 13, OPEN_PORT: 14, CLOSE_PORT: 15,
  RESET_DEVICE: 16, STATS: 17, SCANOUT: 18, CABLE: 19,
  IRQ_LEVEL: 30, LOG: 31,
} as const;

export const DMA_DIRS = ['to-device', 'from-device', 'bidirectional'] as const;

/** What the machine thread needs to build one device. */
export interface MachineDeviceConfig {
  name: string;
  model: string;
  windows: { base: number; size: number }[];
  irqs: number[];
  params: Record<string, unknown>;
}

export interface MachineConfig {
  devices: MachineDeviceConfig[];
  /** 'real' (timing models run on wall-clock time) or 'virtual' (deterministic; advanced by tests). */
  clock: 'real' | 'virtual';
  /** Models outside the built-in set, imported by the machine thread (see registerModel). */
  modelModules?: ModelModule[];
}
