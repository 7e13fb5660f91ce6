/**
 * STAC search over the SQLite catalog. Plans: up to COUNT_CAP matches (counted through the R*-tree or
 * the id/collection indexes, which costs ~1 ms per 5 000) the matches are fetched that way and sorted,
 * and the count is exact; beyond it, a time-ordered walk of the sk index stops after one page (cheap
 * precisely because so many rows match), and the count is given only when it is a plain collection
 * count. Time-ordered pages continue by keyset, so deep pages cost what the first does.
 */
import type Database from 'better-sqlite3';
import { InvalidParameterValue } from '../../core/errors.js';
import type { GeoJsonGeometry } from '../../core/geometry.js';
import { lonRanges } from '../../core/query/bbox.js';
import { DAY, GTYPE_BOX } from './rows.js';
import type { CollectionStats, ItemRow, JsonType, PageToken, SearchResult, SearchSpec, SortField } from './types.js';
import {
  bboxQueryGeometry,
  BIG,
  clampInf,
  compileFilter,
  hoistBounds,
  spatialSql,
  type CompileContext,
  type Sql,
} from './where.js';

/**
 * Up to this many matches a search is driven by its most selective index (R*-tree, ids,
 * collection), sorted, and counted exactly; past it, a walk in time order finds a page sooner
 * than collecting and sorting every match would (measured: fetching 10 000 matches through the
 * R*-tree and sorting them costs ~20 ms, finding 10 of them in time order well under 1 ms).
 */
export const COUNT_CAP = 5_000;

/** What the search needs of the catalog store (CatalogStore has it). */
export interface SearchableCatalog {
  readonly connection: Database.Database;
  /** A prepared statement, reused across requests. */
  stmt(sql: string): Database.Statement;
  cidOf(collection: string): number | undefined;
  collections(): string[];
  statsOf(collection: string): CollectionStats;
  propertyTypes(collections?: string[]): Record<string, JsonType>;
  /** Longest time span of any item, ms. */
  maxSpan(): number;
  /** Rows by rowid, in the order asked. */
  cachedRows(ids: number[]): ItemRow[];
}

/** The search; `holdGeometry` registers a query geometry for the odas_hit SQL function and returns its handle. */
export function searchItems(
  store: SearchableCatalog,
  q: SearchSpec,
  holdGeometry: (g: GeoJsonGeometry) => number,
): SearchResult {
  const ctx: CompileContext = {
    types: store.propertyTypes(q.collections),
    cidOf: (id) => store.cidOf(id),
    registerGeometry: holdGeometry,
  };
  return runSearch(store, q, ctx);
}

