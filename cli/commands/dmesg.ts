/** `hmdrv dmesg`: the kernel log (printk ring) with levels and timestamps; `-f` follows it. */
import { Flags } from '@oclif/core';
import type { ControlClient } from '../../framework/control/client.js';
import type { KernelLogRecord } from '../../framework/kernel-api.js';
import { AttachCommand } from '../lib/attach-command.js';

const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'] as const;

export function formatRecord(r: KernelLogRecord, withLevel: boolean): string {
  const t = `[${r.time.toFixed(6).padStart(12, ' ')}]`;
  const lvl = withLevel ? `${(LEVELS[r.level] ?? String(r.level)).padEnd(6)} ` : '';
  return `${lvl}${t} ${r.source ? `${r.source}: ` : ''}${r.message}`;
}

export default class Dmesg extends AttachCommand {
  static override description = 'Prints the kernel log: what drivers logged with printk/dev_*, and the kernel\'s own messages (binding, crashes, restarts, IRQ and IOMMU faults). With --follow, keeps printing new records until Ctrl-C.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> dmesg', '<%= config.bin %> dmesg -f', '<%= config.bin %> dmesg --level warn', '<%= config.bin %> dmesg --json'];
  static override flags = {
    follow: Flags.boolean({ char: 'f', description: 'wait for new records (until Ctrl-C)', exclusive: ['json'] }),
    level: Flags.string({ char: 'l', description: 'only records at this level or more severe', options: [...LEVELS] }),
    'show-level': Flags.boolean({ char: 'x', description: 'print the level name of each record' }),
  };
  static override summary = 'Print the kernel log.';

  async run() {
    const { flags } = await this.parse(Dmesg);
    const max = flags.level ? LEVELS.indexOf(flags.level as (typeof LEVELS)[number]) : 7;
    const keep = (r: KernelLogRecord) => r.level <= max;
    if (flags.follow) return this.attach(flags.socket, (c) => this.follow(c, keep, flags['show-level']));
    const records = (await this.attach(flags.socket, (c) => c.call('dmesg', {}))).filter(keep);
    if (!this.jsonEnabled()) for (const r of records) this.log(formatRecord(r, flags['show-level']));
    return records;
  }

  private async follow(c: ControlClient, keep: (r: KernelLogRecord) => boolean, withLevel: boolean): Promise<void> {
    let stop = false;
    const onSignal = () => { stop = true; c.close(); };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      let since = 0;
      while (!stop) {
        const records = await c.call('dmesg', { since, follow: since > 0 }).catch((e: unknown) => { if (stop) return undefined; throw e; });
        if (!records) break;
        for (const r of records) { since = Math.max(since, r.seq); if (keep(r)) this.log(formatRecord(r, withLevel)); }
      }
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }
}
