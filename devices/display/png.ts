/**
 * @module display/png
 * A minimal PNG writer for scanout snapshots: 8-bit RGBA (colour type 6), no interlace, filter
 * type 0 (None) on every row, one IDAT compressed with node:zlib. Chunks are IHDR, IDAT, IEND,
 * each with its CRC-32 (ISO 3309 / ITU-T V.42, as the PNG spec requires). Node 20 has no
 * `zlib.crc32`, so the CRC is computed here with the usual 256-entry table.
 *
 * @example
 * writeFileSync('red.png', encodePng(1, 1, new Uint8Array([255, 0, 0, 255])));
 * saveScanoutPng(display, '/tmp/frame.png');        // what the display shows right now
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import type { RgbaFrame } from './bochs.scanout.js';

/** The 8-byte PNG file signature. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of `data` (reflected polynomial 0xEDB88320). Pass a previous result as `crc` to
 * continue over more data: `crc32(b, crc32(a)) === crc32(a ++ b)`.
 */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length (big endian), type, data, CRC over type and data. */
function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes `width × height` RGBA pixels (rows top to bottom, `width * height * 4` bytes) as a
 * PNG file. Throws RangeError for bad dimensions or a buffer of the wrong length.
 */
export function encodePng(width: number, height: number, rgba: Uint8Array, options: { level?: number } = {}): Buffer {
  const okDim = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 0x7fffffff;
  if (!okDim(width) || !okDim(height)) throw new RangeError(`PNG size ${width}x${height} is not valid`);
  const rowBytes = width * 4;
  if (rgba.length !== rowBytes * height) throw new RangeError(`${rgba.length} bytes of RGBA do not make a ${width}x${height} image`);

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, RGBA, deflate, adaptive filtering, no interlace

  // Each scanline is preceded by its filter type byte (0: None).
  const raw = Buffer.alloc((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  const idat = deflateSync(raw, { level: options.level ?? 6 });

  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

/** Anything that can say what it shows (a display model). */
export interface ScanoutSource {
  readonly name: string;
  scanout(): RgbaFrame | null;
}

/**
 * Writes what `model` displays right now to `path` as a PNG and returns the frame. Throws if
 * the display shows nothing (off, or a mode it cannot display) or the file cannot be written.
 */
export function saveScanoutPng(model: ScanoutSource, path: string): RgbaFrame {
  const frame = model.scanout();
  if (frame === null) throw new Error(`${model.name}: nothing is displayed (display disabled or mode not displayable)`);
  writeFileSync(path, encodePng(frame.width, frame.height, frame.rgba));
  return frame;
}
