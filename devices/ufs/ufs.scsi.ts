/**
 * @module devices/ufs/ufs.scsi
 * SCSI targets behind the UFS device: ordinary logical units (direct-access block devices over
 * a BlockStorage) and the well-known LUs (REPORT LUNS, UFS DEVICE, BOOT, RPMB) — JESD220 §11,
 * T10 SPC-4/SBC-3 as summarised in hardware-models.md §1.7.
 *
 * A target executes one CDB and moves data through a DataPort that the host controller backs
 * with the request's PRDT; it never sees host addresses. Errors in the command are SCSI errors
 * (CHECK CONDITION + sense: ILLEGAL REQUEST with INVALID COMMAND OPERATION CODE, LBA OUT OF
 * RANGE, INVALID FIELD IN CDB, LOGICAL UNIT NOT SUPPORTED, ...). Problems with the host's
 * buffers are reported as `hostError` for the controller to turn into an OCS.
 *
 * Deliberate differences from a real UFS device: no UNIT ATTENTION after power-on or reset; no
 * deferred sense (REQUEST SENSE returns NO SENSE, UFS uses autosense in the RESPONSE UPIU); a
 * WRITE whose expected data transfer length is shorter than its CDB needs is rejected (INVALID
 * FIELD IN CDB) instead of being partially written; START STOP UNIT is recorded, not enforced.
 */
import { ASC, SAI_READ_CAPACITY_16, SCSI_OP, SCSI_STATUS, SENSE_KEY, WLUN } from './ufs.regs.js';
import {
  DISK_VPD_PAGES, fixedSense, MODE_PC, modePages, modeSenseData, NO_SENSE, PDT, readCapacity10, readCapacity16,
  reportLuns, standardInquiry, vpdPage, WLUN_VPD_PAGES, type ScsiIdentity,
} from './ufs.scsi-data.js';
import type { BlockStorage } from './ufs.storage.js';

/** Outcome of one host-side data move. */
export type PortResult = 'ok' | 'mismatch' | 'fault';

/** The host controller's side of a command's data phase (its PRDT, as a byte stream). */
export interface DataPort {
  /** Device → host: `src` lands at transfer byte `pos`. 'mismatch': outside the buffer (nothing written). */
  toHost(pos: number, src: Uint8Array): PortResult;
  /** Host → device: fills `dst` from transfer byte `pos`. */
  fromHost(pos: number, dst: Uint8Array): PortResult;
  /** Zero-copy walk of [pos, pos + len) as live views of host memory, in order. */
  each(dir: 'to-host' | 'from-host', pos: number, len: number, fn: (view: Uint8Array, at: number) => void): PortResult;
}

export interface ScsiCommand {
  readonly cdb: Uint8Array;
  /** Expected data transfer length from the COMMAND UPIU. */
  readonly edtl: number;
}

export interface ScsiOutcome {
  readonly status: number;
  /** Fixed-format sense data for CHECK CONDITION, else empty. */
  readonly sense: Uint8Array;
  /** Bytes the CDB asked to move (before the expected length clamps it). */
  readonly required: number;
  /** Bytes actually moved. */
  readonly transferred: number;
  /** The host's buffer could not take (or supply) the data. */
  readonly hostError?: 'mismatch' | 'fault';
}

/** What the device tells its targets about itself. */
export interface ScsiDeviceInfo {
  readonly identity: ScsiIdentity;
  /** Ordinary LUNs present, ascending. */
  readonly luns: readonly number[];
  /** Well-known LUNs (UPIU numbering) present. */
  readonly wluns: readonly number[];
  /** START STOP UNIT to the UFS DEVICE W-LU: power condition (4 bits). */
  onPowerCondition?(condition: number): void;
}

const EMPTY = new Uint8Array(0);

