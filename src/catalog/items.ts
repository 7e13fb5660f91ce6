/** What the catalog stores per feature and per grid time step: the rows Features, EDR and STAC read. */
import { boxPolygon, type Box, type GeoJsonGeometry } from '../core/geometry.js';
import type { GridSummary } from '../core/grid/summary.js';
import type { MetadataTime } from '../cf/metadata-time.js';
import { isoOrNull as isoTime } from './extract/common.js';
import { geometryBBox, safeId, type FeatureRecord } from './feature.js';
import type { ItemDraft } from './store/types.js';

/** A grid file with more time steps than this is one item, not one per step. */
const MAX_STEPS_AS_ITEMS = 100_000;

/** A feature (profile, trajectory, station) as a catalog row; its properties are the file's own. */
export function featureDraft(r: FeatureRecord, fidx: number): ItemDraft {
  const geometry = r.geometry as GeoJsonGeometry | null;
  return {
    id: r.id,
    geometry,
    bbox: geometryBBox(r.geometry) ?? null,
    start: r.start,
    end: r.end,
    properties: r.properties,
    fidx,
    ...(r.levels ? { levels: r.levels } : {}),
  };
}

/** Item id of one time step: the file's id and the step's UTC time, compact. */
function stepId(base: string, t: number): string {
  const iso = new Date(t).toISOString();
  const compact = iso.endsWith('T00:00:00.000Z')
    ? iso.slice(0, 10).replace(/-/g, '')
    : iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${base}_${compact}`;
}

export interface GridItemContext {
  collectionId: string;
  /** The collection is this one file (item ids are the collection's), not a folder of them. */
  single: boolean;
  rel: string;
  summary?: GridSummary;
  bbox?: Box;
  timeSpan?: [number, number];
  /** A grid without a time axis: the time its metadata names. */
  dataTime?: MetadataTime;
}

/** A grid file's STAC items: one per time step (a search by time finds the step), or one for the file. */
export function gridDrafts(g: GridItemContext): ItemDraft[] {
  const bbox = (g.summary?.bbox ?? g.bbox ?? null) as Box | null;
  const geometry = bbox ? boxPolygon(bbox) : null;
  const base = g.single ? g.collectionId : safeId(g.rel.replace(/\.[^./]+$/, '').replace(/\//g, '-'));
  const times = g.summary?.time?.values ?? [];
  const common = { title: g.rel.replace(/^.*\//, ''), ...(g.summary?.fields ? { variables: g.summary.fields } : {}) };
  if (times.length > 0 && times.length <= MAX_STEPS_AS_ITEMS && times.every(Number.isFinite)) {
    return times.map((t) => ({
      id: times.length === 1 ? base : stepId(base, t),
      geometry,
      bbox,
      start: t,
      end: t,
      properties: { ...common, datetime: isoTime(t) },
    }));
  }
  const span = times.length ? ([Math.min(...times), Math.max(...times)] as [number, number]) : g.timeSpan;
  if (span && Number.isFinite(span[0]) && Number.isFinite(span[1])) {
    const properties =
      span[0] === span[1]
        ? { ...common, datetime: isoTime(span[0]) }
        : { ...common, datetime: null, start_datetime: isoTime(span[0]), end_datetime: isoTime(span[1]) };
    return [{ id: base, geometry, bbox, start: span[0], end: span[1], properties }];
  }
  const t = g.dataTime;
  if (t?.instant !== undefined) {
    const span =
      t.start !== undefined && t.end !== undefined
        ? { start_datetime: isoTime(t.start), end_datetime: isoTime(t.end) }
        : {};
    return [
      {
        id: base,
        geometry,
        bbox,
        start: t.start ?? t.instant,
        end: t.end ?? t.instant,
        properties: { ...common, datetime: isoTime(t.instant), ...span },
      },
    ];
  }
  if (t?.start !== undefined && t.end !== undefined) {
    return [
      {
        id: base,
        geometry,
        bbox,
        start: t.start,
        end: t.end,
        properties: { ...common, datetime: null, start_datetime: isoTime(t.start), end_datetime: isoTime(t.end) },
      },
    ];
  }
  // No time anywhere in the file (a bathymetry, an image): no item. A STAC item needs a time
  // (datetime, or start and end), and the file's modification time is not the data's (it changes
  // with every copy). The STAC collection offers the file as a collection-level asset instead.
  return [];
}
