/**
 * @module control/client
 * Client of the control socket. Calls may be issued concurrently (they are pipelined on one
 * connection); each resolves with its result or rejects with a {@link ControlError} carrying
 * the remote code, errno, syscall, path and suggestions. If no platform is running, connect
 * fails with an HmError whose code is 'ENOTRUNNING'.
 *
 * @example
 * const client = await ControlClient.connect(defaultSocketPath());
 * try {
 *   const devices = await client.call('devices', {});
 * } finally {
 *   client.close();
 * }
 */
import { createConnection, type Socket } from 'node:net';
import { HmError } from '../errors/hm-error.js';
import { LineReader } from './line-reader.js';
import { encodeMessage, MAX_LINE_BYTES, type ControlMethods, type MethodName } from './protocol.js';
import { fromWireError, protocolError } from './wire-error.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The connect failure a user sees when nothing serves the socket. */
function notRunning(socketPath: string, cause: unknown): HmError {
  return new HmError('ENOTRUNNING', `no hmdrv platform is running (socket ${socketPath})`, {
    suggestions: ['start the platform with `hmdrv run`'], cause,
  });
}

export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Resolves when the connection has closed (e.g. after `stop`, once the platform is down). */
  readonly closed: Promise<void>;

  private constructor(private readonly sock: Socket, readonly socketPath: string) {
    const reader = new LineReader(MAX_LINE_BYTES, (line) => this.onLine(line), () => undefined);
    sock.on('data', (chunk: Buffer) => reader.push(chunk));
    this.closed = new Promise((resolve) => sock.once('close', () => {
      this.failAll(new HmError('ECONNRESET', `the platform closed the control connection (socket ${socketPath})`));
      resolve();
    }));
  }

  static connect(socketPath: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(socketPath);
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        sock.on('error', () => undefined); // surfaced through 'close' and the pending calls
        resolve(new ControlClient(sock, socketPath));
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') reject(notRunning(socketPath, e));
        else if (e.code === 'EACCES') {
          reject(new HmError('EACCES', `permission denied on the control socket ${socketPath}`,
            { suggestions: ['run as the user that started `hmdrv run`'], cause: e }));
        } else reject(new HmError(e.code ?? 'EIO', `cannot connect to ${socketPath}: ${e.message}`, { cause: e }));
      });
    });
  }

  call<M extends MethodName>(method: M, params?: ControlMethods[M]['params']): Promise<ControlMethods[M]['result']>;
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    const line = encodeMessage({ id, method, params });
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      return Promise.reject(protocolError('EMSGSIZE', `request longer than ${MAX_LINE_BYTES} bytes`));
    }
    if (this.sock.destroyed || !this.sock.writable) {
      return Promise.reject(new HmError('ECONNRESET', `the control connection is closed (socket ${this.socketPath})`));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(line);
    });
  }

  close(): void {
    this.sock.end();
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; result?: unknown; error?: unknown };
    try { msg = JSON.parse(line) as typeof msg; } catch { return; }
    if (typeof msg.id !== 'number') return; // a complaint about a line we never sent
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) p.reject(fromWireError(msg.error));
    else p.resolve(msg.result);
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
