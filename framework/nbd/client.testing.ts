/**
 * @module nbd/client.testing
 * A minimal NBD client for the tests: the fixed newstyle handshake option by option, then
 * pipelined transmission requests (many in flight; replies matched by handle, in whatever order
 * they come). Simple replies only. Not part of the public API.
 *
 * @example
 * const c = await NbdTestClient.open({ port });
 * await c.go('');
 * await c.write(0, Buffer.from('hello'));
 * const data = await c.read(0, 5);
 * await c.disconnect();
 */
import { createConnection, type Socket } from 'node:net';
import {
  CLIENT_FLAG, commandName, decodeGreeting, decodeInfoReply, decodeOptionReplyHeader, decodeServerEntry,
  decodeSimpleReply, encodeClientFlags, encodeInfoRequest, encodeOption, encodeRequest, EXPORT_NAME_ZEROES,
  GREETING_BYTES, isErrorReply, NBD_CMD, NBD_INFO, NBD_OPT, NBD_REP, NBD_REP_MAGIC, NBD_SIMPLE_REPLY_MAGIC,
  OPTION_REPLY_HEADER_BYTES, SIMPLE_REPLY_BYTES, type BlockSizes, type InfoReply,
} from './protocol.js';
import { StreamReader } from './reader.js';

export type NbdTarget = { port: number; host?: string } | { socketPath: string };

/** A transmission request answered with a non-zero error. */
export class NbdRequestError extends Error {
  constructor(readonly errno: number, readonly command: string) {
    super(`${command} failed with NBD error ${errno}`);
    this.name = 'NbdRequestError';
  }
}

/** An option answered with an error reply (NBD_REP_ERR_*). */
export class NbdOptionError extends Error {
  constructor(readonly type: number, readonly option: number, readonly detail: string) {
    super(`option ${option} failed: reply 0x${type.toString(16)} ${detail}`);
    this.name = 'NbdOptionError';
  }
}

export interface OptionReply {
  option: number;
  type: number;
  data: Buffer;
}

export interface ExportInfo {
  size: number;
  txFlags: number;
  name?: string;
  description?: string;
  blockSizes?: BlockSizes;
}

interface Pending {
  type: number;
  length: number;
  resolve: (data: Buffer | undefined) => void;
  reject: (e: Error) => void;
}

export interface RequestOptions {
  flags?: number;
  offset?: number;
  length?: number;
  data?: Uint8Array;
  /** Defaults to a fresh handle. */
  handle?: bigint;
}

