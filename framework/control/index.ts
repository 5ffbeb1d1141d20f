/**
 * @module control
 * The control socket: `hmdrv run` serves a kernel on it, the other `hmdrv` commands (and any
 * tool speaking newline-delimited JSON) attach to it.
 *
 * @example
 * import { ControlClient, defaultSocketPath } from './control/index.js';
 * const client = await ControlClient.connect(defaultSocketPath());
 */
export { ControlClient } from './client.js';
export { ControlServer, type ControlServerOptions } from './server.js';
export { defaultSocketPath, prepareSocketDir } from './socket-path.js';
export { ControlError, fromWireError, toWireError } from './wire-error.js';
export { decodeFields, encodeFields, formatSize, parseFormat, RAW_FORMAT, toBigInt } from './ioctl-format.js';
export * from './protocol.js';
