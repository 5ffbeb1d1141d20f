/**
 * @module vfs/open-file
 * An open file description (Linux `struct file`): node, flags, caller, position, and the
 * reference counting that decides when the node's `release` runs.
 */
import type { Credentials, OpenFileInfo } from './types.js';
import type { VNode } from './node.js';
import { wantsRead, wantsWrite } from './flags.js';
import { freezeCred } from './permissions.js';

export type RevokeCode = 'EIO' | 'ENODEV';

let nextFileId = 1;

export class OpenFile {
  readonly id = nextFileId++;
  /** What the node's operations see: a frozen plain object (safe to clone across threads). */
  readonly info: OpenFileInfo;
  position = 0;
  /** Set by revokeOpenFiles: every later call fails with this code. */
  revoked?: RevokeCode;
  /** Snapshot of an attribute's show() or a generated file's content. */
  content?: Buffer;
  /** Attribute event counter seen at the last render (sysfs poll semantics). */
  event = 0;
  /** fds pointing here, and calls in flight; release runs when both reach zero. */
  private fdRefs = 0;
  private busy = 0;
  private releasedOrDropped = false;

  constructor(readonly node: VNode, readonly path: string, readonly flags: number, cred: Credentials,
    private readonly onLastRef: (file: OpenFile) => Promise<void>) {
    this.info = Object.freeze({ id: this.id, path, flags, cred: freezeCred(cred) });
  }

  get readable(): boolean { return wantsRead(this.flags); }
  get writable(): boolean { return wantsWrite(this.flags); }

  addFd(): void { this.fdRefs++; }

  /** Drops one fd; resolves after release when that was the last reference. */
  dropFd(): Promise<void> {
    this.fdRefs--;
    return this.maybeFinish();
  }

  /** Takes the reference `hold` takes, for hot paths that cannot afford its closure; pair with `leave`. */
  enter(): void { this.busy++; }

  leave(): void {
    this.busy--;
    if (this.fdRefs === 0) void this.maybeFinish();
  }

  /** Runs `fn` holding a reference, so close cannot release the file underneath it. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.enter();
    try {
      return await fn();
    } finally {
      this.leave();
    }
  }

  private async maybeFinish(): Promise<void> {
    if (this.fdRefs > 0 || this.busy > 0 || this.releasedOrDropped) return;
    this.releasedOrDropped = true;
    await this.onLastRef(this);
  }
}
