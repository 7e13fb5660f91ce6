/**
 * Colouring a field: decoded values, each pixel's cell, a style (colour map, value range, bands,
 * linear or logarithmic scale) → an indexed image whose palette entry 0 is transparent (missing
 * values, pixels off the grid, values a log scale cannot show) and entries 1..bands the colours.
 */
import type { ColourMap } from './colormaps.js';
import type { IndexedImage } from './png.js';

export interface RenderStyle {
  colourMap: ColourMap;
  /** Values at the bottom and top of the colour map; values beyond take the end colours. */
  range: [number, number];
  /** Colour bands, 1..254 (ncWMS NUMCOLORBANDS). */
  bands: number;
  /** ncWMS LOGSCALE: colours spaced by log10 of the value; values ≤ 0 are transparent. */
  log: boolean;
  /** Opaque background (RGB) instead of transparency where there is no value (WMS TRANSPARENT=FALSE). */
  background?: [number, number, number];
  /** Values above the range (ncWMS ABOVEMAXCOLOR): the top colour (default), transparent, or a colour. */
  above?: OutOfRange;
  /** Values below the range (ncWMS BELOWMINCOLOR): the bottom colour (default), transparent, or a colour. */
  below?: OutOfRange;
  /** How a pixel between cell centres is coloured: the nearest cell's value (default) or bilinear between four. */
  interpolation?: 'nearest' | 'bilinear';
}

/** What out-of-range values look like: `extend` the end colour, `transparent`, or an RGB colour. */
export type OutOfRange = 'extend' | 'transparent' | [number, number, number];

export const MAX_BANDS = 254;

/** Palette entries of the out-of-range colours after the bands (a colour takes one). */
function outOfRangeSlots(style: RenderStyle): { below?: number; above?: number } {
  const out: { below?: number; above?: number } = {};
  let next = style.bands + 1;
  if (Array.isArray(style.below)) out.below = next++;
  if (Array.isArray(style.above)) out.above = next;
  return out;
}

/** Palette (RGBA) of a style: transparent, then one colour per band sampled across the map. */
export function paletteOf(style: RenderStyle): Uint8Array {
  const slots = outOfRangeSlots(style);
  const palette = new Uint8Array((Math.max(style.bands, slots.below ?? 0, slots.above ?? 0) + 1) * 4);
  if (slots.below !== undefined) palette.set([...(style.below as number[]), 255], slots.below * 4);
  if (slots.above !== undefined) palette.set([...(style.above as number[]), 255], slots.above * 4);
  if (style.background) palette.set([...style.background, 255], 0);
  for (let b = 0; b < style.bands; b++) {
    const at = style.bands === 1 ? 128 : Math.round((b * 255) / (style.bands - 1));
    palette.set(style.colourMap.lut.subarray(at * 3, at * 3 + 3), (b + 1) * 4);
    palette[(b + 1) * 4 + 3] = 255;
  }
  return palette;
}

/** The palette index of a value (0: transparent). */
export function bandOf(style: RenderStyle): (v: number) => number {
  const { bands, log } = style;
  const lo = log ? Math.log10(style.range[0]) : style.range[0];
  const hi = log ? Math.log10(style.range[1]) : style.range[1];
  const span = hi - lo;
  const slots = outOfRangeSlots(style);
  const belowIndex = style.below === 'transparent' ? 0 : (slots.below ?? 1);
  const aboveIndex = style.above === 'transparent' ? 0 : (slots.above ?? bands);
  return (v: number) => {
    if (Number.isNaN(v) || (log && v <= 0)) return 0;
    const x = log ? Math.log10(v) : v;
    if (x < lo) return belowIndex;
    if (x > hi) return aboveIndex;
    const t = span > 0 ? (x - lo) / span : 0.5;
    const b = Math.floor(t * bands);
    return (b < 0 ? 0 : b >= bands ? bands - 1 : b) + 1;
  };
}

/** An image of width × height pixels: pixel p shows values[index[p]] (index -1: transparent). */
export function colourPixels(
  values: Float32Array | Float64Array,
  index: Int32Array,
  width: number,
  height: number,
  style: RenderStyle,
): IndexedImage {
  const band = bandOf(style);
  const pixels = new Uint8Array(width * height);
  for (let p = 0; p < pixels.length; p++) {
    const k = index[p]!;
    if (k >= 0) pixels[p] = band(values[k]!);
  }
  return { width, height, pixels, palette: paletteOf(style) };
}

/** A fully transparent image (a view that misses the grid). */
export function emptyImage(width: number, height: number): IndexedImage {
  return { width, height, pixels: new Uint8Array(width * height), palette: new Uint8Array(4) };
}
