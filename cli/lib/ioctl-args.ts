/**
 * @module cli/lib/ioctl-args
 * The `hmdrv ioctl` command line: CMD (a declared name or a number), integer ARGS (sent as
 * argValues and packed per the declared format by the platform), and the printed result.
 *
 * @example
 * parseCmd('0x80044501');              // 2147763457
 * parseArgValues(['1', '0x10', '-1']); // [1, 16, -1]
 * formatIoctlResult({ cmd: 1, ret: 0, out: 'BQAAAA==', decoded: [5], format: 'u32', name: 'X' });
 */
import { toBigInt } from '../../framework/control/ioctl-format.js';
import type { IoctlCallResult } from '../../framework/control/protocol.js';

/** A number for numeric commands ("0x8004...", "42"), else the name as given. */
export function parseCmd(cmd: string): number | string {
  return /^(0x[0-9a-f]+|\d+)$/i.test(cmd) ? Number(cmd) : cmd;
}

/** Integers as numbers, or decimal strings when beyond 2^53 (u64 values). Throws EINVAL. */
export function parseArgValues(args: readonly string[]): (number | string)[] {
  return args.map((a) => {
    const v = toBigInt(a);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  });
}

/** Human output: the command, ret, and the decoded (or hex) argument buffer. */
export function formatIoctlResult(r: IoctlCallResult): string[] {
  const hexCmd = `0x${r.cmd.toString(16).padStart(8, '0')}`;
  const lines = [`${r.name ? `${r.name} (${hexCmd})` : hexCmd}: ret ${r.ret}`];
  const out = Buffer.from(r.out, 'base64');
  if (r.decoded && r.decoded.length > 0) {
    lines.push(`out (${r.format}): ${r.decoded.join(' ')}`);
  } else if (out.length > 0) {
    lines.push(`out: ${out.toString('hex').replace(/(..)(?!$)/g, '$1 ')}`);
  }
  return lines;
}
