/**
 * @module net/netdev-link
 * The kernel's handle on one driver net_device: the node's file operations (the device
 * manager's node proxy, which follows the driver across container restarts) spoken in the
 * protocol of abi.ts. Two open files: a control file (opened read-only at registration; ioctls
 * only, no ndo_open) and, while the interface is up, a data file (opened read-write: ndo_open;
 * its release is ndo_stop).
 *
 * The files are not in the VFS fd table (the node has no /dev entry), so their ids come from a
 * range of their own, far above the VFS's counter, so that a container never sees two open
 * files with one id.
 */
import { SystemError } from '../errors/hm-error.js';
import type { DeviceFileOperations, OpenFileInfo } from '../vfs/types.js';
import { O, ROOT } from '../vfs/types.js';
import {
  decodeFrames, decodeStats, NETDEV_IOC, NETDEV_RX_HEADER, readU32, type NetdevInfo, type NetdevStats,
} from './abi.js';

/** Ids of the net stack's open files: 2^30 upwards (the VFS counts from 1). */
let nextFileId = 1 << 30;

export interface RxBatch {
  flags: number;
  frames: Uint8Array[];
}

export class NetdevLink {
  private ctl: OpenFileInfo | null = null;
  private data: OpenFileInfo | null = null;

  /** @param ops the node's operations; @param path what errors name (/sys/class/net/<if>). */
  constructor(private readonly ops: DeviceFileOperations, readonly path: string) {}

  get up(): boolean { return this.data !== null; }

  private file(flags: number): OpenFileInfo {
    return Object.freeze({ id: nextFileId++, path: this.path, flags, cred: ROOT });
  }

  /** Opens the control file (no ndo_open). Idempotent. */
  async attach(): Promise<void> {
    if (this.ctl) return;
    const f = this.file(O.RDONLY | O.NONBLOCK);
    await this.ops.open(f);
    this.ctl = f;
  }

  /** Forgets both files without releasing them: the driver that had them is gone (crash). */
  forget(): void {
    this.ctl = null;
    this.data = null;
  }

  async detach(): Promise<void> {
    await this.down().catch(() => undefined);
    const f = this.ctl;
    this.ctl = null;
    if (f) await this.ops.release(f).catch(() => undefined);
  }

  /** ndo_open. */
  async open(): Promise<void> {
    if (this.data) return;
    const f = this.file(O.RDWR | O.NONBLOCK);
    await this.ops.open(f);
    this.data = f;
  }

  /** ndo_stop. */
  async down(): Promise<void> {
    const f = this.data;
    this.data = null;
    if (f) await this.ops.release(f);
  }

  /** Transmits a batch (abi.ts records); resolves the bytes consumed; throws EAGAIN, ENETDOWN... */
  async write(batch: Uint8Array): Promise<number> {
    if (!this.data) throw new SystemError('ENETDOWN', 'sendmsg', this.path);
    return (await this.ops.write!(this.data, batch, 0)).written;
  }

  /** Takes received frames (at most `max` bytes of records). */
  async read(max: number): Promise<RxBatch> {
    if (!this.data) return { flags: 0, frames: [] };
    const { data } = await this.ops.read!(this.data, max, 0);
    if (data.length < NETDEV_RX_HEADER) throw new SystemError('EIO', 'recvmsg', this.path, `short read header (${data.length} bytes)`);
    const flags = readU32(data, 0);
    const count = readU32(data, 4);
    const { frames } = decodeFrames(data, NETDEV_RX_HEADER, count);
    if (frames.length !== count) throw new SystemError('EIO', 'recvmsg', this.path, `driver sent ${frames.length} of ${count} frames`);
    return { flags, frames };
  }

  private async ioctl(cmd: number, arg?: Uint8Array | number): Promise<Uint8Array> {
    const f = this.ctl;
    if (!f) throw new SystemError('ENODEV', 'ioctl', this.path, 'driver not attached');
    const r = await this.ops.ioctl!(f, cmd, arg);
    return r.out ?? new Uint8Array(0);
  }

  async info(): Promise<NetdevInfo> {
    const out = await this.ioctl(NETDEV_IOC.INFO, new Uint8Array(0));
    return JSON.parse(new TextDecoder().decode(out)) as NetdevInfo;
  }

  async stats(): Promise<NetdevStats> {
    return decodeStats(await this.ioctl(NETDEV_IOC.GET_STATS64, new Uint8Array(0)));
  }

  async setMac(mac: Uint8Array): Promise<void> {
    await this.ioctl(NETDEV_IOC.SET_MAC, mac);
  }

  async setMtu(mtu: number): Promise<void> {
    await this.ioctl(NETDEV_IOC.SET_MTU, mtu);
  }
}
