/**
 * Test helper: decodes the PNGs the screenshot path writes (8-bit RGBA or RGB, not interlaced)
 * back to RGBA, checking the signature, chunk CRCs and the IEND, and undoing all five filters.
 */
import { inflateSync } from 'node:zlib';
import { crc32, PNG_SIGNATURE } from '../../devices/display/png.js';

export interface DecodedPng { width: number; height: number; rgba: Uint8Array; chunks: string[] }

export function decodePng(png: Uint8Array): DecodedPng {
  const b = Buffer.from(png.buffer, png.byteOffset, png.length);
  if (!b.subarray(0, 8).equals(Buffer.from(PNG_SIGNATURE))) throw new Error('not a PNG: bad signature');
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let width = 0, height = 0, colorType = -1;
  for (let o = 8; o < b.length;) {
    const len = b.readUInt32BE(o);
    const type = b.toString('latin1', o + 4, o + 8);
    const data = b.subarray(o + 8, o + 8 + len);
    if (crc32(b.subarray(o + 4, o + 8 + len)) !== b.readUInt32BE(o + 8 + len)) throw new Error(`bad CRC in ${type}`);
    chunks.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('only 8-bit, non-interlaced PNGs');
      colorType = data[9]!;
    } else if (type === 'IDAT') idat.push(data);
    o += 12 + len;
  }
  if (chunks[0] !== 'IHDR' || chunks.at(-1) !== 'IEND') throw new Error(`bad chunk order: ${chunks.join(',')}`);
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!bpp) throw new Error(`colour type ${colorType} not handled`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  if (raw.length !== (stride + 1) * height) throw new Error(`IDAT holds ${raw.length} bytes, expected ${(stride + 1) * height}`);
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? px.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp]! : 0, u = up[i]!, c = i >= bpp ? up[i - bpp]! : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = u;
      else if (f === 3) pred = (a + u) >> 1;
      else if (f === 4) {
        const p = a + u - c, pa = Math.abs(p - a), pb = Math.abs(p - u), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
      } else if (f !== 0) throw new Error(`bad filter ${f} on row ${y}`);
      row[i] = (src[i]! + pred) & 0xff;
    }
  }
  if (bpp === 4) return { width, height, rgba: px, chunks };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < px.length; i += 3, j += 4) { rgba.set(px.subarray(i, i + 3), j); rgba[j + 3] = 0xff; }
  return { width, height, rgba, chunks };
}
