/**
 * @module control/protocol
 * The control socket's wire format: newline-delimited JSON over a unix domain socket.
 *
 * - request:  `{"id": 1, "method": "read", "params": {"path": "/dev/echo0"}}`
 * - success:  `{"id": 1, "result": {...}}`
 * - failure:  `{"id": 1, "error": {"code": "ENOENT", "errno": -2, "syscall": "open",
 *              "path": "/dev/x", "message": "ENOENT: no such file or directory, open '/dev/x'",
 *              "suggestions": []}}`
 *
 * Binary data travels as base64 strings. A line is at most {@link MAX_LINE_BYTES}. A request
 * the server cannot attribute (malformed JSON, oversized line) is answered with `id: null`.
 * Requests on one connection are served in order, so a client may pipeline them.
 *
 * @example
 * const line = encodeMessage({ id: 1, method: 'status', params: {} });
 */
import type { ExportNbdParams, ExportNbdResult } from '../nbd/exports.js';
import { IO_METHOD_NAMES, type IoControlMethods } from '../io/control.js';
import { NET_METHOD_NAMES, type NetControlMethods } from '../net/control.js';
import type { KernelLogRecord, ContainerInfo, DeviceInfo, DriverInfo } from '../kernel-api.js';

/** Longest line either side accepts (16 MiB); longer lines are answered with EMSGSIZE. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Most bytes one `read` returns (base64 keeps the reply under MAX_LINE_BYTES). */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

export interface ControlRequest {
  id: number;
  method: string;
  params?: Record<string, unknown>;
}

/** An error as it travels: the fields of Node's fs errors plus HmError's suggestions. */
export interface WireError {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
  message: string;
  suggestions: string[];
}

export type ControlResponse =
  | { id: number | null; result: unknown }
  | { id: number | null; error: WireError };

/** Node-style file type of a VFS entry. */
export type FileType = 'dir' | 'chr' | 'blk' | 'file' | 'symlink' | 'unknown';

/** stat(2) as plain JSON (VfsStats without its methods). */
export interface StatInfo {
  type: FileType;
  /** Type bits | permission bits, as st_mode. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  ino: number;
  nlink: number;
  rdev: number;
  /** Device number, for chr/blk nodes. */
  major?: number;
  minor?: number;
  /** Link target, for symlinks (as readlink returns it). */
  target?: string;
}

export interface LsEntry extends StatInfo {
  name: string;
}

export interface StatusResult {
  platform: string;
  /** Platform file the kernel booted from ("<inline>" or "<fake>" for built-in ones). */
  source: string;
  pid: number;
  uptimeMs: number;
  /** Boot time to all devices probed, when the kernel reports it. */
  readyMs?: number;
  devices: number;
  node: string;
}

export interface ReadParams {
  path: string;
  /** Stop after this many bytes (capped at MAX_READ_BYTES). */
  length?: number;
  /** pread position; sequential reads from the start of a fresh open when omitted. */
  offset?: number;
  /** Open with O_NONBLOCK and stop at EAGAIN (default true). */
  nonblock?: boolean;
  /** Wait (polling, cancellable) until at least one byte or EOF arrives. */
  follow?: boolean;
}

export interface ReadResult {
  /** base64 */
  data: string;
  bytes: number;
  /** The read stopped because the file returned 0 bytes. */
  eof: boolean;
}

export interface WriteParams {
  path: string;
  /** base64 */
  data: string;
  offset?: number;
}

export interface IoctlParams {
  path: string;
  /** A declared ioctl name (see `ioctlsFor`), or the command number (a number or "0x..." string). */
  cmd: number | string;
  /** An integer argument, or the argument buffer as base64. */
  arg?: number | string;
  /** Values encoded into the argument buffer per the declaration's format (u64 may be strings). */
  argValues?: (number | string)[];
}

export interface IoctlCallResult {
  /** The resolved command number. */
  cmd: number;
  /** The declared name, when the command is declared. */
  name?: string;
  ret: number;
  /** The argument buffer after the call (base64; empty when there is none). */
  out: string;
  /** `out` decoded per the declaration's format (numbers; decimal strings above 2^53). */
  decoded?: (number | string)[];
  format?: string;
}

export interface ScreenshotParams {
  /** A framebuffer device node, e.g. /dev/fb0. */
  path: string;
  /** 'scanout' (default): what the display model shows; 'fb': the framebuffer memory at the pan offset. */
  source?: 'scanout' | 'fb';
}

export interface ScreenshotResult {
  source: 'scanout' | 'fb';
  width: number;
  height: number;
  /** The image as a PNG file (base64). */
  png: string;
  /** Source 'fb': the pan offset and depth the frame was read at. */
  xoffset?: number;
  yoffset?: number;
  bpp?: number;
}

/** Every method with its parameters and result, for the typed client (`hmdrv io`'s from framework/io). */
export interface ControlMethods extends IoControlMethods, NetControlMethods {
  status: { params: Record<string, never>; result: StatusResult };
  devices: { params: Record<string, never>; result: DeviceInfo[] };
  drivers: { params: Record<string, never>; result: DriverInfo[] };
  containers: { params: Record<string, never>; result: ContainerInfo[] };
  ls: { params: { path: string }; result: { path: string; entries: LsEntry[] } };
  stat: { params: { path: string; follow?: boolean }; result: StatInfo };
  read: { params: ReadParams; result: ReadResult };
  write: { params: WriteParams; result: { bytesWritten: number } };
  ioctl: { params: IoctlParams; result: IoctlCallResult };
  bind: { params: { device: string; driver?: string }; result: DeviceInfo | null };
  unbind: { params: { device: string }; result: DeviceInfo | null };
  stop: { params: Record<string, never>; result: { stopping: true } };
  /** Log records after `since`; with `follow`, waits (up to 25 s) until there is at least one. */
  dmesg: { params: { since?: number; follow?: boolean }; result: KernelLogRecord[] };
  exportNbd: { params: ExportNbdParams; result: ExportNbdResult };
  /** A framebuffer device's picture as PNG (see control/screenshot-method.ts). */
  screenshot: { params: ScreenshotParams; result: ScreenshotResult };
}

export type MethodName = keyof ControlMethods;

export const METHOD_NAMES: readonly MethodName[] = [
  'status', 'devices', 'drivers', 'containers', 'ls', 'stat', 'read', 'write', 'ioctl', 'bind', 'unbind', 'stop', 'dmesg', 'exportNbd', 'screenshot', ...IO_METHOD_NAMES, ...NET_METHOD_NAMES,
];

/** One message as a line on the wire. */
export function encodeMessage(msg: ControlRequest | ControlResponse): string {
  return `${JSON.stringify(msg)}\n`;
}
