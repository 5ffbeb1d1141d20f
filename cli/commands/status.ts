/** `hmdrv status`: whether a platform is running, and which. */
import { AttachCommand } from '../lib/attach-command.js';

export default class Status extends AttachCommand {
  static override description = 'Prints the platform name, the pid of `hmdrv run`, its uptime and boot time. Fails (exit 1) if no platform is running.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static override summary = 'Show the running platform.';

  async run() {
    const { flags } = await this.parse(Status);
    const s = await this.attach(flags.socket, (c) => c.call('status', {}));
    const ready = s.readyMs === undefined ? '' : `, ready in ${Math.round(s.readyMs)} ms`;
    this.log(`platform ${s.platform} (${s.source}): pid ${s.pid}, up ${(s.uptimeMs / 1000).toFixed(1)} s${ready}, ${s.devices} device(s)`);
    return s;
  }
}
