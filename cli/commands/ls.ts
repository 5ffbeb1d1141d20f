/** `hmdrv ls PATH`: `ls -l` of a directory (or one entry) in the platform's VFS. */
import { Args } from '@oclif/core';
import { AttachCommand } from '../lib/attach-command.js';
import { formatLs } from '../lib/ls-format.js';

export default class Ls extends AttachCommand {
  static override args = { path: Args.string({ default: '/dev', description: 'directory or file in the VFS (/dev, /sys, /proc)' }) };
  static override description = 'Prints type and mode, links, owner, group, size (major, minor for device nodes) and name, with "-> target" for symbolic links.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> ls /dev', '<%= config.bin %> ls /sys/class --json'];
  static override summary = 'List a directory of the running platform like ls -l.';

  async run() {
    const { args, flags } = await this.parse(Ls);
    const result = await this.attach(flags.socket, (c) => c.call('ls', { path: args.path }));
    if (result.entries.length > 0) this.log(formatLs(result.entries).join('\n'));
    return result;
  }
}
