/**
 * A tiny SCSI disk layer for the UFS host (the parts of Linux's scsi_scan.c, sd.c and
 * ufshcd_queuecommand that matter here): the LU scan (REPORT LUNS, INQUIRY, TEST UNIT READY,
 * READ CAPACITY(16), the block limits VPD page, MODE SENSE caching page), one gendisk per LU
 * (/dev/sda, /dev/sdb... major 8, minors 16 apart), and the blk-mq ops that turn requests into
 * UTRD + COMMAND UPIU + PRDT (READ/WRITE(10/16) with FUA, SYNCHRONIZE CACHE, UNMAP) and finish
 * them from the completion interrupt.
 *
 * Data buffers: the request's segments are mapped with blk_rq_map_sg + dma_map_sg (bounced
 * through the device's swiotlb pool; a full pool gives BLK_STS_RESOURCE and the request is
 * retried), and each mapped segment becomes one PRDT entry.
 *
 * Differs from Linux: there is no SCSI midlayer: scan commands run on the host's reserved slot
 * before the disks exist; no retries of failed commands (a CHECK CONDITION fails the request with
 * BLK_STS_IOERR and a logged sense), except BUSY / TASK SET FULL, retried up to 5 times.
 */
import {
  blk_mq_alloc_disk, blk_mq_alloc_tag_set, blk_mq_complete_request, blk_mq_delay_kick_requeue_list, blk_mq_end_request,
  blk_mq_free_tag_set, blk_mq_requeue_request, blk_mq_rq_state, blk_mq_rq_to_pdu, blk_mq_set_pdu, blk_mq_start_request,
  blk_mq_tag_to_rq, blk_rq_bytes, blk_rq_map_sg, blk_rq_pos, blk_should_fake_timeout, del_gendisk, dev_err, dev_info,
  device_add_disk, dma_map_sg_attrs, dma_unmap_sg, DMA_ATTR_SKIP_CPU_SYNC, put_disk, req_op, set_capacity, set_disk_ro, sg_init_table, BLK_EH_DONE,
  BLK_FEAT_FUA, BLK_FEAT_WRITE_CACHE, EIO, get_capacity, BLK_STS_IOERR, BLK_STS_NOTSUPP, BLK_STS_OK, BLK_STS_RESOURCE,
  BLK_STS_TIMEOUT, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE, IS_ERR, MQ_RQ_IN_FLIGHT, REQ_FUA, REQ_OP_DISCARD, REQ_OP_FLUSH,
  REQ_OP_READ, REQ_OP_WRITE, SCSI_DISK0_MAJOR, type BlkMqHwCtx, type BlkMqQueueData, type BlkMqTagSet, type Gendisk,
  type HdGeometry, type Request, type Scatterlist, type blk_status_t,
} from '../../linux-kapi/index.js';
import {
  ASC, OCS, PRDT, SAI_READ_CAPACITY_16, SCSI_OP, SCSI_STATUS, SENSE_KEY, UPIU, UPIU_FLAGS, UPIU_RESPONSE, UPIU_TC, UTP_DD,
  WLUN,
} from '../../devices/ufs/ufs.regs.js';
import {
  ucdOf, ufshcd_abort, ufshcd_commit_doorbell, ufshcd_exec_scsi, ufshcd_send_command, UFS_MAX_PRDT, type UfsHba,
} from './ufshcd.js';
import { be16, be32, commandUpiu, ocsName, prdtEntry, setBe16, setBe32, UCD_PRDT_OFF, UCD_RSP_OFF, utrdOcs, utrdPrepare } from './ufs-upiu.js';

/** SCSI's default command timeout (sd: SD_TIMEOUT = 30 s). */
const SD_TIMEOUT_MS = 30_000;
/** ufshcd: at most 1 MiB per command (host->max_sectors). */
const UFS_MAX_SECTORS = 2048;
const MAX_BUSY_RETRIES = 5;
/** Internal status: retry the command later (device BUSY / TASK SET FULL). */
const STS_REQUEUE = -1;

