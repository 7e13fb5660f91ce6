import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { lonRanges } from '../../core/query/bbox.js';
import {
  boxPolygon,
  intersects,
  pointHits,
  prepare,
  PreparedByText,
  type GeoJsonGeometry,
  type Prepared,
} from '../../core/geometry.js';
import {
  DAY,
  GTYPE_BOX,
  prepareItems,
  rawRow,
  ROW_COLUMNS,
  toItemRow,
  type PreparedItems,
  type RawRow,
} from './rows.js';
import { COUNT_CAP, searchItems } from './search.js';
import { emptyStats, mergeStats, unionTypes } from './stats.js';
import type {
  CollectionSource,
  CollectionStats,
  FeatureFilter,
  ItemDraft,
  ItemKind,
  ItemRow,
  JsonType,
  SearchResult,
  SearchSpec,
  SyncReport,
} from './types.js';
import { orderBy } from './order.js';
import {
  BIG,
  clampInf,
  compileFilter,
  bboxQueryGeometry,
  hoistBounds,
  SQLITE,
  type CompileContext,
  type Sql,
} from './where.js';

/** Bump when what is stored changes: a catalog of another version is rebuilt from the files, never read. */
const SCHEMA_VERSION = 9;
/** Features fetched per batch when a collection's matches are streamed (bounded memory, few statements). */
const FEATURE_BATCH = 500;
/** Prepared statements kept (see stmt()). */
const MAX_STATEMENTS = 512;
/** R*-tree position of items without geometry or time: far outside any query box. */
const NOWHERE = 1e7;
/** Rows kept by the row cache (see cachedRows): at most this many, holding at most this much text. */
const ROW_CACHE_ROWS = 50_000;
const ROW_CACHE_CHARS = 32 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS collections (cid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, stats TEXT, root TEXT);
CREATE TABLE IF NOT EXISTS sources (sid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, rel TEXT NOT NULL, stamp TEXT NOT NULL, size INTEGER, stats TEXT NOT NULL, UNIQUE (cid, rel));
CREATE TABLE IF NOT EXISTS items (
  rowid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, sid INTEGER NOT NULL, id TEXT NOT NULL,
  sk REAL NOT NULL, s REAL, e REAL, minx REAL, miny REAL, maxx REAL, maxy REAL,
  gtype INTEGER NOT NULL, geom TEXT, props TEXT NOT NULL, doc TEXT, fidx INTEGER);
