/** `hmdrv stop`: asks the running platform to shut down, and waits until it has. */
import { AttachCommand } from '../lib/attach-command.js';

/** How long to wait for the platform to finish shutting down before giving up waiting. */
const STOP_WAIT_MS = 15_000;

export default class Stop extends AttachCommand {
  static override description = 'Unbinds every device, stops the driver containers and exits `hmdrv run`. Returns once the platform has closed its control socket.';
  static override enableJsonFlag = true;
  static override examples = ['<%= config.bin %> stop'];
  static override summary = 'Stop the running platform.';

  async run() {
    const { flags } = await this.parse(Stop);
    const stopped = await this.attach(flags.socket, async (c) => {
      await c.call('stop', {});
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), STOP_WAIT_MS); });
      const done = await Promise.race([c.closed.then(() => true), timeout]);
      clearTimeout(timer);
      return done;
    });
    this.log(stopped ? 'platform stopped' : `stop requested; the platform is still shutting down after ${STOP_WAIT_MS / 1000} s`);
    return { stopped };
  }
}