export interface UfsLu {
  readonly hba: UfsHba;
  readonly lun: number;
  readonly index: number;
  readonly name: string;
  readonly blockSize: number;
  readonly blocks: number;
  /** 512-byte sectors per logical block. */
  readonly secPerBlock: number;
  readonly vendor: string;
  readonly product: string;
  readonly rev: string;
  disk: Gendisk | null;
}

/** Per-request driver data (blk_mq_rq_to_pdu): the scatterlist, the mapping, the outcome. */
class UfsCmd {
  readonly sgl: Scatterlist[] = [];
  readonly cdb = new Uint8Array(16);
  nents = 0;
  dir = DMA_NONE;
  status: blk_status_t = BLK_STS_OK;
  busyRetries = 0;
  constructor(readonly ucd: Uint8Array) { sg_init_table(this.sgl, UFS_MAX_PRDT); }
}

export interface UfsScsiHost {
  readonly set: BlkMqTagSet;
  readonly lus: UfsLu[];
}

// ---- disk names (sd_format_disk_name, the sd_index_ida) ---------------------------------------

/**
 * Disk indexes in use, per driver incarnation: in IC0 a restarted container shares this module
 * with its crashed predecessor, whose disks never got removed, so the numbering must start afresh
 * with the new incarnation's DriverEnv (the carried-over /dev/sda is then re-attached).
 */
const idas = new WeakMap<object, Set<number>>();
function indexesOf(hba: UfsHba): Set<number> {
  let s = idas.get(hba.dev.env);
  if (!s) idas.set(hba.dev.env, s = new Set());
  return s;
}
function ida_alloc(used: Set<number>): number {
  let i = 0;
  while (used.has(i)) i++;
  used.add(i);
  return i;
}

/** sd_format_disk_name("sd", index): sda..sdz, sdaa..sdzz, sdaaa... */
export function sd_format_disk_name(prefix: string, index: number): string {
  let name = '';
  let i = index;
  do {
    name = String.fromCharCode(97 + (i % 26)) + name;
    i = Math.floor(i / 26) - 1;
  } while (i >= 0);
  return prefix + name;
}

// ---- CDBs -------------------------------------------------------------------------------------

function rwCdb(cdb: Uint8Array, write: boolean, lba: number, blocks: number, fua: boolean): void {
  cdb.fill(0);
  if (lba <= 0xffffffff && blocks <= 0xffff) {
    cdb[0] = write ? SCSI_OP.WRITE_10 : SCSI_OP.READ_10;
    setBe32(cdb, 2, lba);
    setBe16(cdb, 7, blocks);
  } else {
    cdb[0] = write ? SCSI_OP.WRITE_16 : SCSI_OP.READ_16;
    setBe32(cdb, 2, Math.floor(lba / 0x1_0000_0000));
    setBe32(cdb, 6, lba % 0x1_0000_0000);
    setBe32(cdb, 10, blocks);
  }
  if (fua) cdb[1] = 0x08;
}

const cdb6 = (op: number, b1 = 0, b2 = 0, alloc = 0): Uint8Array => Uint8Array.of(op, b1, b2, (alloc >> 8) & 0xff, alloc & 0xff, 0);

const SENSE_KEYS = Object.fromEntries(Object.entries(SENSE_KEY).map(([k, v]) => [v, k])) as Record<number, string>;
const ASC_NAMES = new Map(Object.entries(ASC).map(([k, [a, q]]) => [(a << 8) | q, k]));

/** "ILLEGAL_REQUEST asc 0x21 ascq 0x00 (LBA_OUT_OF_RANGE)" from fixed-format sense data. */
export function describeSense(sense: Uint8Array): string {
  if (sense.length < 14) return 'no sense data';
  const key = sense[2]! & 0x0f, asc = sense[12]!, ascq = sense[13]!;
  const name = ASC_NAMES.get((asc << 8) | ascq);
  return `sense key ${SENSE_KEYS[key] ?? key} asc 0x${asc.toString(16).padStart(2, '0')} ascq 0x${ascq.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}`;
}

// ---- blk-mq ops ------------------------------------------------------------------------------