export const good = (transferred = 0, required = transferred): ScsiOutcome => ({ status: SCSI_STATUS.GOOD, sense: EMPTY, required, transferred });
export const checkCondition = (key: number, asc: readonly [number, number], required = 0): ScsiOutcome =>
  ({ status: SCSI_STATUS.CHECK_CONDITION, sense: fixedSense(key, asc), required, transferred: 0 });
const illegal = (asc: readonly [number, number]): ScsiOutcome => checkCondition(SENSE_KEY.ILLEGAL_REQUEST, asc);

/** Sends `data` (already cut to the allocation length) to the host, clamped to the expected length. */
export function dataIn(port: DataPort, cmd: ScsiCommand, data: Uint8Array): ScsiOutcome {
  const n = Math.min(data.length, cmd.edtl);
  const r = port.toHost(0, data.subarray(0, n));
  return r === 'ok' ? good(n, data.length) : { ...good(0, data.length), hostError: r };
}

const be16 = (c: Uint8Array, at: number): number => (c[at]! << 8) | c[at + 1]!;
const be32 = (c: Uint8Array, at: number): number => ((c[at]! << 24) | (c[at + 1]! << 16) | (c[at + 2]! << 8) | c[at + 3]!) >>> 0;
/** A 64-bit LBA as a number; Infinity from 2^53 up (beyond any LU, so out of range either way). */
const lba64 = (c: Uint8Array, at: number): number => {
  const hi = be32(c, at);
  return hi >= 0x20_0000 ? Infinity : hi * 0x1_0000_0000 + be32(c, at + 4);
};
const allocLength = (cdb: Uint8Array): number => {
  switch (cdb[0]) {
    case SCSI_OP.INQUIRY: return be16(cdb, 3);
    case SCSI_OP.REQUEST_SENSE: case SCSI_OP.MODE_SENSE_6: return cdb[4]!;
    case SCSI_OP.MODE_SENSE_10: return be16(cdb, 7);
    case SCSI_OP.REPORT_LUNS: return be32(cdb, 6);
    case SCSI_OP.SERVICE_ACTION_IN_16: return be32(cdb, 10);
    default: return 0;
  }
};

/** A data-in reply cut to the CDB's allocation length. */
const reply = (port: DataPort, cmd: ScsiCommand, data: Uint8Array): ScsiOutcome =>
  dataIn(port, cmd, data.subarray(0, Math.min(data.length, allocLength(cmd.cdb))));

/** Commands every target answers the same way: INQUIRY, REQUEST SENSE, TEST UNIT READY, REPORT LUNS. */
export abstract class ScsiTarget {
  constructor(readonly lun: number, protected readonly info: ScsiDeviceInfo, protected readonly pdt: number, private readonly vpdPages: readonly number[]) {}

  execute(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const c = cmd.cdb;
    switch (c[0]) {
      case SCSI_OP.TEST_UNIT_READY: return good();
      case SCSI_OP.REQUEST_SENSE: return reply(port, cmd, NO_SENSE());
      case SCSI_OP.INQUIRY: return this.inquiry(cmd, port);
      case SCSI_OP.REPORT_LUNS: return this.reportLuns(cmd, port);
      default: return this.executeSpecific(cmd, port);
    }
  }

  protected abstract executeSpecific(cmd: ScsiCommand, port: DataPort): ScsiOutcome;

  protected blockLimits(): { maxTransferBlocks: number; maxUnmapDescriptors: number } {
    return { maxTransferBlocks: 0, maxUnmapDescriptors: 0 };
  }

  private inquiry(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const c = cmd.cdb;
    const evpd = (c[1]! & 0x01) !== 0;
    if (!evpd) return c[2] !== 0 ? illegal(ASC.INVALID_FIELD_IN_CDB) : reply(port, cmd, standardInquiry(this.pdt, this.info.identity));
    const page = vpdPage(c[2]!, this.pdt, this.vpdPages, this.info.identity, this.blockLimits());
    return page === undefined ? illegal(ASC.INVALID_FIELD_IN_CDB) : reply(port, cmd, page);
  }

