/**
 * PNG writer tests: CRC-32 vectors, a round trip through an independent decoder written here
 * (chunk walk, CRC check, inflate, unfilter), pngcheck when it is installed, and a scanout
 * snapshot of the display.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng, PNG_SIGNATURE, saveScanoutPng } from './png.js';
import { bootDisplay, drawXrgb, firstPixelMismatch, setMode } from './bochs.fixture.js';

interface Decoded { width: number; height: number; rgba: Uint8Array; chunks: string[] }

/** Decodes 8-bit RGBA, non-interlaced PNGs (any filter types); asserts every chunk CRC. */
function decodePng(file: Uint8Array): Decoded {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  assert.deepEqual([...buf.subarray(0, 8)], [...PNG_SIGNATURE]);
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let width = 0, height = 0;
  for (let p = 8; p < buf.length;) {
    const len = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    const data = buf.subarray(p + 8, p + 8 + len);
    assert.equal(buf.readUInt32BE(p + 8 + len), crc32(buf.subarray(p + 4, p + 8 + len)), `CRC of ${type}`);
    chunks.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 6, 0, 0, 0]);
    } else if (type === 'IDAT') idat.push(data);
    p += 12 + len;
  }
  return { width, height, rgba: unfilter(inflateSync(Buffer.concat(idat)), width, height), chunks };
}

/** Reverses PNG filtering (types 0–4) for 4 bytes per pixel. */
function unfilter(raw: Uint8Array, width: number, height: number): Uint8Array {
  const row = width * 4, out = new Uint8Array(row * height);
  assert.equal(raw.length, (row + 1) * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (row + 1)]!;
    for (let x = 0; x < row; x++) {
      const v = raw[y * (row + 1) + 1 + x]!;
      const a = x >= 4 ? out[y * row + x - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * row + x]! : 0;
      const c = x >= 4 && y > 0 ? out[(y - 1) * row + x - 4]! : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
      assert.notEqual(pred, undefined, `filter type ${type}`);
      out[y * row + x] = (v + pred!) & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

const hasPngcheck = spawnSync('pngcheck', ['-h'], { stdio: 'ignore' }).error === undefined;

describe('PNG writer', () => {
  it('computes the standard CRC-32', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
    assert.equal(crc32(Buffer.from('6789'), crc32(Buffer.from('12345'))), 0xcbf43926, 'continues over pieces');
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  it('round-trips an RGBA image through inflate and unfilter', () => {
    const width = 37, height = 23, rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 2654435761) >>> 24;
    const png = encodePng(width, height, rgba);
    const back = decodePng(png);
    assert.deepEqual(back.chunks, ['IHDR', 'IDAT', 'IEND']);
    assert.equal(back.width, width);
    assert.equal(back.height, height);
    assert.deepEqual(back.rgba, rgba);
  });

  it('refuses bad sizes and a buffer of the wrong length', () => {
    assert.throws(() => encodePng(0, 1, new Uint8Array(0)), RangeError);
    assert.throws(() => encodePng(2, 2, new Uint8Array(15)), /15 bytes of RGBA do not make a 2x2 image/);
  });

  it('writes files pngcheck accepts', { skip: hasPngcheck ? false : 'pngcheck is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'hmdrv-png-'));
    try {
      const path = join(dir, 'gradient.png');
      const rgba = new Uint8Array(300 * 200 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i >> 2) % 251));
      writeFileSync(path, encodePng(300, 200, rgba));
      const r = spawnSync('pngcheck', ['-v', path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /300 x 200 image, 32-bit RGB\+alpha, non-interlaced/);
      assert.match(r.stdout, /No errors detected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('saves the display scanout as a PNG that decodes to the drawn frame', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hmdrv-png-'));
    try {
      const { mmio, vram, display } = bootDisplay();
      const path = join(dir, 'scanout.png');
      assert.throws(() => saveScanoutPng(display, path), /nothing is displayed/);
      setMode(mmio, 1024, 768);
      const expected = drawXrgb(vram, 0, 4096, 1024, 768, 7);
      const frame = saveScanoutPng(display, path);
      assert.equal(frame.width, 1024);
      const back = decodePng(readFileSync(path));
      assert.equal(back.width, 1024);
      assert.equal(back.height, 768);
      assert.equal(firstPixelMismatch(back.rgba, expected), -1);
      if (hasPngcheck) assert.equal(spawnSync('pngcheck', ['-q', path]).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