CREATE VIRTUAL TABLE IF NOT EXISTS items_rtree USING rtree(id, minx, maxx, miny, maxy, mint, maxt);
CREATE TABLE IF NOT EXISTS feature_levels (rowid INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS manifests (file_key TEXT NOT NULL, path TEXT NOT NULL, variable TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (file_key, variable));
CREATE INDEX IF NOT EXISTS manifests_path ON manifests (path);
CREATE TABLE IF NOT EXISTS files (
  fid INTEGER PRIMARY KEY, root TEXT NOT NULL, folder TEXT NOT NULL, rel TEXT NOT NULL, size INTEGER NOT NULL,
  mtime REAL NOT NULL, status TEXT NOT NULL, error TEXT, cid INTEGER, sid INTEGER, entry TEXT, indexed_at REAL NOT NULL,
  UNIQUE (root, rel));
CREATE INDEX IF NOT EXISTS files_folder ON files (root, folder);
CREATE INDEX IF NOT EXISTS files_cid ON files (cid, rel);
CREATE INDEX IF NOT EXISTS files_status ON files (status);`;
const INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS items_id ON items (id, cid);
CREATE INDEX IF NOT EXISTS items_sk ON items (sk);
CREATE INDEX IF NOT EXISTS items_cid_sk ON items (cid, sk);
CREATE INDEX IF NOT EXISTS items_sid ON items (sid);
CREATE INDEX IF NOT EXISTS items_cid ON items (cid);
CREATE INDEX IF NOT EXISTS items_platform ON items (cid, json_extract(props, '$."platform_number"'));`;

export interface CatalogStoreOptions {
  /** SQLite page cache, MiB: the index's resident memory stays near this whatever its size. */
  cacheMiB?: number;
}

/**
 * Every STAC item of every collection in one embedded SQLite database: an R*-tree over
 * (lon, lat, time) for search, B-trees on time and ids for ordering and look-ups, the items'
 * properties as JSON for CQL2 filters. Synchronised per source file at discovery, so a restart
 * re-indexes only what changed; memory is SQLite's page cache, not the number of items.
 */
export class CatalogStore {
  private readonly db: Database.Database;
  private readonly geometries = new Map<number, Prepared>();
  /** Stored line and polygon geometries, parsed and prepared once for odas_hit. */
  private readonly itemGeometries = new PreparedByText();
  private nextHandle = 1;
  private cids = new Map<string, { cid: number; kind: ItemKind }>();
  private ids = new Map<number, string>();
  private stats = new Map<string, CollectionStats>();
  /** Set when the file was unreadable at open and a new catalog replaced it (the server logs it). */
  readonly recovered?: string;
  private readonly counts = new Map<string, number>();
  /** Filter and offset → rowid of the last row before that offset (see features()). */
  private readonly pageEnds = new Map<string, number>();
  private countsVersion = '';

  private constructor(
    private readonly file: string,
    private readonly temporary: boolean,
    opts: CatalogStoreOptions,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const opened = openChecked(file, opts);
    this.db = opened.db;
    if (opened.recovered) this.recovered = opened.recovered;
    // Exact spatial test for what a box comparison cannot decide (lines, polygons, query polygons).
    this.db.function('odas_hit', { deterministic: true }, (handle, gtype, minx, miny, maxx, maxy, geom) => {
      const q = this.geometries.get(Number(handle));
      if (!q) return 0;
      const t = Number(gtype);
      if (t === 1) return pointHits(q, Number(minx), Number(miny)) ? 1 : 0;
      // A box against a box query: the caller's column comparison already decided it.
      if (t === GTYPE_BOX && q.isBox) return 1;
      if (t === GTYPE_BOX)
        return intersects(q, boxPolygon([Number(minx), Number(miny), Number(maxx), Number(maxy)])) ? 1 : 0;
      if (typeof geom !== 'string') return 0;
      return intersects(q, this.itemGeometries.get(geom)) ? 1 : 0;
    });
    this.loadCatalog();
  }

  /** The database, for the catalog's own modules (ledger, feature queries); nothing above the catalog layer. */
  get connection(): Database.Database {
    return this.db;
  }

  /**
   * Changes whenever anything commits: SQLite's data_version counts other connections' commits,
   * `writes` this one's. Cached answers (counts, page ends) are dropped when it changes.
   */
  dataVersion(): string {
    // Asked several times per request (validators, page caches, row cache) and by every request of a
    // busy event-loop turn: the pragma is read once per turn. A commit by another connection during
    // the turn is seen at the next one, as if these requests had all been answered just before it.
    if (this.turnVersion === undefined) {
      this.versionStatement ??= this.db.prepare('PRAGMA data_version').pluck();
      this.turnVersion = this.versionStatement.get() as number;
      setImmediate(() => (this.turnVersion = undefined));
    }
    return `${this.turnVersion}:${this.writes}`;
  }

  private versionStatement: Database.Statement | undefined;
  private turnVersion: number | undefined;

  /**
   * Refresh the query planner's statistics when the items have doubled since they were gathered.
   * The background indexer commits file by file: statistics taken when the catalog held 5 items made
   * SQLite scan the whole items table for every page of rowids instead of looking each one up.
   * Doubling keeps the total cost of ANALYZE proportional to the catalog, not to its commits.
   */
  analyzeIfGrown(): void {
    const rows = (this.stmt('SELECT max(rowid) FROM items').pluck().get() as number | null) ?? 0;
    this.analyzedRows ??= this.statRows();
    if (rows < 2 * this.analyzedRows || rows - this.analyzedRows < 100) return;
    this.db.exec('ANALYZE');
    this.analyzedRows = rows;
  }

  /** Items as the planner's statistics count them (0 when never analyzed). */
  private statRows(): number {
    try {
      const stat = this.db.prepare("SELECT stat FROM sqlite_stat1 WHERE tbl = 'items' LIMIT 1").pluck().get() as
        string | undefined;
      return Number(stat?.split(' ')[0] ?? 0) || 0;
    } catch {
      return 0; // never analyzed: no sqlite_stat1 yet
    }
  }

  private analyzedRows: number | undefined;

  /** Called after each commit made through this connection. */
  noteWrite(): void {
    this.writes++;
  }

  private writes = 0;

  /** Open (or create) the index file; ':memory:' or no file makes a throw-away index in a temporary file. */
  static open(file: string | undefined, opts: CatalogStoreOptions = {}): CatalogStore {
    if (file === ':memory:') return new CatalogStore(':memory:', false, opts);
    if (file) return new CatalogStore(file, false, opts);
    const tmp = `${process.env['TMPDIR'] ?? '/tmp'}/odas-catalog-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}.sqlite`;
    const store = new CatalogStore(tmp, true, opts);
    // A temporary catalog left open (tools, tests) is removed when the process ends.
    TEMPORARY.add(store);
    return store;
  }

  close(): void {
    TEMPORARY.delete(this);
    if (!this.db.open) return;
    this.db.close();
    if (this.temporary) for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) rmSync(f, { force: true });
  }

  /** Re-read the collection list and their stats (after a commit here or in another process). */
  loadCatalog(): void {
    this.forgetRows();
    this.cids.clear();
    this.ids.clear();
    this.stats.clear();
    for (const r of this.db.prepare('SELECT cid, id, kind, stats FROM collections').all() as Array<{
      cid: number;
      id: string;
      kind: ItemKind;
      stats: string | null;
    }>) {
      this.cids.set(r.id, { cid: r.cid, kind: r.kind });
      this.ids.set(r.cid, r.id);
      if (r.stats) this.stats.set(r.id, JSON.parse(r.stats) as CollectionStats);
    }
  }

  /** A value the catalog keeps between runs (schema facts, the grouping rules it was built with). */
  meta(key: string): string | undefined {
    return (this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
      key,
      value,
    );
  }

  /** Forget every file, collection and item (the next scan reads everything again). */
  reset(): void {
    this.db.transaction(() => {
      for (const t of ['items_rtree', 'feature_levels', 'items', 'sources', 'collections', 'files', 'manifests'])
        this.db.exec(`DELETE FROM ${t}`);
    })();
    this.noteWrite();
    this.loadCatalog();
  }

  /** Re-read some collections after a commit here (cheaper than loadCatalog with many collections). */
  reloadCollections(cids: Iterable<number>): void {
    this.forgetRows();
    for (const cid of cids) {
      const r = this.stmt('SELECT id, kind, stats FROM collections WHERE cid = ?').get(cid) as
        { id: string; kind: ItemKind; stats: string | null } | undefined;
      const old = this.ids.get(cid);
      if (old !== undefined && old !== r?.id) {
        this.cids.delete(old);
        this.stats.delete(old);
        this.ids.delete(cid);
      }
      if (!r) continue;
      this.cids.set(r.id, { cid, kind: r.kind });
      this.ids.set(cid, r.id);
      if (r.stats) this.stats.set(r.id, JSON.parse(r.stats) as CollectionStats);
      else this.stats.delete(r.id);
    }
  }

  /** Recompute a collection's stats from its sources (after a file left it) and store them; false when it has none left. */
  refreshStats(cid: number): boolean {
    let stats: CollectionStats | undefined;
    for (const r of this.db.prepare('SELECT stats FROM sources WHERE cid = ?').iterate(cid) as Iterable<{
      stats: string;
    }>) {
      const s = JSON.parse(r.stats) as CollectionStats;
      stats = stats ? mergeStats(stats, s) : s;
    }
    if (!stats) return false;
    this.db.prepare('UPDATE collections SET stats = ? WHERE cid = ?').run(JSON.stringify(stats), cid);
    return true;
  }

  /** Fold one source's stats into its collection's (a file added). */
  addStats(cid: number, s: CollectionStats): void {
    const row = this.db.prepare('SELECT stats FROM collections WHERE cid = ?').get(cid) as
      { stats: string | null } | undefined;
    const merged = row?.stats ? mergeStats(JSON.parse(row.stats) as CollectionStats, s) : s;
    this.db.prepare('UPDATE collections SET stats = ? WHERE cid = ?').run(JSON.stringify(merged), cid);
  }

  idOf(cid: number): string | undefined {
    return this.ids.get(cid);
  }

  cidOf(collection: string): number | undefined {
    return this.cids.get(collection)?.cid;
  }

  /** Collection ids in the index, in insertion order. */
  collections(): string[] {
    return [...this.cids.keys()];
  }

  kindOf(collection: string): ItemKind | undefined {
    return this.cids.get(collection)?.kind;
  }

  statsOf(collection: string): CollectionStats {
    return this.stats.get(collection) ?? emptyStats();
  }

  /** Longest time span of any item, ms. */
  maxSpan(): number {
    let m = 0;
    for (const s of this.stats.values()) m = Math.max(m, s.maxSpan ?? 0);
    return m;
  }

  /** Queryable property names and types of some collections (all when none given). */
  propertyTypes(collections?: string[]): Record<string, JsonType> {
    // Every search asks (twice): the union over all collections' stats is worked out once per catalog load.
    const key = collections ? `=${collections.join('\u0000')}` : '';
    let types = this.typesCache.get(key);
    if (!types) {
      types = Object.freeze(unionTypes((collections ?? this.collections()).map((id) => this.statsOf(id))));
      if (this.typesCache.size >= 256) this.typesCache.clear();
      this.typesCache.set(key, types);
    }
    return types;
  }

  private readonly typesCache = new Map<string, Readonly<Record<string, JsonType>>>();

  get size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  }

  /**
   * Make the index hold exactly these collections: a source file whose stamp is unchanged keeps its
   * rows, a changed one is replaced, a missing one (or collection) is removed. One transaction.
   */
  sync(sources: Iterable<CollectionSource>, scope?: ItemKind[]): SyncReport {
    const t0 = Date.now();
    const report: SyncReport = { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 };
    const empty = this.size === 0;
    const db = this.db;
    if (empty)
      db.exec('DROP INDEX IF EXISTS items_sk; DROP INDEX IF EXISTS items_cid_sk; DROP INDEX IF EXISTS items_sid;');
    const existing = new Map<string, { sid: number; stamp: string }>();
    const inScope = (kind: ItemKind) => !scope || scope.includes(kind);
    // Only the sources of the kinds synced here: the data files' million sources are not even read.
    const kinds = scope ? `WHERE c.kind IN (${scope.map(() => '?').join(',')})` : '';
    for (const r of db
      .prepare(
        `SELECT s.sid AS sid, s.stamp AS stamp, s.rel AS rel, c.id AS cid, c.kind AS kind FROM sources s JOIN collections c ON c.cid = s.cid ${kinds}`,
      )
      .iterate(...(scope ?? [])) as Iterable<{
      sid: number;
      stamp: string;
      rel: string;
      cid: string;
      kind: ItemKind;
    }>) {
      existing.set(`${r.cid}\u0000${r.rel}`, { sid: r.sid, stamp: r.stamp });
    }
    const keepCollections = new Set<string>();
    const keepSources = new Set<number>();
    const insCollection = db.prepare(
      'INSERT INTO collections (id, kind) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind RETURNING cid',
    );
    const insSource = db.prepare('INSERT INTO sources (cid, rel, stamp, size, stats) VALUES (?, ?, ?, ?, ?)');
    const updSourceStats = db.prepare('UPDATE sources SET stats = ? WHERE sid = ?');
    const delSourceItemsRtree = db.prepare(
      'DELETE FROM items_rtree WHERE id IN (SELECT rowid FROM items WHERE sid = ?)',
    );
    const delSourceItems = db.prepare('DELETE FROM items WHERE sid = ?');
    const delSource = db.prepare('DELETE FROM sources WHERE sid = ?');

    const run = db.transaction(() => {
      for (const c of sources) {
        report.collections++;
        keepCollections.add(c.id);
        const { cid } = insCollection.get(c.id, c.kind) as { cid: number };
        for (const f of c.files) {
          report.files++;
          const key = `${c.id}\u0000${f.rel}`;
          const prev = existing.get(key);
          if (prev && prev.stamp === f.stamp) {
            keepSources.add(prev.sid);
            report.kept++;
            continue;
          }
          if (prev) {
            delSourceItemsRtree.run(prev.sid);
            delSourceItems.run(prev.sid);
            delSource.run(prev.sid);
            existing.delete(key);
            report.replaced++;
          }
          const sid = Number(insSource.run(cid, f.rel, f.stamp, f.size?.() ?? null, '{}').lastInsertRowid);
          keepSources.add(sid);
          const stats = this.insertItems(cid, sid, f.items());
          report.items += stats.count;
          updSourceStats.run(JSON.stringify(stats), sid);
        }
      }
      for (const { sid } of existing.values()) {
        if (keepSources.has(sid)) continue;
        delSourceItemsRtree.run(sid);
        delSourceItems.run(sid);
        delSource.run(sid);
        report.removed++;
      }
      for (const [id, { cid, kind }] of this.cids) {
        if (!keepCollections.has(id) && inScope(kind)) db.prepare('DELETE FROM collections WHERE cid = ?').run(cid);
      }
      for (const id of keepCollections) {
        const cid = (db.prepare('SELECT cid FROM collections WHERE id = ?').get(id) as { cid: number }).cid;
        if (!this.refreshStats(cid)) db.prepare('UPDATE collections SET stats = NULL WHERE cid = ?').run(cid);
      }
    });
    run();
    this.noteWrite();
    if (empty) db.exec(INDEXES);
    if (report.replaced + report.removed + report.items > 0) {
      db.exec('ANALYZE');
      this.analyzedRows = undefined;
    }
    this.loadCatalog();
    report.seconds = (Date.now() - t0) / 1000;
    return report;
  }

  /**
   * Insert one source's items (inside the caller's transaction) and return their stats. Ids are
   * unique per collection: a repeated one (two files with one profile id) gets a numeric suffix.
   */
  insertItems(cid: number, sid: number, items: Iterable<ItemDraft> | PreparedItems): CollectionStats {
    const prepared = 'rows' in items ? items : prepareItems(items);
    const insItem = this.stmt(
      'INSERT OR IGNORE INTO items (cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insRtree = this.stmt('INSERT INTO items_rtree VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insLevels = this.stmt('INSERT INTO feature_levels (rowid, data) VALUES (?, ?)');
    for (const [id, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx, levels] of prepared.rows) {
      const row = (rid: string) =>
        insItem.run(cid, sid, rid, s ?? -BIG, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx);
      let info = row(id);
      for (let k = 2; info.changes === 0 && k < 1000; k++) info = row(`${id}_${k}`);
      if (levels) insLevels.run(info.lastInsertRowid, levels);
      insRtree.run(
        Number(info.lastInsertRowid),
        minx ?? NOWHERE,
        maxx ?? NOWHERE,
        miny ?? NOWHERE,
        maxy ?? NOWHERE,
        s === null ? NOWHERE : s / DAY,
        e === null ? NOWHERE : e / DAY,
      );
    }
    return prepared.stats;
  }

  /** A profile's packed levels, when the catalog has them. */
  levels(rowid: number): Uint8Array | undefined {
    return (this.stmt('SELECT data FROM feature_levels WHERE rowid = ?').get(rowid) as { data: Uint8Array } | undefined)
      ?.data;
  }

  /** Remove one source and its items (inside the caller's transaction). */
  deleteSource(sid: number): void {
    this.stmt('DELETE FROM items_rtree WHERE id IN (SELECT rowid FROM items WHERE sid = ?)').run(sid);
    this.stmt('DELETE FROM feature_levels WHERE rowid IN (SELECT rowid FROM items WHERE sid = ?)').run(sid);
    this.stmt('DELETE FROM items WHERE sid = ?').run(sid);
    this.stmt('DELETE FROM sources WHERE sid = ?').run(sid);
  }

  private readonly statements = new Map<string, Database.Statement>();
  /**
   * Prepared statements are reused: preparing costs more than running for one-row statements (under
   * load, preparing every request's statements took 5 % of the main thread). Request statements vary
   * with their filters and page sizes, so the least recently used are dropped past a bound.
   */
  stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (st) {
      this.statements.delete(sql);
    } else {
      st = this.db.prepare(sql);
      if (this.statements.size >= MAX_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, st);
    return st;
  }

  toRow(r: RawRow): ItemRow {
    const collection = this.ids.get(r.cid) ?? '';
    return toItemRow(r, collection, this.cids.get(collection)?.kind ?? 'feature');
  }

  get(collection: string, id: string): ItemRow | undefined {
    const c = this.cids.get(collection);
    if (!c) return undefined;
    const r = this.stmt(
      `SELECT ${ROW_COLUMNS} FROM items i JOIN sources src ON src.sid = i.sid WHERE i.id = ? AND i.cid = ?`,
    )
      .raw()
      .get(id, c.cid) as unknown[] | undefined;
    return r ? this.toRow(rawRow(r)) : undefined;
  }

  /** Every item of a collection in index order, streamed (for export). */
  *iterate(collection: string): Generator<ItemRow> {
    const c = this.cids.get(collection);
    if (!c) return;
    for (const r of this.db
      .prepare(
        `SELECT ${ROW_COLUMNS} FROM items i JOIN sources src ON src.sid = i.sid WHERE i.cid = ? ORDER BY i.rowid`,
      )
      .iterate(c.cid) as Iterable<RawRow>) {
      yield this.toRow(r);
    }
  }

  /** The source file of a collection with its size, when it is indexed (download route membership). */
  source(collection: string, rel: string): { size: number | null } | undefined {
    const c = this.cids.get(collection);
    if (!c) return undefined;
    return this.stmt('SELECT size FROM sources WHERE cid = ? AND rel = ?').get(c.cid, rel) as
      { size: number | null } | undefined;
  }

  /**
   * Features of one data collection matching a box, an interval and property equalities, in file
   * order, with the exact number matched (kept per filter until the catalog changes: a client
   * paging through a result asks the same count once per page).
   */
  features(collection: string, q: FeatureFilter, offset: number, limit: number): { matched: number; rows: ItemRow[] } {
    const c = this.cids.get(collection);
    if (!c) return { matched: 0, rows: [] };
    const handles: number[] = [];
    try {
      const { from, where } = this.featureWhere(c.cid, collection, q, handles);
      const sql = where.map((w) => w.sql).join(' AND ');
      const params = where.flatMap((w) => w.params);
      const filtered = where.length > 1;
      const key = `${collection}\u0000${JSON.stringify([q.bbox, q.datetime?.start, q.datetime?.end, q.properties, q.cql])}`;
      const order =
        q.sortby && q.sortby.length > 0
          ? orderBy(
              q.sortby,
              this.statsOf(collection).types,
              q.queryablesHref ? { sortablesHref: q.queryablesHref.replace(/queryables$/, 'sortables') } : {},
            )
          : undefined;
      const version = this.dataVersion();
      if (version !== this.countsVersion) {
        this.counts.clear();
        this.pageEnds.clear();
        this.countsVersion = version;
      }
      let matched = filtered ? this.counts.get(key) : this.statsOf(collection).count;
      if (matched === undefined) {
        matched = (this.stmt(`SELECT count(*) AS n FROM ${from} WHERE ${sql}`).get(...params) as { n: number }).n;
        this.counts.set(key, matched);
        if (this.counts.size > 256) this.counts.delete(this.counts.keys().next().value!);
      }
      // A client paging by offset asks for the page after the one it had: start after that page's
      // last row (a keyset) instead of skipping `offset` rows, so page 1 000 costs what page 1 does.
      // (Sorted pages skip: their keyset would be the sort key, not the rowid.)
      const after = order ? undefined : this.pageEnds.get(`${key}\u0000${offset}`);
      let rows: ItemRow[] = [];
      if (limit > 0 && offset < matched) {
        // The page's rowids first (only integers go through the sort), then its rows.
        const select = `SELECT i.rowid FROM ${from} WHERE ${sql}`;
        const ids = (
          after !== undefined
            ? this.stmt(`${select} AND i.rowid > ? ORDER BY i.rowid LIMIT ?`)
                .pluck()
                .all(...params, after, limit)
            : this.stmt(`${select} ORDER BY ${order ?? 'i.rowid'} LIMIT ? OFFSET ?`)
                .pluck()
                .all(...params, limit, offset)
        ) as number[];
        rows = this.cachedRows(ids);
      }
      if (rows.length > 0 && !order) {
        this.pageEnds.set(`${key}\u0000${offset + rows.length}`, rows[rows.length - 1]!.rowid);
        if (this.pageEnds.size > 1024) this.pageEnds.delete(this.pageEnds.keys().next().value!);
      }
      return { matched, rows };
    } finally {
      this.releaseGeometries(handles);
    }
  }

  /**
   * Rows by rowid, in the order asked (ids gone meanwhile are left out). Pages are asked again and
   * again while items rarely change, and fetching a page's rows cost more main-thread time than
   * finding them: served rows are kept for the current data version (any commit drops them all).
   * Each caller gets its own copy of a row's object.
   */
  cachedRows(ids: number[]): ItemRow[] {
    if (ids.length === 0) return [];
    const version = this.dataVersion();
    if (version !== this.rowCacheVersion) {
      this.forgetRows();
      this.rowCacheVersion = version;
    }
    const missing = ids.filter((id) => !this.rowCache.has(id));
    const fetched = new Map<number, ItemRow>();
    if (missing.length > 0) {
      const raws = this.stmt(
        `SELECT ${ROW_COLUMNS} FROM items i JOIN sources src ON src.sid = i.sid WHERE i.rowid IN (SELECT value FROM json_each(?))`,
      )
        .raw()
        .all(JSON.stringify(missing)) as unknown[][];
      for (const a of raws) {
        const row = this.toRow(rawRow(a));
        fetched.set(row.rowid, row);
        this.rememberRow(row);
      }
    }
    const out: ItemRow[] = [];
    for (const id of ids) {
      const row = this.rowCache.get(id)?.row ?? fetched.get(id);
      if (row) out.push({ ...row });
    }
    return out;
  }

  private rememberRow(row: ItemRow): void {
    const chars = row.id.length + row.props.length + (row.geom?.length ?? 0) + (row.doc?.length ?? 0) + 200;
    if (chars > ROW_CACHE_CHARS / 64) return;
    while (
      this.rowCache.size > 0 &&
      (this.rowCache.size >= ROW_CACHE_ROWS || this.rowCacheChars + chars > ROW_CACHE_CHARS)
    ) {
      const [oldest, old] = this.rowCache.entries().next().value!;
      this.rowCache.delete(oldest);
      this.rowCacheChars -= old.chars;
    }
    this.rowCache.set(row.rowid, { row, chars });
    this.rowCacheChars += chars;
  }

  private forgetRows(): void {
    this.typesCache.clear();
    this.rowCache.clear();
    this.rowCacheChars = 0;
  }

  private readonly rowCache = new Map<number, { row: ItemRow; chars: number }>();
  private rowCacheChars = 0;
  private rowCacheVersion = '';

  /**
   * Every feature of a collection matching the filter, in file order, a batch at a time: the
   * matching rowids are found first (8 bytes each), then rows are fetched in batches. No SQLite
   * cursor stays open between batches, so the caller may await (read files, write a response)
   * while other requests use the catalog.
   */
  *featureRows(collection: string, q: FeatureFilter, withLevels = false): Generator<ItemRow> {
    const c = this.cids.get(collection);
    if (!c) return;
    const handles: number[] = [];
    let ids: number[];
    try {
      const { from, where } = this.featureWhere(c.cid, collection, q, handles);
      ids = this.stmt(`SELECT i.rowid FROM ${from} WHERE ${where.map((w) => w.sql).join(' AND ')} ORDER BY i.rowid`)
        .pluck()
        .all(...where.flatMap((w) => w.params)) as number[];
    } finally {
      this.releaseGeometries(handles);
    }
    // Profiles' levels come with their batch (one statement for 500, not one each).
    const levels = withLevels ? ', fl.data AS levels' : '';
    const join = withLevels ? 'LEFT JOIN feature_levels fl ON fl.rowid = i.rowid' : '';
    for (let k = 0; k < ids.length; k += FEATURE_BATCH) {
      const batch = ids.slice(k, k + FEATURE_BATCH);
      const rows = this.stmt(
        `SELECT ${ROW_COLUMNS}${levels} FROM items i JOIN sources src ON src.sid = i.sid ${join} WHERE i.rowid IN (${batch.map(() => '?').join(',')}) ORDER BY i.rowid`,
      )
        .raw()
        .all(...batch) as unknown[][];
      for (const r of rows) {
        const row = this.toRow(rawRow(r));
        // The levels column follows ROW_COLUMNS when asked for.
        const blob = r[17] as Uint8Array | null | undefined;
        if (blob) row.levels = blob;
        yield row;
      }
    }
  }

  private featureWhere(
    cid: number,
    collection: string,
    q: FeatureFilter,
    handles: number[],
  ): { from: string; where: Sql[] } {
    const where: Sql[] = [{ sql: 'i.cid = ?', params: [cid] }];
    const rtree: Sql[] = [];
    if (q.bbox) {
      const ranges = lonRanges(q.bbox);
      const h = this.holdGeometry(bboxQueryGeometry(q.bbox), handles);
      // Points and boxes are decided by their stored box; lines by their segments (odas_hit).
      where.push({
        sql: `(${ranges.map(() => '(i.maxx >= ? AND i.minx <= ?)').join(' OR ')}) AND i.maxy >= ? AND i.miny <= ? AND (i.gtype IN (1, ${GTYPE_BOX}) OR odas_hit(?, i.gtype, i.minx, i.miny, i.maxx, i.maxy, i.geom))`,
        params: [...ranges.flat(), q.bbox.south, q.bbox.north, h],
      });
      rtree.push(
        ranges.length === 1
          ? {
              sql: 'r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?',
              params: [q.bbox.east, q.bbox.west, q.bbox.north, q.bbox.south],
            }
          : { sql: 'r.miny <= ? AND r.maxy >= ?', params: [q.bbox.north, q.bbox.south] },
      );
    }
    if (q.datetime) {
      where.push({ sql: 'i.e >= ? AND i.s <= ?', params: [clampInf(q.datetime.start), clampInf(q.datetime.end)] });
      rtree.push({
        sql: 'r.mint <= ? AND r.maxt >= ?',
        params: [
          q.datetime.end === Infinity ? BIG : q.datetime.end / DAY,
          q.datetime.start === -Infinity ? -BIG : q.datetime.start / DAY,
        ],
      });
    }
    for (const [k, v] of Object.entries(q.properties ?? {})) {
      if (v === null) continue;
      where.push({ sql: `${SQLITE.property(k)} = ?`, params: [v === true ? 1 : v === false ? 0 : v] });
    }
    if (q.cql) {
      const ctx: CompileContext = {
        types: this.statsOf(collection).types,
        ...(q.queryablesHref ? { queryablesHref: q.queryablesHref } : {}),
        cidOf: (id) => this.cids.get(id)?.cid,
        registerGeometry: (g) => this.holdGeometry(g, handles),
      };
      where.push(compileFilter(q.cql, ctx));
      // The filter's top-level box and interval narrow the R*-tree scan too.
      const hb = hoistBounds(q.cql);
      for (const b of hb.boxes)
        rtree.push({
          sql: 'r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?',
          params: [b[2], b[0], b[3], b[1]],
        });
      if (hb.tmin > -Infinity || hb.tmax < Infinity)
        rtree.push({
          sql: 'r.mint <= ? AND r.maxt >= ?',
          params: [hb.tmax === Infinity ? BIG : hb.tmax / DAY, hb.tmin === -Infinity ? -BIG : hb.tmin / DAY],
        });
    }
    // A small collection is read through its own index; a big one through the R*-tree when a box or interval narrows it.
    const useRtree = rtree.length > 0 && this.statsOf(collection).count > COUNT_CAP;
    return {
      from: useRtree ? 'items_rtree r CROSS JOIN items i ON i.rowid = r.id' : 'items i',
      where: useRtree ? [...rtree, ...where] : where,
    };
  }

  /** STAC search over every collection (see search.ts for the plans). */
  search(q: SearchSpec): SearchResult {
    const handles: number[] = [];
    try {
      return searchItems(this, q, (g) => this.holdGeometry(g, handles));
    } finally {
      this.releaseGeometries(handles);
    }
  }

  /** Registers a query geometry for odas_hit; the handle stays valid until releaseGeometries(handles). */
  holdGeometry(g: GeoJsonGeometry, handles: number[]): number {
    const h = this.nextHandle++;
    this.geometries.set(h, prepare(g));
    handles.push(h);
    return h;
  }

  releaseGeometries(handles: number[]): void {
    for (const h of handles) this.geometries.delete(h);
  }
}