function ufs_queue_rq(hctx: BlkMqHwCtx, bd: BlkMqQueueData): blk_status_t {
  const rq = bd.rq;
  const lu = hctx.queue.queuedata as UfsLu;
  const hba = lu.hba;
  if (hba.state !== 'operational') return BLK_STS_IOERR;
  const cmd = blk_mq_rq_to_pdu<UfsCmd>(rq);
  const tag = rq.tag;
  const ucd = cmd.ucd;
  const op = req_op(rq);
  let dd: number = UTP_DD.NONE, flags = 0, edtl = 0, prdtl = 0;
  switch (op) {
    case REQ_OP_READ:
    case REQ_OP_WRITE: {
      const write = op === REQ_OP_WRITE;
      const bytes = blk_rq_bytes(rq);
      const lba = blk_rq_pos(rq) / lu.secPerBlock;
      const blocks = bytes / lu.blockSize;
      if (!Number.isInteger(lba) || !Number.isInteger(blocks) || blocks === 0) {
        dev_err(hba.dev, `[${lu.name}] unaligned request: sector ${blk_rq_pos(rq)}, ${bytes} bytes`);
        return BLK_STS_IOERR;
      }
      const nents = blk_rq_map_sg(hctx.queue, rq, cmd.sgl);
      const dir = write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
      // A successful READ overwrites every byte, so the buffer's old contents need not be copied
      // into the bounce slots first (Linux's swiotlb does copy them, for devices that write
      // less; a failed read's data is discarded here anyway).
      if (nents === 0 || dma_map_sg_attrs(hba.dev, cmd.sgl, nents, dir, write ? 0 : DMA_ATTR_SKIP_CPU_SYNC) === 0) {
        if (hba.doorbell) ufshcd_commit_doorbell(hba);
        return BLK_STS_RESOURCE;
      }
      cmd.nents = nents;
      cmd.dir = dir;
      for (let i = 0; i < nents; i++) {
        const sg = cmd.sgl[i]!;
        prdtEntry(ucd, UCD_PRDT_OFF, i, sg.dma_address, sg.dma_length);
      }
      rwCdb(cmd.cdb, write, lba, blocks, (rq.cmd_flags & REQ_FUA) !== 0);
      dd = write ? UTP_DD.HOST_TO_DEVICE : UTP_DD.DEVICE_TO_HOST;
      flags = write ? UPIU_FLAGS.WRITE : UPIU_FLAGS.READ;
      edtl = bytes;
      prdtl = nents;
      break;
    }
    case REQ_OP_FLUSH:
      cmd.cdb.fill(0);
      cmd.cdb[0] = SCSI_OP.SYNCHRONIZE_CACHE_10;
      break;
    case REQ_OP_DISCARD: {
      // UNMAP with one block descriptor; the parameter list lives in this tag's scratch area.
      const lba = blk_rq_pos(rq) / lu.secPerBlock;
      const blocks = blk_rq_bytes(rq) / lu.blockSize;
      const off = tag * 64;
      const p = hba.scratch.cpu_addr.subarray(off, off + 24);
      p.fill(0);
      setBe16(p, 0, 22);
      setBe16(p, 2, 16);
      setBe32(p, 8, Math.floor(lba / 0x1_0000_0000));
      setBe32(p, 12, lba % 0x1_0000_0000);
      setBe32(p, 16, blocks);
      cmd.cdb.fill(0);
      cmd.cdb[0] = SCSI_OP.UNMAP;
      setBe16(cmd.cdb, 7, 24);
      prdtEntry(ucd, UCD_PRDT_OFF, 0, hba.scratch.dma_handle + off, 24);
      dd = UTP_DD.HOST_TO_DEVICE;
      flags = UPIU_FLAGS.WRITE;
      edtl = 24;
      prdtl = 1;
      break;
    }
    default:
      return BLK_STS_NOTSUPP;
  }
  utrdPrepare(hba.utrl.cpu_addr, tag, dd, prdtl);
  commandUpiu(ucd, 0, lu.lun, tag, flags, edtl, cmd.cdb);
  ucd[UCD_RSP_OFF + UPIU.TYPE] = 0; // a missing response is seen as such
  cmd.status = BLK_STS_OK;
  blk_mq_start_request(rq);
  ufshcd_send_command(hba, tag, bd.last);
  return BLK_STS_OK;
}