  private reportLuns(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const select = cmd.cdb[2]!;
    if (allocLength(cmd.cdb) < 16 || select > 0x02) return illegal(ASC.INVALID_FIELD_IN_CDB);
    const luns = select === 0x01 ? [] : this.info.luns;
    const wluns = select === 0x00 ? [] : this.info.wluns;
    return reply(port, cmd, reportLuns(luns, wluns));
  }
}

/** The transfer a media command implies, for the timing model. */
export interface MediaCost {
  readonly kind: 'read' | 'write' | 'flush' | 'unmap' | 'none';
  readonly bytes: number;
}

export type MutableMediaCost = { -readonly [K in keyof MediaCost]: MediaCost[K] };

/** Cheap peek at a CDB (no validation): what the timing model should charge for it. */
export function mediaCost(cdb: Uint8Array, blockSize: number): MediaCost {
  return mediaCostAt(cdb, 0, blockSize, { kind: 'none', bytes: 0 });
}

/** mediaCost of the CDB at `buf[at]`, written into `out` (no allocation: the per-IO form). */
export function mediaCostAt(buf: Uint8Array, at: number, blockSize: number, out: MutableMediaCost): MediaCost {
  let kind: MediaCost['kind'] = 'none', bytes = 0;
  switch (buf[at]) {
    case SCSI_OP.READ_10: kind = 'read'; bytes = be16(buf, at + 7) * blockSize; break;
    case SCSI_OP.READ_16: kind = 'read'; bytes = be32(buf, at + 10) * blockSize; break;
    case SCSI_OP.WRITE_10: kind = 'write'; bytes = be16(buf, at + 7) * blockSize; break;
    case SCSI_OP.WRITE_16: kind = 'write'; bytes = be32(buf, at + 10) * blockSize; break;
    case SCSI_OP.SYNCHRONIZE_CACHE_10: case SCSI_OP.SYNCHRONIZE_CACHE_16: kind = 'flush'; break;
    case SCSI_OP.UNMAP: kind = 'unmap'; break;
    default: break;
  }
  out.kind = kind;
  out.bytes = bytes;
  return out;
}

export interface LogicalUnitConfig {
  readonly blockSize: number;
  readonly storage: BlockStorage;
  readonly writeProtected?: boolean;
}

const MAX_UNMAP_DESCRIPTORS = 16;

/** An ordinary LU: a direct-access block device over a BlockStorage. */
export class LogicalUnit extends ScsiTarget {
  readonly blockSize: number;
  readonly blocks: bigint;
  readonly storage: BlockStorage;
  /** `blocks` as a number (LU sizes are safe integers), for the per-IO range checks. */
  private readonly blockCount: number;
  /** Byte offset of the data phase in progress: the chunk callbacks below are bound once, not per IO. */
  private ioBase = 0;
  private readonly readChunk = (view: Uint8Array, at: number): void => this.storage.read(this.ioBase + at, view);
  private readonly writeChunk = (view: Uint8Array, at: number): void => this.storage.write(this.ioBase + at, view);
  /** rw()'s GOOD outcome, reused by the next call: the device turns it into a response at once. */
  private readonly rwDone = { status: SCSI_STATUS.GOOD as number, sense: EMPTY, required: 0, transferred: 0 };

  constructor(lun: number, info: ScsiDeviceInfo, private readonly cfg: LogicalUnitConfig) {
    super(lun, info, PDT.DISK, DISK_VPD_PAGES);
    this.blockSize = cfg.blockSize;
    this.storage = cfg.storage;
    this.blockCount = Math.floor(cfg.storage.sizeBytes / cfg.blockSize);
    this.blocks = BigInt(this.blockCount);
  }

  protected override blockLimits(): { maxTransferBlocks: number; maxUnmapDescriptors: number } {
    return { maxTransferBlocks: Math.max(1, (1 << 20) / this.blockSize), maxUnmapDescriptors: MAX_UNMAP_DESCRIPTORS };
  }

