/**
 * @module cli/lib/ls-format
 * `ls -l` lines from the control socket's `ls` result: mode, links, owner, group, size (or
 * "major, minor" for device nodes), name and "-> target" for symlinks.
 *
 * @example
 * formatLs(entries); // ['crw-rw-rw-  1  0  0  240, 0  echo0']
 */
import type { LsEntry } from '../../framework/control/protocol.js';
import { modeString } from './file-mode.js';
import { formatTable } from './table.js';

export function formatLs(entries: LsEntry[]): string[] {
  const rows = entries.map((e) => [
    modeString(e.type, e.mode),
    String(e.nlink),
    String(e.uid),
    String(e.gid),
    e.major !== undefined ? `${e.major}, ${e.minor ?? 0}` : String(e.size),
    e.target !== undefined ? `${e.name} -> ${e.target}` : e.name,
  ]);
  return formatTable(rows, { align: ['l', 'r', 'r', 'r', 'r', 'l'] });
}
