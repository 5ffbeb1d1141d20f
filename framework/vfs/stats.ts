/**
 * @module vfs/stats
 * stat() results and directory entries built from nodes.
 */
import type { VfsDirent, VfsStats } from './api.js';
import { S_IF } from './types.js';
import { typeBits, type VNode } from './node.js';

/** sysfs reports every attribute as one page long. */
export const ATTRIBUTE_SIZE = 4096;

function sizeOf(node: VNode): number {
  switch (node.kind) {
    case 'chr':
    case 'blk':
      try {
        return node.ops.size?.() ?? 0;
      } catch {
        return 0;
      }
    case 'attr': return ATTRIBUTE_SIZE;
    case 'symlink': return Buffer.byteLength(node.target);
    default: return 0;
  }
}

function nlinkOf(node: VNode): number {
  if (node.kind !== 'dir') return 1;
  let subdirs = 0;
  for (const child of node.children.values()) if (child.kind === 'dir') subdirs++;
  return 2 + subdirs;
}

/** The is*() tests of fs.Stats / fs.Dirent, from the S_IF type bits. */
abstract class TypeTests {
  protected abstract fmt(): number;
  isDirectory(): boolean { return this.fmt() === S_IF.DIR; }
  isCharacterDevice(): boolean { return this.fmt() === S_IF.CHR; }
  isBlockDevice(): boolean { return this.fmt() === S_IF.BLK; }
  isFile(): boolean { return this.fmt() === S_IF.REG; }
  isSymbolicLink(): boolean { return this.fmt() === S_IF.LNK; }
}

export class Stats extends TypeTests implements VfsStats {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly rdev: number;
  readonly major?: number;
  readonly minor?: number;
  readonly ino: number;
  readonly nlink: number;

  constructor(node: VNode) {
    super();
    this.mode = typeBits(node) | node.mode;
    this.uid = node.uid;
    this.gid = node.gid;
    this.size = sizeOf(node);
    this.ino = node.ino;
    this.nlink = nlinkOf(node);
    if (node.kind === 'chr' || node.kind === 'blk') {
      this.rdev = (node.major << 8) | node.minor;
      this.major = node.major;
      this.minor = node.minor;
    } else {
      this.rdev = 0;
    }
  }

  protected fmt(): number { return this.mode & S_IF.MT; }
}

const DIRENT_TYPE: Record<number, VfsDirent['type']> = {
  [S_IF.DIR]: 'dir', [S_IF.CHR]: 'chr', [S_IF.BLK]: 'blk', [S_IF.REG]: 'file', [S_IF.LNK]: 'symlink',
};
const DIRENT_FMT: Record<VfsDirent['type'], number> = {
  dir: S_IF.DIR, chr: S_IF.CHR, blk: S_IF.BLK, file: S_IF.REG, symlink: S_IF.LNK,
};

export class Dirent extends TypeTests implements VfsDirent {
  readonly type: VfsDirent['type'];
  constructor(readonly name: string, node: VNode) {
    super();
    this.type = DIRENT_TYPE[typeBits(node)]!;
  }

  protected fmt(): number { return DIRENT_FMT[this.type]; }
}
