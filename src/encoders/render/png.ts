/**
 * A minimal PNG writer (ISO/IEC 15948) on node:zlib: 8-bit indexed images (a palette with alpha,
 * one byte per pixel: maps and tiles) and 8-bit RGBA (legends). Rows are written with filter 0
 * and deflated at the fastest level: colour-mapped fields compress well as they are, and CPU is
 * what a tile server lacks.
 */
import { constants, crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function header(width: number, height: number, colourType: 3 | 6): Buffer {
  const h = Buffer.alloc(13);
  h.writeUInt32BE(width, 0);
  h.writeUInt32BE(height, 4);
  h[8] = 8; // bit depth
  h[9] = colourType;
  return h;
}

/** Rows prefixed with their filter byte (0: none), deflated. */
function imageData(pixels: Uint8Array, width: number, height: number, bytesPerPixel: number): Buffer {
  const row = width * bytesPerPixel;
  const raw = Buffer.alloc((row + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  return deflateSync(raw, { level: constants.Z_BEST_SPEED });
}

export interface IndexedImage {
  width: number;
  height: number;
  /** One palette index per pixel, row-major from the top. */
  pixels: Uint8Array;
  /** RGBA entries, 4 bytes each, at most 256. */
  palette: Uint8Array;
}

/** An indexed-colour PNG (colour type 3) with a tRNS chunk carrying the palette's alpha. */
export function encodeIndexedPng(img: IndexedImage): Buffer {
  const n = img.palette.length / 4;
  const plte = new Uint8Array(n * 3);
  const trns = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    plte.set(img.palette.subarray(i * 4, i * 4 + 3), i * 3);
    trns[i] = img.palette[i * 4 + 3]!;
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header(img.width, img.height, 3)),
    chunk('PLTE', plte),
    chunk('tRNS', trns),
    chunk('IDAT', imageData(img.pixels, img.width, img.height, 1)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A truecolour PNG with alpha (colour type 6) from RGBA bytes. */
export function encodeRgbaPng(width: number, height: number, rgba: Uint8Array): Buffer {
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header(width, height, 6)),
    chunk('IDAT', imageData(rgba, width, height, 4)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
