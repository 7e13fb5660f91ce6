/**
 * EDR queries over profile, trajectory and time-series collections: the FeatureIndex narrows the
 * features (box, time), then each candidate's rows are read and kept when inside the geometry,
 * the time interval and the z selection. One feature is in memory at a time.
 */
import type { Collection } from '../../catalog/collection.js';
import type { FeatureStore } from '../../catalog/feature-store.js';
import type { FeatureRecord } from '../../catalog/feature.js';
import { NotFound } from '../../core/errors.js';
import type { BBox } from '../../core/query/bbox.js';
import { containsPoint } from '../../core/query/bbox.js';
import {
  bboxOf,
  circleBBox,
  distanceToPath,
  EARTH_RADIUS_M,
  haversine,
  pointInPolygons,
} from '../../core/query/geodesic.js';
import { polygonsOf, vertices, type Position } from '../../core/query/wkt.js';
import { selectLevels } from '../../core/query/z.js';
import type { SampleSet, SamplesPayload } from '../../encoders/edr/payload.js';
import { edrParameters } from './parameters.js';
import type { EdrQuery } from './query.js';
import { filterRows, InSituSource } from './insitu-source.js';

/** Features whose rows are read ahead of the one being encoded. */
const READ_AHEAD = 8;

/** Half-width of the path a trajectory query follows through observations, when no corridor is given. */
export const TRAJECTORY_DEFAULT_WIDTH_M = 10_000;

/** The platform a feature belongs to: Argo float number, else the feature (station, trajectory) itself. */
export function locationIdOf(c: Collection, r: FeatureRecord): string {
  const platform = r.properties['platform_number'];
  if (c.kind !== 'timeSeries' && typeof platform === 'string' && platform) return platform;
  return r.id;
}

function widen(b: BBox, metres: number): BBox {
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  const lat = Math.min(89, Math.max(Math.abs(b.south), Math.abs(b.north)) + dLat);
  const dLon = Math.min(180, dLat / Math.cos((lat * Math.PI) / 180));
  return {
    west: Math.max(-180, b.west - dLon),
    south: Math.max(-90, b.south - dLat),
    east: Math.min(180, b.east + dLon),
    north: Math.min(90, b.north + dLat),
  };
}

function pointOf(r: FeatureRecord): [number, number] | undefined {
  return r.geometry?.type === 'Point' ? r.geometry.coordinates : undefined;
}

interface Plan {
  /**
   * Candidate features in catalog order, produced when iterated: an area over an archive streams
   * from the catalog a batch at a time instead of holding every feature it matches.
   */
  candidates: () => AsyncIterable<FeatureRecord>;
  /** Row test on position (x, y) and z, for rows of kept features. */
  keepXY?: (x: number, y: number) => boolean;
  keepZ?: (z: number, t: number, x: number, y: number) => boolean;
  /** Position queries on trajectories: keep only the nearest row to each point. */
  nearestRows?: Position[];
}

async function* where<T>(items: AsyncIterable<T>, keep: (x: T) => boolean): AsyncGenerator<T> {
  for await (const x of items) if (keep(x)) yield x;
}

