/**
 * @module nbd/server
 * Exports one block device of the VFS over NBD, so real tools (nbdinfo, nbdcopy, qemu-img,
 * fio, the Linux nbd client) can read and write it. Runs inside the platform process, next to
 * the VFS. Listens on TCP (127.0.0.1 unless told otherwise; default port 10809) or on a unix
 * socket (mode 0600). Each client connection opens the device node through the VFS like any
 * application (O_RDWR, or O_RDONLY for a read-only export) and closes it when it ends.
 *
 * Protocol: fixed newstyle handshake with NBD_OPT_EXPORT_NAME, NBD_OPT_INFO, NBD_OPT_GO
 * (NBD_INFO_EXPORT, _NAME, _DESCRIPTION, _BLOCK_SIZE), NBD_OPT_LIST and NBD_OPT_ABORT; other
 * options (TLS, structured replies, metadata contexts) are answered NBD_REP_ERR_UNSUP.
 * Transmission: READ, WRITE (FUA), FLUSH, TRIM and WRITE_ZEROES (both write zeroes), CACHE
 * (a no-op), DISC; simple replies, several requests in flight per connection, replies in
 * completion order; CAN_MULTI_CONN (there is no server-side cache).
 *
 * @example
 * const server = await NbdServer.listen(kernel.vfs, { path: '/dev/sda', port: 10809 });
 * console.log(server.uri); // nbd://127.0.0.1:10809/sda
 * // ...
 * await server.close();
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { HmError, SystemError } from '../errors/hm-error.js';
import type { IVfs } from '../vfs/api.js';
import type { Credentials } from '../vfs/types.js';
import { emptyStats, NbdConnection, type ExportConfig, type NbdStats } from './connection.js';
import { isPowerOfTwo, NBD_DEFAULT_PORT, NBD_MAX_PAYLOAD, NBD_MAX_STRING, type BlockSizes } from './protocol.js';

export type { NbdStats } from './connection.js';

export interface NbdServerOptions {
  /** Block device node to export, e.g. /dev/sda. */
  path: string;
  /** TCP port (0 = any free one). Default 10809. Ignored with `socketPath`. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1: the export is writable by whoever connects. */
  host?: string;
  /** Listen on this unix socket instead of TCP (created 0600). */
  socketPath?: string;
  /** Refuse writes (EPERM) and advertise NBD_FLAG_READ_ONLY. */
  readOnly?: boolean;
  /** Name clients ask for. Default: the node's base name ('sda'). The empty name always works. */
  exportName?: string;
  /** Shown by NBD_OPT_LIST and NBD_INFO_DESCRIPTION. Default 'hmdrv <path>'. */
  description?: string;
  /** Advertised minimum block size (power of two, 1..65536). Default 512. */
  minBlockSize?: number;
  /** Advertised preferred block size. Default 4096 (or the minimum, if larger). */
  preferredBlockSize?: number;
  /** Largest READ/WRITE accepted and advertised. Default 32 MiB. */
  maxBlockSize?: number;
  /** Requests served at once per connection. Default 64. */
  maxInFlight?: number;
  /** READ/WRITE bytes in flight per connection. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Simultaneous client connections. Default 16. */
  maxConnections?: number;
  /** A client that has not finished the handshake by then is dropped. Default 30 s. */
  handshakeTimeoutMs?: number;
  /** Identity the device is opened with (checked against the node's mode). Default root. */
  cred?: Credentials;
  /** Receives one line per notable event (a client's protocol error, a device error). */
  log?: (message: string) => void;
}

/** Where an NbdServer listens, as JSON (the `exportNbd` control method returns this plus more). */
export interface NbdAddress {
  uri: string;
  host?: string;
  port?: number;
  socketPath?: string;
}

export const DEFAULT_MIN_BLOCK_SIZE = 512;
export const DEFAULT_PREFERRED_BLOCK_SIZE = 4096;
export const DEFAULT_MAX_IN_FLIGHT = 64;
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 16;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** How long close() waits for requests in flight before dropping the connections. */
const CLOSE_GRACE_MS = 5000;

