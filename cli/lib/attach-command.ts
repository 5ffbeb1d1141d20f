/**
 * @module cli/lib/attach-command
 * Base of the commands that attach to a running platform: the `--socket` flag, connecting,
 * and mapping every failure to one `this.error` line with suggestions (C14: thin commands).
 *
 * @example
 * export default class Devices extends AttachCommand {
 *   async run() {
 *     const { flags } = await this.parse(Devices);
 *     return this.attach(flags.socket, (c) => c.call('devices', {}));
 *   }
 * }
 */
import { Command, Errors, Flags } from '@oclif/core';
import { ControlClient } from '../../framework/control/client.js';
import { defaultSocketPath } from '../../framework/control/socket-path.js';
import { describeError } from './errors.js';

export const socketFlag = Flags.string({
  description: 'control socket of the running platform [default: $HMDRV_SOCKET, else $XDG_RUNTIME_DIR/hmdrv/control.sock, else <tmpdir>/hmdrv-<uid>/control.sock]',
  helpValue: 'PATH',
});

export abstract class AttachCommand extends Command {
  static override baseFlags = { socket: socketFlag };

  /** Connects to the platform, runs `fn`, disconnects. */
  protected async attach<T>(socket: string | undefined, fn: (client: ControlClient) => Promise<T>): Promise<T> {
    let client: ControlClient | undefined;
    try {
      client = await ControlClient.connect(socket ?? defaultSocketPath());
      return await fn(client);
    } catch (e) {
      return this.fail(e);
    } finally {
      client?.close();
    }
  }

  /** Reports `e` as one line plus suggestions and exits 1 (oclif's own errors pass through). */
  protected fail(e: unknown): never {
    if (e instanceof Errors.CLIError) throw e;
    const { message, suggestions, code } = describeError(e);
    // The code is in the JSON error; for people it would only add a "Code:" line.
    return this.error(message, { exit: 1, suggestions, ...(this.jsonEnabled() && code ? { code } : {}) });
  }
}
