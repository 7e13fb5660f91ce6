import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Collection } from '../catalog/collection.js';
import type { FeatureRecord } from '../catalog/feature.js';
import { geometryBBox, safeId } from '../catalog/feature.js';
import type { GridSummary } from '../core/grid/summary.js';
import { isoOrNull as isoTime } from '../catalog/extract/common.js';
import { boxPolygon, type Box, type GeoJsonGeometry } from '../core/geometry.js';
import type { CollectionSource, ItemDraft, SourceFile } from '../catalog/store/types.js';

/** Bump when the items built from the same files change shape: every stamp changes with it. */
const ITEMS_VERSION = 'items-1';
/** A grid file with more time steps than this is one item, not one per step. */
const MAX_STEPS_AS_ITEMS = 100_000;

function hash(...parts: string[]): string {
  const h = createHash('sha1').update(ITEMS_VERSION);
  for (const p of parts) h.update('\u0000').update(p);
  return h.digest('hex').slice(0, 20);
}

function fileSize(abs: string): number | undefined {
  try {
    return statSync(abs).size;
  } catch {
    return undefined;
  }
}

/** A feature (profile, trajectory, station) as a STAC item; undefined when it has no time (STAC needs one). */
export function featureDraft(r: FeatureRecord): ItemDraft | undefined {
  const start = Number.isFinite(r.start) ? r.start : r.end;
  const end = Number.isFinite(r.end) ? r.end : r.start;
  if (!Number.isFinite(start)) return undefined;
  const properties: Record<string, unknown> = { ...r.properties };
  // STAC: datetime is the instant; a span also gives start/end (datetime stays the start, for sorting).
  properties['datetime'] = isoTime(start);
  if (end !== start) {
    properties['start_datetime'] = isoTime(start);
    properties['end_datetime'] = isoTime(end);
  } else {
    delete properties['start_datetime'];
    delete properties['end_datetime'];
  }
  const geometry = r.geometry as GeoJsonGeometry | null;
  return { id: r.id, geometry, bbox: geometryBBox(r.geometry) ?? null, start, end, properties };
}

function featureSource(c: Collection): CollectionSource {
  const records = c.features?.records ?? [];
  const byFile = new Map<string, FeatureRecord[]>();
  for (const r of records) {
    const list = byFile.get(r.source.file);
    if (list) list.push(r);
    else byFile.set(r.source.file, [r]);
  }
  const files = function* (): Generator<SourceFile> {
    for (const [rel, rs] of byFile) {
      const stamp = hash(c.id, rel, JSON.stringify(rs.map((r) => [r.id, r.geometry, r.start, r.end, r.properties])));
      yield { rel, stamp, size: () => fileSize(join(c.root, rel)), items: () => rs.map(featureDraft).filter((d): d is ItemDraft => d !== undefined) };
    }
  };
  return { id: c.id, kind: 'feature', files: files() };
}

/** Item id of one time step: the file's id and the step's UTC time, compact. */
function stepId(base: string, t: number): string {
  const iso = new Date(t).toISOString();
  const compact = iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10).replace(/-/g, '') : iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${base}_${compact}`;
}

function gridDrafts(c: Collection, rel: string, summary: GridSummary | undefined, mtimeMs: number): ItemDraft[] {
  const bbox = (summary?.bbox ?? c.bbox ?? null) as Box | null;
  const geometry = bbox ? boxPolygon(bbox) : null;
  const base = c.files.length === 1 ? c.id : safeId(rel.replace(/\.[^./]+$/, '').replace(/\//g, '-'));
  const times = summary?.time?.values ?? [];
  const common = { title: rel.replace(/^.*\//, ''), ...(summary?.fields ? { variables: summary.fields } : {}) };
  if (times.length > 0 && times.length <= MAX_STEPS_AS_ITEMS && times.every(Number.isFinite)) {
    // One item per time step: a search by time finds the step, and its subset link asks for that step only.
    return times.map((t) => ({ id: times.length === 1 ? base : stepId(base, t), geometry, bbox, start: t, end: t, properties: { ...common, datetime: isoTime(t) } }));
  }
  const span = summary?.time?.values.length
    ? ([Math.min(...summary.time.values), Math.max(...summary.time.values)] as [number, number])
    : c.files.length === 1 ? c.timeSpan : undefined;
  if (span && Number.isFinite(span[0]) && Number.isFinite(span[1])) {
    const properties = span[0] === span[1]
      ? { ...common, datetime: isoTime(span[0]) }
      : { ...common, datetime: null, start_datetime: isoTime(span[0]), end_datetime: isoTime(span[1]) };
    return [{ id: base, geometry, bbox, start: span[0], end: span[1], properties }];
  }
  // A grid without time (bathymetry, a static field): STAC still needs a date; the file's is the only one there is.
  const created = isoTime(mtimeMs);
  return [{ id: base, geometry, bbox, start: mtimeMs, end: mtimeMs, properties: { ...common, datetime: created, created } }];
}

function gridSource(c: Collection): CollectionSource {
  const files = function* (): Generator<SourceFile> {
    for (const rel of c.files) {
      const abs = join(c.root, rel);
      let st: { size: number; mtimeMs: number } | undefined;
      try {
        st = statSync(abs);
      } catch {
        st = undefined;
      }
      const summary = c.grid?.find((g) => g.file === rel)?.summary;
      const stamp = hash(c.id, rel, String(st?.size), String(st?.mtimeMs), JSON.stringify(summary ?? null), JSON.stringify([c.bbox, c.timeSpan, c.files.length === 1]));
      yield { rel, stamp, size: () => st?.size, items: () => gridDrafts(c, rel, summary, st?.mtimeMs ?? 0) };
    }
  };
  return { id: c.id, kind: 'grid', files: files() };
}

/** The index sources of the discovered collections: features per file, grids per file or time step. */
export function collectionSources(collections: Iterable<Collection>): CollectionSource[] {
  const out: CollectionSource[] = [];
  for (const c of collections) out.push(c.kind === 'grid' ? gridSource(c) : featureSource(c));
  return out;
}
