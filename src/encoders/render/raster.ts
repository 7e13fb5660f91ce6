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
}

export const MAX_BANDS = 254;

/** Palette (RGBA) of a style: transparent, then one colour per band sampled across the map. */
export function paletteOf(style: RenderStyle): Uint8Array {
  const palette = new Uint8Array((style.bands + 1) * 4);
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
  return (v: number) => {
    if (Number.isNaN(v) || (log && v <= 0)) return 0;
    const x = log ? Math.log10(v) : v;
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