function connect(target: NbdTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = 'socketPath' in target
      ? createConnection(target.socketPath)
      : createConnection({ host: target.host ?? '127.0.0.1', port: target.port });
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.setNoDelay(true);
      sock.on('error', () => undefined);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

export class NbdTestClient {
  handshakeFlags = 0;
  /** Set once transmission starts. */
  export?: ExportInfo;
  /** Handles in the order their replies arrived. */
  readonly replyOrder: bigint[] = [];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private readonly reader: StreamReader;
  private readonly pending = new Map<bigint, Pending>();
  private nextHandle = 1n;
  private failure?: Error;

  private constructor(readonly sock: Socket) {
    this.reader = new StreamReader(sock);
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()));
  }

  /** Connects and reads the greeting; sends `clientFlags` (default FIXED_NEWSTYLE | NO_ZEROES). */
  static async open(target: NbdTarget, clientFlags = CLIENT_FLAG.FIXED_NEWSTYLE | CLIENT_FLAG.NO_ZEROES): Promise<NbdTestClient> {
    const c = new NbdTestClient(await connect(target));
    c.handshakeFlags = decodeGreeting(await c.reader.read(GREETING_BYTES)).handshakeFlags;
    c.sock.write(encodeClientFlags(clientFlags));
    return c;
  }

  /** Connects and enters transmission with NBD_OPT_GO (asking for the block sizes). */
  static async connect(target: NbdTarget, name = ''): Promise<NbdTestClient> {
    const c = await NbdTestClient.open(target);
    await c.go(name);
    return c;
  }

  // --- handshake ------------------------------------------------------------------------------

  /** Sends an option and collects its replies up to the final one (ACK or an error). */
  async option(option: number, data?: Uint8Array): Promise<OptionReply[]> {
    this.sock.write(encodeOption(option, data));
    const replies: OptionReply[] = [];
    while (true) {
      const h = decodeOptionReplyHeader(await this.reader.read(OPTION_REPLY_HEADER_BYTES));
      if (h.magic !== NBD_REP_MAGIC) throw new Error(`bad option reply magic 0x${h.magic.toString(16)}`);
      const body = await this.reader.read(h.length);
      replies.push({ option: h.option, type: h.type, data: body });
      if (h.type !== NBD_REP.SERVER && h.type !== NBD_REP.INFO) return replies;
    }
  }

  /** NBD_OPT_LIST: export names. */
  async list(): Promise<{ name: string; description: string }[]> {
    const replies = await this.option(NBD_OPT.LIST);
    this.throwIfError(replies);
    return replies.filter((r) => r.type === NBD_REP.SERVER).map((r) => decodeServerEntry(r.data));
  }

  async info(name = '', infos: number[] = [NBD_INFO.BLOCK_SIZE]): Promise<ExportInfo> {
    return this.infoOrGo(NBD_OPT.INFO, name, infos);
  }

  /** NBD_OPT_GO; on success the connection is in transmission. */
  async go(name = '', infos: number[] = [NBD_INFO.BLOCK_SIZE]): Promise<ExportInfo> {
    const info = await this.infoOrGo(NBD_OPT.GO, name, infos);
    this.startTransmission(info);
    return info;
  }

  /**
   * NBD_OPT_EXPORT_NAME (the old way in: no error reply possible, the server just hangs up).
   * Reads the 124 reserved zeroes too unless NO_ZEROES was agreed (open()'s default).
   */
  async exportName(name = '', noZeroes = true): Promise<ExportInfo & { zeroes?: Buffer }> {
    this.sock.write(encodeOption(NBD_OPT.EXPORT_NAME, Buffer.from(name, 'utf8')));
    const head = await this.reader.read(10);
    const info = { size: Number(head.readBigUInt64BE(0)), txFlags: head.readUInt16BE(8) };
    const zeroes = noZeroes ? undefined : await this.reader.read(EXPORT_NAME_ZEROES);
    this.startTransmission(info);
    return zeroes === undefined ? info : { ...info, zeroes };
  }

  /** NBD_OPT_ABORT: returns the reply type (ACK) and waits for the server to close. */
  async abort(): Promise<number> {
    const [reply] = await this.option(NBD_OPT.ABORT);
    await this.closed;
    return reply!.type;
  }

  private async infoOrGo(opt: number, name: string, infos: number[]): Promise<ExportInfo> {
    const replies = await this.option(opt, encodeInfoRequest({ name, infos }));
    this.throwIfError(replies);
    const info: Partial<ExportInfo> = {};
    for (const r of replies) {
      if (r.type !== NBD_REP.INFO) continue;
      const i: InfoReply = decodeInfoReply(r.data);
      if ('size' in i) { info.size = i.size; info.txFlags = i.txFlags; }
      else if ('text' in i && i.type === NBD_INFO.NAME) info.name = i.text;
      else if ('text' in i) info.description = i.text;
      else if ('minimum' in i) info.blockSizes = { minimum: i.minimum, preferred: i.preferred, maximum: i.maximum };
    }
    if (info.size === undefined) throw new Error('no NBD_INFO_EXPORT in the reply');
    return info as ExportInfo;
  }

  private throwIfError(replies: OptionReply[]): void {
    const last = replies[replies.length - 1]!;
    if (isErrorReply(last.type)) throw new NbdOptionError(last.type, last.option, last.data.toString('utf8'));
  }

  // --- transmission ---------------------------------------------------------------------------

  private startTransmission(info: ExportInfo): void {
    this.export = info;
    void this.readReplies();
  }

  private async readReplies(): Promise<void> {
    try {
      while (true) {
        const r = decodeSimpleReply(await this.reader.read(SIMPLE_REPLY_BYTES));
        if (r.magic !== NBD_SIMPLE_REPLY_MAGIC) throw new Error(`bad reply magic 0x${r.magic.toString(16)}`);
        const p = this.pending.get(r.handle);
        if (!p) throw new Error(`reply for unknown handle ${r.handle}`);
        this.pending.delete(r.handle);
        this.replyOrder.push(r.handle);
        if (r.error !== 0) {
          p.reject(new NbdRequestError(r.error, commandName(p.type)));
          continue;
        }
        p.resolve(p.type === NBD_CMD.READ ? await this.reader.read(p.length) : undefined);
      }
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    }
  }

  /** Sends one request; resolves with the READ data (or undefined), rejects with NbdRequestError. */
  request(type: number, o: RequestOptions = {}): Promise<Buffer | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const handle = o.handle ?? this.nextHandle++;
    const length = o.length ?? o.data?.length ?? 0;
    const promise = new Promise<Buffer | undefined>((resolve, reject) => {
      this.pending.set(handle, { type, length, resolve, reject });
    });
    this.sock.cork();
    this.sock.write(encodeRequest({ flags: o.flags ?? 0, type, handle, offset: o.offset ?? 0, length }));
    if (o.data !== undefined && o.data.length > 0) this.sock.write(o.data);
    this.sock.uncork();
    return promise;
  }

  /** The handle the next request will get. */
  peekHandle(): bigint { return this.nextHandle; }

  async read(offset: number, length: number, flags = 0): Promise<Buffer> {
    return (await this.request(NBD_CMD.READ, { offset, length, flags }))!;
  }

  async write(offset: number, data: Uint8Array, flags = 0): Promise<void> {
    await this.request(NBD_CMD.WRITE, { offset, data, flags });
  }

  async flush(): Promise<void> { await this.request(NBD_CMD.FLUSH); }

  async trim(offset: number, length: number, flags = 0): Promise<void> {
    await this.request(NBD_CMD.TRIM, { offset, length, flags });
  }

  async writeZeroes(offset: number, length: number, flags = 0): Promise<void> {
    await this.request(NBD_CMD.WRITE_ZEROES, { offset, length, flags });
  }

  async cache(offset: number, length: number): Promise<void> {
    await this.request(NBD_CMD.CACHE, { offset, length });
  }

  /** Bytes as they are, e.g. a request with a bad magic. */
  sendRaw(b: Uint8Array): void { this.sock.write(b); }

  /** NBD_CMD_DISC, then waits until the server closes the connection. */
  async disconnect(): Promise<void> {
    this.sock.write(encodeRequest({ flags: 0, type: NBD_CMD.DISC, handle: this.nextHandle++, offset: 0, length: 0 }));
    await this.closed;
  }

  /** Hard disconnect. */
  destroy(): void { this.sock.destroy(); }

  get inFlight(): number { return this.pending.size; }
}
