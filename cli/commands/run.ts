/** `hmdrv run [PLATFORM]`: boots a platform and serves its control socket until stopped. */
import { Args, Command, Flags } from '@oclif/core';
import { bootPlatform } from '../../containers/boot.js';
import { parseExportSpec } from '../../framework/nbd/exports.js';
import type { BootedKernel } from '../../framework/boot.js';
import { ControlServer } from '../../framework/control/server.js';
import { defaultSocketPath, prepareSocketDir } from '../../framework/control/socket-path.js';
import { ISOLATION_CLASSES, type IsolationClass } from '../../framework/platform/types.js';
import { socketFlag } from '../lib/attach-command.js';
import { formatBootReport } from '../lib/device-format.js';
import { describeError } from '../lib/errors.js';
import { StopSignal } from '../lib/stop-signal.js';

/** If something the kernel left behind keeps Node alive after a clean shutdown, exit anyway. */
const EXIT_GRACE_MS = 2000;

export default class Run extends Command {
  static override args = {
    platform: Args.string({ description: 'platform file (a device tree in JSON); the built-in sample platform if omitted' }),
  };
  static override description = `Boots the machine and the kernel, binds drivers in their driver containers, prints a boot report and serves the control socket that the other commands attach to. Runs until Ctrl-C, SIGTERM or \`hmdrv stop\`, then unbinds everything and exits 0.`;
  static override examples = [
    '<%= config.bin %> run',
    '<%= config.bin %> run samples/platforms/tick.platform.json --ic ic2',
    '<%= config.bin %> run --socket /tmp/hm.sock --quiet',
  ];
  static override flags = {
    ic: Flags.string({ description: 'run every binding in this isolation class (overrides manifests and the platform file)', options: [...ISOLATION_CLASSES] }),
    quiet: Flags.boolean({ char: 'q', description: 'print only the ready line (no kernel log, no device table)' }),
    socket: socketFlag,
    watchdog: Flags.integer({ description: 'ms a container may hang before it is restarted', helpValue: 'MS', min: 1 }),
    'kapi-debug': Flags.boolean({ description: 'linux-kapi debug mode for every driver: lockdep, DMA-API checks, resources held at unbind (as HMDRV_KAPI_DEBUG=1)' }),
    nbd: Flags.string({ description: 'export a block device over NBD once booted: DEVICE[:PORT|:/abs/socket][:ro] (repeatable)', helpValue: 'SPEC', multiple: true }),
  };
  static override summary = 'Boot a platform and serve it until stopped.';

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Run);
    const socketPath = flags.socket ?? defaultSocketPath();
    // Containers inherit the environment: workers share it, child processes copy it.
    if (flags['kapi-debug']) process.env.HMDRV_KAPI_DEBUG = '1';
    const stop = new StopSignal(() => process.exit(130));
    let kernel: BootedKernel | undefined;
    let server: ControlServer | undefined;
    try {
      await prepareSocketDir(socketPath);
      await ControlServer.ensureAvailable(socketPath); // before booting, which may take a while
      kernel = await bootPlatform({
        ...(args.platform !== undefined ? { platform: args.platform } : {}),
        ...(flags.ic !== undefined ? { isolation: flags.ic as IsolationClass } : {}),
        ...(flags.watchdog !== undefined ? { watchdogMs: flags.watchdog } : {}),
        ...(flags.quiet ? {} : { onLog: (line: string) => this.log(line) }),
      });
      for (const spec of flags.nbd ?? []) {
        const e = await kernel.exportNbd(parseExportSpec(spec));
        this.log(`${e.path} exported ${e.readOnly ? 'read-only' : 'read-write'} at ${e.uri}`);
      }
      server = await ControlServer.listen(kernel, socketPath, { onStop: () => stop.trigger('stop request') });
      if (!flags.quiet) this.log(formatBootReport(kernel.devices()).join('\n'));
      this.log(`ready in ${Math.round(kernel.readyMs)} ms; control socket ${socketPath}`);
      const reason = await stop.reason;
      if (!flags.quiet) this.log(`stopping (${reason})`);
    } catch (e) {
      await this.shutdown(kernel, server);
      stop.dispose();
      const { message, suggestions } = describeError(e);
      this.error(message, { exit: 1, suggestions });
    }
    const failure = await this.shutdown(kernel, server);
    stop.dispose();
    if (failure) this.error(`shutdown failed: ${describeError(failure).message}`, { exit: 1 });
    if (!flags.quiet) this.log('stopped');
    setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_GRACE_MS).unref();
  }

  /** Kernel first (so `hmdrv stop` returns once it is down), then the socket; returns a failure. */
  private async shutdown(kernel?: BootedKernel, server?: ControlServer): Promise<unknown> {
    let failure: unknown;
    try { await kernel?.shutdown(); } catch (e) { failure = e; }
    await server?.close().catch(() => undefined);
    return failure;
  }
}
