/**
 * @module nbd/exports
 * The platform's table of NBD exports, one NbdServer per exported device: what the control
 * methods `exportNbd` / `unexportNbd` / `nbdExports` call, and what shutdown closes.
 *
 * @example
 * const exports = new NbdExports(kernel.vfs, (line) => kernel.log(line));
 * const r = await exports.export({ path: '/dev/sda', port: 10809 }); // r.uri
 * await exports.closeAll(); // on shutdown, before the devices go away
 */
import { HmError } from '../errors/hm-error.js';
import type { IVfs } from '../vfs/api.js';
import { NbdServer, type NbdServerOptions } from './server.js';

/** Parameters of `exportNbd` (all JSON). */
export interface ExportNbdParams {
  /** Block device node, e.g. /dev/sda. */
  path: string;
  /** TCP port on `host` (default 10809; 0 = any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve on this unix socket instead of TCP. */
  socketPath?: string;
  readOnly?: boolean;
  /** Default: the node's base name. */
  exportName?: string;
}

/** Result of `exportNbd`, and one entry of `nbdExports`. */
export interface ExportNbdResult {
  path: string;
  exportName: string;
  /** nbd://127.0.0.1:10809/sda or nbd+unix:///sda?socket=/path */
  uri: string;
  readOnly: boolean;
  host?: string;
  port?: number;
  socketPath?: string;
  /** Clients connected now. */
  connections: number;
}

/**
 * Parses a command-line export spec (`hmdrv run --nbd SPEC`): `DEVICE[:PORT|:SOCKET][:ro]`,
 * e.g. `/dev/sda` (port 10809), `/dev/sda:10810`, `/dev/sda:/run/sda.sock:ro`. A socket path
 * must be absolute (resolve it first).
 */
export function parseExportSpec(spec: string): ExportNbdParams {
  const [path, ...rest] = spec.split(':');
  if (!path?.startsWith('/')) throw new HmError('EINVAL', `--nbd ${spec}: expected DEVICE[:PORT|:SOCKET][:ro], e.g. /dev/sda:10809`);
  const p: ExportNbdParams = { path };
  for (const part of rest) {
    if (part === 'ro' && p.readOnly === undefined) p.readOnly = true;
    else if (/^\d{1,5}$/.test(part) && p.port === undefined && p.socketPath === undefined && Number(part) <= 65535) p.port = Number(part);
    else if (part.startsWith('/') && p.port === undefined && p.socketPath === undefined) p.socketPath = part;
    else throw new HmError('EINVAL', `--nbd ${spec}: cannot make sense of '${part}' (expected a port, an absolute socket path or 'ro')`);
  }
  return p;
}

export class NbdExports {
  private readonly servers = new Map<string, NbdServer>();
  private readonly starting = new Map<string, Promise<NbdServer>>();

  constructor(private readonly vfs: IVfs, private readonly log?: (line: string) => void,
    private readonly defaults: Partial<NbdServerOptions> = {}) {}

  /**
   * Starts serving `p.path`. Exporting a device that is already exported returns the existing
   * export if the request is compatible with it, and fails with EBUSY otherwise.
   */
  async export(p: ExportNbdParams): Promise<ExportNbdResult> {
    const path = await this.vfs.realpath(p.path);
    const existing = this.servers.get(path) ?? await this.starting.get(path)?.catch(() => undefined);
    if (existing) {
      if (compatible(existing, p)) return describe(existing);
      throw new HmError('EBUSY', `${path} is already exported at ${existing.uri}`, {
        suggestions: ['use that export, or unexport it first'],
      });
    }
    const starting = NbdServer.listen(this.vfs, {
      ...this.defaults,
      path,
      ...(p.port !== undefined ? { port: p.port } : {}),
      ...(p.host !== undefined ? { host: p.host } : {}),
      ...(p.socketPath !== undefined ? { socketPath: p.socketPath } : {}),
      ...(p.readOnly !== undefined ? { readOnly: p.readOnly } : {}),
      ...(p.exportName !== undefined ? { exportName: p.exportName } : {}),
      ...(this.log ? { log: this.log } : {}),
    });
    this.starting.set(path, starting);
    try {
      const server = await starting;
      this.servers.set(path, server);
      this.log?.(`nbd: exporting ${path} at ${server.uri}${server.readOnly ? ' (read-only)' : ''}`);
      return describe(server);
    } finally {
      this.starting.delete(path);
    }
  }

  /** Stops the export of `path` (its clients finish their requests first); false if none. */
  async unexport(path: string): Promise<boolean> {
    const real = await this.vfs.realpath(path).catch(() => path);
    const server = this.servers.get(real);
    if (!server) return false;
    this.servers.delete(real);
    await server.close();
    this.log?.(`nbd: stopped exporting ${real}`);
    return true;
  }

  list(): ExportNbdResult[] {
    return [...this.servers.values()].map(describe);
  }

  /** Closes every export (platform shutdown: call it before the devices are unbound). */
  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close().catch(() => undefined)));
  }
}

function describe(s: NbdServer): ExportNbdResult {
  const a = s.address;
  return {
    path: s.devicePath,
    exportName: s.exportName,
    uri: a.uri,
    readOnly: s.readOnly,
    ...(a.host !== undefined ? { host: a.host } : {}),
    ...(a.port !== undefined ? { port: a.port } : {}),
    ...(a.socketPath !== undefined ? { socketPath: a.socketPath } : {}),
    connections: s.connectionCount,
  };
}

/** Whether request `p` asks for nothing the running export `s` does not already provide. */
function compatible(s: NbdServer, p: ExportNbdParams): boolean {
  const a = s.address;
  if (p.socketPath !== undefined && p.socketPath !== a.socketPath) return false;
  if (p.socketPath === undefined && (p.port !== undefined || p.host !== undefined) && a.socketPath !== undefined) return false;
  if (p.port !== undefined && p.port !== 0 && p.port !== a.port) return false;
  if (p.host !== undefined && p.host !== a.host) return false;
  if (p.readOnly !== undefined && p.readOnly !== s.readOnly) return false;
  if (p.exportName !== undefined && p.exportName !== s.exportName) return false;
  return true;
}