  protected executeSpecific(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const c = cmd.cdb;
    switch (c[0]) {
      case SCSI_OP.READ_10: return this.rw('read', cmd, port, be32(c, 2), be16(c, 7));
      case SCSI_OP.READ_16: return this.rw('read', cmd, port, lba64(c, 2), be32(c, 10));
      case SCSI_OP.WRITE_10: return this.rw('write', cmd, port, be32(c, 2), be16(c, 7));
      case SCSI_OP.WRITE_16: return this.rw('write', cmd, port, lba64(c, 2), be32(c, 10));
      case SCSI_OP.SYNCHRONIZE_CACHE_10: return this.sync(be32(c, 2), be16(c, 7));
      case SCSI_OP.SYNCHRONIZE_CACHE_16: return this.sync(lba64(c, 2), be32(c, 10));
      case SCSI_OP.UNMAP: return this.unmap(cmd, port);
      case SCSI_OP.READ_CAPACITY_10: return dataIn(port, cmd, readCapacity10(this.blocks, this.blockSize));
      case SCSI_OP.SERVICE_ACTION_IN_16:
        if ((c[1]! & 0x1f) !== SAI_READ_CAPACITY_16) return illegal(ASC.INVALID_FIELD_IN_CDB);
        return reply(port, cmd, readCapacity16(this.blocks, this.blockSize));
      case SCSI_OP.MODE_SENSE_6: case SCSI_OP.MODE_SENSE_10: return this.modeSense(cmd, port);
      case SCSI_OP.START_STOP_UNIT: return good();
      default: return illegal(ASC.INVALID_OPCODE);
    }
  }

  /** True when [lba, lba + count) lies outside the LU. */
  private outOfRange(lba: number, count: number): boolean {
    const n = this.blockCount;
    return lba + count > n || (count > 0 && lba >= n) || lba > n;
  }

  private rw(dir: 'read' | 'write', cmd: ScsiCommand, port: DataPort, lba: number, count: number): ScsiOutcome {
    if ((cmd.cdb[1]! & 0xe0) !== 0) return illegal(ASC.INVALID_FIELD_IN_CDB); // RD/WRPROTECT: no protection info
    if (this.outOfRange(lba, count)) return illegal(ASC.LBA_OUT_OF_RANGE);
    if (dir === 'write' && this.cfg.writeProtected) return checkCondition(SENSE_KEY.DATA_PROTECT, [0x27, 0x00]);
    const required = count * this.blockSize;
    if (dir === 'write' && required > cmd.edtl) return illegal(ASC.INVALID_FIELD_IN_CDB);
    const n = Math.min(required, cmd.edtl);
    const fua = (cmd.cdb[1]! & 0x08) !== 0;
    this.ioBase = lba * this.blockSize;
    try {
      const r = dir === 'read' ? port.each('to-host', 0, n, this.readChunk) : port.each('from-host', 0, n, this.writeChunk);
      if (r !== 'ok') return { ...good(0, required), hostError: r };
      if (dir === 'write' && fua) this.storage.flush();
    } catch {
      return checkCondition(SENSE_KEY.MEDIUM_ERROR, dir === 'read' ? ASC.UNRECOVERED_READ_ERROR : ASC.WRITE_ERROR, required);
    }
    const done = this.rwDone;
    done.required = required;
    done.transferred = n;
    return done;
  }

  private sync(lba: number, count: number): ScsiOutcome {
    if (this.outOfRange(lba, count)) return illegal(ASC.LBA_OUT_OF_RANGE);
    try {
      this.storage.flush();
    } catch {
      return checkCondition(SENSE_KEY.MEDIUM_ERROR, ASC.WRITE_ERROR);
    }
    return good();
  }

