/** `hmdrv devices`: devices, drivers and containers of the running platform. */
import { AttachCommand } from '../lib/attach-command.js';
import { formatContainers, formatDevices, formatDrivers } from '../lib/device-format.js';

export default class Devices extends AttachCommand {
  static override description = 'Shows each device (compatible string, bound driver, isolation class, state, /dev nodes), then the loaded drivers and the running driver containers.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> devices', '<%= config.bin %> devices --json'];
  static override summary = 'List devices, drivers and containers of the running platform.';

  async run() {
    const { flags } = await this.parse(Devices);
    const result = await this.attach(flags.socket, async (c) => {
      const [devices, drivers, containers] = await Promise.all([c.call('devices', {}), c.call('drivers', {}), c.call('containers', {})]);
      return { devices, drivers, containers };
    });
    this.log(formatDevices(result.devices).join('\n'));
    this.log();
    this.log(formatDrivers(result.drivers).join('\n'));
    this.log();
    this.log(formatContainers(result.containers).join('\n'));
    return result;
  }
}
