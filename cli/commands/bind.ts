/** `hmdrv bind DEVICE [DRIVER]`: binds a device of the running platform. */
import { Args } from '@oclif/core';
import { AttachCommand } from '../lib/attach-command.js';

export default class Bind extends AttachCommand {
  static override args = {
    device: Args.string({ required: true, description: 'device name, e.g. echo0' }),
    driver: Args.string({ description: 'driver name (default: the best match)' }),
  };
  static override description = 'Matches (or uses DRIVER), starts the driver container and probes; the device\'s nodes appear under /dev.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> bind echo0', '<%= config.bin %> bind echo0 hmecho'];
  static override summary = 'Bind a device to a driver.';

  async run() {
    const { args, flags } = await this.parse(Bind);
    const device = await this.attach(flags.socket, (c) => c.call('bind', { device: args.device, ...(args.driver ? { driver: args.driver } : {}) }));
    this.log(`${args.device}: ${device?.state ?? 'unknown'}${device?.driver ? ` (${device.driver}, ${device.isolation ?? '-'})` : ''}`);
    return device;
  }
}
