/**
 * @module control/methods
 * The method table of the control socket: each entry checks its parameters and calls the
 * kernel (IKernel) or its VFS. `stop` is not here: the server answers it before stopping.
 *
 * @example
 * const methods = createMethods(kernel);
 * const result = await methods.devices({}, signal);
 */
import type { IKernel } from '../kernel-api.js';
import { ls, readFile, stat, writeFile } from './file-methods.js';
import { ioctl } from './ioctl-method.js';
import { screenshot } from './screenshot-method.js';
import { base64, optBool, optInt, optStr, str, type Params } from './params.js';
import type { IoctlParams, MethodName, ScreenshotParams, StatusResult } from './protocol.js';
import { createIoMethods } from '../io/control.js';
import { createNetMethods } from '../net/control.js';

export type MethodHandler = (params: Params, signal: AbortSignal) => Promise<unknown>;

export function createMethods(kernel: IKernel): Record<Exclude<MethodName, 'stop'>, MethodHandler> {
  const vfs = kernel.vfs;
  const device = (name: string) => kernel.devices().find((d) => d.name === name) ?? null;
  // `hmdrv io`: load generator and dd-like copies run here, in the platform process, so they
  // measure the VFS and driver path, not the socket; the CLI polls ioStatus for progress.
  const io = createIoMethods(vfs).handlers;
  return {
    ...io,
    ...createNetMethods(kernel),
    status: async (): Promise<StatusResult> => {
      const readyMs = (kernel as { readyMs?: unknown }).readyMs;
      return {
        platform: kernel.platform.name,
        source: kernel.platform.source,
        pid: process.pid,
        uptimeMs: Math.round(process.uptime() * 1000),
        ...(typeof readyMs === 'number' ? { readyMs } : {}),
        devices: kernel.devices().length,
        node: process.version,
      };
    },
    devices: async () => kernel.devices(),
    drivers: async () => kernel.drivers(),
    containers: async () => kernel.containers(),
    ls: async (p) => ls(vfs, str(p, 'path')),
    stat: async (p) => stat(vfs, str(p, 'path'), optBool(p, 'follow') ?? true),
    read: async (p, signal) => readFile(vfs, {
      path: str(p, 'path'),
      length: optInt(p, 'length'),
      offset: optInt(p, 'offset'),
      nonblock: optBool(p, 'nonblock'),
      follow: optBool(p, 'follow'),
    }, signal),
    write: async (p) => ({
      bytesWritten: await writeFile(vfs, str(p, 'path'), base64(p, 'data'), optInt(p, 'offset')),
    }),
    ioctl: async (p) => ioctl(kernel, { ...(p as unknown as IoctlParams), path: str(p, 'path') }),
    bind: async (p) => {
      const name = str(p, 'device');
      await kernel.bind(name, optStr(p, 'driver'));
      return device(name);
    },
    // screenshot() checks source itself.
    screenshot: async (p) => screenshot(kernel, { path: str(p, 'path'), source: optStr(p, 'source') as ScreenshotParams['source'] }),
    exportNbd: async (p) => kernel.exportNbd({
      path: str(p, 'path'), port: optInt(p, 'port'), host: optStr(p, 'host'), socketPath: optStr(p, 'socketPath'),
      readOnly: optBool(p, 'readOnly'), exportName: optStr(p, 'exportName'),
    }),
    dmesg: async (p, signal) => {
      const since = optInt(p, 'since') ?? 0;
      if (optBool(p, 'follow')) await kernel.waitLog(since, 25_000, signal);
      return kernel.dmesg(since);
    },
    unbind: async (p) => {
      const name = str(p, 'device');
      await kernel.unbind(name);
      return device(name);
    },
  };
}
