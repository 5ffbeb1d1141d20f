// The physical limit for the models' data paths: copies of one block between two large buffers,
// cycling through a region larger than the caches (64 MiB each side by default), with the two
// primitives the models use: TypedArray.set of a subarray (UFS storage -> DMA memory, e1000 RX)
// and Buffer.copy. The source and destination cursors advance by different strides so
// consecutive copies never hit the same lines.

export interface Memcpy {
  /** One copy of `size` bytes with `TypedArray.prototype.set`. */
  set(): void;
  /** One copy of `size` bytes with `Buffer.prototype.copy`. */
  copy(): void;
  readonly size: number;
}

/** Two regions of `regionBytes` (every page touched, so page faults are not measured). */
export function memcpyRegions(regionBytes = 64 << 20): { src: Uint8Array; dst: Uint8Array } {
  const src = new Uint8Array(new SharedArrayBuffer(regionBytes));
  const dst = new Uint8Array(new SharedArrayBuffer(regionBytes));
  for (let i = 0; i < regionBytes; i += 4096) {
    src[i] = i >>> 12;
    dst[i] = 1;
  }
  return { src, dst };
}

/** Copies of `size` bytes cycling through both regions. */
export function memcpyLoop(size: number, regions = memcpyRegions()): Memcpy {
  const { src, dst } = regions;
  const regionBytes = Math.min(src.length, dst.length);
  const bsrc = Buffer.from(src.buffer, src.byteOffset, src.length), bdst = Buffer.from(dst.buffer, dst.byteOffset, dst.length);
  const blocks = Math.floor(regionBytes / size);
  let s = 0, d = 0;
  const step = () => {
    s = s + 1 === blocks ? 0 : s + 1;
    d = d + 7 >= blocks ? (d + 7) % blocks : d + 7;
  };
  return {
    size,
    set() {
      dst.set(src.subarray(s * size, s * size + size), d * size);
      step();
    },
    copy() {
      bsrc.copy(bdst, d * size, s * size, s * size + size);
      step();
    },
  };
}
