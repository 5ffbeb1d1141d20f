/**
 * @module nbd/connection
 * One NBD client connection: the fixed newstyle handshake, then the transmission loop.
 *
 * The loop reads a request, starts it, and goes on reading: up to `maxInFlight` requests (and
 * `maxInFlightBytes` of READ/WRITE data) run at once against the device, and each is answered
 * with a simple reply as soon as it completes, so replies may overtake each other (the client
 * matches them by handle). A bad request gets an NBD error reply; only a protocol violation
 * (bad magic, unknown client flags, an oversized option) ends the connection. When the client
 * goes away, the requests in flight still run to completion (their replies are dropped) before
 * the device file is closed.
 *
 * @example
 * const conn = new NbdConnection(socket, exportConfig);
 * await conn.done; // after NBD_CMD_DISC, a hard disconnect or shutdown()
 */
import type { Socket } from 'node:net';
import { SystemError } from '../errors/hm-error.js';
import type { IFileHandle, IVfs } from '../vfs/api.js';
import { O, type Credentials } from '../vfs/types.js';
import { Budget } from './budget.js';
import {
  CLIENT_FLAG, commandName, decodeInfoRequest, decodeOptionHeader, decodeRequest, encodeExportNameReply,
  encodeGreeting, encodeInfoBlockSize, encodeInfoExport, encodeInfoString, encodeOptionError, encodeOptionReply,
  encodeServerEntry, encodeSimpleReply, HANDSHAKE_FLAG, NBD_CMD, NBD_CMD_FLAG, NBD_ERR, NBD_INFO, NBD_OPT,
  NBD_OPTS_MAGIC, NBD_REP, NBD_REQUEST_MAGIC, nbdErrorOf, optionName, OPTION_HEADER_BYTES, REQUEST_BYTES,
  TX_FLAG, type BlockSizes, type Request,
} from './protocol.js';
import { StreamClosed, StreamReader } from './reader.js';

/** Longest option data we accept; more is taken as abuse and ends the connection. */
export const MAX_OPTION_BYTES = 64 * 1024;
/** Zero-filled buffer TRIM and WRITE_ZEROES write from (never modified). */
const ZERO_CHUNK = 1024 * 1024;
const zeroes = Buffer.alloc(ZERO_CHUNK);
/** After a clean end (DISC, shutdown), how long the client gets to close its side once our
 * replies are flushed, and how long at most we wait for that flush. */
const LINGER_MS = 1000;
const FLUSH_CAP_MS = 30_000;

/** What is exported and how: shared by the server's connections. */
export interface ExportConfig {
  vfs: IVfs;
  /** Device node in the VFS, e.g. /dev/sda. */
  path: string;
  /** Export name clients ask for ('' always selects it too). */
  name: string;
  description: string;
  readOnly: boolean;
  blockSizes: BlockSizes;
  maxInFlight: number;
  maxInFlightBytes: number;
  handshakeTimeoutMs: number;
  cred?: Credentials;
  stats: NbdStats;
  log: (message: string) => void;
}

/** Counters over every connection of a server. */
export interface NbdStats {
  connections: number;
  activeConnections: number;
  /** Requests served, by command name (READ, WRITE, ...). */
  requests: Record<string, number>;
  /** Requests answered with an error. */
  errors: number;
  bytesRead: number;
  bytesWritten: number;
  /** Replies not sent because the client had gone. */
  droppedReplies: number;
}

export function emptyStats(): NbdStats {
  return { connections: 0, activeConnections: 0, requests: {}, errors: 0, bytesRead: 0, bytesWritten: 0, droppedReplies: 0 };
}

/** The client broke a MUST of the protocol: the connection is dropped (hard disconnect). */
class ProtocolViolation extends Error {}

/** The export as opened for this connection. */
interface OpenExport {
  fh: IFileHandle;
  size: number;
  txFlags: number;
  readOnly: boolean;
}

type OptionOutcome = OpenExport | 'continue' | 'abort';

