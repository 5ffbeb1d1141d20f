/**
 * @module cli/lib/io-args
 * `hmdrv io` flags → the parameters of the platform's `io` method. Two modes share the command:
 *
 * - load (default): `hmdrv io DEVICE --rw randread --bs 4k --iodepth 32 --size 64m --runtime 10`
 * - copy (dd): `hmdrv io DEVICE --if FILE` copies the host FILE into DEVICE (dd if=FILE of=DEVICE);
 *   `hmdrv io DEVICE --of FILE` copies DEVICE into FILE. DEVICE is always the platform's path
 *   (as in every hmdrv command); --if/--of always name host files, resolved against the
 *   caller's working directory (the platform does the I/O and has its own).
 *
 * Each mode's flags are refused in the other with a message saying which mode they belong to.
 *
 * @example
 * buildIoParams('/dev/sda', { rw: 'randread', bs: '4k', iodepth: 32, runtime: '10' }, process.cwd());
 * // { mode: 'load', path: '/dev/sda', rw: 'randread', bs: 4096, iodepth: 32, runtimeMs: 10000 }
 */
import { resolve } from 'node:path';
import { HmError } from '../../framework/errors/hm-error.js';
import { validateCopyConfig } from '../../framework/io/copy.js';
import type { IoJobParams } from '../../framework/io/jobs.js';
import { validateLoadConfig, type LoadConfig, type RwMode } from '../../framework/io/loadgen.js';
import { parseDuration, parseSize } from '../../framework/io/units.js';

/** The flags as oclif gives them (undefined = not given). */
export interface IoFlags {
  rw?: string;
  bs?: string;
  iodepth?: number;
  size?: string;
  offset?: string;
  runtime?: string;
  'io-count'?: number;
  rwmixread?: number;
  seed?: number;
  verify?: boolean;
  direct?: boolean;
  fsync?: number;
  'end-fsync'?: boolean;
  'max-errors'?: number;
  if?: string;
  of?: string;
  count?: number;
  skip?: number;
  seek?: number;
  conv?: string;
  blocking?: boolean;
}

export const DEFAULT_LOAD_BS = '4k';
export const LOAD_FLAGS = ['rw', 'iodepth', 'size', 'offset', 'runtime', 'io-count', 'rwmixread', 'seed', 'verify', 'direct', 'fsync', 'end-fsync', 'max-errors'] as const;
export const COPY_FLAGS = ['count', 'skip', 'seek', 'conv', 'blocking'] as const;
const CONV = ['fsync', 'notrunc'] as const;

function usage(message: string, ...suggestions: string[]): HmError {
  return new HmError('EINVAL', message, { suggestions });
}

function given(flags: IoFlags, names: readonly (keyof IoFlags)[]): string[] {
  return names.filter((n) => flags[n] !== undefined && flags[n] !== false).map((n) => `--${n}`);
}

function list(names: string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Checks the combination and the values; throws EINVAL (HmError) with what to do instead. */
export function buildIoParams(device: string, flags: IoFlags, cwd: string): IoJobParams {
  if (flags.if !== undefined && flags.of !== undefined) {
    throw usage('give --if FILE (copy FILE to the device) or --of FILE (copy the device to FILE), not both',
      `hmdrv io ${device} --if disk.img`, `hmdrv io ${device} --of dump.img`);
  }
  const copyMode = flags.if !== undefined || flags.of !== undefined;
  if (copyMode) {
    const wrong = given(flags, LOAD_FLAGS);
    if (wrong.length > 0) {
      throw usage(`${list(wrong)} ${wrong.length === 1 ? 'is a load-generator option' : 'are load-generator options'}: not for a copy (--if/--of)`,
        `copy: hmdrv io ${device} ${flags.if !== undefined ? '--if' : '--of'} FILE --bs 1m [--count N --skip N --seek N --conv fsync]`);
    }
    return buildCopy(device, flags, cwd);
  }
  const wrong = given(flags, COPY_FLAGS);
  if (wrong.length > 0) {
    throw usage(`${list(wrong)} ${wrong.length === 1 ? 'applies' : 'apply'} to a copy: give --if FILE or --of FILE`,
      `hmdrv io ${device} --of dump.img ${wrong.join(' ')} ...`);
  }
  return buildLoad(device, flags);
}

function buildCopy(device: string, flags: IoFlags, cwd: string): IoJobParams {
  const conv = (flags.conv ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const c of conv) {
    if (!(CONV as readonly string[]).includes(c)) throw usage(`unknown --conv '${c}'`, `--conv takes ${CONV.join(', ')} (comma-separated)`);
  }
  const host = { host: resolve(cwd, (flags.if ?? flags.of)!) };
  const vfs = { vfs: device };
  const params: IoJobParams = {
    mode: 'copy',
    from: flags.if !== undefined ? host : vfs,
    to: flags.if !== undefined ? vfs : host,
    ...(flags.bs !== undefined ? { bs: parseSize(flags.bs, '--bs') } : {}),
    ...(flags.count !== undefined ? { count: flags.count } : {}),
    ...(flags.skip !== undefined ? { skip: flags.skip } : {}),
    ...(flags.seek !== undefined ? { seek: flags.seek } : {}),
    ...(conv.includes('fsync') ? { fsync: true } : {}),
    ...(conv.includes('notrunc') ? { truncate: false } : {}),
    ...(flags.blocking ? { blocking: true } : {}),
  };
  validateCopyConfig(params);
  return params;
}

function buildLoad(device: string, flags: IoFlags): IoJobParams {
  const cfg: LoadConfig = {
    path: device,
    rw: (flags.rw ?? 'read') as RwMode,
    bs: parseSize(flags.bs ?? DEFAULT_LOAD_BS, '--bs'),
    ...(flags.iodepth !== undefined ? { iodepth: flags.iodepth } : {}),
    ...(flags.size !== undefined ? { size: parseSize(flags.size, '--size') } : {}),
    ...(flags.offset !== undefined ? { offset: parseSize(flags.offset, '--offset') } : {}),
    ...(flags.runtime !== undefined ? { runtimeMs: parseDuration(flags.runtime, '--runtime') } : {}),
    ...(flags['io-count'] !== undefined ? { ioCount: flags['io-count'] } : {}),
    ...(flags.rwmixread !== undefined ? { rwmixread: flags.rwmixread } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.verify ? { verify: true } : {}),
    ...(flags.direct ? { direct: true } : {}),
    ...(flags.fsync !== undefined ? { fsyncEvery: flags.fsync } : {}),
    ...(flags['end-fsync'] ? { endFsync: true } : {}),
    ...(flags['max-errors'] !== undefined ? { maxErrors: flags['max-errors'] } : {}),
  };
  if (cfg.runtimeMs === 0) throw usage('--runtime must be more than 0', '--runtime 10 (seconds), --runtime 500ms');
  try {
    validateLoadConfig(cfg);
  } catch (e) {
    // The library names options as the protocol does; say them as flags.
    if (e instanceof HmError) throw usage(asFlags(e.message), ...e.suggestions);
    throw e;
  }
  return { mode: 'load', ...cfg };
}

function asFlags(message: string): string {
  return message.replace(/^(rw|bs|iodepth|size|offset|rwmixread|seed|io-count|max-errors|fsync) /, '--$1 ')
    .replace(/^runtime \(ms\) /, '--runtime (ms) ');
}
