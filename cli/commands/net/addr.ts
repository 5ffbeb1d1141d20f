/** `hmdrv net addr IFACE ADDRESS/PREFIX`: sets (or with --delete removes) an interface's IPv4 address. */
import { Args, Flags } from '@oclif/core';
import { AttachCommand } from '../../lib/attach-command.js';
import { formatInterfaces } from '../../lib/net-format.js';

export default class NetAddr extends AttachCommand {
  static override args = {
    iface: Args.string({ required: true, description: 'interface, e.g. eth0' }),
    address: Args.string({ description: 'IPv4 address with prefix length, e.g. 10.0.0.1/24' }),
  };
  static override description = 'Each interface has at most one IPv4 address; setting one replaces the old one and flushes the interface\'s ARP entries. The interface answers ARP and ICMP echo for it.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> net addr eth0 10.0.0.1/24', '<%= config.bin %> net addr eth0 --delete'];
  static override flags = {
    delete: Flags.boolean({ char: 'd', description: 'remove the address' }),
  };
  static override summary = 'Set an interface\'s IPv4 address.';

  async run() {
    const { args, flags } = await this.parse(NetAddr);
    if (!flags.delete && !args.address) this.error('give an address (e.g. 10.0.0.1/24) or --delete', { exit: 2 });
    if (flags.delete && args.address) this.error('give an address or --delete, not both', { exit: 2 });
    const st = await this.attach(flags.socket, (c) => c.call('netAddr', { iface: args.iface, address: flags.delete ? null : args.address! }));
    this.log(formatInterfaces([st]).join('\n'));
    return st;
  }
}
