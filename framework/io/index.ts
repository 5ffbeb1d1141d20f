/**
 * @module io
 * The I/O tools of hmdrv, run inside the platform over its VFS: a dd-like copy between a VFS
 * path and a host file, a fio-like load generator, the job table and control-socket handlers
 * that expose both (`io`, `ioStatus`, `ioCancel`), and the size/duration helpers the CLI uses.
 */
export * from './copy.js';
export * from './loadgen.js';
export * from './jobs.js';
export * from './control.js';
export * from './units.js';
export { IoError, ioErrorAt } from './errors.js';
export { HISTOGRAM_PRECISION, LatencyHistogram, type LatencySummary } from './histogram.js';
export { VerifyPattern, type Mismatch } from './pattern.js';
export { Prng } from './prng.js';
export { describeEndpoint, openHostEndpoint, openVfsEndpoint, type Endpoint, type EndpointSpec } from './target.js';
