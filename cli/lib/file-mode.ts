/**
 * @module cli/lib/file-mode
 * `ls -l`'s mode column: type letter plus rwx triplets, with setuid/setgid/sticky.
 *
 * @example
 * modeString('chr', 0o020666); // 'crw-rw-rw-'
 */
import type { FileType } from '../../framework/control/protocol.js';

const TYPE_CHAR: Record<FileType, string> = { dir: 'd', chr: 'c', blk: 'b', symlink: 'l', file: '-', unknown: '?' };

export function modeString(type: FileType, mode: number): string {
  const bit = (mask: number, ch: string) => (mode & mask ? ch : '-');
  const exec = (x: number, special: number, set: string) => {
    const hasX = (mode & x) !== 0;
    if (mode & special) return hasX ? set : set.toUpperCase();
    return hasX ? 'x' : '-';
  };
  return TYPE_CHAR[type]
    + bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's')
    + bit(0o040, 'r') + bit(0o020, 'w') + exec(0o010, 0o2000, 's')
    + bit(0o004, 'r') + bit(0o002, 'w') + exec(0o001, 0o1000, 't');
}
