/** `hmdrv cat PATH`: a file's content, raw, to stdout (`--follow` keeps reading). */
import { Args, Flags } from '@oclif/core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ControlClient } from '../../framework/control/client.js';
import { AttachCommand } from '../lib/attach-command.js';
import { jsonData, writeStdout } from '../lib/bytes.js';

/** Wait between follow reads of a regular file that is at EOF (tail -f polls the same way). */
const EOF_RETRY_MS = 250;

export default class Cat extends AttachCommand {
  static override args = { path: Args.string({ required: true, description: 'file in the VFS, e.g. /dev/hmecho or /proc/interrupts' }) };
  static override description = 'Reads until end of file, or until the device has nothing more (non-blocking). With --follow, waits for more data and prints it as it arrives, until Ctrl-C.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> cat /proc/interrupts', '<%= config.bin %> cat -f /dev/hmecho', '<%= config.bin %> cat /dev/hmecho --json'];
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'keep reading (blocking) until Ctrl-C', exclusive: ['json'] }),
  };
  static override summary = 'Print a file of the running platform.';

  async run() {
    const { args, flags } = await this.parse(Cat);
    if (flags.follow) return this.attach(flags.socket, (c) => this.follow(c, args.path));
    const r = await this.attach(flags.socket, (c) => c.call('read', { path: args.path }));
    const data = Buffer.from(r.data, 'base64');
    if (!this.jsonEnabled()) await writeStdout(data);
    return { path: args.path, ...jsonData(data), bytes: r.bytes };
  }

  /** Prints what is there, then everything that arrives, until SIGINT/SIGTERM. */
  private async follow(c: ControlClient, path: string): Promise<void> {
    let stop = false;
    const onSignal = () => { stop = true; c.close(); };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      const seekable = (await c.call('stat', { path })).type === 'file';
      let offset = 0;
      while (!stop) {
        const r = await c.call('read', { path, follow: true, ...(seekable ? { offset } : {}) })
          .catch((e: unknown) => { if (stop) return undefined; throw e; });
        if (!r) break;
        offset += r.bytes;
        if (r.bytes > 0) await writeStdout(Buffer.from(r.data, 'base64'));
        else await sleep(EOF_RETRY_MS);
      }
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }
}