/** ufshcd_transfer_rsp_status + the SCSI result: OCS, response UPIU, SCSI status, sense. */
function rspStatus(lu: UfsLu, rq: Request, cmd: UfsCmd): blk_status_t {
  const hba = lu.hba;
  const what = (): string => `[${lu.name}] tag ${rq.tag} ${req_op(rq) === REQ_OP_READ ? 'READ' : req_op(rq) === REQ_OP_WRITE ? 'WRITE' : `op ${req_op(rq)}`} sector ${blk_rq_pos(rq)}`;
  const ocs = utrdOcs(hba.utrl.cpu_addr, rq.tag);
  if (ocs !== OCS.SUCCESS) {
    hba.errors.ocs++;
    dev_err(hba.dev, `${what()}: OCS ${ocsName(ocs)}`);
    return BLK_STS_IOERR;
  }
  const rsp = cmd.ucd;
  const type = rsp[UCD_RSP_OFF + UPIU.TYPE]! & 0x3f;
  if (type !== UPIU_TC.RESPONSE) {
    dev_err(hba.dev, `${what()}: unexpected response UPIU 0x${type.toString(16)}`);
    return BLK_STS_IOERR;
  }
  const status = rsp[UCD_RSP_OFF + UPIU.STATUS]!;
  if (status === SCSI_STATUS.GOOD) {
    if (rsp[UCD_RSP_OFF + UPIU.RESPONSE] === UPIU_RESPONSE.TARGET_SUCCESS) return BLK_STS_OK;
    dev_err(hba.dev, `${what()}: target failure with GOOD status`);
    return BLK_STS_IOERR;
  }
  if ((status === SCSI_STATUS.BUSY || status === SCSI_STATUS.TASK_SET_FULL) && cmd.busyRetries < MAX_BUSY_RETRIES) return STS_REQUEUE;
  if (status === SCSI_STATUS.CHECK_CONDITION) {
    const len = Math.min(be16(rsp, UCD_RSP_OFF + UPIU.SENSE_LEN), 18);
    const sense = rsp.subarray(UCD_RSP_OFF + UPIU.SENSE, UCD_RSP_OFF + UPIU.SENSE + len);
    dev_err(hba.dev, `${what()}: CHECK CONDITION, ${describeSense(sense)}`);
  } else {
    dev_err(hba.dev, `${what()}: SCSI status 0x${status.toString(16)}`);
  }
  return BLK_STS_IOERR;
}

function unmap(hba: UfsHba, cmd: UfsCmd): void {
  if (cmd.nents === 0) return;
  dma_unmap_sg(hba.dev, cmd.sgl, cmd.nents, cmd.dir);
  cmd.nents = 0;
}

/** blk_mq_ops.complete (softirq): unmap (the bounced data lands in the request's pages), end. */
function ufs_complete(rq: Request): void {
  const lu = rq.q!.queuedata as UfsLu;
  const cmd = blk_mq_rq_to_pdu<UfsCmd>(rq);
  unmap(lu.hba, cmd);
  if (cmd.status === STS_REQUEUE) {
    cmd.busyRetries++;
    blk_mq_requeue_request(rq, false);
    blk_mq_delay_kick_requeue_list(rq.q!, 3);
    return;
  }
  cmd.busyRetries = 0;
  blk_mq_end_request(rq, cmd.status);
}

/**
 * blk_mq_ops.timeout (ufshcd_eh_timed_out + ufshcd_abort): a command the controller still holds
 * is aborted (ABORT TASK, UTRLCLR); one it finished but whose completion was lost is just
 * failed. Either way the request ends with BLK_STS_TIMEOUT.
 */