async function* listed<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function plan(c: Collection & { features: FeatureStore }, q: EdrQuery): Promise<Plan> {
  const index = c.features;
  const datetime = q.datetime;
  const points = c.kind !== 'trajectory';
  // Profiles come with their levels from the catalog: their rows are then read without opening files.
  const levels = c.kind === 'profile';
  const all = (bbox?: BBox) => index.iterate({ ...(bbox ? { bbox } : {}), ...(datetime ? { datetime } : {}) }, levels);
  const at = (r: FeatureRecord, test: (x: number, y: number) => boolean) => {
    const xy = pointOf(r);
    return xy !== undefined && test(xy[0], xy[1]);
  };
  switch (q.type) {
    case 'position': {
      const targets =
        q.coords!.type === 'Point'
          ? [q.coords!.coordinates]
          : q.coords!.type === 'MultiPoint'
            ? q.coords!.coordinates
            : [];
      if (!points) return { candidates: () => all(), nearestRows: targets };
      // One pass keeps the nearest feature to each target.
      const best = targets.map(() => ({ d: Infinity, r: undefined as FeatureRecord | undefined }));
      // Positions only: the chosen few fetch their levels when read.
      for await (const r of index.iterate(datetime ? { datetime } : {})) {
        const xy = pointOf(r);
        if (!xy) continue;
        targets.forEach((p, k) => {
          const d = haversine(p.x, p.y, xy[0], xy[1]);
          if (d < best[k]!.d) best[k] = { d, r };
        });
      }
      const chosen = new Map<number, FeatureRecord>();
      for (const b of best) if (b.r) chosen.set(b.r.rowid ?? 0, b.r);
      const sorted = [...chosen.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
      return { candidates: () => listed(sorted) };
    }
    case 'radius': {
      const centres = vertices(q.coords!);
      const r = q.within!;
      const inside = (x: number, y: number) => centres.some((p) => haversine(p.x, p.y, x, y) <= r);
      const boxes = centres.map((p) => circleBBox(p.x, p.y, r));
      const candidates = async function* (): AsyncGenerator<FeatureRecord> {
        // Circles may overlap: a feature in two of their boxes is given once.
        const seen = new Set<string>();
        for (const b of boxes) {
          for await (const f of all(b)) {
            if (seen.has(f.id)) continue;
            seen.add(f.id);
            if (!points || at(f, inside)) yield f;
          }
        }
      };
      return points ? { candidates } : { candidates, keepXY: inside };
    }
    case 'area': {
      const polygons = polygonsOf(q.coords!);
      const inside = (x: number, y: number) => pointInPolygons(x, y, polygons);
      const box = bboxOf(vertices(q.coords!));
      return points
        ? { candidates: () => where(all(box), (f) => at(f, inside)) }
        : { candidates: () => all(box), keepXY: inside };
    }
    case 'cube': {
      const box = q.bbox!;
      return points
        ? { candidates: () => all(box) }
        : { candidates: () => all(box), keepXY: (x, y) => containsPoint(box, x, y) };
    }
    case 'trajectory':
    case 'corridor': {
      const path = vertices(q.coords!);
      const half = (q.corridorWidth ?? 2 * TRAJECTORY_DEFAULT_WIDTH_M) / 2;
      const near = (x: number, y: number) => distanceToPath(x, y, path).distance <= half;
      const box = widen(bboxOf(path), half);
      const p: Plan = points
        ? { candidates: () => where(all(box), (f) => at(f, near)) }
        : { candidates: () => all(box), keepXY: near };
      const height = q.corridorHeight;
      if (height !== undefined && path.every((v) => v.z !== undefined)) {
        // The path's z at the nearest point of the path, within half the corridor height.
        p.keepZ = (z, _t, x, y) => {
          const { segment, fraction } = distanceToPath(x, y, path);
          const a = path[segment]!;
          const b = path[Math.min(segment + 1, path.length - 1)]!;
          return Math.abs(z - (a.z! + fraction * (b.z! - a.z!))) <= height / 2;
        };
      }
      return p;
    }
    case 'locations': {
      // A platform's features come from the catalog's platform index, not a walk over the archive.
      const id = q.locationId!;
      const filter = { ...(q.bbox ? { bbox: q.bbox } : {}), ...(datetime ? { datetime } : {}) };
      if (c.kind !== 'timeSeries' && (await index.page({ properties: { platform_number: id } }, 0, 0)).matched > 0) {
        return { candidates: () => index.iterate({ ...filter, properties: { platform_number: id } }, levels) };
      }
      const one = await index.get(id);
      if (!one || locationIdOf(c, one) !== id)
        throw new NotFound(`No location '${id}' in collection '${c.id}'; see /collections/${c.id}/locations`);
      return { candidates: () => where(index.iterate(filter, levels), (f) => f.id === id) };
    }
  }
}

/** Keep the rows a query selects from one feature's rows. */
function select(s: SampleSet, q: EdrQuery, p: Plan): SampleSet {
  const dt = q.datetime;
  let out = filterRows(s, (i) => {
    const x = s.x[i]!;
    const y = s.y[i]!;
    if (p.keepXY && !(Number.isFinite(x) && Number.isFinite(y) && p.keepXY(x, y))) return false;
    if (dt && s.domainType !== 'VerticalProfile' && !(s.t[i]! >= dt.start && s.t[i]! <= dt.end)) return false;
    if (p.keepZ && s.z && !p.keepZ(s.z[i]!, s.t[i]!, x, y)) return false;
    return true;
  });
  if (p.nearestRows) {
    const keep = new Set<number>();
    for (const target of p.nearestRows) {
      let best = -1;
      let bestD = Infinity;
      for (let i = 0; i < out.t.length; i++) {
        if (!Number.isFinite(out.x[i]!) || !Number.isFinite(out.y[i]!)) continue;
        const d = haversine(target.x, target.y, out.x[i]!, out.y[i]!);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best >= 0) keep.add(best);
    }
    out = filterRows(out, (i) => keep.has(i));
  }
  if (q.z && out.z) {
    const levels = new Set(selectLevels(q.z, out.z));
    out = filterRows(out, (i) => levels.has(i));
  }
  return out;
}

/** The samples payload of an EDR query on an in-situ collection; reads happen when `sets()` is iterated. */
export async function insituPayload(
  c: Collection & { features: FeatureStore },
  q: EdrQuery,
  request: string,
  signal?: AbortSignal,
): Promise<SamplesPayload> {
  const p = await plan(c, q);
  const limit = q.limit ?? Infinity;
  const probe = new InSituSource(c, signal);
  let layout;
  try {
    layout = await probe.layout();
  } finally {
    await probe.close();
  }
  const parameters = edrParameters(c, q.parameters);
  return {
    kind: 'samples',
    collectionId: c.id,
    title: c.title,
    parameters,
    ...(layout.vertical ? { vertical: layout.vertical } : {}),
    request,
    domainType: layout.domainType,
    single: false,
    hasIds: true,
    sets: async function* () {
      const source = new InSituSource(c, signal);
      // Reads of the next few features run while one is encoded: each waits on file I/O, not CPU.
      const ahead: Array<Promise<SampleSet>> = [];
      const candidates = p.candidates()[Symbol.asyncIterator]();
      let taken = 0;
      let done = false;
      const fill = async () => {
        while (!done && ahead.length < READ_AHEAD && taken < limit) {
          const next = await candidates.next();
          if (next.done) {
            done = true;
            return;
          }
          taken++;
          const read = source.read(next.value, q.parameters);
          read.catch(() => undefined);
          ahead.push(read);
        }
      };
      try {
        await fill();
        while (ahead.length > 0) {
          // Rows from the catalog need no file read that would notice the abort: check it here.
          signal?.throwIfAborted();
          const set = await ahead.shift()!;
          await fill();
          const rows = select(set, q, p);
          if (rows.t.length > 0) yield rows;
        }
      } finally {
        await Promise.allSettled(ahead);
        await candidates.return?.();
        await source.close();
      }
    },
  };
}
