/** `hmdrv unbind DEVICE`: unbinds a device of the running platform. */
import { Args } from '@oclif/core';
import { AttachCommand } from '../lib/attach-command.js';

export default class Unbind extends AttachCommand {
  static override args = { device: Args.string({ required: true, description: 'device name, e.g. echo0' }) };
  static override description = 'Removes the device\'s nodes (open files fail with ENODEV), calls the driver\'s remove and stops its container if it serves nothing else.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> unbind echo0'];
  static override summary = 'Unbind a device from its driver.';

  async run() {
    const { args, flags } = await this.parse(Unbind);
    const device = await this.attach(flags.socket, (c) => c.call('unbind', { device: args.device }));
    this.log(`${args.device}: ${device?.state ?? 'unknown'}`);
    return device;
  }
}
