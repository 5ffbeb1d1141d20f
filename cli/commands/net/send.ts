/** `hmdrv net send IFACE FRAME`: sends raw Ethernet frames through an interface's driver. */
import { Args, Flags } from '@oclif/core';
import { AttachCommand } from '../../lib/attach-command.js';
import { parseFrames } from '../../lib/net-format.js';

export default class NetSend extends AttachCommand {
  static override args = {
    iface: Args.string({ required: true, description: 'interface, e.g. eth0' }),
    frame: Args.string({ required: true, description: 'a frame in hex (may be split over several arguments), or a file: a pcap capture (each record is sent) or raw bytes (one frame)' }),
  };
  static override strict = false;
  static override description = 'Frames are whole Ethernet frames without FCS (destination MAC first), at least 14 bytes and at most MTU + 14 (EINVAL, EMSGSIZE otherwise); the driver pads short ones. Sending on a down interface fails with ENETDOWN. Frames wait for room in the transmit queue; with no carrier they are dropped (tx_dropped).';
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> net send eth0 ffffffffffff52540012340188b5000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627282930',
    '<%= config.bin %> net send eth0 capture.pcap --count 10',
  ];
  static override flags = {
    count: Flags.integer({ char: 'c', description: 'send the frames this many times', min: 1, default: 1, helpValue: 'N' }),
  };
  static override summary = 'Send raw frames on an interface.';

  async run() {
    const { args, argv, flags } = await this.parse(NetSend);
    let frames: Uint8Array[];
    try { frames = parseFrames(argv.length > 2 ? (argv as string[]).slice(1).join('') : args.frame); } catch (e) { return this.fail(e); }
    const r = await this.attach(flags.socket, (c) => c.call('netSend', {
      iface: args.iface, frames: frames.map((f) => Buffer.from(f).toString('base64')), count: flags.count,
    }));
    this.log(`sent ${r.sent} frame${r.sent === 1 ? '' : 's'} (${r.bytes} bytes) on ${r.iface}`);
    return r;
  }
}
