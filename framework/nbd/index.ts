/**
 * @module nbd
 * NBD export of VFS block devices: `NbdServer.listen(vfs, { path: '/dev/sda' })`, and the
 * platform's table of exports (`NbdExports`) behind the `exportNbd` control method.
 */
export {
  NbdServer, nbdUri, DEFAULT_MIN_BLOCK_SIZE, DEFAULT_PREFERRED_BLOCK_SIZE, DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type NbdServerOptions, type NbdAddress, type NbdStats,
} from './server.js';
export { NbdExports, parseExportSpec, type ExportNbdParams, type ExportNbdResult } from './exports.js';
export * as nbdProtocol from './protocol.js';