function runSearch(store: SearchableCatalog, q: SearchSpec, ctx: CompileContext): SearchResult {
  // STAC items need a time: features without one are served by the Features API only.
  const where: Sql[] = [{ sql: 'i.s IS NOT NULL', params: [] }];
  const rtree: Sql[] = [];
  let onlyCollections = true;
  let cids: number[] | undefined;
  if (q.collections && q.collections.length > 0) {
    cids = q.collections.map((id) => {
      const cid = store.cidOf(id);
      if (cid === undefined)
        throw new InvalidParameterValue('collections', `no collection '${id}' (see /stac/collections)`);
      return cid;
    });
    where.push({ sql: `i.cid IN (${cids.map(() => '?').join(',')})`, params: cids });
  }
  const excluded = (q.excludeCollections ?? []).flatMap((id) => store.cidOf(id) ?? []);
  if (excluded.length > 0) where.push({ sql: `i.cid NOT IN (${excluded.map(() => '?').join(',')})`, params: excluded });
  if (q.ids && q.ids.length > 0) {
    onlyCollections = false;
    where.push({ sql: `i.id IN (${q.ids.map(() => '?').join(',')})`, params: q.ids });
  }
  const boxes: Array<[number, number, number, number]> = [];
  let tmin = -Infinity;
  let tmax = Infinity;
  let crossesAntimeridian = false;
  if (q.bbox) {
    onlyCollections = false;
    const ranges = lonRanges(q.bbox);
    crossesAntimeridian = ranges.length > 1;
    const parts = ranges.map(() => '(i.maxx >= ? AND i.minx <= ?)');
    const lineTest = ctx.registerGeometry(bboxQueryGeometry(q.bbox));
    // Points and boxes are decided by their stored box; lines and other shapes by odas_hit.
    where.push({
      sql: `((${parts.join(' OR ')}) AND i.maxy >= ? AND i.miny <= ? AND (i.gtype IN (1, ${GTYPE_BOX}) OR odas_hit(?, i.gtype, i.minx, i.miny, i.maxx, i.maxy, i.geom)))`,
      params: [...ranges.flat(), q.bbox.south, q.bbox.north, lineTest],
    });
    if (!crossesAntimeridian) boxes.push([q.bbox.west, q.bbox.south, q.bbox.east, q.bbox.north]);
  }
  if (q.intersects) {
    onlyCollections = false;
    where.push(spatialSql(q.intersects, ctx));
    const hb = hoistBounds({
      op: 's_intersects',
      property: { kind: 'property', name: 'geometry' },
      geometry: q.intersects,
    });
    boxes.push(...hb.boxes);
  }
  if (q.datetime) {
    onlyCollections = false;
    where.push({ sql: 'i.e >= ? AND i.s <= ?', params: [clampInf(q.datetime.start), clampInf(q.datetime.end)] });
    tmin = Math.max(tmin, q.datetime.start);
    tmax = Math.min(tmax, q.datetime.end);
  }
  if (q.filter) {
    onlyCollections = false;
    where.push(compileFilter(q.filter, ctx));
    const hb = hoistBounds(q.filter);
    boxes.push(...hb.boxes);
    tmin = Math.max(tmin, hb.tmin);
    tmax = Math.min(tmax, hb.tmax);
  }
  if (boxes.length > 0) {
    const b = boxes.reduce((a, c) => [
      Math.max(a[0], c[0]),
      Math.max(a[1], c[1]),
      Math.min(a[2], c[2]),
      Math.min(a[3], c[3]),
    ]);
    rtree.push({
      sql: 'r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?',
      params: [b[2], b[0], b[3], b[1]],
    });
  }
  if (tmin > -Infinity || tmax < Infinity) {
    rtree.push({
      sql: 'r.mint <= ? AND r.maxt >= ?',
      params: [tmax === Infinity ? BIG : tmax / DAY, tmin === -Infinity ? -BIG : tmin / DAY],
    });
  }

  const sort = sortPlan(q.sortby, store.propertyTypes());
  const whereSql = (extra: Sql[] = []) => {
    const all = [...where, ...extra];
    return {
      sql: all.length ? `WHERE ${all.map((w) => w.sql).join(' AND ')}` : '',
      params: all.flatMap((w) => w.params),
    };
  };
  // The R*-tree drives unless ids or small collections narrow the search more (their B-trees then do).
  const collectionItems = q.collections?.reduce((n, id) => n + store.statsOf(id).count, 0) ?? Infinity;
  if ((q.ids && q.ids.length > 0) || collectionItems <= COUNT_CAP) rtree.length = 0;
  const from = rtree.length > 0 ? 'items_rtree r CROSS JOIN items i ON i.rowid = r.id' : 'items i';
  const offset = q.token?.offset ?? 0;
  const keyset: Sql[] = [];
  if (sort.keyset && q.token?.after) {
    const [sk, rowid] = q.token.after;
    keyset.push({ sql: `(i.sk, i.rowid) ${sort.keyset === 'desc' ? '<' : '>'} (?, ?)`, params: [sk, rowid] });
  }
  const skip = sort.keyset && q.token?.after ? 0 : offset;
  // Later pages reuse the first page's count and plan (the token carries it).
  let matched = q.token?.matched;
  if (matched === undefined && sort.keyset && !q.token) {
    // A first page in time order: the matches (up to the cap) are found once, then both counted and
    // sorted from that one walk (a count and a page statement evaluated the filter, track
    // geometries included, twice). Only rowids go through the sort; the page's rows come after.
    const w = whereSql(rtree);
    const order = sort.order.replace(/i\.sk/g, 'm.sk').replace(/i\.rowid/g, 'm.rid');
    const page = store
      .stmt(
        `WITH m AS MATERIALIZED (SELECT i.rowid AS rid, i.sk AS sk FROM ${from} ${w.sql} LIMIT ${COUNT_CAP + 1}) SELECT m.rid, (SELECT count(*) FROM m) FROM m ORDER BY ${order} LIMIT ?`,
      )
      .raw()
      .all(...w.params, q.limit + 1) as Array<[number, number]>;
    const n = page[0]?.[1] ?? 0;
    if (n <= COUNT_CAP) return searchPage(store.cachedRows(page.map((r) => r[0])), q, n, true, (r) => r);
    matched = -1;
  }
  if (matched === undefined) {
    const w = whereSql(rtree);
    const n = (
      store
        .stmt(`SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${w.sql} LIMIT ${COUNT_CAP + 1})`)
        .get(...w.params) as { n: number }
    ).n;
    matched = n <= COUNT_CAP ? n : -1;
  }
  // The page's rowids first (only integers go through the sort), then its rows.
  let ids: number[];
  const select = 'SELECT i.rowid';
  if (matched >= 0) {
    const w = whereSql([...rtree, ...keyset]);
    ids = store
      .stmt(`${select} FROM ${from} ${w.sql} ORDER BY ${sort.order} LIMIT ? OFFSET ?`)
      .pluck()
      .all(...w.params, q.limit + 1, skip) as number[];
  } else {
    if (onlyCollections && !q.token) {
      // Collections' own counts of timed items: counting a million rows for a page of ten costs 180 ms.
      matched = (q.collections ?? store.collections())
        .filter((id) => !q.excludeCollections?.includes(id))
        .reduce((n, id) => n + (store.statsOf(id).timed ?? 0), 0);
    }
    // Many matches: walk the rows in time order (bounded by the query's time, if any) and stop after one page.
    const range: Sql[] = [];
    if (tmax < Infinity) range.push({ sql: 'i.sk <= ?', params: [tmax] });
    if (tmin > -Infinity) range.push({ sql: 'i.sk >= ?', params: [tmin - store.maxSpan()] });
    const hint = !sort.keyset ? '' : cids && cids.length === 1 ? 'INDEXED BY items_cid_sk' : 'INDEXED BY items_sk';
    const w = whereSql([...range, ...keyset]);
    ids = store
      .stmt(`${select} FROM items i ${hint} ${w.sql} ORDER BY ${sort.order} LIMIT ? OFFSET ?`)
      .pluck()
      .all(...w.params, q.limit + 1, skip) as number[];
  }
  return searchPage(store.cachedRows(ids), q, matched, sort.keyset !== undefined, (r) => r);
}