async function ufs_timeout(rq: Request): Promise<number> {
  const lu = rq.q!.queuedata as UfsLu;
  const hba = lu.hba;
  const cmd = blk_mq_rq_to_pdu<UfsCmd>(rq);
  const bit = (1 << rq.tag) >>> 0;
  if (hba.outstanding & bit) {
    dev_err(hba.dev, `[${lu.name}] tag ${rq.tag} sector ${blk_rq_pos(rq)} timed out: aborting it`);
    await ufshcd_abort(hba, lu.lun, rq.tag);
    if (blk_mq_rq_state(rq) !== MQ_RQ_IN_FLIGHT) return BLK_EH_DONE; // it completed meanwhile
  } else {
    dev_err(hba.dev, `[${lu.name}] tag ${rq.tag} sector ${blk_rq_pos(rq)} timed out: the controller had completed it, its completion was lost`);
  }
  unmap(hba, cmd);
  blk_mq_end_request(rq, BLK_STS_TIMEOUT);
  return BLK_EH_DONE;
}

/** sd_getgeo (scsicam_bios_param's fallback geometry). */
function sd_getgeo(disk: Gendisk, geo: HdGeometry): number {
  const cap = get_capacity(disk);
  const [heads, sectors] = cap < 1 << 21 ? [64, 32] : [255, 63];
  geo.heads = heads;
  geo.sectors = sectors;
  geo.cylinders = Math.min(0xffff, Math.floor(cap / (heads * sectors)));
  geo.start = 0;
  return 0;
}

// ---- scan --------------------------------------------------------------------------------------

interface LuInfo {
  lun: number; vendor: string; product: string; rev: string; blocks: number; blockSize: number;
  lbpme: boolean; maxXferBlocks: number; optXferBlocks: number; maxUnmapBlocks: number; unmapGranularity: number;
  wce: boolean; fua: boolean; wp: boolean;
}

const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, to)).trim();

/** scsi_probe_lun + sd_revalidate_disk for one LU; null when it is not a usable disk. */
async function probeLu(hba: UfsHba, lun: number): Promise<LuInfo | null> {
  const inq = await ufshcd_exec_scsi(hba, lun, cdb6(SCSI_OP.INQUIRY, 0, 0, 96), { dataIn: 96 });
  if (inq.err || inq.status !== SCSI_STATUS.GOOD || inq.data.length < 36) { dev_err(hba.dev, `LU ${lun}: INQUIRY failed`); return null; }
  if (inq.data[0]! >> 5 !== 0 || (inq.data[0]! & 0x1f) !== 0) { dev_info(hba.dev, `LU ${lun}: not a disk (peripheral 0x${inq.data[0]!.toString(16)})`); return null; }
  let ready = false;
  for (let i = 0; i < 3 && !ready; i++) {
    const tur = await ufshcd_exec_scsi(hba, lun, cdb6(SCSI_OP.TEST_UNIT_READY));
    ready = tur.err === 0 && tur.status === SCSI_STATUS.GOOD;
    if (!ready && tur.status === SCSI_STATUS.CHECK_CONDITION && (tur.sense[2]! & 0xf) !== SENSE_KEY.UNIT_ATTENTION) {
      dev_err(hba.dev, `LU ${lun}: not ready: ${describeSense(tur.sense)}`);
      return null;
    }
  }
  if (!ready) { dev_err(hba.dev, `LU ${lun}: TEST UNIT READY failed`); return null; }
  const rc = new Uint8Array(16);
  rc[0] = SCSI_OP.SERVICE_ACTION_IN_16;
  rc[1] = SAI_READ_CAPACITY_16;
  setBe32(rc, 10, 32);
  const cap = await ufshcd_exec_scsi(hba, lun, rc, { dataIn: 32 });
  if (cap.err || cap.status !== SCSI_STATUS.GOOD || cap.data.length < 32) { dev_err(hba.dev, `LU ${lun}: READ CAPACITY(16) failed`); return null; }
  const blocks = be32(cap.data, 0) * 0x1_0000_0000 + be32(cap.data, 4) + 1;
  const blockSize = be32(cap.data, 8);
  if (blockSize < 512 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) { dev_err(hba.dev, `LU ${lun}: unsupported block size ${blockSize}`); return null; }
  const info: LuInfo = {
    lun, vendor: ascii(inq.data, 8, 16), product: ascii(inq.data, 16, 32), rev: ascii(inq.data, 32, 36), blocks, blockSize,
    lbpme: (cap.data[14]! & 0x80) !== 0, maxXferBlocks: 0, optXferBlocks: 0, maxUnmapBlocks: 0, unmapGranularity: 1,
    wce: false, fua: false, wp: false,
  };
  const vpd = await ufshcd_exec_scsi(hba, lun, cdb6(SCSI_OP.INQUIRY, 0x01, 0xb0, 64), { dataIn: 64 });
  if (!vpd.err && vpd.status === SCSI_STATUS.GOOD && vpd.data.length >= 32 && vpd.data[1] === 0xb0) {
    info.maxXferBlocks = be32(vpd.data, 8);
    info.optXferBlocks = be32(vpd.data, 12);
    info.maxUnmapBlocks = be32(vpd.data, 20);
    info.unmapGranularity = Math.max(1, be32(vpd.data, 28));
  }
  const ms = new Uint8Array(10);
  ms[0] = SCSI_OP.MODE_SENSE_10;
  ms[1] = 0x08; // DBD
  ms[2] = 0x08; // caching page, current values
  setBe16(ms, 7, 64);
  const mode = await ufshcd_exec_scsi(hba, lun, ms, { dataIn: 64 });
  if (!mode.err && mode.status === SCSI_STATUS.GOOD && mode.data.length >= 8) {
    const bdl = be16(mode.data, 6);
    const page = 8 + bdl;
    info.wp = (mode.data[3]! & 0x80) !== 0;
    info.fua = (mode.data[3]! & 0x10) !== 0;
    if (mode.data.length > page + 2 && (mode.data[page]! & 0x3f) === 0x08) info.wce = (mode.data[page + 2]! & 0x04) !== 0;
  }
  return info;
}