  /** UNMAP: 8-byte header, then 16-byte descriptors (LBA BE64, count BE32); all-or-nothing. */
  private unmap(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const c = cmd.cdb;
    if ((c[1]! & 0x01) !== 0) return illegal(ASC.INVALID_FIELD_IN_CDB); // ANCHOR
    const len = be16(c, 7);
    if (len === 0) return good();
    if (len < 8) return illegal(ASC.PARAM_LIST_LENGTH_ERROR);
    if (len > cmd.edtl) return illegal(ASC.INVALID_FIELD_IN_CDB);
    const list = new Uint8Array(len);
    const r = port.fromHost(0, list);
    if (r !== 'ok') return { ...good(0, len), hostError: r };
    const descLen = be16(list, 2);
    if (descLen % 16 !== 0 || 8 + descLen > len || descLen / 16 > MAX_UNMAP_DESCRIPTORS) {
      return { ...illegal(ASC.INVALID_FIELD_IN_PARAM_LIST), required: len, transferred: len };
    }
    const ranges: [number, number][] = [];
    for (let at = 8; at < 8 + descLen; at += 16) ranges.push([lba64(list, at), be32(list, at + 8)]);
    if (ranges.some(([lba, n]) => this.outOfRange(lba, n))) return { ...illegal(ASC.LBA_OUT_OF_RANGE), required: len, transferred: len };
    try {
      for (const [lba, n] of ranges) this.storage.unmap(lba * this.blockSize, n * this.blockSize);
    } catch {
      return checkCondition(SENSE_KEY.MEDIUM_ERROR, ASC.WRITE_ERROR, len);
    }
    return good(len);
  }

  private modeSense(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const c = cmd.cdb;
    const pc = c[2]! >> 6;
    const subpage = c[3]!;
    if (pc === MODE_PC.SAVED) return illegal(ASC.SAVING_PARAMS_NOT_SUPPORTED);
    const pages = subpage === 0 ? modePages(c[2]! & 0x3f, pc) : undefined;
    if (pages === undefined) return illegal(ASC.INVALID_FIELD_IN_CDB);
    return reply(port, cmd, modeSenseData(c[0] === SCSI_OP.MODE_SENSE_10, pages, this.cfg.writeProtected === true));
  }
}

/** A well-known LU: INQUIRY (type 1Eh), TEST UNIT READY, REQUEST SENSE, REPORT LUNS; START STOP UNIT on UFS DEVICE. */
export class WellKnownLu extends ScsiTarget {
  constructor(lun: number, info: ScsiDeviceInfo) {
    super(lun, info, PDT.WELL_KNOWN_LU, WLUN_VPD_PAGES);
  }

  protected executeSpecific(cmd: ScsiCommand): ScsiOutcome {
    if (cmd.cdb[0] === SCSI_OP.START_STOP_UNIT && this.lun === WLUN.UFS_DEVICE) {
      this.info.onPowerCondition?.(cmd.cdb[4]! >> 4);
      return good();
    }
    return illegal(ASC.INVALID_OPCODE);
  }
}

/**
 * A LUN with no logical unit behind it (SPC-4 §4.6.4): INQUIRY reports peripheral qualifier
 * 011b (0x7f), REQUEST SENSE returns LOGICAL UNIT NOT SUPPORTED as data, everything else fails
 * with CHECK CONDITION, ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED.
 */
export class AbsentLu {
  constructor(readonly lun: number, private readonly info: ScsiDeviceInfo) {}

  execute(cmd: ScsiCommand, port: DataPort): ScsiOutcome {
    const c = cmd.cdb;
    if (c[0] === SCSI_OP.INQUIRY && (c[1]! & 1) === 0) return reply(port, cmd, standardInquiry(PDT.NOT_CONNECTED, this.info.identity));
    if (c[0] === SCSI_OP.REQUEST_SENSE) return reply(port, cmd, fixedSense(SENSE_KEY.ILLEGAL_REQUEST, ASC.LUN_NOT_SUPPORTED));
    return illegal(ASC.LUN_NOT_SUPPORTED);
  }
}
