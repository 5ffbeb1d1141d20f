/**
 * @module control/socket-path
 * Where the control socket lives: `$HMDRV_SOCKET`, else `$XDG_RUNTIME_DIR/hmdrv/control.sock`,
 * else `<tmpdir>/hmdrv-<uid>/control.sock`. The directory is created private (0700) because
 * whoever can connect can drive every device.
 *
 * @example
 * const path = defaultSocketPath();
 * await prepareSocketDir(path);
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HmError } from '../errors/hm-error.js';

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HMDRV_SOCKET) return env.HMDRV_SOCKET;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'hmdrv', 'control.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `hmdrv-${uid}`, 'control.sock');
}

/** Creates the socket's directory (0700 for directories it creates); checks the path fits sun_path. */
export async function prepareSocketDir(socketPath: string): Promise<void> {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new HmError('ENAMETOOLONG', `control socket path is longer than ${MAX_SOCKET_PATH_BYTES} bytes: ${socketPath}`,
      { suggestions: ['choose a shorter path with --socket or $HMDRV_SOCKET'] });
  }
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
}
