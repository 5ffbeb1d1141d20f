/**
 * @module containers/boot
 * bootKernel with the real container hosts: what `hmdrv run`, tests and benchmarks call.
 */
import { bootKernel, type BootOptions, type BootedKernel } from '../framework/boot.js';
import { createHostFactory } from './hosts/factory.js';

export type PlatformBootOptions = Omit<BootOptions, 'hosts'> & Partial<Pick<BootOptions, 'hosts'>>;

export function bootPlatform(opts: PlatformBootOptions = {}): Promise<BootedKernel> {
  return bootKernel({ ...opts, hosts: opts.hosts ?? ((page) => createHostFactory(page)) });
}
