/**
 * @module vfs/permissions
 * Unix permission checks (owner, then group, then other bits) and the default modes of
 * registered nodes.
 */
import type { AttributeOperations, Credentials } from './types.js';
import type { VNode } from './node.js';

export const MAY_EXEC = 1;
export const MAY_WRITE = 2;
export const MAY_READ = 4;

export const DEFAULT_DIR_MODE = 0o755;
export const DEFAULT_DEVICE_MODE = 0o600;
export const DEFAULT_GENERATED_MODE = 0o444;
export const SYMLINK_MODE = 0o777;

/** sysfs-style default: readable if it can show, writable (by the owner) if it can store. */
export function defaultAttributeMode(ops: AttributeOperations): number {
  return (ops.show ? 0o444 : 0) | (ops.store ? 0o200 : 0);
}

function inGroup(cred: Credentials, gid: number): boolean {
  return cred.gid === gid || (cred.groups?.includes(gid) ?? false);
}

/**
 * True if `cred` may access `node` with every bit of `mask` (MAY_*). Root (uid 0) passes
 * read/write checks, and exec checks on directories or when any x bit is set.
 */
export function mayAccess(node: VNode, cred: Credentials, mask: number): boolean {
  if (cred.uid === 0) {
    if ((mask & MAY_EXEC) === 0 || node.kind === 'dir') return true;
    return (node.mode & 0o111) !== 0;
  }
  let bits: number;
  if (cred.uid === node.uid) bits = (node.mode >> 6) & 7;
  else if (inGroup(cred, node.gid)) bits = (node.mode >> 3) & 7;
  else bits = node.mode & 7;
  return (bits & mask) === mask;
}

/** Caller credentials as a frozen copy (drivers see it; nobody may change it later). */
export function freezeCred(cred: Credentials): Credentials {
  const copy: Credentials = cred.groups === undefined
    ? { uid: cred.uid, gid: cred.gid }
    : { uid: cred.uid, gid: cred.gid, groups: Object.freeze([...cred.groups]) };
  return Object.freeze(copy);
}
