/**
 * @module asm-generic/ioctl.h
 * _IO/_IOR/_IOW/_IOWR and the field accessors, with Linux's encoding (dir:2 size:14 type:8
 * nr:8). The size argument is a byte count (C's sizeof), since TypeScript has no sizeof.
 */
export const _IOC_NONE = 0, _IOC_WRITE = 1, _IOC_READ = 2;
const code = (t: string | number): number => (typeof t === 'string' ? t.charCodeAt(0) : t) & 0xff;

export function _IOC(dir: number, type: string | number, nr: number, size: number): number {
  return ((dir << 30) | ((size & 0x3fff) << 16) | (code(type) << 8) | (nr & 0xff)) >>> 0;
}
export const _IO = (type: string | number, nr: number): number => _IOC(_IOC_NONE, type, nr, 0);
export const _IOR = (type: string | number, nr: number, size: number): number => _IOC(_IOC_READ, type, nr, size);
export const _IOW = (type: string | number, nr: number, size: number): number => _IOC(_IOC_WRITE, type, nr, size);
export const _IOWR = (type: string | number, nr: number, size: number): number => _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
export const _IOC_DIR = (cmd: number): number => (cmd >>> 30) & 3;
export const _IOC_SIZE = (cmd: number): number => (cmd >>> 16) & 0x3fff;
export const _IOC_TYPE = (cmd: number): number => (cmd >>> 8) & 0xff;
export const _IOC_NR = (cmd: number): number => cmd & 0xff;
