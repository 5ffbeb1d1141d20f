/**
 * @module vfs/node
 * The namespace tree: node kinds, path resolution (symlinks, `..`, permission to traverse)
 * and attaching/detaching nodes.
 */
import type { AttributeOperations, Credentials, DeviceFileOperations } from './types.js';
import { ROOT, S_IF } from './types.js';
import { sysErr } from './errors.js';
import { splitPath } from './path.js';
import { MAY_EXEC, mayAccess } from './permissions.js';

/** Linux's limit on symlinks followed during one lookup. */
export const MAX_SYMLINKS = 40;

interface NodeBase {
  readonly ino: number;
  name: string;
  parent: DirNode | null;
  /** Permission bits only (the type comes from `kind`). */
  mode: number;
  uid: number;
  gid: number;
}

export interface DirNode extends NodeBase { kind: 'dir'; children: Map<string, VNode> }
export interface DeviceNode extends NodeBase {
  kind: 'chr' | 'blk';
  major: number;
  minor: number;
  ops: DeviceFileOperations;
}
export interface AttrNode extends NodeBase {
  kind: 'attr';
  ops: AttributeOperations;
  /** Bumped by notifyPoll (sysfs_notify); open files compare it to see a change. */
  event: number;
}
export interface GenNode extends NodeBase { kind: 'gen'; generate: () => string | Promise<string> }
export interface LinkNode extends NodeBase { kind: 'symlink'; target: string }

export type VNode = DirNode | DeviceNode | AttrNode | GenNode | LinkNode;

/** A node's spec without what the tree assigns (ino, name, parent, children, event). */
type Spec<T> = T extends VNode ? Omit<T, 'ino' | 'name' | 'parent' | 'children' | 'event'> : never;
export type NodeSpec = Spec<VNode>;

export function typeBits(node: VNode): number {
  switch (node.kind) {
    case 'dir': return S_IF.DIR;
    case 'chr': return S_IF.CHR;
    case 'blk': return S_IF.BLK;
    case 'symlink': return S_IF.LNK;
    default: return S_IF.REG;
  }
}

export interface LookupOptions {
  /** Follow a symlink in the last component (stat, open) or not (lstat, readlink). */
  follow: boolean;
  cred?: Credentials;
  syscall: string;
  /** Path to name in errors (defaults to the path looked up). */
  errPath?: string;
}

export class Namespace {
  readonly root: DirNode;
  private nextIno = 1;

  constructor() {
    this.root = { kind: 'dir', ino: this.nextIno++, name: '', parent: null, mode: 0o755, uid: 0, gid: 0, children: new Map() };
  }

  /** Resolves `path` to its node (ENOENT, ENOTDIR, EACCES, ELOOP as Linux). */
  lookup(path: string, opts: LookupOptions): VNode {
    const errPath = opts.errPath ?? path;
    const { components, trailingSlash } = splitPath(path, opts.syscall, errPath);
    return this.walk(components, trailingSlash, opts.follow || trailingSlash, opts.cred ?? ROOT, opts.syscall, errPath);
  }

  /** Non-throwing lookup as root (used by notifyPoll and exists). */
  tryLookup(path: string, follow = true): VNode | undefined {
    try {
      return this.lookup(path, { follow, syscall: 'stat' });
    } catch {
      return undefined;
    }
  }

  /** The directory that would hold `path` and the new entry's name; null for '/' itself. */
  lookupParent(path: string, syscall: string): { dir: DirNode; name: string } | null {
    const { components } = splitPath(path, syscall, path);
    const name = components.pop();
    if (name === undefined) return null;
    const dir = this.walk(components, false, true, ROOT, syscall, path);
    if (dir.kind !== 'dir') throw sysErr('ENOTDIR', syscall, path);
    if (name === '..') return null;
    return { dir, name };
  }

  private walk(components: string[], trailingSlash: boolean, followLast: boolean, cred: Credentials, syscall: string, errPath: string): VNode {
    // A stack of remaining components, next one last, so symlink targets can be pushed.
    const todo = components.slice().reverse();
    let cur: VNode = this.root;
    let links = 0;
    while (todo.length > 0) {
      const name = todo.pop()!;
      if (cur.kind !== 'dir') throw sysErr('ENOTDIR', syscall, errPath);
      if (!mayAccess(cur, cred, MAY_EXEC)) throw sysErr('EACCES', syscall, errPath);
      if (name === '..') {
        cur = cur.parent ?? cur;
        continue;
      }
      const child = cur.children.get(name);
      if (child === undefined) throw sysErr('ENOENT', syscall, errPath);
      if (child.kind === 'symlink' && (todo.length > 0 || followLast)) {
        if (++links > MAX_SYMLINKS) throw sysErr('ELOOP', syscall, errPath);
        const target = splitPath(child.target, syscall, errPath, false);
        if (child.target.startsWith('/')) cur = this.root;
        for (let i = target.components.length - 1; i >= 0; i--) todo.push(target.components[i]!);
        continue;
      }
      cur = child;
    }
    if (trailingSlash && cur.kind !== 'dir') throw sysErr('ENOTDIR', syscall, errPath);
    return cur;
  }

  /** Creates a node named `name` in `dir`; EEXIST if the name is taken. */
  attach(dir: DirNode, name: string, spec: NodeSpec, syscall: string, errPath: string): VNode {
    if (dir.children.has(name)) throw sysErr('EEXIST', syscall, errPath);
    const node = { ...spec, ino: this.nextIno++, name, parent: dir } as VNode;
    if (node.kind === 'dir') node.children = new Map();
    if (node.kind === 'attr') node.event = 0;
    dir.children.set(name, node);
    return node;
  }

  /** Removes `node` (and its subtree) if it is still where it was attached. */
  detach(node: VNode): boolean {
    const parent = node.parent;
    if (parent === null || parent.children.get(node.name) !== node) return false;
    parent.children.delete(node.name);
    return true;
  }

  /** Absolute path of an attached node. */
  pathOf(node: VNode): string {
    const names: string[] = [];
    for (let n: VNode | null = node; n !== null && n.parent !== null; n = n.parent) names.push(n.name);
    return '/' + names.reverse().join('/');
  }
}
