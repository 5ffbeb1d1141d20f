/** `hmdrv net [IFACE]`: the network interfaces of the running platform, with addresses and counters. */
import { Args } from '@oclif/core';
import { AttachCommand } from '../../lib/attach-command.js';
import { formatInterfaces } from '../../lib/net-format.js';

export default class Net extends AttachCommand {
  static override args = {
    iface: Args.string({ description: 'only this interface, e.g. eth0' }),
  };
  static override description = 'Lists the interfaces drivers registered (register_netdev): the parent device and driver, admin state and carrier, MTU, MAC and IPv4 address, and the counters of /sys/class/net/<if>/statistics (ERRORS = rx + tx errors, DROPS = rx + tx dropped + missed). Subcommands change addresses and links, send frames and capture traffic.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> net', '<%= config.bin %> net eth0 --json'];
  static override summary = 'List network interfaces.';

  async run() {
    const { args, flags } = await this.parse(Net);
    const list = await this.attach(flags.socket, (c) => c.call('net', args.iface ? { iface: args.iface } : {}));
    this.log(formatInterfaces(list).join('\n'));
    return list;
  }
}
