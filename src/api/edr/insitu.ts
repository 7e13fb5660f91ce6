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
import { bboxOf, circleBBox, distanceToPath, EARTH_RADIUS_M, haversine, pointInPolygons } from '../../core/query/geodesic.js';
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

/** Whether a location id names a platform (Argo float) or a feature of the collection. */
function locationExists(c: Collection & { features: FeatureStore }, id: string): boolean {
  if (c.kind !== 'timeSeries' && c.features.page({ properties: { platform_number: id } }, 0, 1).matched > 0) return true;
  const r = c.features.get(id);
  return r !== undefined && locationIdOf(c, r) === id;
}

function widen(b: BBox, metres: number): BBox {
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  const lat = Math.min(89, Math.max(Math.abs(b.south), Math.abs(b.north)) + dLat);
  const dLon = Math.min(180, dLat / Math.cos((lat * Math.PI) / 180));
  return { west: Math.max(-180, b.west - dLon), south: Math.max(-90, b.south - dLat), east: Math.min(180, b.east + dLon), north: Math.min(90, b.north + dLat) };
}

function pointOf(r: FeatureRecord): [number, number] | undefined {
  return r.geometry?.type === 'Point' ? r.geometry.coordinates : undefined;
}

interface Plan {
  /** Candidate features, in catalog order. */
  candidates: readonly FeatureRecord[];
  /** Row test on position (x, y) and z, for rows of kept features. */
  keepXY?: (x: number, y: number) => boolean;
  keepZ?: (z: number, t: number, x: number, y: number) => boolean;
  /** Position queries on trajectories: keep only the nearest row to each point. */
  nearestRows?: Position[];
}

function plan(c: Collection & { features: FeatureStore }, q: EdrQuery): Plan {
  const index = c.features;
  const datetime = q.datetime;
  const points = c.kind !== 'trajectory';
  // Profiles come with their levels from the catalog: the rows are then read without opening files.
  const all = (bbox?: BBox) => [...index.iterate({ ...(bbox ? { bbox } : {}), ...(datetime ? { datetime } : {}) }, c.kind === 'profile')];
  switch (q.type) {
    case 'position': {
      const targets = q.coords!.type === 'Point' ? [q.coords!.coordinates] : (q.coords!.type === 'MultiPoint' ? q.coords!.coordinates : []);
      const candidates = all();
      if (!points) return { candidates, nearestRows: targets };
      const chosen = new Set<number>();
      for (const p of targets) {
        let best = -1;
        let bestD = Infinity;
        candidates.forEach((r, i) => {
          const xy = pointOf(r);
          if (!xy) return;
          const d = haversine(p.x, p.y, xy[0], xy[1]);
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        });
        if (best >= 0) chosen.add(best);
      }
      return { candidates: [...chosen].sort((a, b) => a - b).map((i) => candidates[i]!) };
    }
    case 'radius': {
      const centres = vertices(q.coords!);
      const r = q.within!;
      const inside = (x: number, y: number) => centres.some((p) => haversine(p.x, p.y, x, y) <= r);
      const boxes = centres.map((p) => circleBBox(p.x, p.y, r));
      const byId = new Map<string, FeatureRecord>();
      for (const b of boxes) for (const r of all(b)) byId.set(r.id, r);
      const candidates = [...byId.values()];
      return points ? { candidates: candidates.filter((r) => inside(...pointOf(r)!)) } : { candidates, keepXY: inside };
    }
    case 'area': {
      const polygons = polygonsOf(q.coords!);
      const inside = (x: number, y: number) => pointInPolygons(x, y, polygons);
      const candidates = all(bboxOf(vertices(q.coords!)));
      return points ? { candidates: candidates.filter((r) => inside(...pointOf(r)!)) } : { candidates, keepXY: inside };
    }
    case 'cube': {
      const box = q.bbox!;
      const candidates = all(box);
      return points ? { candidates } : { candidates, keepXY: (x, y) => containsPoint(box, x, y) };
    }
    case 'trajectory':
    case 'corridor': {
      const path = vertices(q.coords!);
      const half = (q.corridorWidth ?? 2 * TRAJECTORY_DEFAULT_WIDTH_M) / 2;
      const near = (x: number, y: number) => distanceToPath(x, y, path).distance <= half;
      const candidates = all(widen(bboxOf(path), half));
      const p: Plan = points ? { candidates: candidates.filter((r) => near(...pointOf(r)!)) } : { candidates, keepXY: near };
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
      const byPlatform = c.kind === 'timeSeries' ? [] : [...index.iterate({ ...(q.bbox ? { bbox: q.bbox } : {}), ...(datetime ? { datetime } : {}), properties: { platform_number: id } }, c.kind === 'profile')];
      const one = byPlatform.length > 0 ? undefined : index.get(id);
      const candidates = byPlatform.length > 0 ? byPlatform : one && locationIdOf(c, one) === id ? all(q.bbox).filter((r) => r.id === id) : [];
      if (candidates.length === 0 && !locationExists(c, q.locationId!)) {
        throw new NotFound(`No location '${q.locationId}' in collection '${c.id}'; see /collections/${c.id}/locations`);
      }
      return { candidates };
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
export async function insituPayload(c: Collection & { features: FeatureStore }, q: EdrQuery, request: string, signal?: AbortSignal): Promise<SamplesPayload> {
  const p = plan(c, q);
  const candidates = q.limit !== undefined ? p.candidates.slice(0, q.limit) : p.candidates;
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
      let next = 0;
      const fill = () => {
        while (ahead.length < READ_AHEAD && next < candidates.length) {
          const read = source.read(candidates[next++]!, q.parameters);
          read.catch(() => undefined);
          ahead.push(read);
        }
      };
      try {
        fill();
        while (ahead.length > 0) {
          // Rows from the catalog need no file read that would notice the abort: check it here.
          signal?.throwIfAborted();
          const set = await ahead.shift()!;
          fill();
          const rows = select(set, q, p);
          if (rows.t.length > 0) yield rows;
        }
      } finally {
        await Promise.allSettled(ahead);
        await source.close();
      }
    },
  };
}
