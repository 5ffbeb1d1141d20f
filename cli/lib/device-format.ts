/**
 * @module cli/lib/device-format
 * Tables of devices, drivers and containers (`hmdrv devices`, `hmdrv run`'s boot report).
 *
 * @example
 * for (const line of formatDevices(await client.call('devices', {}))) this.log(line);
 */
import type { ContainerInfo, DeviceInfo, DriverInfo } from '../../framework/kernel-api.js';
import { formatTable } from './table.js';

const dash = (s: string | undefined) => (s === undefined || s === '' ? '-' : s);

export function formatDevices(devices: DeviceInfo[]): string[] {
  if (devices.length === 0) return ['(no devices)'];
  return formatTable(devices.map((d) => [
    d.name, d.compatible[0] ?? '-', dash(d.driver), dash(d.isolation), d.error ? `${d.state} (${d.error})` : d.state,
    d.nodes.length ? d.nodes.join(' ') : '-',
  ]), { header: ['DEVICE', 'COMPATIBLE', 'DRIVER', 'CLASS', 'STATE', 'NODES'] });
}

export function formatDrivers(drivers: DriverInfo[]): string[] {
  if (drivers.length === 0) return ['(no drivers)'];
  return formatTable(drivers.map((d) => [
    d.name, d.kind, d.isolation, d.devices.length ? d.devices.join(' ') : '-', String(d.ioctls.length), d.description ?? '',
  ]), { header: ['DRIVER', 'KIND', 'CLASS', 'DEVICES', 'IOCTLS', 'DESCRIPTION'] });
}

export function formatContainers(containers: ContainerInfo[]): string[] {
  if (containers.length === 0) return ['(no containers)'];
  return formatTable(containers.map((c) => [
    c.id, c.driver, c.isolation, c.state,
    c.pid !== undefined ? `pid ${c.pid}` : c.threadId !== undefined ? `thread ${c.threadId}` : 'in kernel',
    String(c.restarts), String(c.ipc.calls), c.lastError ?? '',
  ]), { header: ['CONTAINER', 'DRIVER', 'CLASS', 'STATE', 'WHERE', 'RESTARTS', 'CALLS', 'LAST ERROR'] });
}

/** `hmdrv run`'s per-device boot line: name, driver, class, nodes, state. */
export function formatBootReport(devices: DeviceInfo[]): string[] {
  if (devices.length === 0) return ['(no devices)'];
  return formatTable(devices.map((d) => [
    d.name, dash(d.driver), dash(d.isolation), d.nodes.length ? d.nodes.join(' ') : '-', d.error ? `${d.state} (${d.error})` : d.state,
  ]), { header: ['DEVICE', 'DRIVER', 'CLASS', 'NODES', 'STATE'] });
}
