// Queries of the archive bench, against whatever collection layout the server chose: one
// collection per file family (the catalog server: `argo-profiles`) or one per float folder (before).
import { rng } from './gdac-tree.js';
import { median, percentile } from './server.js';

type BBox = [number, number, number, number];

export interface Found {
  id: string;
  /** Features in it (numberMatched of an unfiltered items request). */
  features: number;
  collections: number;
  featureCollections: number;
  bbox: BBox;
  interval: [string, string];
}

interface CollectionDoc {
  id: string;
  itemType?: string;
  extent?: { spatial?: { bbox?: number[][] }; temporal?: { interval?: Array<Array<string | null>> } };
}

interface ItemsDoc {
  numberMatched?: number;
  features?: Array<{ id?: string | number }>;
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  if (!res.ok) throw new Error(`${res.status} from ${url}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

/** The feature collection with the most features: discovered, not assumed, so both layouts work. */
export async function discoverCollection(base: string): Promise<Found> {
  const { collections } = await json<{ collections: CollectionDoc[] }>(`${base}/collections`);
  const features = collections.filter((c) => c.itemType === 'feature');
  const counts = new Array<number>(features.length).fill(0);
  let next = 0;
  // A handful at a time: the per-float layout has hundreds to thousands of collections.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < features.length) {
        const i = next++;
        const page = await json<ItemsDoc>(`${base}/collections/${encodeURIComponent(features[i]!.id)}/items?limit=1`);
        counts[i] = page.numberMatched ?? 0;
      }
    }),
  );
  let best = 0;
  for (let i = 1; i < features.length; i++) if (counts[i]! > counts[best]!) best = i;
  const c = features[best];
  if (!c) throw new Error('no feature collection');
  const b = c.extent?.spatial?.bbox?.[0] ?? [-180, -90, 180, 90];
  const t = c.extent?.temporal?.interval?.[0] ?? [];
  return {
    id: c.id,
    features: counts[best]!,
    collections: collections.length,
    featureCollections: features.length,
    bbox: [b[0]!, b[1]!, b[2]!, b[3]!],
    interval: [t[0] ?? '2002-01-01T00:00:00Z', t[1] ?? '2025-07-01T00:00:00Z'],
  };
}

export interface Latency {
  label: string;
  n: number;
  p50: number;
  p95: number;
  /** Requests answered with a status other than 200. */
  errors: number;
  /** Mean numberMatched / features returned, to show what the boxes selected. */
  meanMatched: number;
}

function summarise(label: string, ms: number[], errors: number, matched: number[]): Latency {
  const mean = matched.length ? matched.reduce((a, b) => a + b, 0) / matched.length : NaN;
  return { label, n: ms.length, p50: median(ms), p95: percentile(ms, 95), errors, meanMatched: mean };
}

/** One timed GET (request to last byte), returning the parsed body for the ids and counts. */
async function timedJson(url: string): Promise<{ ms: number; status: number; body: ItemsDoc | undefined }> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(600_000) });
  const text = await res.text();
  const ms = performance.now() - t0;
  let body: ItemsDoc | undefined;
  try {
    body = JSON.parse(text) as ItemsDoc;
  } catch {
    body = undefined;
  }
  return { ms, status: res.status, body };
}

/** A box of `size`° and `years` inside the collection's extent, from the seeded generator. */
function randomQuery(rand: () => number, c: Found, size: number, years: number): { bbox: BBox; datetime: string } {
  const [w, s, e, n] = c.bbox;
  const x = w + rand() * Math.max(0, e - w - size);
  const y = s + rand() * Math.max(0, n - s - size);
  const t0 = Date.parse(c.interval[0]);
  const t1 = Date.parse(c.interval[1]);
  const span = years * 365.25 * 864e5;
  const start = t0 + rand() * Math.max(0, t1 - t0 - span);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    bbox: [r(x), r(y), r(Math.min(e, x + size)), r(Math.min(n, y + size))],
    datetime: `${iso(start)}/${iso(start + span)}`,
  };
}

export interface QueryResults {
  items: Latency;
  byId: Latency;
  stac: Latency;
}

/** items bbox+datetime, item by id, /stac/search: `n` requests each, a new box every request. */
export async function queryLatencies(base: string, c: Found, n: number, seed = 7): Promise<QueryResults> {
  const rand = rng(seed);
  const coll = `${base}/collections/${encodeURIComponent(c.id)}`;
  const ids = new Set<string>();
  const ms: number[] = [];
  const matched: number[] = [];
  let errors = 0;
  // Boxes of 20° over 3 years: tens to hundreds of profiles in an archive, a full page often.
  for (let i = 0; i < n; i++) {
    const q = randomQuery(rand, c, 20, 3);
    const r = await timedJson(`${coll}/items?bbox=${q.bbox.join(',')}&datetime=${q.datetime}&limit=100`);
    ms.push(r.ms);
    if (r.status !== 200) errors++;
    matched.push(r.body?.numberMatched ?? r.body?.features?.length ?? 0);
    for (const f of r.body?.features ?? []) if (f.id !== undefined) ids.add(String(f.id));
  }
  const items = summarise('items bbox (20°×20°) + datetime (3 years), limit=100', ms, errors, matched);
  // Ids seen in those answers, topped up from random pages when the boxes found too few.
  for (let k = 0; ids.size < n && k < 20; k++) {
    const page = await json<ItemsDoc>(
      `${coll}/items?limit=100&offset=${Math.floor(rand() * Math.max(1, c.features - 100))}`,
    );
    for (const f of page.features ?? []) if (f.id !== undefined) ids.add(String(f.id));
  }
  const pool = [...ids];
  const idMs: number[] = [];
  let idErrors = 0;
  for (let i = 0; i < n && pool.length; i++) {
    const id = pool[Math.floor(rand() * pool.length)]!;
    const r = await timedJson(`${coll}/items/${encodeURIComponent(id)}`);
    idMs.push(r.ms);
    if (r.status !== 200) idErrors++;
  }
  const byId = summarise('item by id', idMs, idErrors, []);
  const stacMs: number[] = [];
  const stacMatched: number[] = [];
  let stacErrors = 0;
  const world: Found = { ...c, bbox: [-180, -70, 180, 75] };
  for (let i = 0; i < n; i++) {
    const q = randomQuery(rand, world, 20, 3);
    const r = await timedJson(`${base}/stac/search?bbox=${q.bbox.join(',')}&datetime=${q.datetime}&limit=10`);
    stacMs.push(r.ms);
    if (r.status !== 200) stacErrors++;
    stacMatched.push(r.body?.numberMatched ?? r.body?.features?.length ?? 0);
  }
  const stac = summarise(
    '/stac/search bbox (20°×20°) + datetime (3 years), limit=10, all collections',
    stacMs,
    stacErrors,
    stacMatched,
  );
  return { items, byId, stac };
}

export interface AreaResult {
  polygon: string;
  /** Profiles of the collection inside the polygon's box, as the server counts them. */
  profiles: number;
  p50: number;
  p95: number;
  n: number;
  status: number;
  bytes: number;
}

/** Matched count of an items query over a box. */
async function countIn(base: string, collection: string, b: BBox): Promise<number> {
  const page = await json<ItemsDoc>(
    `${base}/collections/${encodeURIComponent(collection)}/items?bbox=${b.join(',')}&limit=1`,
  );
  return page.numberMatched ?? 0;
}

/** EDR area over `box` (a rectangle POLYGON), TEMP, CoverageJSON: `n` runs of the same request. */
export async function areaLatency(base: string, c: Found, box: BBox, n: number): Promise<AreaResult> {
  const [w, s, e, nn] = box;
  const polygon = `POLYGON((${w} ${s},${e} ${s},${e} ${nn},${w} ${nn},${w} ${s}))`;
  const url = `${base}/collections/${encodeURIComponent(c.id)}/area?coords=${encodeURIComponent(polygon)}&parameter-name=TEMP&f=CoverageJSON`;
  const profiles = await countIn(base, c.id, box);
  const ms: number[] = [];
  let status = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { signal: AbortSignal.timeout(900_000) });
    const body = await res.arrayBuffer();
    ms.push(performance.now() - t0);
    status = res.status;
    bytes = body.byteLength;
  }
  return { polygon, profiles, p50: median(ms), p95: percentile(ms, 95), n, status, bytes };
}
