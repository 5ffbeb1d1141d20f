/** `hmdrv write PATH DATA`: writes bytes to a file of the running platform. */
import { Args, Flags } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { AttachCommand } from '../lib/attach-command.js';
import { parseHex } from '../lib/bytes.js';

export default class Write extends AttachCommand {
  static override args = {
    path: Args.string({ required: true, description: 'file in the VFS, e.g. /dev/hmecho' }),
    data: Args.string({ description: 'the data (a string; hex with --hex)' }),
  };
  static override description = 'Writes DATA exactly as given (no newline unless --newline), hex bytes with --hex, or the content of a local file with --file.';
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> write /dev/hmecho hello --newline',
    '<%= config.bin %> write /dev/hmecho --hex "de ad be ef"',
    '<%= config.bin %> write /dev/hmecho --file ./payload.bin',
  ];
  static override flags = {
    file: Flags.file({ char: 'F', description: 'read the data from this local file', exists: true, exclusive: ['hex'] }),
    hex: Flags.boolean({ char: 'x', description: 'DATA is hex bytes ("de ad be ef", "0xdeadbeef")' }),
    newline: Flags.boolean({ char: 'n', allowNo: true, default: false, description: 'append a newline (like echo)' }),
    offset: Flags.integer({ min: 0, description: 'write at this position (pwrite) instead of the current one' }),
  };
  static override summary = 'Write data to a file of the running platform.';

  async run() {
    const { args, flags } = await this.parse(Write);
    if (flags.file === undefined && args.data === undefined) {
      this.error('give DATA or --file', { exit: 2, suggestions: ['hmdrv write /dev/hmecho hello', 'hmdrv write /dev/hmecho --file ./data.bin'] });
    }
    let data: Buffer;
    try {
      data = flags.file !== undefined ? await readFile(flags.file) : flags.hex ? parseHex(args.data!) : Buffer.from(args.data!);
    } catch (e) {
      return this.fail(e);
    }
    if (flags.newline) data = Buffer.concat([data, Buffer.from('\n')]);
    const { bytesWritten } = await this.attach(flags.socket, (c) => c.call('write', {
      path: args.path, data: data.toString('base64'), ...(flags.offset !== undefined ? { offset: flags.offset } : {}),
    }));
    this.log(`${bytesWritten} bytes written to ${args.path}`);
    return { path: args.path, bytesWritten };
  }
}
