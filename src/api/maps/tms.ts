/**
 * The two tile matrix sets of OGC Two Dimensional Tile Matrix Set 2.0 (OGC 17-083r4, Annex D)
 * served for map tiles: WebMercatorQuad (EPSG:3857, one 256-pixel tile at level 0) and
 * WorldCRS84Quad (CRS84, two tiles at level 0), with the box of any tile.
 */
import { InvalidParameterValue, NotFound } from '../../core/errors.js';
import { MERCATOR_HALF_WORLD, type MapView } from '../../core/grid/view.js';
import { CRS84, EPSG_3857 } from '../../core/grid/crs.js';

const TILE_SIZE = 256;
const MAX_ZOOM = 24;
/** Scale denominators assume 0.28 mm pixels (OGC). */
const PIXEL_METRES = 0.00028;
const METRES_PER_DEGREE = (2 * Math.PI * 6378137) / 360;

export interface TileMatrixSetDef {
  id: 'WebMercatorQuad' | 'WorldCRS84Quad';
  title: string;
  uri: string;
  crs: string;
  /** Tile columns and rows at level 0. */
  cols0: number;
  rows0: number;
  /** Top-left corner and the span of one level-0 tile, in CRS units (x first). */
  origin: [number, number];
  span0: number;
  view: MapView['crs'];
}

export const TILE_MATRIX_SETS: Record<string, TileMatrixSetDef> = {
  WebMercatorQuad: {
    id: 'WebMercatorQuad',
    title: 'Google Maps Compatible for the World',
    uri: 'http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad',
    crs: EPSG_3857,
    cols0: 1,
    rows0: 1,
    origin: [-MERCATOR_HALF_WORLD, MERCATOR_HALF_WORLD],
    span0: 2 * MERCATOR_HALF_WORLD,
    view: 'EPSG:3857',
  },
  WorldCRS84Quad: {
    id: 'WorldCRS84Quad',
    title: 'CRS84 for the World',
    uri: 'http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad',
    crs: CRS84,
    cols0: 2,
    rows0: 1,
    origin: [-180, 90],
    span0: 180,
    view: 'CRS84',
  },
};

export function tileMatrixSet(id: string): TileMatrixSetDef {
  const tms = TILE_MATRIX_SETS[id];
  if (!tms) throw new NotFound(`No tile matrix set '${id}'; offered: ${Object.keys(TILE_MATRIX_SETS).join(', ')}`);
  return tms;
}

function wholeNumber(text: string, parameter: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > max)
    throw new InvalidParameterValue(parameter, `expected a whole number from 0 to ${max}, got '${text}'`);
  return n;
}

/** The view of one tile; a level, row or column beyond the matrix is a 400 naming the limits. */
export function tileView(tms: TileMatrixSetDef, z: string, row: string, col: string): MapView {
  const level = wholeNumber(z, 'tileMatrix', MAX_ZOOM);
  const cols = tms.cols0 * 2 ** level;
  const rows = tms.rows0 * 2 ** level;
  const r = wholeNumber(row, 'tileRow', rows - 1);
  const c = wholeNumber(col, 'tileCol', cols - 1);
  const span = tms.span0 / 2 ** level;
  const x0 = tms.origin[0] + c * span;
  const y1 = tms.origin[1] - r * span;
  return { crs: tms.view, bbox: [x0, y1 - span, x0 + span, y1], width: TILE_SIZE, height: TILE_SIZE };
}

/** The JSON definition of a tile matrix set (TMS 2.0), levels 0..maxZoom. */
export function tileMatrixSetDoc(tms: TileMatrixSetDef, maxZoom = 18): object {
  const unitMetres = tms.view === 'CRS84' ? METRES_PER_DEGREE : 1;
  return {
    id: tms.id,
    title: tms.title,
    uri: tms.uri,
    crs: tms.crs,
    orderedAxes: tms.view === 'CRS84' ? ['Lon', 'Lat'] : ['E', 'N'],
    tileMatrices: Array.from({ length: maxZoom + 1 }, (_, z) => {
      const cellSize = tms.span0 / 2 ** z / TILE_SIZE;
      return {
        id: String(z),
        scaleDenominator: (cellSize * unitMetres) / PIXEL_METRES,
        cellSize,
        cornerOfOrigin: 'topLeft',
        pointOfOrigin: tms.origin,
        tileWidth: TILE_SIZE,
        tileHeight: TILE_SIZE,
        matrixWidth: tms.cols0 * 2 ** z,
        matrixHeight: tms.rows0 * 2 ** z,
      };
    }),
  };
}