const TEMPORARY = new Set<CatalogStore>();
process.once('exit', () => {
  for (const store of TEMPORARY) store.close();
});

function configure(db: Database.Database, opts: CatalogStoreOptions): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`cache_size = -${(opts.cacheMiB ?? 64) * 1024}`);
  db.pragma('temp_store = MEMORY');
  // Another odas process may hold the write lock for one batch: wait for it rather than fail.
  db.pragma('busy_timeout = 30000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    // Another version's catalog is rebuilt from the files, never read.
    db.exec(
      'DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS items_rtree; DROP TABLE IF EXISTS sources; DROP TABLE IF EXISTS collections; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS feature_levels; DROP TABLE IF EXISTS manifests;',
    );
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  db.exec(SCHEMA);
  db.exec(INDEXES);
  // A torn or foreign file shows up here rather than in the middle of a request.
  db.prepare('SELECT count(*) FROM collections').get();
}

/**
 * Open the catalog file; one that SQLite finds corrupt (or that is not a database) is moved aside
 * as `<file>.corrupt-<time>` and a new one is built from the files: never served wrong.
 */
function openChecked(file: string, opts: CatalogStoreOptions): { db: Database.Database; recovered?: string } {
  let db = new Database(file);
  try {
    configure(db, opts);
    return { db };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (file === ':memory:' || !/SQLITE_(CORRUPT|NOTADB)/.test(code)) throw err;
    db.close();
    const aside = `${file}.corrupt-${Date.now()}`;
    renameSync(file, aside);
    for (const ext of ['-wal', '-shm']) rmSync(`${file}${ext}`, { force: true });
    db = new Database(file);
    configure(db, opts);
    return {
      db,
      recovered: `catalog ${file} was unreadable (${(err as Error).message}): moved to ${aside} and rebuilt from the files`,
    };
  }
}
