/**
 * Legend images: a vertical colour bar of a style with its value labels, drawn with a 3×5 pixel
 * font (digits, '.', '-', '+', 'e') doubled, so no font file or canvas is needed.
 */
import { encodeRgbaPng } from './png.js';
import { bandOf, paletteOf, type RenderStyle } from './raster.js';

const GLYPHS: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  '-': '000000111000000',
  '+': '000010111010000',
  e: '000011111100011',
  ' ': '000000000000000',
};
const SCALE = 2;
const CHAR_W = 4 * SCALE;

/** A value as a short label (4 significant digits). */
function label(v: number): string {
  if (v === 0) return '0';
  const s = Number(v.toPrecision(4)).toString();
  return s.replace('e+', 'e');
}

function drawText(rgba: Uint8Array, width: number, x0: number, y0: number, text: string): void {
  for (let c = 0; c < text.length; c++) {
    const glyph = GLYPHS[text[c]!] ?? GLYPHS[' ']!;
    for (let gy = 0; gy < 5; gy++) {
      for (let gx = 0; gx < 3; gx++) {
        if (glyph[gy * 3 + gx] !== '1') continue;
        for (let sy = 0; sy < SCALE; sy++) {
          for (let sx = 0; sx < SCALE; sx++) {
            const x = x0 + c * CHAR_W + gx * SCALE + sx;
            const y = y0 + gy * SCALE + sy;
            if (x < 0 || x >= width || y < 0 || y * width + x >= rgba.length / 4) continue;
            rgba.set([0, 0, 0, 255], (y * width + x) * 4);
          }
        }
      }
    }
  }
}

/**
 * A PNG legend: the colour bar (maximum at the top) and five labels, on white; the colours of
 * values above and below the range, when the style sets them, as swatches over and under the bar.
 */
export function legendPng(style: RenderStyle, width = 110, height = 264): Buffer {
  const rgba = new Uint8Array(width * height * 4).fill(255);
  const palette = paletteOf(style);
  const band = bandOf(style);
  const [lo, hi] = style.range;
  const top = 7;
  const bottom = height - 8;
  const barW = Math.min(24, Math.max(4, Math.floor(width / 4)));
  const valueAt = (y: number): number => {
    const t = (bottom - y) / Math.max(1, bottom - top);
    return style.log ? 10 ** (Math.log10(lo) + t * (Math.log10(hi) - Math.log10(lo))) : lo + t * (hi - lo);
  };
  for (let y = top; y <= bottom; y++) {
    const b = band(valueAt(y));
    for (let x = 4; x < 4 + barW; x++) rgba.set(palette.subarray(b * 4, b * 4 + 4), (y * width + x) * 4);
  }
  // ABOVEMAXCOLOR / BELOWMINCOLOR, when they are colours: a swatch just above and just below the bar.
  const swatch = (colour: readonly number[], y0: number, y1: number) => {
    for (let y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++)
      for (let x = 4; x < 4 + barW; x++) rgba.set([colour[0]!, colour[1]!, colour[2]!, 255], (y * width + x) * 4);
  };
  if (Array.isArray(style.above)) swatch(style.above, 1, top - 2);
  if (Array.isArray(style.below)) swatch(style.below, bottom + 2, height - 2);
  for (let k = 0; k <= 4; k++) {
    const y = Math.round(bottom - (k * (bottom - top)) / 4);
    for (let x = 4 + barW; x < 8 + barW; x++) rgba.set([0, 0, 0, 255], (y * width + x) * 4);
    drawText(rgba, width, 10 + barW, y - 5, label(valueAt(y)));
  }
  return encodeRgbaPng(width, height, rgba);
}
