/**
 * @module vfs/registry
 * The kernel's side of the namespace: creating directories, device nodes, attributes,
 * generated files and symlinks, each returned as a disposable that removes exactly that node.
 */
import { toDisposable } from '../lifecycle/disposable.js';
import type { AttributeOperations, DeviceNodeOptions, NodeOwner, Registration } from './types.js';
import { sysErr } from './errors.js';
import type { Namespace, NodeSpec, VNode } from './node.js';
import { splitPath } from './path.js';
import {
  DEFAULT_DEVICE_MODE, DEFAULT_DIR_MODE, DEFAULT_GENERATED_MODE, SYMLINK_MODE, defaultAttributeMode,
} from './permissions.js';

function ownership(owner: NodeOwner | undefined, defaultMode: number): { mode: number; uid: number; gid: number } {
  return { mode: (owner?.mode ?? defaultMode) & 0o7777, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0 };
}

export class Registry {
  constructor(private readonly ns: Namespace) {}

  private create(path: string, syscall: string, spec: NodeSpec): VNode {
    const where = this.ns.lookupParent(path, syscall);
    if (where === null) throw sysErr('EEXIST', syscall, path);
    return this.ns.attach(where.dir, where.name, spec, syscall, path);
  }

  /** Disposing removes the node (a directory with its whole subtree), once. */
  private registration(node: VNode): Registration {
    return toDisposable(() => { this.ns.detach(node); });
  }

  mkdir(path: string, owner?: NodeOwner): Registration {
    return this.registration(this.create(path, 'mkdir', { kind: 'dir', ...ownership(owner, DEFAULT_DIR_MODE) }));
  }

  /** Creates `path` and missing parents (0755, root); `owner` applies to `path` if created. */
  mkdirp(path: string, owner?: NodeOwner): void {
    const { components } = splitPath(path, 'mkdir', path);
    let prefix = '';
    components.forEach((name, i) => {
      prefix += '/' + name;
      const last = i === components.length - 1;
      const existing = this.ns.tryLookup(prefix);
      if (existing === undefined) {
        this.create(prefix, 'mkdir', { kind: 'dir', ...ownership(last ? owner : undefined, DEFAULT_DIR_MODE) });
      } else if (existing.kind !== 'dir') {
        throw sysErr(last ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
      }
    });
  }

  mknod(path: string, opts: DeviceNodeOptions): Registration {
    const { major, minor, ops } = opts;
    if (!Number.isInteger(major) || major < 0 || !Number.isInteger(minor) || minor < 0) {
      throw sysErr('EINVAL', 'mknod', path, 'bad device number');
    }
    const kind = opts.block === true ? 'blk' : 'chr';
    return this.registration(this.create(path, 'mknod', { kind, major, minor, ops, ...ownership(opts, DEFAULT_DEVICE_MODE) }));
  }

  addAttribute(path: string, ops: AttributeOperations, owner?: NodeOwner): Registration {
    return this.registration(this.create(path, 'mknod', { kind: 'attr', ops, ...ownership(owner, defaultAttributeMode(ops)) }));
  }

  addGeneratedFile(path: string, generate: () => string | Promise<string>, owner?: NodeOwner): Registration {
    return this.registration(this.create(path, 'mknod', { kind: 'gen', generate, ...ownership(owner, DEFAULT_GENERATED_MODE) }));
  }

  symlink(target: string, path: string): Registration {
    if (typeof target !== 'string' || target.length === 0) throw sysErr('ENOENT', 'symlink', path);
    return this.registration(this.create(path, 'symlink', { kind: 'symlink', target, mode: SYMLINK_MODE, uid: 0, gid: 0 }));
  }
}
