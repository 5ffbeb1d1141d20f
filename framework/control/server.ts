/**
 * @module control/server
 * Serves the control protocol (see protocol.ts) for one kernel on a unix domain socket.
 * Each connection is served in order (pipelining is safe); connections run concurrently.
 * A bad request gets an error reply and never disturbs the server. The socket file is 0600;
 * a stale one (nobody answers) is replaced, a live one is never taken over.
 *
 * @example
 * const server = await ControlServer.listen(kernel, defaultSocketPath(), { onStop: () => stop() });
 * // ...
 * await server.close();
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { HmError } from '../errors/hm-error.js';
import type { IKernel } from '../kernel-api.js';
import { LineReader } from './line-reader.js';
import { createMethods, type MethodHandler } from './methods.js';
import type { Params } from './params.js';
import { encodeMessage, MAX_LINE_BYTES, METHOD_NAMES, type ControlResponse } from './protocol.js';
import { prepareSocketDir } from './socket-path.js';
import { protocolError, toWireError } from './wire-error.js';

export interface ControlServerOptions {
  /**
   * Called after a `stop` request has been answered. The owner then shuts the kernel down and
   * closes the server. Without it the server does both itself.
   */
  onStop?: () => void;
}

/** True if a server answers on `socketPath`. */
function isLive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(socketPath);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function inUse(socketPath: string): HmError {
  return new HmError('EADDRINUSE', `another hmdrv platform is already serving ${socketPath}`, {
    suggestions: ['stop it with `hmdrv stop`', 'or serve on another path with --socket PATH'],
  });
}

export class ControlServer {
  private readonly conns = new Set<Socket>();
  private readonly methods: Record<string, MethodHandler>;
  private ino = -1;
  private closing?: Promise<void>;
  private stopRequested = false;

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly kernel: IKernel,
    private readonly opts: ControlServerOptions,
  ) {
    this.methods = createMethods(kernel);
  }

  /**
   * Throws EADDRINUSE if a live server owns `socketPath`, EEXIST if it is not a socket;
   * removes a stale socket file. `hmdrv run` calls this before booting.
   */
  static async ensureAvailable(socketPath: string): Promise<void> {
    const st = await lstat(socketPath).catch(() => undefined);
    if (!st) return;
    if (!st.isSocket()) {
      throw new HmError('EEXIST', `${socketPath} exists and is not a socket`, { suggestions: ['choose another path with --socket'] });
    }
    if (await isLive(socketPath)) throw inUse(socketPath);
    await unlink(socketPath).catch(() => undefined);
  }

  static async listen(kernel: IKernel, socketPath: string, opts: ControlServerOptions = {}): Promise<ControlServer> {
    await prepareSocketDir(socketPath);
    await ControlServer.ensureAvailable(socketPath);
    const server = createServer();
    const cs = new ControlServer(server, socketPath, kernel, opts);
    server.on('connection', (sock) => cs.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? inUse(socketPath) : e));
      server.listen(socketPath, () => resolve());
    });
    server.on('error', () => undefined); // after listen, errors belong to connections
    await chmod(socketPath, 0o600);
    cs.ino = (await lstat(socketPath)).ino;
    return cs;
  }

  /** Stops accepting, ends every connection and removes the socket file (if still ours). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const s of this.conns) {
        s.end();
        setTimeout(() => s.destroy(), 500).unref();
      }
      await closed;
      const st = await lstat(this.socketPath).catch(() => undefined);
      if (st?.ino === this.ino) await unlink(this.socketPath).catch(() => undefined);
    })();
    return this.closing;
  }

  private accept(sock: Socket): void {
    if (this.closing) { sock.destroy(); return; }
    this.conns.add(sock);
    const abort = new AbortController();
    let queue = Promise.resolve();
    const enqueue = (job: () => Promise<void>) => { queue = queue.then(job, job); };
    const reader = new LineReader(MAX_LINE_BYTES,
      (line) => enqueue(() => this.serve(sock, line, abort.signal)),
      () => enqueue(() => this.send(sock, {
        id: null, error: toWireError(protocolError('EMSGSIZE', `request line longer than ${MAX_LINE_BYTES} bytes`)),
      })));
    sock.on('data', (chunk: Buffer) => reader.push(chunk));
    sock.on('error', () => undefined); // the client went away; 'close' follows
    sock.on('close', () => { abort.abort(); this.conns.delete(sock); });
  }

  /** Answers one request line. */
  private async serve(sock: Socket, line: string, signal: AbortSignal): Promise<void> {
    let id: number | null = null;
    try {
      let msg: unknown;
      try { msg = JSON.parse(line); } catch (e) {
        throw protocolError('EINVAL', `malformed request: ${(e as Error).message}`);
      }
      const req = (typeof msg === 'object' && msg !== null ? msg : {}) as Record<string, unknown>;
      if (typeof req.id === 'number') id = req.id;
      if (id === null || typeof req.method !== 'string') {
        throw protocolError('EINVAL', 'malformed request: expected {"id": number, "method": string, "params"?: object}');
      }
      const params = req.params ?? {};
      if (typeof params !== 'object' || params === null || Array.isArray(params)) {
        throw protocolError('EINVAL', 'malformed request: params must be an object');
      }
      if (req.method === 'stop') {
        await this.send(sock, { id, result: { stopping: true } });
        this.stop();
        return;
      }
      const handler = Object.hasOwn(this.methods, req.method) ? this.methods[req.method] : undefined;
      if (!handler) {
        throw protocolError('ENOSYS', `unknown method '${req.method}'`, [`methods: ${METHOD_NAMES.join(', ')}`]);
      }
      await this.send(sock, { id, result: await handler(params as Params, signal) });
    } catch (e) {
      await this.send(sock, { id, error: toWireError(e) });
    }
  }

  /** Runs once, after the `stop` reply went out. */
  private stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (this.opts.onStop) { this.opts.onStop(); return; }
    void this.kernel.shutdown().catch(() => undefined).then(() => this.close());
  }

  private send(sock: Socket, msg: ControlResponse): Promise<void> {
    if (sock.destroyed || !sock.writable) return Promise.resolve();
    let line: string;
    try { line = encodeMessage(msg); } catch (e) {
      line = encodeMessage({ id: msg.id, error: toWireError(protocolError('EIO', `unserialisable reply: ${(e as Error).message}`)) });
    }
    return new Promise((resolve) => sock.write(line, () => resolve()));
  }
}
