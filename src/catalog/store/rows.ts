/**
 * Items turned into the exact values the catalog stores, before the write: built on the indexing
 * threads, so the thread that writes only runs statements (and never re-serialises properties).
 */
import { boxPolygon, type GeoJsonGeometry } from '../../core/geometry.js';
import { addItem, emptyStats } from './stats.js';
import type { CollectionStats, ItemDraft, ItemKind, ItemRow } from './types.js';

/** The R*-tree's time axis is in days (epoch ms / DAY): float32 boxes keep a day's precision for millennia. */
export const DAY = 86_400_000;

/** An items row joined with its source file, as the catalog's queries select it (ROW_COLUMNS). */
export interface RawRow {
  rowid: number;
  cid: number;
  id: string;
  sk: number;
  gtype: number;
  s: number | null;
  e: number | null;
  minx: number | null;
  miny: number | null;
  maxx: number | null;
  maxy: number | null;
  geom: string | null;
  props: string;
  doc: string | null;
  rel: string;
  size: number | null;
  fidx: number | null;
}

export const ROW_COLUMNS =
  'i.rowid AS rowid, i.cid AS cid, i.id AS id, i.sk AS sk, i.gtype AS gtype, i.s AS s, i.e AS e, i.minx AS minx, i.miny AS miny, i.maxx AS maxx, i.maxy AS maxy, i.geom AS geom, i.props AS props, i.doc AS doc, i.fidx AS fidx, src.rel AS rel, src.size AS size';

/**
 * A ROW_COLUMNS row selected in raw mode (an array) as a RawRow: better-sqlite3 sets a row object's
 * columns one by one by name, which cost more than the query itself for a page of 100 items.
 */
export function rawRow(a: unknown[]): RawRow {
  return {
    rowid: a[0] as number,
    cid: a[1] as number,
    id: a[2] as string,
    sk: a[3] as number,
    gtype: a[4] as number,
    s: a[5] as number | null,
    e: a[6] as number | null,
    minx: a[7] as number | null,
    miny: a[8] as number | null,
    maxx: a[9] as number | null,
    maxy: a[10] as number | null,
    geom: a[11] as string | null,
    props: a[12] as string,
    doc: a[13] as string | null,
    fidx: a[14] as number | null,
    rel: a[15] as string,
    size: a[16] as number | null,
  };
}

/** A selected row as the catalog serves it: points and boxes get their geometry back from the stored box. */
export function toItemRow(r: RawRow, collection: string, kind: ItemKind): ItemRow {
  return {
    rowid: r.rowid,
    collection,
    kind,
    id: r.id,
    sk: r.sk,
    start: r.s,
    end: r.e,
    bbox: r.minx === null ? null : [r.minx, r.miny!, r.maxx!, r.maxy!],
    geom:
      r.gtype === 1
        ? `{"type":"Point","coordinates":[${r.minx},${r.miny}]}`
        : r.gtype === GTYPE_BOX
          ? JSON.stringify(boxPolygon([r.minx!, r.miny!, r.maxx!, r.maxy!]))
          : r.geom,
    props: r.props,
    doc: r.doc,
    file: r.rel,
    size: r.size,
    fidx: r.fidx,
  };
}

/** Geometry type codes stored per item. */
const GTYPE: Record<string, number> = {
  Point: 1,
  LineString: 2,
  Polygon: 4,
  MultiPoint: 4,
  MultiLineString: 4,
  MultiPolygon: 4,
  GeometryCollection: 4,
};
/** Geometry type code of an axis-aligned box polygon: its bbox is its exact shape. */
export const GTYPE_BOX = 3;

/** id, start, end (epoch ms), minx, miny, maxx, maxy, geometry type, GeoJSON (lines, polygons), properties JSON, item JSON (static), index in file, packed levels. */
type PreparedRow = [
  string,
  number | null,
  number | null,
  number | null,
  number | null,
  number | null,
  number | null,
  number,
  string | null,
  string,
  string | null,
  number | null,
  Uint8Array | null,
];

export interface PreparedItems {
  rows: PreparedRow[];
  stats: CollectionStats;
}

function isBox(g: GeoJsonGeometry): boolean {
  if (g.type !== 'Polygon' || g.coordinates.length !== 1) return false;
  const r = g.coordinates[0]!;
  if (r.length !== 5) return false;
  const xs = new Set(r.map((p) => p[0]));
  const ys = new Set(r.map((p) => p[1]));
  return xs.size === 2 && ys.size === 2 && r.every((p, i) => i === 0 || p[0] === r[i - 1]![0] || p[1] === r[i - 1]![1]);
}

export function prepareItems(items: Iterable<ItemDraft>): PreparedItems {
  const rows: PreparedRow[] = [];
  const stats = emptyStats();
  for (const item of items) {
    // A box crossing the antimeridian is stored as the full longitude range (the exact test uses the geometry).
    const b =
      item.bbox && item.bbox[0] <= item.bbox[2]
        ? item.bbox
        : item.bbox
          ? ([-180, item.bbox[1], 180, item.bbox[3]] as const)
          : null;
    const s = Number.isFinite(item.start) ? item.start : Number.isFinite(item.end) ? item.end : null;
    const e = Number.isFinite(item.end) ? item.end : s;
    const gtype = !item.geometry ? 0 : isBox(item.geometry) ? GTYPE_BOX : (GTYPE[item.geometry.type] ?? 4);
    // Points and boxes are rebuilt from the stored box: only other shapes keep their GeoJSON.
    const geom = item.geometry && gtype !== 1 && gtype !== GTYPE_BOX ? JSON.stringify(item.geometry) : null;
    rows.push([
      item.id,
      s,
      e,
      b?.[0] ?? null,
      b?.[1] ?? null,
      b?.[2] ?? null,
      b?.[3] ?? null,
      gtype,
      geom,
      JSON.stringify(item.properties),
      item.doc ?? null,
      item.fidx ?? null,
      item.levels ?? null,
    ]);
    addItem(stats, item);
  }
  return { rows, stats };
}
