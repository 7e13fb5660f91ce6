/**
 * Colour maps for rendering grids, as control points interpolated to 256-entry lookup tables.
 * Sources (all open licences):
 * - viridis: matplotlib's perceptually uniform map (van der Walt & Smith, CC0), at the 9 stops the
 *   npm package `colormap` 2.3.2 (MIT) gives;
 * - thermal and haline: cmocean's maps for temperature and salinity (Thyng et al. 2016,
 *   doi:10.5670/oceanog.2016.66, MIT), as `colormap` 2.3.2 gives them ("temperature", "salinity");
 * - diverging: ColorBrewer RdBu, 11 classes (Cynthia Brewer, Apache-2.0), blue for low values;
 * - greys: black to white.
 */

export interface ColourMap {
  name: string;
  title: string;
  /** 256 RGB triples. */
  lut: Uint8Array;
}

type Stop = [at: number, r: number, g: number, b: number];

const even = (rgbs: Array<[number, number, number]>): Stop[] =>
  rgbs.map(([r, g, b], i) => [i / (rgbs.length - 1), r, g, b]);

const STOPS: Record<string, { title: string; stops: Stop[] }> = {
  viridis: {
    title: 'viridis (perceptual, sequential)',
    stops: [
      [0, 68, 1, 84],
      [0.13, 71, 44, 122],
      [0.25, 59, 81, 139],
      [0.38, 44, 113, 142],
      [0.5, 33, 144, 141],
      [0.63, 39, 173, 129],
      [0.75, 92, 200, 99],
      [0.88, 170, 220, 50],
      [1, 253, 231, 37],
    ],
  },
  thermal: {
    title: 'thermal (cmocean, for temperature)',
    stops: [
      [0, 4, 35, 51],
      [0.13, 23, 51, 122],
      [0.25, 85, 59, 157],
      [0.38, 129, 79, 143],
      [0.5, 175, 95, 130],
      [0.63, 222, 112, 101],
      [0.75, 249, 146, 66],
      [0.88, 249, 196, 65],
      [1, 232, 250, 91],
    ],
  },
  haline: {
    title: 'haline (cmocean, for salinity)',
    stops: [
      [0, 42, 24, 108],
      [0.13, 33, 50, 162],
      [0.25, 15, 90, 145],
      [0.38, 40, 118, 137],
      [0.5, 59, 146, 135],
      [0.63, 79, 175, 126],
      [0.75, 120, 203, 104],
      [0.88, 193, 221, 100],
      [1, 253, 239, 154],
    ],
  },
  diverging: {
    title: 'diverging blue–white–red (ColorBrewer RdBu, for anomalies)',
    stops: even([
      [5, 48, 97],
      [33, 102, 172],
      [67, 147, 195],
      [146, 197, 222],
      [209, 229, 240],
      [247, 247, 247],
      [253, 219, 199],
      [244, 165, 130],
      [214, 96, 77],
      [178, 24, 43],
      [103, 0, 31],
    ]),
  },
  greys: {
    title: 'greys (black to white)',
    stops: [
      [0, 0, 0, 0],
      [1, 255, 255, 255],
    ],
  },
};

function lutOf(stops: Stop[]): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && stops[k + 1]![0] < t) k++;
    const [a0, r0, g0, b0] = stops[k]!;
    const [a1, r1, g1, b1] = stops[k + 1]!;
    const f = a1 > a0 ? Math.min(1, Math.max(0, (t - a0) / (a1 - a0))) : 0;
    lut[i * 3] = Math.round(r0 + (r1 - r0) * f);
    lut[i * 3 + 1] = Math.round(g0 + (g1 - g0) * f);
    lut[i * 3 + 2] = Math.round(b0 + (b1 - b0) * f);
  }
  return lut;
}

export const COLOUR_MAPS: ReadonlyMap<string, ColourMap> = new Map(
  Object.entries(STOPS).map(([name, s]) => [name, { name, title: s.title, lut: lutOf(s.stops) }]),
);

export const COLOUR_MAP_NAMES = [...COLOUR_MAPS.keys()];

/** The map a field is drawn with by default: thermal for temperatures, haline for salinity, diverging for anomalies. */
export function defaultColourMap(name: string, attrs: Record<string, unknown>): string {
  const text = [name, attrs['standard_name'], attrs['long_name']]
    .filter((s) => typeof s === 'string')
    .join(' ')
    .toLowerCase();
  if (/anomal/.test(text)) return 'diverging';
  if (/temperature|sst|\btemp/.test(text)) return 'thermal';
  if (/salinity|psal|\bsal/.test(text)) return 'haline';
  return 'viridis';
}