function invalid(what: string): HmError {
  return new HmError('EINVAL', `NBD export: ${what}`);
}

function positiveInt(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw invalid(`${name} must be a positive integer (got ${v})`);
  return v;
}

function blockSizesOf(o: NbdServerOptions): BlockSizes {
  const minimum = o.minBlockSize ?? DEFAULT_MIN_BLOCK_SIZE;
  if (!isPowerOfTwo(minimum) || minimum > 65536) throw invalid(`minBlockSize must be a power of two up to 65536 (got ${minimum})`);
  const preferred = o.preferredBlockSize ?? Math.max(DEFAULT_PREFERRED_BLOCK_SIZE, minimum);
  if (!isPowerOfTwo(preferred) || preferred < minimum) throw invalid(`preferredBlockSize must be a power of two >= minBlockSize (got ${preferred})`);
  const maximum = o.maxBlockSize ?? NBD_MAX_PAYLOAD;
  if (!Number.isSafeInteger(maximum) || maximum < preferred || maximum % minimum !== 0 || maximum > 0xffffffff) {
    throw invalid(`maxBlockSize must be a multiple of minBlockSize, >= preferredBlockSize (got ${maximum})`);
  }
  return { minimum, preferred, maximum };
}

function checkExportName(name: string): string {
  if (name.includes('\0')) throw invalid('export name contains NUL');
  if (Buffer.byteLength(name) > NBD_MAX_STRING) throw invalid(`export name longer than ${NBD_MAX_STRING} bytes`);
  return name;
}

/** nbd://host:port/name or nbd+unix:///name?socket=path (the NBD URI convention). */
export function nbdUri(addr: { host?: string; port?: number; socketPath?: string }, exportName: string): string {
  const name = encodeURIComponent(exportName);
  if (addr.socketPath !== undefined) return `nbd+unix:///${name}?socket=${encodeURI(addr.socketPath)}`;
  const host = addr.host !== undefined && isIPv6(addr.host) ? `[${addr.host}]` : addr.host;
  return `nbd://${host}:${addr.port}/${name}`;
}

function isLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socketPath);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Removes a stale unix socket; refuses a live one or a file that is not a socket. */
async function claimSocketPath(socketPath: string): Promise<void> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  const st = await lstat(socketPath).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new HmError('EEXIST', `${socketPath} exists and is not a socket`);
  if (await isLive(socketPath)) throw new HmError('EADDRINUSE', `something already serves ${socketPath}`);
  await unlink(socketPath).catch(() => undefined);
}

export class NbdServer {
  private readonly conns = new Set<NbdConnection>();
  private closing?: Promise<void>;
  private socketIno = -1;
  /** Where the server listens. */
  readonly address: NbdAddress;

  private constructor(
    private readonly server: Server,
    private readonly config: ExportConfig,
    address: Omit<NbdAddress, 'uri'>,
  ) {
    this.address = { uri: nbdUri(address, config.name), ...address };
  }