const WRITE_COMMANDS: ReadonlySet<number> = new Set([NBD_CMD.WRITE, NBD_CMD.TRIM, NBD_CMD.WRITE_ZEROES]);
const KNOWN_COMMANDS: ReadonlySet<number> = new Set([
  NBD_CMD.READ, NBD_CMD.WRITE, NBD_CMD.FLUSH, NBD_CMD.TRIM, NBD_CMD.CACHE, NBD_CMD.WRITE_ZEROES,
]);

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class NbdConnection {
  /** Resolves when the connection is over and the device file closed; never rejects. */
  readonly done: Promise<void>;
  /** Set when `done` resolves: the socket is ending (or gone) and may be left to close itself. */
  finished = false;
  private readonly reader: StreamReader;
  private readonly slots: Budget;
  private readonly bytes: Budget;
  private readonly inflight = new Set<Promise<void>>();
  private readonly peer: string;
  private exp?: OpenExport;
  private opening?: Promise<OpenExport>;
  private phase: 'handshake' | 'transmission' = 'handshake';
  private noZeroes = false;
  /** The client asked for the block size constraints, so it is held to them. */
  private strictAlignment = false;
  private stopping = false;
  /** End with end() (flushing replies) rather than destroy(). */
  private graceful = false;
  private fsyncSupported = true;
  private draining?: Promise<void>;

  constructor(private readonly sock: Socket, private readonly cfg: ExportConfig) {
    this.peer = sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : 'unix socket client';
    this.reader = new StreamReader(sock);
    this.slots = new Budget(cfg.maxInFlight);
    this.bytes = new Budget(cfg.maxInFlightBytes);
    sock.on('error', () => undefined); // a reset by the client; 'close' follows
    sock.setNoDelay(true);
    cfg.stats.connections++;
    cfg.stats.activeConnections++;
    this.done = this.run();
  }

  /** Stops taking requests: those in flight complete and are answered, then the socket ends. */
  shutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.phase === 'handshake') {
      this.sock.destroy();
      return;
    }
    this.graceful = true;
    this.reader.abort(new StreamClosed('server shutting down'));
    this.slots.flush();
    this.bytes.flush();
  }

  /** Drops the connection at once (requests in flight still complete, unanswered). */
  destroy(): void {
    this.stopping = true;
    this.graceful = false;
    this.sock.destroy();
  }

  private async run(): Promise<void> {
    try {
      this.sock.setTimeout(this.cfg.handshakeTimeoutMs, () => {
        this.cfg.log(`nbd: ${this.peer}: handshake timed out`);
        this.sock.destroy();
      });
      const exp = await this.handshake();
      this.sock.setTimeout(0);
      if (exp !== undefined) await this.transmit(exp);
    } catch (e) {
      if (e instanceof ProtocolViolation) {
        this.graceful = false;
        this.cfg.log(`nbd: ${this.peer}: ${e.message}; disconnecting`);
      } else if (!(e instanceof StreamClosed)) {
        this.graceful = false;
        this.cfg.log(`nbd: ${this.peer}: ${messageOf(e)}`);
      }
    } finally {
      await this.settle();
      await this.closeExport();
      this.endSocket();
      this.cfg.stats.activeConnections--;
      this.finished = true;
    }
  }

  // --- handshake ------------------------------------------------------------------------------

  /** Runs option haggling; the export to serve, or undefined when the session ended there. */
  private async handshake(): Promise<OpenExport | undefined> {
    this.write(encodeGreeting(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES));
    const clientFlags = (await this.reader.read(4)).readUInt32BE(0);
    if ((clientFlags & ~(CLIENT_FLAG.FIXED_NEWSTYLE | CLIENT_FLAG.NO_ZEROES)) !== 0) {
      throw new ProtocolViolation(`unknown client flags 0x${clientFlags.toString(16)}`);
    }
    this.noZeroes = (clientFlags & CLIENT_FLAG.NO_ZEROES) !== 0;
    while (!this.stopping) {
      const h = decodeOptionHeader(await this.reader.read(OPTION_HEADER_BYTES));
      if (h.magic !== NBD_OPTS_MAGIC) throw new ProtocolViolation('bad option magic');
      if (h.length > MAX_OPTION_BYTES) throw new ProtocolViolation(`option data of ${h.length} bytes`);
      const data = await this.reader.read(h.length);
      const outcome = await this.option(h.option, data);
      if (outcome === 'abort') return undefined;
      if (outcome !== 'continue') return outcome;
    }
    return undefined;
  }

  private async option(opt: number, data: Buffer): Promise<OptionOutcome> {
    switch (opt) {
      case NBD_OPT.EXPORT_NAME: {
        const name = data.toString('utf8');
        // This option cannot fail with a reply: the protocol says to drop the connection.
        if (!this.matches(name)) throw new ProtocolViolation(`unknown export '${name}'`);
        let exp: OpenExport;
        try {
          exp = await this.openExport();
        } catch (e) {
          throw new ProtocolViolation(`cannot open ${this.cfg.path}: ${messageOf(e)}`);
        }
        this.write(encodeExportNameReply(exp.size, exp.txFlags, this.noZeroes));
        return exp;
      }
      case NBD_OPT.ABORT:
        this.write(encodeOptionReply(opt, NBD_REP.ACK));
        this.graceful = true;
        return 'abort';
      case NBD_OPT.LIST:
        if (data.length !== 0) {
          this.write(encodeOptionError(opt, NBD_REP.ERR_INVALID, 'NBD_OPT_LIST takes no data'));
        } else {
          this.write(encodeOptionReply(opt, NBD_REP.SERVER, encodeServerEntry(this.cfg.name, this.cfg.description)));
          this.write(encodeOptionReply(opt, NBD_REP.ACK));
        }
        return 'continue';
      case NBD_OPT.INFO:
      case NBD_OPT.GO:
        return this.info(opt, data);
      default:
        // STARTTLS, STRUCTURED_REPLY, meta contexts, extended headers, and unknown options.
        this.write(encodeOptionError(opt, NBD_REP.ERR_UNSUP, `${optionName(opt)} is not supported by this server`));
        return 'continue';
    }
  }

  /** NBD_OPT_INFO and NBD_OPT_GO: the export's size and flags, name, description, block sizes. */
  private async info(opt: number, data: Buffer): Promise<OptionOutcome> {
    const req = decodeInfoRequest(data);
    if (typeof req === 'string') {
      this.write(encodeOptionError(opt, NBD_REP.ERR_INVALID, req));
      return 'continue';
    }
    if (!this.matches(req.name)) {
      this.write(encodeOptionError(opt, NBD_REP.ERR_UNKNOWN, `no export named '${req.name}' (this server exports '${this.cfg.name}')`));
      return 'continue';
    }
    let exp: OpenExport;
    try {
      exp = await this.openExport();
    } catch (e) {
      const code = codeOf(e);
      const type = code === 'EACCES' || code === 'EPERM' ? NBD_REP.ERR_POLICY : NBD_REP.ERR_UNKNOWN;
      this.write(encodeOptionError(opt, type, `cannot open ${this.cfg.path}: ${messageOf(e)}`));
      return 'continue';
    }
    this.write(encodeOptionReply(opt, NBD_REP.INFO, encodeInfoExport(exp.size, exp.txFlags)));
    const asked = new Set(req.infos);
    if (asked.has(NBD_INFO.NAME)) this.write(encodeOptionReply(opt, NBD_REP.INFO, encodeInfoString(NBD_INFO.NAME, this.cfg.name)));
    if (asked.has(NBD_INFO.DESCRIPTION)) {
      this.write(encodeOptionReply(opt, NBD_REP.INFO, encodeInfoString(NBD_INFO.DESCRIPTION, this.cfg.description)));
    }
    // Sent whether asked or not (the protocol allows it); enforced only on clients that asked.
    this.write(encodeOptionReply(opt, NBD_REP.INFO, encodeInfoBlockSize(this.cfg.blockSizes)));
    if (asked.has(NBD_INFO.BLOCK_SIZE)) this.strictAlignment = true;
    this.write(encodeOptionReply(opt, NBD_REP.ACK));
    return opt === NBD_OPT.GO ? exp : 'continue';
  }

  private matches(name: string): boolean {
    return name === '' || name === this.cfg.name;
  }

  /** Opens the device once per connection (INFO then GO reuse it). */
  private openExport(): Promise<OpenExport> {
    if (this.exp) return Promise.resolve(this.exp);
    this.opening ??= this.doOpen().finally(() => { this.opening = undefined; });
    return this.opening;
  }

  private async doOpen(): Promise<OpenExport> {
    const { vfs, path, cred } = this.cfg;
    let readOnly = this.cfg.readOnly;
    let fh: IFileHandle;
    try {
      fh = await vfs.open(path, readOnly ? O.RDONLY : O.RDWR, { cred });
    } catch (e) {
      const code = codeOf(e);
      if (readOnly || (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM')) throw e;
      // A node we may only read is still exported, read-only (as nbd-server does with a ro file).
      fh = await vfs.open(path, O.RDONLY, { cred });
      readOnly = true;
    }
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    let txFlags = TX_FLAG.HAS_FLAGS | TX_FLAG.SEND_FLUSH | TX_FLAG.SEND_FUA | TX_FLAG.SEND_CACHE | TX_FLAG.CAN_MULTI_CONN;
    txFlags |= readOnly ? TX_FLAG.READ_ONLY : TX_FLAG.SEND_TRIM | TX_FLAG.SEND_WRITE_ZEROES;
    this.exp = { fh, size, txFlags, readOnly };
    return this.exp;
  }

  private async closeExport(): Promise<void> {
    const exp = this.exp ?? await this.opening?.catch(() => undefined);
    this.exp = undefined;
    await exp?.fh.close().catch(() => undefined);
  }

  // --- transmission ---------------------------------------------------------------------------

  private async transmit(exp: OpenExport): Promise<void> {
    this.phase = 'transmission';
    while (!this.stopping) {
      await this.slots.acquire(1);
      if (this.stopping) {
        this.slots.release(1);
        break;
      }
      let req: Request;
      let payload: Buffer | undefined;
      let bytes = 0;
      try {
        req = decodeRequest(await this.reader.read(REQUEST_BYTES));
        if (req.magic !== NBD_REQUEST_MAGIC) throw new ProtocolViolation(`bad request magic 0x${req.magic.toString(16)}`);
        if (req.type === NBD_CMD.DISC) {
          this.slots.release(1);
          this.graceful = true;
          return;
        }
        if (req.type === NBD_CMD.READ || req.type === NBD_CMD.WRITE) {
          bytes = Math.min(req.length, this.cfg.blockSizes.maximum);
          await this.bytes.acquire(bytes);
        }
        if (req.type === NBD_CMD.WRITE) {
          // The payload follows the header whatever we think of the request.
          if (req.length <= this.cfg.blockSizes.maximum) payload = await this.reader.read(req.length);
          else await this.reader.skip(req.length);
        }
      } catch (e) {
        this.slots.release(1);
        if (bytes > 0) this.bytes.release(bytes);
        throw e;
      }
      const job = this.serve(exp, req, payload)
        .catch((e: unknown) => this.cfg.log(`nbd: ${this.peer}: ${messageOf(e)}`))
        .finally(() => {
          this.inflight.delete(job);
          this.slots.release(1);
          if (bytes > 0) this.bytes.release(bytes);
        });
      this.inflight.add(job);
    }
  }

  /** Waits until every request in flight has completed (and been answered, if possible). */
  private async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Runs one request and sends its reply; never rejects. */
  private async serve(exp: OpenExport, req: Request, payload: Buffer | undefined): Promise<void> {
    const name = commandName(req.type);
    const stats = this.cfg.stats;
    stats.requests[name] = (stats.requests[name] ?? 0) + 1;
    let error: number = this.validate(exp, req);
    let data: Buffer | undefined;
    if (error === NBD_ERR.OK) {
      try {
        data = await this.perform(exp, req, payload);
      } catch (e) {
        error = nbdErrorOf(e);
        this.cfg.log(`nbd: ${this.peer}: ${name} ${req.length}@${req.offset}: ${messageOf(e)}`);
      }
    }
    if (error !== NBD_ERR.OK) stats.errors++;
    await this.reply(req.handle, error, error === NBD_ERR.OK ? data : undefined);
  }

  /** The NBD error a request gets before it reaches the device (0 if it is fine). */
  private validate(exp: OpenExport, req: Request): number {
    const { type, flags, offset, length } = req;
    if (!KNOWN_COMMANDS.has(type)) return NBD_ERR.EINVAL;
    const allowedFlags = NBD_CMD_FLAG.FUA | (type === NBD_CMD.WRITE_ZEROES ? NBD_CMD_FLAG.NO_HOLE : 0);
    if ((flags & ~allowedFlags) !== 0) return NBD_ERR.EINVAL;
    const writes = WRITE_COMMANDS.has(type);
    if (writes && exp.readOnly) return NBD_ERR.EPERM;
    if (type === NBD_CMD.FLUSH) return offset === 0 && length === 0 ? NBD_ERR.OK : NBD_ERR.EINVAL;
    if ((type === NBD_CMD.READ || type === NBD_CMD.WRITE) && length > this.cfg.blockSizes.maximum) return NBD_ERR.EINVAL;
    if (offset > exp.size || length > exp.size - offset) return writes ? NBD_ERR.ENOSPC : NBD_ERR.EINVAL;
    const min = this.cfg.blockSizes.minimum;
    if (this.strictAlignment && (offset % min !== 0 || length % min !== 0)) return NBD_ERR.EINVAL;
    return NBD_ERR.OK;
  }

  private async perform(exp: OpenExport, req: Request, payload: Buffer | undefined): Promise<Buffer | undefined> {
    const { offset, length } = req;
    let data: Buffer | undefined;
    switch (req.type) {
      case NBD_CMD.READ:
        data = await this.readFully(exp.fh, offset, length);
        this.cfg.stats.bytesRead += length;
        return data;
      case NBD_CMD.WRITE:
        await this.writeFully(exp.fh, payload!, offset);
        this.cfg.stats.bytesWritten += length;
        break;
      case NBD_CMD.FLUSH:
        await this.flush(exp.fh);
        return undefined;
      case NBD_CMD.TRIM:
      case NBD_CMD.WRITE_ZEROES:
        // No discard call reaches devices yet: both write zeroes (TRIM may do anything).
        for (let done = 0; done < length;) {
          const step = Math.min(ZERO_CHUNK, length - done);
          await this.writeFully(exp.fh, zeroes.subarray(0, step), offset + done);
          done += step;
        }
        break;
      case NBD_CMD.CACHE:
        return undefined; // a hint; there is no server-side cache to fill
    }
    if ((req.flags & NBD_CMD_FLAG.FUA) !== 0) await this.flush(exp.fh);
    return undefined;
  }

  private async readFully(fh: IFileHandle, offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    for (let done = 0; done < length;) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead <= 0) throw new SystemError('EIO', 'read', this.cfg.path, `end of device at ${offset + done}`);
      done += bytesRead;
    }
    return buf;
  }

  private async writeFully(fh: IFileHandle, data: Buffer, offset: number): Promise<void> {
    for (let done = 0; done < data.length;) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
      if (bytesWritten <= 0) throw new SystemError('ENOSPC', 'write', this.cfg.path, `no progress at ${offset + done}`);
      done += bytesWritten;
    }
  }

  /** fsync; a device without an fsync operation (EINVAL) has nothing to flush. */
  private async flush(fh: IFileHandle): Promise<void> {
    if (!this.fsyncSupported) return;
    try {
      await fh.sync();
    } catch (e) {
      if (codeOf(e) !== 'EINVAL') throw e;
      this.fsyncSupported = false;
    }
  }

  // --- output ---------------------------------------------------------------------------------

  /** Sends a simple reply (header, then READ data), waiting if the socket's buffer is full. */
  private async reply(handle: bigint, error: number, data?: Buffer): Promise<void> {
    if (this.sock.destroyed || !this.sock.writable) {
      this.cfg.stats.droppedReplies++;
      return;
    }
    const header = encodeSimpleReply(error, handle);
    let ok: boolean;
    if (data === undefined || data.length === 0) {
      ok = this.sock.write(header);
    } else {
      this.sock.cork();
      this.sock.write(header);
      ok = this.sock.write(data);
      this.sock.uncork();
    }
    if (!ok) await this.drained();
  }

  private write(b: Buffer): void {
    if (!this.sock.destroyed && this.sock.writable) this.sock.write(b);
  }

  /** One shared wait for 'drain' (or 'close'), however many replies are waiting. */
  private drained(): Promise<void> {
    this.draining ??= new Promise<void>((resolve) => {
      const done = () => {
        this.sock.off('drain', done);
        this.sock.off('close', done);
        this.draining = undefined;
        resolve();
      };
      this.sock.on('drain', done);
      this.sock.on('close', done);
    });
    return this.draining;
  }

  private endSocket(): void {
    if (this.sock.destroyed) return;
    if (!this.graceful) {
      this.sock.destroy();
      return;
    }
    // Our replies go out first ('finish'); then the client has a moment to close its side.
    this.sock.end(() => { setTimeout(() => this.sock.destroy(), LINGER_MS).unref(); });
    setTimeout(() => this.sock.destroy(), FLUSH_CAP_MS).unref();
  }
}