function sizeText(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB/${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** The LUs the device reports (REPORT LUNS to the REPORT LUNS well-known LU). */
async function reportLuns(hba: UfsHba): Promise<number[] | null> {
  const cdb = new Uint8Array(12);
  cdb[0] = SCSI_OP.REPORT_LUNS;
  setBe32(cdb, 6, 4096);
  const r = await ufshcd_exec_scsi(hba, WLUN.REPORT_LUNS, cdb, { dataIn: 4096 });
  if (r.err || r.status !== SCSI_STATUS.GOOD || r.data.length < 8) { dev_err(hba.dev, 'REPORT LUNS failed'); return null; }
  const n = Math.min(be32(r.data, 0), r.data.length - 8) / 8;
  const luns: number[] = [];
  for (let i = 0; i < n; i++) if (r.data[8 + i * 8] === 0) luns.push(r.data[8 + i * 8 + 1]!);
  return luns;
}

/**
 * Scans the device's LUs and adds one disk per usable LU, sharing one tag set of nutrs - 1 tags.
 * Returns the SCSI host or a negative errno.
 */
export async function ufs_sd_probe(hba: UfsHba): Promise<UfsScsiHost | number> {
  const luns = await reportLuns(hba);
  if (!luns) return -EIO;
  const set: BlkMqTagSet = {
    nr_hw_queues: 1, queue_depth: Math.min(hba.nutrs - 1, hba.device.queueDepth || hba.nutrs - 1), cmd_size: 0,
    timeout: SD_TIMEOUT_MS, driver_data: hba,
    ops: {
      queue_rq: ufs_queue_rq, commit_rqs: (hctx) => ufshcd_commit_doorbell((hctx.queue.queuedata as UfsLu).hba),
      complete: ufs_complete, timeout: ufs_timeout,
      init_request: (s, rq) => { blk_mq_set_pdu(rq, new UfsCmd(ucdOf(s.driver_data as UfsHba, rq.tag))); return 0; },
    },
  };
  const e = blk_mq_alloc_tag_set(set);
  if (e) return e;
  const host: UfsScsiHost = { set, lus: [] };
  hba.ioComplete = (slot) => {
    const rq = blk_mq_tag_to_rq(set.tags, slot);
    if (!rq || blk_mq_rq_state(rq) !== MQ_RQ_IN_FLIGHT) { dev_err(hba.dev, `completion of tag ${slot}, which is not in flight`); return; }
    const cmd = blk_mq_rq_to_pdu<UfsCmd>(rq);
    cmd.status = rspStatus(rq.q!.queuedata as UfsLu, rq, cmd);
    if (!blk_should_fake_timeout(rq.q)) blk_mq_complete_request(rq);
  };
  for (const lun of luns) {
    const info = await probeLu(hba, lun);
    if (!info) continue;
    const used = indexesOf(hba);
    const index = ida_alloc(used);
    const name = sd_format_disk_name('sd', index);
    const secPerBlock = info.blockSize / 512;
    const lu: UfsLu = {
      hba, lun, index, name, blockSize: info.blockSize, blocks: info.blocks, secPerBlock,
      vendor: info.vendor, product: info.product, rev: info.rev, disk: null,
    };
    const maxHw = Math.min(UFS_MAX_SECTORS, info.maxXferBlocks ? info.maxXferBlocks * secPerBlock : UFS_MAX_SECTORS);
    const disk = blk_mq_alloc_disk(set, {
      logical_block_size: info.blockSize, physical_block_size: info.blockSize, io_min: info.blockSize,
      io_opt: info.optXferBlocks * info.blockSize, max_hw_sectors: maxHw, max_segments: UFS_MAX_PRDT,
      max_segment_size: PRDT.MAX_BYTES,
      features: (info.wce ? BLK_FEAT_WRITE_CACHE : 0) | (info.wce && info.fua ? BLK_FEAT_FUA : 0),
      max_hw_discard_sectors: info.lbpme ? Math.min(info.maxUnmapBlocks || 0xffffffff, 0xffffffff / secPerBlock) * secPerBlock : 0,
      discard_granularity: info.unmapGranularity * info.blockSize,
    }, lu);
    if (IS_ERR(disk)) { dev_err(hba.dev, `LU ${lun}: cannot allocate a disk (${disk})`); used.delete(index); continue; }
    disk.major = SCSI_DISK0_MAJOR;
    disk.first_minor = 16 * index;
    disk.minors = 16;
    disk.disk_name = name;
    disk.fops = { getgeo: sd_getgeo };
    set_capacity(disk, info.blocks * secPerBlock);
    set_disk_ro(disk, info.wp);
    lu.disk = disk;
    const prefix = `sd 0:0:0:${lun}: [${name}]`;
    dev_info(hba.dev, `${prefix} ${info.blocks} ${info.blockSize}-byte logical blocks: (${sizeText(info.blocks * info.blockSize)})`);
    dev_info(hba.dev, `${prefix} Write Protect is ${info.wp ? 'on' : 'off'}`);
    dev_info(hba.dev, `${prefix} Write cache: ${info.wce ? 'enabled' : 'disabled'}, read cache: enabled, ${info.fua ? 'supports DPO and FUA' : "doesn't support DPO or FUA"}`);
    const r = await device_add_disk(hba.dev, disk, null);
    if (r) { dev_err(hba.dev, `${prefix} add_disk failed: ${r}`); put_disk(disk); used.delete(index); continue; }
    dev_info(hba.dev, `${prefix} Attached SCSI disk (${info.vendor} ${info.product} ${info.rev})`);
    host.lus.push(lu);
  }
  return host;
}

/** sd_remove for every disk, then the tag set goes. */
export async function ufs_sd_remove(host: UfsScsiHost): Promise<void> {
  for (const lu of host.lus) {
    if (!lu.disk) continue;
    await del_gendisk(lu.disk);
    put_disk(lu.disk);
    indexesOf(lu.hba).delete(lu.index);
  }
  host.lus.length = 0;
  blk_mq_free_tag_set(host.set);
}