  /** Checks that `opts.path` is a block device, then listens. Rejects with EADDRINUSE etc. */
  static async listen(vfs: IVfs, opts: NbdServerOptions): Promise<NbdServer> {
    const path = opts.path;
    if (typeof path !== 'string' || path === '') throw invalid('path is required');
    const blockSizes = blockSizesOf(opts);
    const st = await vfs.stat(path, { cred: opts.cred });
    if (!st.isBlockDevice()) {
      throw new SystemError('ENOTBLK', 'nbd export', path, 'only block devices can be exported');
    }
    const config: ExportConfig = {
      vfs,
      path,
      name: checkExportName(opts.exportName ?? basename(path)),
      description: opts.description ?? `hmdrv ${path}`,
      readOnly: opts.readOnly === true,
      blockSizes,
      maxInFlight: positiveInt(opts.maxInFlight, 'maxInFlight', DEFAULT_MAX_IN_FLIGHT),
      maxInFlightBytes: positiveInt(opts.maxInFlightBytes, 'maxInFlightBytes', DEFAULT_MAX_IN_FLIGHT_BYTES),
      handshakeTimeoutMs: positiveInt(opts.handshakeTimeoutMs, 'handshakeTimeoutMs', DEFAULT_HANDSHAKE_TIMEOUT_MS),
      cred: opts.cred,
      stats: emptyStats(),
      log: opts.log ?? (() => undefined),
    };
    const maxConnections = positiveInt(opts.maxConnections, 'maxConnections', DEFAULT_MAX_CONNECTIONS);

    const server = createServer();
    server.maxConnections = maxConnections;
    let address: Omit<NbdAddress, 'uri'>;
    if (opts.socketPath !== undefined) {
      const socketPath = opts.socketPath;
      await claimSocketPath(socketPath);
      await listenOn(server, (cb) => server.listen(socketPath, cb), socketPath);
      await chmod(socketPath, 0o600);
      address = { socketPath };
    } else {
      const host = opts.host ?? '127.0.0.1';
      const port = opts.port ?? NBD_DEFAULT_PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`port must be 0..65535 (got ${port})`);
      await listenOn(server, (cb) => server.listen({ host, port }, cb), `${host}:${port}`);
      address = { host, port: (server.address() as AddressInfo).port };
    }
    const nbd = new NbdServer(server, config, address);
    if (address.socketPath !== undefined) nbd.socketIno = (await lstat(address.socketPath)).ino;
    server.on('connection', (sock) => nbd.accept(sock));
    server.on('error', (e) => config.log(`nbd: server error: ${e.message}`));
    return nbd;
  }

  get uri(): string { return this.address.uri; }
  get exportName(): string { return this.config.name; }
  get devicePath(): string { return this.config.path; }
  get readOnly(): boolean { return this.config.readOnly; }
  /** Connections open now. */
  get connectionCount(): number { return this.conns.size; }

  /** A snapshot of the counters. */
  stats(): NbdStats {
    const s = this.config.stats;
    return { ...s, requests: { ...s.requests } };
  }

  /**
   * Stops accepting; lets every connection finish the requests it has in flight (answering
   * them), then ends it; after `graceMs` the rest are dropped. Removes the unix socket file.
   */
  close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      const conns = [...this.conns];
      for (const c of conns) c.shutdown();
      const all = Promise.all(conns.map((c) => c.done));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
      await Promise.race([all, timeout]);
      clearTimeout(timer);
      // Finished connections are ending cleanly (replies still flushing): leave those be.
      for (const c of conns) if (!c.finished) c.destroy();
      await closed;
      if (this.address.socketPath !== undefined) {
        const st = await lstat(this.address.socketPath).catch(() => undefined);
        if (st?.ino === this.socketIno) await unlink(this.address.socketPath).catch(() => undefined);
      }
    })();
    return this.closing;
  }

  private accept(sock: Socket): void {
    if (this.closing) {
      sock.destroy();
      return;
    }
    const conn = new NbdConnection(sock, this.config);
    this.conns.add(conn);
    void conn.done.then(() => this.conns.delete(conn));
  }
}

async function listenOn(server: Server, start: (cb: () => void) => void, where: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(new HmError('EADDRINUSE', `NBD: ${where} is already in use`, {
          suggestions: ['choose another port (--port) or a unix socket (--socket-path)'], cause: e,
        }));
      } else if (e.code === 'EACCES') {
        reject(new HmError('EACCES', `NBD: not allowed to listen on ${where}`, { suggestions: ['use a port above 1023'], cause: e }));
      } else {
        reject(new HmError(e.code ?? 'EIO', `NBD: cannot listen on ${where}: ${e.message}`, { cause: e }));
      }
    };
    server.once('error', onError);
    start(() => {
      server.off('error', onError);
      resolve();
    });
  });
}
