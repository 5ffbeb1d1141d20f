/**
 * @module bytes
 * DataView-compatible byte-order access over a plain Uint8Array, for hot paths. Typed arrays of
 * up to 64 bytes live on the JS heap; building a DataView (or a subarray) over one makes V8 move
 * its bytes off-heap first, which costs 240-790 ns — more than the work the model then does.
 * The default byte order is big-endian, as with DataView.
 */
export interface ByteView {
  getUint16(offset: number, littleEndian?: boolean): number;
  getUint32(offset: number, littleEndian?: boolean): number;
  setUint16(offset: number, value: number, littleEndian?: boolean): void;
  setUint32(offset: number, value: number, littleEndian?: boolean): void;
}

/** Little-endian u32 at `o` (no allocation: for the hottest paths). */
export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function byteView(b: Uint8Array): ByteView {
  return {
    getUint16: (o, le) => (le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!),
    getUint32: (o, le) => (le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0),
    setUint16: (o, v, le) => {
      if (le) { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; } else { b[o] = (v >>> 8) & 0xff; b[o + 1] = v & 0xff; }
    },
    setUint32: (o, v, le) => {
      if (le) { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; b[o + 2] = (v >>> 16) & 0xff; b[o + 3] = v >>> 24; } else { b[o] = v >>> 24; b[o + 1] = (v >>> 16) & 0xff; b[o + 2] = (v >>> 8) & 0xff; b[o + 3] = v & 0xff; }
    },
  };
}

/** Up to this many bytes, a typed array made with `new Uint8Array(n)` lives on the JS heap. */
const SMALL = 64;

/**
 * Copies `len` bytes from `src[srcOff..]` to `dst[dstOff..]` (not for overlapping ranges of one
 * buffer). All of `src` goes with one `set` (no view needed); other short copies run a plain
 * loop, since `subarray` on a small array would first move its bytes off-heap (see above);
 * longer ones use `set` on a subarray.
 */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  if (srcOff === 0 && len === src.length) {
    dst.set(src, dstOff);
  } else if (len <= SMALL) {
    for (let k = 0; k < len; k++) dst[dstOff + k] = src[srcOff + k]!;
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  }
}
