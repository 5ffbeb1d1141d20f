/**
 * @module vfs
 * The VFS: namespace, central fd table, FileHandle.
 */
export * from './api.js';
export * from './types.js';
export { Vfs, READ_FILE_MAX } from './vfs.js';
export { FileHandle } from './file-handle.js';
export { FIRST_FD, MAX_FDS } from './fd-table.js';
export { ATTRIBUTE_MAX, DEFAULT_POLLMASK, MAX_RW_COUNT } from './file-io.js';
export { ATTRIBUTE_SIZE } from './stats.js';
export { MAX_SYMLINKS } from './node.js';
export type { RevokeCode } from './open-file.js';
