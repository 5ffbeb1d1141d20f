/** `hmdrv export nbd DEVICE`: serves a block device of the running platform over NBD. */
import { Args, Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { AttachCommand } from '../../lib/attach-command.js';
import type { ExportNbdParams } from '../../../framework/nbd/exports.js';

export default class ExportNbd extends AttachCommand {
  static override args = {
    device: Args.string({ required: true, description: 'block device node, e.g. /dev/sda' }),
  };
  static override description = 'The platform itself serves the export (NBD, fixed newstyle) until it stops; this command only asks for it and prints the URI for nbdinfo, nbdcopy, qemu-img, fio or nbd-client. TCP listens on 127.0.0.1 only: whoever connects can write the device.';
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> export nbd /dev/sda',
    '<%= config.bin %> export nbd /dev/sda --port 10810 --read-only',
    '<%= config.bin %> export nbd /dev/sda --socket-path /tmp/sda.nbd.sock',
  ];
  static override flags = {
    name: Flags.string({ description: 'export name clients ask for [default: the node name, e.g. sda]', helpValue: 'NAME' }),
    port: Flags.integer({ description: 'TCP port on 127.0.0.1 [default: 10809]', helpValue: 'PORT', min: 0, max: 65535, exclusive: ['socket-path'] }),
    'read-only': Flags.boolean({ char: 'r', description: 'refuse writes (clients see a read-only disk)' }),
    'socket-path': Flags.string({ description: 'serve on this unix socket instead of TCP', helpValue: 'PATH' }),
  };
  static override summary = 'Export a block device over NBD.';

  async run() {
    const { args, flags } = await this.parse(ExportNbd);
    const params: ExportNbdParams = {
      path: args.device,
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags['socket-path'] !== undefined ? { socketPath: resolve(flags['socket-path']) } : {}),
      ...(flags['read-only'] ? { readOnly: true } : {}),
      ...(flags.name !== undefined ? { exportName: flags.name } : {}),
    };
    const r = await this.attach(flags.socket, (c) => c.call('exportNbd', params));
    this.log(`${r.path} exported ${r.readOnly ? 'read-only' : 'read-write'} at ${r.uri}`);
    return r;
  }
}
