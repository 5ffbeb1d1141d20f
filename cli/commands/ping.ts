/** `hmdrv ping ADDRESS`: ICMP echo through the simulated NICs and their drivers, printed as Linux ping does. */
import { Args, Flags } from '@oclif/core';
import type { ControlClient } from '../../framework/control/client.js';
import type { PingProbeResult } from '../../framework/net/ping.js';
import { AttachCommand } from '../lib/attach-command.js';
import { pingLine, summarize, summaryLines, type PingSummary } from '../lib/net-format.js';

const seconds = (s: string, what: string): number => {
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${what}: expected seconds, got '${s}'`);
  return Math.round(v * 1000);
};

export default class Ping extends AttachCommand {
  static override args = {
    destination: Args.string({ required: true, description: 'IPv4 address, e.g. 10.0.0.2' }),
  };
  static override description = 'Each interface of the platform is its own host: ping from eth0\'s address to eth1\'s goes out through eth0\'s driver, across the wire model, in through eth1\'s driver, which answers. The interface is the one whose subnet holds the destination (or -I). Each request waits for its reply up to -W seconds, then the next follows after the rest of the interval. Exits 1 when no reply came, 2 on errors. Without -c, pings until Ctrl-C.';
  static override enableJsonFlag = true;
  static override examples = [
    '<%= config.bin %> ping 10.0.0.2',
    '<%= config.bin %> ping -I eth1 -c 3 10.0.0.1',
    '<%= config.bin %> ping -c 100 -i 0 -q 10.0.0.2',
  ];
  static override flags = {
    count: Flags.integer({ char: 'c', description: 'stop after N requests', min: 1, helpValue: 'N' }),
    interface: Flags.string({ char: 'I', description: 'send from this interface', helpValue: 'IFACE' }),
    interval: Flags.string({ char: 'i', description: 'seconds between requests [default: 1]', helpValue: 'SECONDS' }),
    timeout: Flags.string({ char: 'W', description: 'seconds to wait for each reply [default: 1]', helpValue: 'SECONDS' }),
    size: Flags.integer({ char: 's', description: 'data bytes per request [default: 56]', min: 0, max: 65507, helpValue: 'BYTES' }),
    ttl: Flags.integer({ char: 't', description: 'IP time to live [default: 64]', min: 1, max: 255, helpValue: 'TTL' }),
    quiet: Flags.boolean({ char: 'q', description: 'only the summary' }),
  };
  static override summary = 'Send ICMP echo requests through the platform\'s network.';

  async run(): Promise<PingSummary & { probes: PingProbeResult[] }> {
    const { args, flags } = await this.parse(Ping);
    let intervalMs: number, timeoutMs: number;
    try {
      intervalMs = flags.interval === undefined ? 1000 : seconds(flags.interval, '--interval');
      timeoutMs = flags.timeout === undefined ? 1000 : Math.max(1, seconds(flags.timeout, '--timeout'));
    } catch (e) { this.error((e as Error).message, { exit: 2 }); }
    const size = flags.size ?? 56;
    const probes: PingProbeResult[] = [];
    const t0 = performance.now();
    await this.attach(flags.socket, (c) => this.loop(c, args.destination, { ...flags, intervalMs, timeoutMs, size }, probes));
    const s = summarize(args.destination, probes, performance.now() - t0);
    if (!this.jsonEnabled()) {
      this.log('');
      for (const l of summaryLines(s)) this.log(l);
    }
    const result = { ...s, probes };
    if (s.received === 0) {
      if (this.jsonEnabled()) this.logJson(result);
      this.exit(s.errors ? 2 : 1);
    }
    return result;
  }

  private async loop(c: ControlClient, dst: string, o: { count?: number; interface?: string; intervalMs: number; timeoutMs: number; size: number; ttl?: number; quiet: boolean },
    probes: PingProbeResult[]): Promise<void> {
    let stop = false;
    let wake: (() => void) | null = null;
    const onSignal = () => { stop = true; wake?.(); };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      for (let seq = 1; !stop && (o.count === undefined || seq <= o.count); seq++) {
        const start = performance.now();
        const p = await c.call('ping', {
          // The ICMP identifier is ours (as Linux ping uses its pid): concurrent pings do not mix.
          dst, id: process.pid & 0xffff, seq: seq & 0xffff, timeoutMs: o.timeoutMs, size: o.size, ...(o.interface ? { iface: o.interface } : {}), ...(o.ttl ? { ttl: o.ttl } : {}),
        });
        if (seq === 1 && !this.jsonEnabled()) {
          this.log(`PING ${dst} (${dst}) ${o.interface ? `from ${p.src} ${p.iface}: ` : ''}${o.size}(${o.size + 28}) bytes of data.`);
        }
        probes.push(p);
        const line = pingLine(p);
        if (line && !o.quiet && !this.jsonEnabled()) this.log(line);
        if (o.count !== undefined && seq >= o.count) break;
        const rest = o.intervalMs - (performance.now() - start);
        if (rest > 0 && !stop) {
          await new Promise<void>((r) => {
            const t = setTimeout(() => { wake = null; r(); }, rest);
            wake = () => { clearTimeout(t); wake = null; r(); };
          });
        }
      }
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
  }
}
