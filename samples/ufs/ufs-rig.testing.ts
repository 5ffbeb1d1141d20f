/**
 * Test rig for the UFS driver (not itself a test): a copy of samples/platforms/ufs.platform.json
 * whose LUs are backed by files in a fresh temporary directory, booted in a given class.
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootPlatform } from '../../containers/boot.js';
import type { BootedKernel } from '../../framework/boot.js';
import type { IsolationClass } from '../../framework/platform/types.js';

export const SAMPLE_PLATFORM = fileURLToPath(new URL('../../../samples/platforms/ufs.platform.json', import.meta.url));

export interface UfsRigOptions {
  /** LU sizes (default 256M + 16M). */
  luns?: string[];
  timing?: 'zero' | 'ufs31';
  /** Reuse this directory (its backing files) instead of a fresh one. */
  dir?: string;
}

export interface UfsRig {
  readonly k: BootedKernel;
  readonly dir: string;
  readonly platform: string;
  /** Shuts the kernel down (the backing files stay). */
  shutdown(): Promise<void>;
  /** Shuts down and removes the directory. */
  dispose(): Promise<void>;
}

/** Writes the platform file for `dir` and returns its path. */
export function ufsPlatform(dir: string, o: UfsRigOptions = {}): string {
  const p = JSON.parse(readFileSync(SAMPLE_PLATFORM, 'utf8')) as { devices: { properties: Record<string, unknown> }[] };
  const props = p.devices[0]!.properties;
  props.luns = (o.luns ?? ['256M', '16M']).map((size, i) => ({ size, 'backing-file': join(dir, `lu${i}.img`) }));
  props.timing = o.timing ?? 'zero';
  const path = join(dir, 'ufs.platform.json');
  writeFileSync(path, JSON.stringify(p, null, 2));
  return path;
}

export async function bootUfs(isolation: IsolationClass, o: UfsRigOptions = {}): Promise<UfsRig> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'hmdrv-ufs-'));
  const platform = ufsPlatform(dir, o);
  const k = await bootPlatform({ platform, isolation });
  let down = false;
  const shutdown = async () => { if (!down) { down = true; await k.shutdown(); } };
  return {
    k, dir, platform, shutdown,
    async dispose() { await shutdown(); if (!o.dir) rmSync(dir, { recursive: true, force: true }); },
  };
}

/** The 17 numbers of /sys/block/<disk>/stat. */
export async function diskStat(k: BootedKernel, disk = 'sda'): Promise<number[]> {
  const text = await k.vfs.readFile(`/sys/block/${disk}/stat`, { encoding: 'utf8' }) as string;
  return text.trim().split(/\s+/).map(Number);
}

export async function sysfs(k: BootedKernel, path: string): Promise<string> {
  return (await k.vfs.readFile(path, { encoding: 'utf8' }) as string).trim();
}