/**
 * A search's page from its rows (one more than the limit when another page follows): the count when
 * known, and the next page's token (offset and count, plus the last row's time key when time-ordered).
 */
export function searchPage<R extends { sk: number; rowid: number }>(
  rows: R[],
  q: SearchSpec,
  matched: number,
  keyset: boolean,
  toRow: (r: R) => ItemRow,
): SearchResult {
  const more = rows.length > q.limit;
  if (more) rows.pop();
  const result: SearchResult = { rows: rows.map(toRow) };
  if (matched >= 0) result.matched = matched;
  if (more) {
    const last = rows[rows.length - 1]!;
    const next: PageToken = { offset: (q.token?.offset ?? 0) + q.limit, matched };
    if (keyset) next.after = [last.sk, last.rowid];
    result.next = next;
  }
  return result;
}

/** How a backend writes the ORDER BY terms the sort plan needs. */
export interface SortDialect {
  /** The direction keywords (with where NULLs go). */
  direction(asc: boolean): string;
  /** A text expression compared byte-wise. */
  text(expr: string): string;
  /** A JSON property of `items i` as a sortable value. */
  property(name: string, type: JsonType): string;
}

const SQLITE_SORT: SortDialect = {
  // SQLite sorts NULL first ascending and last descending, and text byte-wise: nothing to add.
  direction: (asc) => (asc ? 'ASC' : 'DESC'),
  text: (expr) => expr,
  property: (name) => `json_extract(i.props, '$."${name.replace(/["'\\]/g, '')}"')`,
};

/** ORDER BY for the sort fields; time-only sorts page by keyset over (sk, rowid). */
export function sortPlan(
  sortby: SortField[] | undefined,
  types: Record<string, JsonType>,
  dialect: SortDialect = SQLITE_SORT,
): { order: string; keyset?: 'asc' | 'desc' } {
  if (!sortby || sortby.length === 0) return { order: 'i.sk DESC, i.rowid DESC', keyset: 'desc' };
  const first = sortby[0]!;
  const name = (f: string) => f.replace(/^properties\./, '');
  if (sortby.length === 1 && (name(first.field) === 'datetime' || name(first.field) === 'start_datetime')) {
    const d = first.direction === 'asc' ? 'ASC' : 'DESC';
    return { order: `i.sk ${d}, i.rowid ${d}`, keyset: first.direction };
  }
  const parts = sortby.map((s) => {
    const n = name(s.field);
    const d = dialect.direction(s.direction === 'asc');
    if (n === 'id') return `${dialect.text('i.id')} ${d}`;
    if (n === 'collection') return `${dialect.text('(SELECT c.id FROM collections c WHERE c.cid = i.cid)')} ${d}`;
    if (n === 'datetime' || n === 'start_datetime') return `i.sk ${d}`;
    if (n === 'end_datetime') return `i.e ${d}`;
    const type = types[n];
    if (!type)
      throw new InvalidParameterValue('sortby', `cannot sort by '${s.field}': not a queryable (see /stac/queryables)`);
    return `${dialect.property(n, type)} ${d}`;
  });
  return { order: `${parts.join(', ')}, i.rowid ASC` };
}
