/** `hmdrv net link IFACE up|down [--mtu N]`: brings an interface up (ndo_open) or down (ndo_stop), sets its MTU. */
import { Args, Flags } from '@oclif/core';
import { AttachCommand } from '../../lib/attach-command.js';
import { formatInterfaces } from '../../lib/net-format.js';

export default class NetLink extends AttachCommand {
  static override args = {
    iface: Args.string({ required: true, description: 'interface, e.g. eth0' }),
    state: Args.string({ description: 'up or down', options: ['up', 'down'] }),
  };
  static override description = 'Down calls the driver\'s ndo_stop (queued frames are dropped and counted); up calls ndo_open. --mtu goes to ndo_change_mtu (as writing /sys/class/net/<if>/mtu does).';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> net link eth0 --cable unplug', '<%= config.bin %> net link eth1 down', '<%= config.bin %> net link eth1 up', '<%= config.bin %> net link eth0 --mtu 1400'];
  static override flags = {
    mtu: Flags.integer({ description: 'new MTU', min: 1, helpValue: 'N' }),
    cable: Flags.string({ description: 'plug or unplug the NIC\'s cable in the machine (the link drops at both ends of its wire)', options: ['plug', 'unplug'] }),
  };
  static override summary = 'Bring an interface up or down, change its MTU, or pull its cable.';

  async run() {
    const { args, flags } = await this.parse(NetLink);
    if (!args.state && flags.mtu === undefined && !flags.cable) this.error('give up, down, --mtu N or --cable plug|unplug', { exit: 2 });
    const st = await this.attach(flags.socket, (c) => c.call('netLink', {
      iface: args.iface, ...(args.state ? { up: args.state === 'up' } : {}), ...(flags.mtu !== undefined ? { mtu: flags.mtu } : {}),
      ...(flags.cable ? { cable: flags.cable === 'plug' } : {}),
    }));
    this.log(formatInterfaces([st]).join('\n'));
    return st;
  }
}
