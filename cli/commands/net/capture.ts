/** `hmdrv net capture IFACE FILE`: writes what an interface sends and receives to a pcap file. */
import { Args, Flags } from '@oclif/core';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CaptureResult } from '../../../framework/net/packet-socket.js';
import { parseDuration } from '../../../framework/io/units.js';
import { readPcap } from '../../../devices/nic/pcap.js';
import { AttachCommand } from '../../lib/attach-command.js';

export default class NetCapture extends AttachCommand {
  static override args = {
    iface: Args.string({ required: true, description: 'interface, e.g. eth0' }),
    file: Args.string({ required: true, description: 'pcap file to write (classic libpcap, Ethernet; for tshark, tcpdump, Wireshark)' }),
  };
  static override description = 'The platform process writes the file (frames in both directions, as the kernel hands them to the driver and gets them from it), until --count frames, --duration, or Ctrl-C.';
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> net capture eth0 eth0.pcap --count 10',
    '<%= config.bin %> net capture eth1 /tmp/eth1.pcap --duration 5s && tshark -r /tmp/eth1.pcap',
  ];
  static override flags = {
    count: Flags.integer({ char: 'c', description: 'stop after N frames', min: 1, helpValue: 'N' }),
    duration: Flags.string({ char: 'd', description: 'stop after this long (10 = 10 s; 500ms, 2m)', helpValue: 'TIME' }),
    snaplen: Flags.integer({ char: 's', description: 'bytes kept per frame [default: 65535]', min: 1, max: 262144, helpValue: 'BYTES' }),
  };
  static override summary = 'Capture an interface\'s traffic to a pcap file.';

  async run() {
    const { args, flags } = await this.parse(NetCapture);
    let durationMs: number | undefined;
    try { durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration'); } catch (e) { return this.fail(e); }
    const path = resolve(args.file);
    let interrupted = false;
    const r = await this.attach(flags.socket, async (c) => {
      // Ctrl-C closes the connection: the platform stops the capture and closes the file.
      const onSignal = () => { interrupted = true; c.close(); };
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        return await c.call('netCapture', {
          iface: args.iface, path, ...(flags.count ? { count: flags.count } : {}), ...(durationMs ? { durationMs } : {}),
          ...(flags.snaplen ? { snaplen: flags.snaplen } : {}),
        }).catch(async (e: unknown): Promise<CaptureResult> => {
          if (!interrupted) throw e;
          // The platform notices the closed connection, then flushes and closes the file.
          await new Promise((r) => setTimeout(r, 300));
          const frames = existsSync(path) ? readPcap(readFileSync(path)).records : [];
          return { iface: args.iface, path, frames: frames.length, bytes: frames.reduce((s, f) => s + f.origLen, 0), durationMs: 0, stoppedBy: 'signal' };
        });
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    });
    this.log(`${r.frames} frame${r.frames === 1 ? '' : 's'} (${r.bytes} bytes) captured on ${r.iface} into ${r.path}`);
    return r;
  }
}
