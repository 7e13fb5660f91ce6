// STAC benchmark: builds the item index over N synthetic Argo-like profiles (10 k, 100 k, 1 M by
// default), then times /stac/search over HTTP on loopback with a mix of queries a harvester or a
// user sends. Returns a Markdown section; `bench/run.ts` decides where it goes.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.js';
import type { Collection } from '../src/catalog/collection.js';
import { SqliteBackend } from '../src/catalog/store/sqlite-backend.js';
import type { CollectionSource, ItemDraft } from '../src/catalog/store/types.js';
import { StacService } from '../src/stac/service.js';

const SIZES = (process.env['BENCH_STAC_SIZES'] ?? '10000,100000,1000000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const REQUESTS = Number(process.env['BENCH_STAC_REQUESTS'] ?? 40);
const FLOATS = 200;
const T0 = Date.UTC(2000, 0, 1);
const T1 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

/** Small deterministic PRNG: the same items and queries on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
}

/** N profiles from FLOATS floats (one collection each), 100 profiles per file, drifting in the ocean. */
function sources(n: number): CollectionSource[] {
  const perFloat = Math.ceil(n / FLOATS);
  return Array.from({ length: FLOATS }, (_, f) => {
    const id = `float_${1900000 + f}`;
    const files = function* () {
      const r = rng(f + 1);
      let x = -170 + r() * 340;
      let y = -70 + r() * 140;
      const start = T0 + r() * (T1 - T0 - perFloat * 10 * DAY);
      for (let file = 0; file * 100 < perFloat; file++) {
        const count = Math.min(100, perFloat - file * 100);
        const drafts: ItemDraft[] = [];
        for (let k = 0; k < count; k++) {
          const cycle = file * 100 + k;
          x = Math.max(-180, Math.min(180, x + (r() - 0.5) * 0.6));
          y = Math.max(-80, Math.min(80, y + (r() - 0.5) * 0.4));
          const t = Math.round(start + cycle * 10 * DAY);
          const px = Math.round(x * 1000) / 1000;
          const py = Math.round(y * 1000) / 1000;
          drafts.push({
            id: `${1900000 + f}_${String(cycle).padStart(3, '0')}`,
            geometry: { type: 'Point', coordinates: [px, py] },
            bbox: [px, py, px, py],
            start: t,
            end: t,
            properties: {
              platform_number: String(1900000 + f),
              cycle_number: cycle,
              datetime: new Date(t).toISOString().replace('.000Z', 'Z'),
              data_mode: 'RAD'[cycle % 3],
              direction: 'A',
              position_qc: '1',
              project_name: 'ARGO',
              pi_name: 'BENCH',
              data_centre: 'IF',
              platform_type: 'PROVOR',
              n_levels: 100 + (cycle % 50),
              pres_max: 2000,
              parameters: 'PRES,TEMP,PSAL',
              parameter_units: 'decibar,degree_Celsius,psu',
            },
          });
        }
        yield {
          rel: `${id}/file_${file}.nc`,
          stamp: `bench-${n}-${f}-${file}`,
          size: () => 1_000_000,
          items: () => drafts,
        };
      }
    };
    return { id, kind: 'feature' as const, files: files() };
  });
}

function collections(root: string): Map<string, Collection> {
  const m = new Map<string, Collection>();
  for (let f = 0; f < FLOATS; f++) {
    const id = `float_${1900000 + f}`;
    m.set(id, {
      id,
      title: `Argo float ${1900000 + f} (synthetic)`,
      description: 'Synthetic profiles for the STAC benchmark',
      keywords: [],
      kind: 'profile',
      root,
      files: [],
      fileCount: 0,
      formats: ['netcdf3'],
      attrs: {},
      parameters: [],
    });
  }
  return m;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size;
  return total;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Query {
  label: string;
  make: (r: () => number, n: number) => { method: 'GET' | 'POST'; path: string; body?: unknown };
}

const box = (r: () => number, size: number): [number, number, number, number] => {
  const w = -180 + r() * (360 - size);
  const s = -80 + r() * (160 - Math.min(size, 150));
  const round = (v: number) => Math.round(v * 100) / 100;
  return [round(w), round(s), round(w + size), round(Math.min(90, s + size))];
};
const year = (r: () => number, years: number) => {
  const a = T0 + r() * (T1 - T0 - years * 365 * DAY);
  return `${new Date(a).toISOString()}/${new Date(a + years * 365 * DAY).toISOString()}`;
};

const QUERIES: Query[] = [
  {
    label: 'bbox 20°×20° + 1 year, limit 10',
    make: (r) => ({ method: 'GET', path: `/stac/search?bbox=${box(r, 20).join(',')}&datetime=${year(r, 1)}&limit=10` }),
  },
  {
    label: 'bbox 100°×100° + 5 years, limit 10',
    make: (r) => ({
      method: 'GET',
      path: `/stac/search?bbox=${box(r, 100).join(',')}&datetime=${year(r, 5)}&limit=10`,
    }),
  },
  { label: 'whole world, no filter, limit 100', make: () => ({ method: 'GET', path: '/stac/search?limit=100' }) },
  {
    label: 'one collection, limit 10',
    make: (r) => ({
      method: 'GET',
      path: `/stac/search?collections=float_${1900000 + Math.floor(r() * FLOATS)}&limit=10`,
    }),
  },
  {
    label: '5 ids',
    make: (r, n) => ({
      method: 'GET',
      path: `/stac/search?ids=${Array.from({ length: 5 }, () => `${1900000 + Math.floor(r() * FLOATS)}_${String(Math.floor(r() * Math.min(999, n / FLOATS))).padStart(3, '0')}`).join(',')}`,
    }),
  },
  {
    label: 'POST intersects polygon + datetime',
    make: (r) => {
      const [w, s, e, n] = box(r, 30);
      return {
        method: 'POST',
        path: '/stac/search',
        body: {
          intersects: {
            type: 'Polygon',
            coordinates: [
              [
                [w, s],
                [e, s],
                [(w + e) / 2, n],
                [w, s],
              ],
            ],
          },
          datetime: year(r, 3),
          limit: 10,
        },
      };
    },
  },
  {
    label: 'POST CQL2 JSON: s_intersects AND cycle_number < 50',
    make: (r) => ({
      method: 'POST',
      path: '/stac/search',
      body: {
        filter: {
          op: 'and',
          args: [
            { op: 's_intersects', args: [{ property: 'geometry' }, { bbox: box(r, 40) }] },
            { op: '<', args: [{ property: 'cycle_number' }, 50] },
          ],
        },
        limit: 10,
      },
    }),
  },
  {
    label: 'CQL2 text: T_INTERSECTS + data_mode, one collection',
    make: (r) => ({
      method: 'GET',
      path: `/stac/search?collections=float_${1900000 + Math.floor(r() * FLOATS)}&filter=${encodeURIComponent(`T_INTERSECTS(datetime, INTERVAL('2005-01-01','2015-12-31')) AND data_mode = 'D'`)}&limit=10`,
    }),
  },
];

async function timed(
  base: string,
  q: { method: 'GET' | 'POST'; path: string; body?: unknown },
): Promise<{ ms: number; next?: { method?: string; href: string; body?: unknown } }> {
  const t0 = performance.now();
  const res = await fetch(
    `${base}${q.path}`,
    q.method === 'POST'
      ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(q.body) }
      : {},
  );
  const body = (await res.json()) as { links?: Array<{ rel: string; href: string; method?: string; body?: unknown }> };
  const ms = performance.now() - t0;
  if (res.status !== 200)
    throw new Error(`${q.method} ${q.path} → ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  const next = body.links?.find((l) => l.rel === 'next');
  return next ? { ms, next } : { ms };
}

async function benchSize(
  n: number,
): Promise<{ rows: string[]; all: number[]; build: number; warm: number; bytes: number; items: number; rss: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'odas-bench-stac-'));
  try {
    const index = SqliteBackend.open(join(dir, 'stac.sqlite'));
    const report = await index.sync(sources(n));
    const bytes = await dirBytes(dir);
    const warm = await index.sync(sources(n));
    const stac = StacService.attach(index, collections(dir));
    const app = await buildApp({ collections: stac.collections, stac });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const rows: string[] = [];
    const all: number[] = [];
    const r = rng(42);
    for (const q of QUERIES) {
      await timed(base, q.make(r, n));
      const ms: number[] = [];
      for (let i = 0; i < REQUESTS; i++) ms.push((await timed(base, q.make(r, n))).ms);
      all.push(...ms);
      rows.push(`| ${n.toLocaleString('en')} | ${q.label} | ${pct(ms, 50).toFixed(1)} | ${pct(ms, 95).toFixed(1)} |`);
    }
    // Deep paging: follow next links of a broad query (keyset: page 50 costs what page 1 does).
    const paging: number[] = [];
    let step = await timed(base, { method: 'GET', path: `/stac/search?bbox=-180,-90,180,90&limit=100` });
    for (let i = 0; i < 50 && step.next; i++) {
      const nx = step.next;
      step = await timed(
        base,
        nx.method === 'POST'
          ? { method: 'POST', path: nx.href.replace(base, ''), body: nx.body }
          : { method: 'GET', path: nx.href.replace(base, '') },
      );
      paging.push(step.ms);
    }
    all.push(...paging);
    rows.push(
      `| ${n.toLocaleString('en')} | next links, pages 2–51 of the whole world (limit 100) | ${pct(paging, 50).toFixed(1)} | ${pct(paging, 95).toFixed(1)} |`,
    );
    rows.push(
      `| ${n.toLocaleString('en')} | **all of the above** | **${pct(all, 50).toFixed(1)}** | **${pct(all, 95).toFixed(1)}** |`,
    );
    const rss = process.memoryUsage().rss / 2 ** 20;
    await app.close();
    await index.close();
    return { rows, all, build: report.seconds, warm: warm.seconds, bytes, items: report.items, rss };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchStac(): Promise<string> {
  const lines = [
    '### STAC: /stac/search over an embedded SQLite R*-tree index',
    '',
    `Synthetic Argo-like profiles (${FLOATS} floats, one collection each, 100 profiles per file), indexed by \`CatalogStore.sync\`, then ${REQUESTS} sequential HTTP requests per query type on loopback (client in the same process, latency = request to last byte). Random boxes and intervals, fixed seed.`,
    '',
    '| items | index build s | index size MB | re-sync, nothing changed, s | RSS MB after |',
    '|---|---|---|---|---|',
  ];
  const table = ['| items | query | p50 ms | p95 ms |', '|---|---|---|---|'];
  for (const n of SIZES) {
    const t0 = Date.now();
    const r = await benchSize(n);
    lines.push(
      `| ${r.items.toLocaleString('en')} | ${r.build.toFixed(1)} | ${(r.bytes / 1e6).toFixed(0)} | ${r.warm.toFixed(2)} | ${r.rss.toFixed(0)} |`,
    );
    table.push(...r.rows);
    process.stderr.write(`stac bench ${n}: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  return [...lines, '', ...table, ''].join('\n');
}
