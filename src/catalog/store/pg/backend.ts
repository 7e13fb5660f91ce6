/**
 * The catalog in PostgreSQL with PostGIS, shared by several odas processes (replicas behind a load
 * balancer). Items carry a PostGIS geometry (GiST) beside the same box, time and JSON columns as the
 * SQLite catalog, so both answer every query alike. A pool serves requests; one dedicated session
 * holds the indexing lock (pg_try_advisory_lock: released by PostgreSQL itself when its process
 * dies) and listens for other processes' commits (LISTEN/NOTIFY).
 */
import pg from 'pg';
import type { ClientConfig, Pool as PgPool, PoolClient, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { InvalidParameterValue, ServiceUnavailable } from '../../../core/errors.js';
import { lonRanges, type BBox } from '../../../core/query/bbox.js';
import type { CatalogBackend, CatalogLedger } from '../backend.js';
import type { FileCommit, FileRemoval, FileState, FileStatus } from '../ledger.js';
import { failureOf, folderOf } from '../ledger.js';
import { prepareItems, toItemRow, type PreparedItems } from '../rows.js';
import { emptyStats, mergeStats, unionTypes } from '../stats.js';
import type { RawRow as ItemsRow } from '../rows.js';
import { COUNT_CAP, searchPage, sortPlan, type SortDialect } from '../search.js';
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
} from '../types.js';
import {
  BIG,
  clampInf,
  compileFilter,
  hoistBounds,
  spatialSql,
  type CompileContext,
  type SqlDialect,
  type Sql,
} from '../where.js';
import { orderBy } from '../order.js';
import { migrate } from './schema.js';

/** Rows fetched per statement when a collection's matches are streamed. */
const FEATURE_BATCH = 500;
/** Queryable properties given a B-tree at most (each costs writes). */
const MAX_PROPERTY_INDEXES = 24;
/** Quiet time after the last commit before property indexes are built. */
const PROPERTY_INDEX_DELAY_MS = 10_000;
/** Items written before planner statistics are refreshed during a load (then each time the items double). */
const ANALYZE_MIN_ROWS = 20_000;
/** The indexing lock's key: one indexer per database. */
const INDEX_LOCK = 0x6f646173_02;
/** Serialises static-catalog syncs of replicas starting together. */
const SYNC_LOCK = 0x6f646173_03;
const CHANNEL = 'odas_catalog';
/** Seconds a client is told to wait while the database is away. */
const RETRY_AFTER_S = 5;

export interface PgBackendOptions {
  log?: Logger;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** A statement running longer is cancelled (ms, default 30 000): no request waits on the database for ever. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection (ms, default 5 000) before answering 503. */
  connectTimeoutMs?: number;
}

/** int8 as a number (row ids, counts), json as its text (served as stored). */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 114) return (v: string) => v;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Errors that mean "the database is not there right now", not "the query is wrong". */
function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (
    e.code &&
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|EPIPE|57P0[123]|57014|08\d\d\d|53300)$/.test(e.code)
  )
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable/i.test(
    e.message ?? '',
  );
}

/** A commit refused because another process took the indexing lock over (see PgBackend.fence). */
class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** A database URL without its password, for logs and the status document. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql://(unparsable URL)';
  }
}

/** `?` placeholders (the shared WHERE compiler's) as PostgreSQL's `$n`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** A JSON property of `items i` as a typed value (booleans as 1/0, like SQLite's json_extract). */
function property(name: string, type: JsonType = 'string'): string {
  const k = `'${name.replace(/["'\\?]/g, '')}'`;
  if (type === 'number' || type === 'integer')
    return `(CASE WHEN json_typeof(i.props->${k}) = 'number' THEN (i.props->>${k})::float8 END)`;
  if (type === 'boolean')
    return `(CASE WHEN json_typeof(i.props->${k}) = 'boolean' THEN (CASE WHEN (i.props->>${k}) = 'true' THEN 1 ELSE 0 END) END)`;
  // Byte-wise, as SQLite compares and sorts text.
  return `((i.props->>${k}) COLLATE "C")`;
}

const PG_DIALECT: SqlDialect = {
  property,
  true: 'true',
  false: 'false',
  spatialHit: 'true',
  // CQL2 LIKE is SQL LIKE: % and _, backslash escapes, case-sensitive.
  like: (col, pattern) => ({ sql: `${col} LIKE ?`, params: [pattern] }),
  intersects: (g) => ({
    sql: 'ST_Intersects(i.g, ST_SetSRID(ST_GeomFromGeoJSON(?), 4326))',
    params: [JSON.stringify(g)],
  }),
};

/** Sorts as SQLite's: NULLs first ascending, last descending; text byte-wise. */
const PG_SORT: SortDialect = {
  direction: (asc) => (asc ? 'ASC NULLS FIRST' : 'DESC NULLS LAST'),
  text: (expr) => `${expr} COLLATE "C"`,
  property,
};

/** An ORDER BY as SQLite sorts: NULLs first ascending, last descending; ids and strings byte-wise. */
function pgOrder(order: string): string {
  return order
    .replace(/\bi\.id (ASC|DESC)/g, 'i.id COLLATE "C" $1')
    .replace(/ (ASC|DESC)(?=,|$)/g, (_m, d: string) => (d === 'ASC' ? ' ASC NULLS FIRST' : ' DESC NULLS LAST'));
}

/** The item's geometry intersects a query box (two boxes across the antimeridian). */
function boxSql(b: BBox): Sql {
  const parts = lonRanges(b).map(([lo, hi]) => ({
    sql: 'ST_Intersects(i.g, ST_MakeEnvelope(?, ?, ?, ?, 4326))',
    params: [lo, b.south, hi, b.north],
  }));
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
}

/**
 * The space-time GiST key's test (index items_stbox): items near the box and the interval, found in one
 * index walk. A prefilter only: the exact box and time tests are ANDed beside it.
 */
function stboxSql(b: BBox | undefined, start: number, end: number): Sql {
  const boxes: Array<[number, number, number, number]> = b
    ? lonRanges(b).map(([lo, hi]) => [lo, b.south, hi, b.north])
    : [[-1e30, -1e30, 1e30, 1e30]];
  const parts = boxes.map(([x0, y0, x1, y1]) => ({
    sql: 'odas_stbox(i.minx, i.miny, i.maxx, i.maxy, i.s, i.e) &&& ST_MakeLine(ST_MakePoint(?, ?, odas_days(?)), ST_MakePoint(?, ?, odas_days(?)))',
    params: [x0, y0, clampInf(start), x1, y1, clampInf(end)],
  }));
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
}

/** The SQLite catalog's row shape (rows.ts), with a profile's packed levels when asked for. */
type RawRow = ItemsRow & { levels?: Uint8Array | null };

const ROW_COLUMNS =
  'i.rowid, i.cid, i.id, i.sk, i.gtype, i.s, i.e, i.minx, i.miny, i.maxx, i.maxy, i.geom, i.props, i.doc, i.fidx, src.rel, src.size';

/**
 * A page (`LIMIT ? OFFSET ?`) as a deferred join: the rows before the page are walked in the items
 * alone (an index-only scan of the sort key when unfiltered: the visibility map is kept by
 * PgBackend.maintain), and only the page's rows are fetched and joined with their source. Joining
 * first made page 200 of a collection fetch and join 20 000 rows to return 100 (~50 ms against ~3).
 */
function deferredPage(where: string, order: string): string {
  return `SELECT ${ROW_COLUMNS} FROM (SELECT i.rowid FROM items i ${where} ORDER BY ${order} LIMIT ? OFFSET ?) p JOIN items i ON i.rowid = p.rowid JOIN sources src ON src.sid = i.sid ORDER BY ${order}`;
}

type Queryable = Pick<PgPool, 'query'> | PoolClient;

export class PgBackend implements CatalogBackend {
  readonly kind = 'postgresql' as const;
  readonly ledger: CatalogLedger;
  private cids = new Map<string, { cid: number; kind: ItemKind }>();
  private ids = new Map<number, string>();
  private stats = new Map<string, CollectionStats>();
  /** Filter → exact number matched, and filter + offset → rowid of the row before that offset; both for one data version. */
  private readonly counts = new Map<string, number>();
  private readonly pageEnds = new Map<string, number>();
  private countsVersion = '';
  /** The session holding the indexing lock and listening for commits (not from the pool: a lock lives as long as its session). */
  private session?: pg.Client;
  private sessionOpening?: Promise<pg.Client>;
  private locked = false;
  /**
   * The fencing epoch this process got when it took the indexing lock. The lock lives on one
   * connection; commits go through others, so a process whose lock went with its connection (a
   * database restart, pg_terminate_backend) could go on writing while another indexes. Each commit
   * checks the epoch under a row lock and each new holder bumps it first: writes never overlap.
   */
  private epoch?: string;
  private readonly listeners: Array<() => void> = [];
  /** Commits through this backend one at a time (stats are read, merged and written back). */
  private writing: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly pool: PgPool,
    readonly location: string,
    private readonly config: ClientConfig,
    private readonly log?: Logger,
  ) {
    this.ledger = new PgLedger(this);
  }

  static async open(url: string, opts: PgBackendOptions = {}): Promise<PgBackend> {
    const config: ClientConfig = {
      connectionString: url,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      application_name: 'odas',
      // JIT compiling costs tens of ms per statement the planner thinks big (a count over many
      // candidates): more than the catalog's short queries ever gain from it.
      options: '-c jit=off',
      types: TYPES,
    };
    const pool = new pg.Pool({ ...config, max: opts.poolSize ?? 10, idleTimeoutMillis: 30_000 });
    // A connection the server drops while idle (restart, pg_terminate_backend) is replaced on next use.
    pool.on('error', (err) => opts.log?.warn({ err: err.message }, `catalog database connection lost: ${err.message}`));
    const where = redactUrl(url);
    const backend = new PgBackend(pool, where, config, opts.log);
    try {
      await migrate(pool, where);
      await backend.loadCatalog();
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (isUnavailable(err))
        throw new Error(`cannot reach the catalog database ${where}: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    return backend;
  }

  /** Run one statement (`?` placeholders); a database away becomes a 503 with Retry-After. */
  async query<R extends QueryResultRow>(sql: string, params: unknown[] = [], on: Queryable = this.pool): Promise<R[]> {
    const text = numbered(sql);
    try {
      return (await on.query<R>(text, params)).rows;
    } catch (first) {
      if (!isUnavailable(first)) throw first;
      let err = first;
      // A pooled connection the server dropped (restart, pg_terminate_backend) fails once: a new one may work at once.
      if (on === this.pool && !this.closed) {
        try {
          return (await this.pool.query<R>(text, params)).rows;
        } catch (again) {
          if (!isUnavailable(again)) throw again;
          err = again;
        }
      }
      throw new ServiceUnavailable(
        `the catalog database is not available (${(err as Error).message}); try again shortly`,
        RETRY_AFTER_S,
      );
    }
  }

  /** Run `work` in one transaction on one connection; commits are serialised within this process. */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const run = async () => {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw new ServiceUnavailable(
          `the catalog database is not available (${(err as Error).message}); try again shortly`,
          RETRY_AFTER_S,
        );
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const out = await work(client);
        await client.query("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'data_version'");
        await client.query(`NOTIFY ${CHANNEL}`);
        await client.query('COMMIT');
        this.noticed++;
        return out;
      } catch (err) {
        broken = isUnavailable(err);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        if (broken)
          throw new ServiceUnavailable(
            `the catalog database is not available (${(err as Error).message}); try again shortly`,
            RETRY_AFTER_S,
          );
        throw err;
      } finally {
        client.release(broken);
      }
    };
    const next = this.writing.then(run, run);
    this.writing = next.catch(() => undefined);
    return next;
  }

  // --- in memory ---

  collections(): string[] {
    return [...this.cids.keys()];
  }
  kindOf(collection: string): ItemKind | undefined {
    return this.cids.get(collection)?.kind;
  }
  statsOf(collection: string): CollectionStats {
    return this.stats.get(collection) ?? emptyStats();
  }
  cidOf(collection: string): number | undefined {
    return this.cids.get(collection)?.cid;
  }
  idOf(cid: number): string | undefined {
    return this.ids.get(cid);
  }
  propertyTypes(collections?: string[]): Record<string, JsonType> {
    return unionTypes((collections ?? this.collections()).map((id) => this.statsOf(id)));
  }
  private maxSpan(): number {
    let m = 0;
    for (const s of this.stats.values()) m = Math.max(m, s.maxSpan ?? 0);
    return m;
  }

  async loadCatalog(): Promise<void> {
    const rows = await this.query<{ cid: number; id: string; kind: ItemKind; stats: string | null }>(
      'SELECT cid, id, kind, stats FROM collections ORDER BY cid',
    );
    const cids = new Map<string, { cid: number; kind: ItemKind }>();
    const ids = new Map<number, string>();
    const stats = new Map<string, CollectionStats>();
    for (const r of rows) {
      cids.set(r.id, { cid: r.cid, kind: r.kind });
      ids.set(r.cid, r.id);
      if (r.stats) stats.set(r.id, JSON.parse(r.stats) as CollectionStats);
    }
    // Swapped whole: a request never sees half a reload.
    this.cids = cids;
    this.ids = ids;
    this.stats = stats;
  }

  /** Re-read some collections after a commit here. */
  async reloadCollections(cids: Iterable<number>): Promise<void> {
    const list = [...cids];
    if (list.length === 0) return;
    const rows = await this.query<{ cid: number; id: string; kind: ItemKind; stats: string | null }>(
      'SELECT cid, id, kind, stats FROM collections WHERE cid = ANY(?::int[])',
      [list],
    );
    const found = new Map(rows.map((r) => [r.cid, r]));
    for (const cid of list) {
      const r = found.get(cid);
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

  // --- bookkeeping ---

  async meta(key: string): Promise<string | undefined> {
    return (await this.query<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))[0]?.value;
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.query(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }
  async reset(): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('TRUNCATE feature_levels, items, sources, collections, files, manifests');
    });
    await this.loadCatalog();
  }
  async dataVersion(): Promise<string> {
    const v = (await this.meta('data_version')) ?? '0';
    this.lastSeen = v;
    return v;
  }
  seenVersion(): string {
    return `${this.lastSeen}:${this.noticed}`;
  }
  /** The database's data version when last read, and commits noticed since (own, or notified). */
  private lastSeen = '0';
  private noticed = 0;
  onRemoteCommit(listener: () => void): boolean {
    this.listeners.push(listener);
    void this.ensureSession().catch(() => undefined);
    return true;
  }
  manifests(): undefined {
    // HDF5 chunk manifests stay in each process's memory: they are read on every chunk access, a round trip each would cost more than the read.
    return undefined;
  }

  /** The dedicated session: listens for commits; holds the indexing lock once taken. Reopened when lost. */
  private async ensureSession(): Promise<pg.Client> {
    if (this.session) return this.session;
    this.sessionOpening ??= (async () => {
      // Named apart from the pool's connections: the one whose end releases the indexing lock.
      const client = new pg.Client({ ...this.config, application_name: 'odas-index-lock' });
      client.on('error', (err) => {
        this.log?.warn({ err: err.message }, `catalog session lost: ${err.message}`);
        this.dropSession(client);
      });
      client.on('end', () => this.dropSession(client));
      client.on('notification', () => {
        this.noticed++;
        for (const l of this.listeners) l();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      this.session = client;
      return client;
    })().finally(() => {
      this.sessionOpening = undefined;
    });
    return this.sessionOpening;
  }

  private dropSession(client: pg.Client): void {
    if (this.session !== client) return;
    this.session = undefined;
    // The lock went with the session: PostgreSQL released it, another process may hold it now.
    this.locked = false;
    void client.end().catch(() => undefined);
    if (!this.closed && this.listeners.length > 0) {
      // Keep listening: reopen after a pause (the database may be restarting); commits missed meanwhile are found by polling.
      setTimeout(() => void this.ensureSession().catch(() => undefined), 2000).unref();
    }
  }

  /** Take the indexing lock (or check it is still held). */
  async lock(): Promise<boolean> {
    const session = await this.ensureSession();
    if (this.locked) {
      // Still ours only while the session is alive.
      await session.query('SELECT 1');
      return this.locked;
    }
    const r = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [INDEX_LOCK]);
    if (r.rows[0]?.ok !== true) return false;
    // Waits for a commit of the previous holder still in flight (it holds the epoch row), then fences it out.
    const e = await session.query<{ value: string }>(
      "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'index_epoch' RETURNING value",
    );
    this.epoch = e.rows[0]?.value;
    this.locked = true;
    return true;
  }

  async unlock(): Promise<void> {
    this.epoch = undefined;
    if (!this.locked || !this.session) return;
    this.locked = false;
    await this.session.query('SELECT pg_advisory_unlock($1)', [INDEX_LOCK]);
  }

  /**
   * B-trees on the queryable properties (the exact expressions the property tests use, so the planner
   * takes them): created by the indexer once its commits pause, without blocking reads or writes
   * (CONCURRENTLY). Returns the indexes created.
   */
  async indexQueryables(): Promise<string[]> {
    if (!this.locked) return [];
    const have = new Set(
      (await this.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'items'")).map(
        (r) => r.indexname,
      ),
    );
    const made: string[] = [];
    const wanted = Object.entries(this.propertyTypes()).filter(
      ([name]) => name !== 'datetime' && /^[A-Za-z_][\w.:-]{0,50}$/.test(name),
    );
    for (const [name, type] of wanted.slice(0, MAX_PROPERTY_INDEXES)) {
      const index =
        `items_q_${type === 'string' ? 's' : type === 'boolean' ? 'b' : 'n'}_${name.replace(/\W/g, '_')}`.slice(0, 63);
      if (have.has(index) || this.closed || !this.locked) continue;
      const expr = property(name, type).replaceAll('i.props', 'props');
      try {
        await this.pool.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${index} ON items (cid, ${expr})`);
        made.push(index);
      } catch (err) {
        this.log?.warn(
          { err: (err as Error).message, index },
          `cannot index property ${name}: ${(err as Error).message}`,
        );
        // A failed concurrent build leaves an invalid index behind.
        await this.pool.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index}`).catch(() => undefined);
      }
    }
    if (made.length > 0) this.log?.info({ indexes: made }, `indexed queryable properties: ${made.join(', ')}`);
    return made;
  }

  /**
   * After commits of `rows` items (debounced): the property indexes of what they brought, and the
   * tables' upkeep. While a bulk load goes on, planner statistics are refreshed each time the items
   * double (a plan made for 1 000 rows is wrong for 100 000).
   */
  scheduleMaintenance(rows: number): void {
    this.written += rows;
    this.sinceAnalyze += rows;
    if (this.sinceAnalyze >= Math.max(ANALYZE_MIN_ROWS, this.analyzedAt)) {
      this.analyzedAt += this.sinceAnalyze;
      this.sinceAnalyze = 0;
      this.chain(() => this.pool.query('ANALYZE items'));
    }
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      this.chain(() => this.indexQueryables());
      this.chain(() => this.maintain());
    }, PROPERTY_INDEX_DELAY_MS);
    this.indexTimer.unref();
  }
  private indexTimer?: NodeJS.Timeout;
  private indexing: Promise<void> = Promise.resolve();
  /** Items written since the last VACUUM, since the last ANALYZE, and counted at the last ANALYZE. */
  private written = 0;
  private sinceAnalyze = 0;
  private analyzedAt = 0;

  /** Background upkeep, one job at a time; a failure is logged, never thrown at a commit. */
  private chain(job: () => Promise<unknown>): void {
    this.indexing = this.indexing.then(async () => {
      if (this.closed || !this.locked) return;
      try {
        await job();
      } catch (err) {
        this.log?.warn({ err: (err as Error).message }, `catalog upkeep failed: ${(err as Error).message}`);
      }
    });
  }

  /**
   * Once commits pause: VACUUM (ANALYZE) the tables the indexer writes. Beyond dead rows, VACUUM sets
   * the visibility map, without which an index-only scan (the items pages' OFFSET walk) visits the
   * heap for every row; autovacuum does it eventually, or never where it is off.
   */
  async maintain(): Promise<boolean> {
    if (this.written === 0 || !this.locked) return false;
    this.written = 0;
    // The indexer's commits do not wait for the WAL flush; until it happens their rows cannot be
    // hinted committed, and VACUUM leaves their pages out of the visibility map. A synchronous
    // commit flushes the WAL up to itself, the earlier commits' records included.
    await this.pool.query("UPDATE meta SET value = value WHERE key = 'data_version'");
    await this.pool.query('VACUUM (ANALYZE) items, sources, files, feature_levels');
    return true;
  }

  /** Inside a commit's transaction: refuse it unless this process is still the indexer of record. */
  async fence(client: PoolClient): Promise<void> {
    const now = (
      await this.query<{ value: string }>("SELECT value FROM meta WHERE key = 'index_epoch' FOR SHARE", [], client)
    )[0]?.value;
    if (this.epoch === undefined || now !== this.epoch)
      throw new LeaseLostError(
        this.epoch === undefined
          ? 'this process does not hold the indexing lock: its commit is refused'
          : `this process lost the indexing lock (epoch ${this.epoch}, now ${now ?? 'none'}: another process indexes): its commit is refused`,
      );
  }

  // --- the read side ---

  private toRow(r: RawRow): ItemRow {
    const collection = this.ids.get(r.cid) ?? '';
    const row = toItemRow(r, collection, this.cids.get(collection)?.kind ?? 'feature');
    if (r.levels) row.levels = r.levels;
    return row;
  }

  private featureWhere(cid: number, collection: string, q: FeatureFilter): Sql[] {
    const where: Sql[] = [{ sql: 'i.cid = ?', params: [cid] }];
    if (q.cql) {
      where.push(
        compileFilter(q.cql, {
          types: this.statsOf(collection).types,
          cidOf: (id) => this.cids.get(id)?.cid,
          registerGeometry: () => 0,
          dialect: PG_DIALECT,
          ...(q.queryablesHref ? { queryablesHref: q.queryablesHref } : {}),
        }),
      );
    }
    if (q.bbox) where.push(boxSql(q.bbox));
    if (q.datetime) {
      where.push({ sql: 'i.e >= ? AND i.s <= ?', params: [clampInf(q.datetime.start), clampInf(q.datetime.end)] });
      where.push(stboxSql(q.bbox, q.datetime.start, q.datetime.end));
    }
    for (const [k, v] of Object.entries(q.properties ?? {})) {
      if (v === null) continue;
      if (typeof v === 'boolean') where.push({ sql: `${property(k, 'string')} = ?`, params: [String(v)] });
      else where.push({ sql: `${property(k, typeof v === 'number' ? 'number' : 'string')} = ?`, params: [v] });
    }
    return where;
  }

  /**
   * A page of one collection's features with the exact number matched. Unfiltered: the count the
   * indexer keeps in the collection's stats. Filtered: counted once per filter and data version and
   * shared by every page of it (a client paging through asks the same count again), so a paging read
   * (GDAL, QGIS) sees one numberMatched that equals the features its pages hold.
   */
  async features(
    collection: string,
    q: FeatureFilter,
    offset: number,
    limit: number,
  ): Promise<{ matched: number; rows: ItemRow[] }> {
    const c = this.cids.get(collection);
    if (!c) return { matched: 0, rows: [] };
    const where = this.featureWhere(c.cid, collection, q);
    const sql = where.map((w) => w.sql).join(' AND ');
    const sorted = q.sortby !== undefined && q.sortby.length > 0;
    const order = sorted
      ? pgOrder(
          orderBy(q.sortby!, this.statsOf(collection).types, {
            dialect: PG_DIALECT,
            ...(q.queryablesHref ? { sortablesHref: q.queryablesHref.replace(/queryables$/, 'sortables') } : {}),
          }),
        )
      : 'i.rowid';
    const params = where.flatMap((w) => w.params);
    const filtered = where.length > 1;
    const version = this.seenVersion();
    if (version !== this.countsVersion) {
      this.counts.clear();
      this.pageEnds.clear();
      this.countsVersion = version;
    }
    const key = `${collection}\u0000${JSON.stringify([q.bbox, q.datetime?.start, q.datetime?.end, q.properties, q.cql])}`;
    const known = filtered ? this.counts.get(key) : this.statsOf(collection).count;
    const counting =
      known === undefined
        ? this.query<{ n: number }>(`SELECT count(*) AS n FROM items i WHERE ${sql}`, params)
        : undefined;
    // A client paging by offset asks for the page after the one it had: start after that page's last
    // row (a keyset) instead of skipping `offset` rows, so page 1 000 costs what page 1 does.
    const after = sorted ? undefined : this.pageEnds.get(`${key}\u0000${offset}`);
    const fetching =
      limit > 0
        ? after !== undefined
          ? this.query<RawRow>(
              `SELECT ${ROW_COLUMNS} FROM items i JOIN sources src ON src.sid = i.sid WHERE ${sql} AND i.rowid > ? ORDER BY i.rowid LIMIT ?`,
              [...params, after, limit],
            )
          : this.query<RawRow>(deferredPage(`WHERE ${sql}`, order), [...params, limit, offset])
        : Promise.resolve([]);
    const [counted, rows] = await Promise.all([counting, fetching]);
    let matched = known;
    if (matched === undefined) {
      matched = counted![0]!.n;
      if (this.seenVersion() === version) {
        this.counts.set(key, matched);
        if (this.counts.size > 256) this.counts.delete(this.counts.keys().next().value!);
      }
    }
    if (rows.length > 0 && !sorted && this.seenVersion() === version) {
      this.pageEnds.set(`${key}\u0000${offset + rows.length}`, rows[rows.length - 1]!.rowid);
      if (this.pageEnds.size > 1024) this.pageEnds.delete(this.pageEnds.keys().next().value!);
    }
    return { matched, rows: rows.map((r) => this.toRow(r)) };
  }

  async *featureBatches(collection: string, q: FeatureFilter, withLevels = false): AsyncGenerator<ItemRow[]> {
    const c = this.cids.get(collection);
    if (!c) return;
    const where = this.featureWhere(c.cid, collection, q);
    const levels = withLevels ? ', fl.data AS levels' : '';
    const join = withLevels ? 'LEFT JOIN feature_levels fl ON fl.rowid = i.rowid' : '';
    // Keyset over rowid: each batch is one statement, no cursor held while the caller awaits.
    let after = -1;
    for (;;) {
      const rows = await this.query<RawRow>(
        `SELECT ${ROW_COLUMNS}${levels} FROM items i JOIN sources src ON src.sid = i.sid ${join} WHERE ${where.map((w) => w.sql).join(' AND ')} AND i.rowid > ? ORDER BY i.rowid LIMIT ?`,
        [...where.flatMap((w) => w.params), after, FEATURE_BATCH],
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.rowid;
      yield rows.map((r) => this.toRow(r));
      if (rows.length < FEATURE_BATCH) return;
    }
  }

  async get(collection: string, id: string): Promise<ItemRow | undefined> {
    const c = this.cids.get(collection);
    if (!c) return undefined;
    const r = (
      await this.query<RawRow>(
        `SELECT ${ROW_COLUMNS} FROM items i JOIN sources src ON src.sid = i.sid WHERE i.id = ? AND i.cid = ?`,
        [id, c.cid],
      )
    )[0];
    return r ? this.toRow(r) : undefined;
  }

  async levels(rowid: number): Promise<Uint8Array | undefined> {
    return (await this.query<{ data: Uint8Array }>('SELECT data FROM feature_levels WHERE rowid = ?', [rowid]))[0]
      ?.data;
  }

  async *itemBatches(collection: string): AsyncGenerator<ItemRow[]> {
    const c = this.cids.get(collection);
    if (!c) return;
    let after = -1;
    for (;;) {
      const rows = await this.query<RawRow>(
        `SELECT ${ROW_COLUMNS} FROM items i JOIN sources src ON src.sid = i.sid WHERE i.cid = ? AND i.rowid > ? ORDER BY i.rowid LIMIT ?`,
        [c.cid, after, FEATURE_BATCH],
      );
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.rowid;
      yield rows.map((r) => this.toRow(r));
    }
  }

  async source(collection: string, rel: string): Promise<{ size: number | null } | undefined> {
    const c = this.cids.get(collection);
    if (!c) return undefined;
    return (
      await this.query<{ size: number | null }>('SELECT size FROM sources WHERE cid = ? AND rel = ?', [c.cid, rel])
    )[0];
  }

  /** STAC search, with the SQLite catalog's semantics: exact counts up to COUNT_CAP, time-ordered keyset pages. */
  async search(q: SearchSpec): Promise<SearchResult> {
    const ctx: CompileContext = {
      types: this.propertyTypes(q.collections),
      cidOf: (id) => this.cids.get(id)?.cid,
      registerGeometry: () => 0,
      dialect: PG_DIALECT,
    };
    const where: Sql[] = [{ sql: 'i.s IS NOT NULL', params: [] }];
    let onlyCollections = true;
    if (q.collections && q.collections.length > 0) {
      const cids = q.collections.map((id) => {
        const c = this.cids.get(id);
        if (!c) throw new InvalidParameterValue('collections', `no collection '${id}' (see /stac/collections)`);
        return c.cid;
      });
      where.push({ sql: `i.cid IN (${cids.map(() => '?').join(',')})`, params: cids });
    }
    const excluded = (q.excludeCollections ?? []).flatMap((id) => this.cids.get(id)?.cid ?? []);
    if (excluded.length > 0)
      where.push({ sql: `i.cid NOT IN (${excluded.map(() => '?').join(',')})`, params: excluded });
    if (q.ids && q.ids.length > 0) {
      onlyCollections = false;
      where.push({ sql: `i.id IN (${q.ids.map(() => '?').join(',')})`, params: q.ids });
    }
    let tmin = -Infinity;
    let tmax = Infinity;
    if (q.bbox) {
      onlyCollections = false;
      where.push(boxSql(q.bbox));
    }
    if (q.intersects) {
      onlyCollections = false;
      where.push(spatialSql(q.intersects, ctx));
    }
    if (q.datetime) {
      onlyCollections = false;
      where.push({ sql: 'i.e >= ? AND i.s <= ?', params: [clampInf(q.datetime.start), clampInf(q.datetime.end)] });
      where.push(stboxSql(q.bbox, q.datetime.start, q.datetime.end));
      tmin = Math.max(tmin, q.datetime.start);
      tmax = Math.min(tmax, q.datetime.end);
    }
    if (q.filter) {
      onlyCollections = false;
      where.push(compileFilter(q.filter, ctx));
      const hb = hoistBounds(q.filter);
      tmin = Math.max(tmin, hb.tmin);
      tmax = Math.min(tmax, hb.tmax);
    }
    const sort = sortPlan(q.sortby, this.propertyTypes(), PG_SORT);
    const offset = q.token?.offset ?? 0;
    const keyset: Sql[] = [];
    if (sort.keyset && q.token?.after) {
      const [sk, rowid] = q.token.after;
      keyset.push({ sql: `(i.sk, i.rowid) ${sort.keyset === 'desc' ? '<' : '>'} (?, ?)`, params: [sk, rowid] });
    }
    const skip = sort.keyset && q.token?.after ? 0 : offset;
    const whereSql = (extra: Sql[] = []) => {
      const all = [...where, ...extra];
      return { sql: `WHERE ${all.map((w) => w.sql).join(' AND ')}`, params: all.flatMap((w) => w.params) };
    };
    let matched = q.token?.matched;
    if (!q.token && sort.keyset) {
      // A first page in time order: the matches (up to the cap) are found once, and both counted and
      // sorted from that one walk of the indexes (two statements walked them twice).
      const w = whereSql();
      const m = sort.order.replaceAll('i.', 'm.');
      const rows = await this.query<RawRow & { n: number }>(
        `WITH m AS MATERIALIZED (SELECT i.rowid, i.sk FROM items i ${w.sql} LIMIT ${COUNT_CAP + 1}),
              c AS (SELECT count(*) AS n FROM m)
         SELECT ${ROW_COLUMNS}, c.n FROM c LEFT JOIN (SELECT m.rowid, m.sk FROM m ORDER BY ${m} LIMIT ?) p ON true
         LEFT JOIN items i ON i.rowid = p.rowid LEFT JOIN sources src ON src.sid = i.sid ORDER BY ${sort.order}`,
        [...w.params, q.limit + 1],
      );
      const n = rows[0]?.n ?? 0;
      if (n <= COUNT_CAP)
        return searchPage(
          rows.filter((r) => r.rowid !== null),
          q,
          n,
          true,
          (r) => this.toRow(r),
        );
      matched = -1;
    }
    if (matched === undefined) {
      const w = whereSql();
      const n = (
        await this.query<{ n: number }>(
          `SELECT count(*) AS n FROM (SELECT 1 FROM items i ${w.sql} LIMIT ${COUNT_CAP + 1}) x`,
          w.params,
        )
      )[0]!.n;
      matched = n <= COUNT_CAP ? n : -1;
    }
    const range: Sql[] = [];
    if (matched < 0) {
      if (onlyCollections && !q.token)
        matched = (q.collections ?? this.collections())
          .filter((id) => !q.excludeCollections?.includes(id))
          .reduce((n, id) => n + (this.statsOf(id).timed ?? 0), 0);
      // Many matches: the time bounds let the sk index stop early.
      if (tmax < Infinity) range.push({ sql: 'i.sk <= ?', params: [tmax] });
      if (tmin > -Infinity) range.push({ sql: 'i.sk >= ?', params: [tmin - this.maxSpan()] });
    }
    const w = whereSql([...range, ...keyset]);
    const rows = await this.query<RawRow>(deferredPage(w.sql, sort.order), [...w.params, q.limit + 1, skip]);
    return searchPage(rows, q, matched, sort.keyset !== undefined, (r) => this.toRow(r));
  }

  // --- the write side ---

  /** Insert one source's items (inside the caller's transaction); repeated ids get a numeric suffix. */
  async insertItems(
    client: PoolClient,
    cid: number,
    sid: number,
    items: Iterable<ItemDraft> | PreparedItems,
  ): Promise<CollectionStats> {
    const prepared = 'rows' in items ? items : prepareItems(items);
    await this.insertSources(client, [{ cid, sid, items: prepared }]);
    return prepared.stats;
  }

  /**
   * Insert the items of several sources in one statement (a commit of 256 files is one round trip,
   * not 256); an id already taken in its collection gets the next free numeric suffix, as in SQLite.
   */
  async insertSources(
    client: PoolClient,
    sources: Array<{ cid: number; sid: number; items: PreparedItems }>,
  ): Promise<void> {
    const rows = sources.flatMap((src) => src.items.rows.map((r) => ({ cid: src.cid, sid: src.sid, r })));
    if (rows.length === 0) return;
    const col = <T>(k: number) => rows.map((x) => x.r[k] as T);
    const inserted = await this.query<{ rowid: number; id: string; sid: number }>(
      `INSERT INTO items (cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx, g)
       SELECT t.cid, t.sid, t.id, coalesce(t.s, ${-BIG}), t.s, t.e, t.minx, t.miny, t.maxx, t.maxy, t.gtype, t.geom, t.props::json, t.doc, t.fidx,
              odas_geom(t.gtype, t.minx, t.miny, t.maxx, t.maxy, t.geom)
       FROM unnest(?::int[], ?::bigint[], ?::text[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::int[], ?::text[], ?::text[], ?::text[], ?::int[])
            WITH ORDINALITY AS t(cid, sid, id, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx, n)
       ORDER BY t.n
       ON CONFLICT (id, cid) DO NOTHING RETURNING rowid, id, sid`,
      [
        rows.map((x) => x.cid),
        rows.map((x) => x.sid),
        col(0),
        col(1),
        col(2),
        col(3),
        col(4),
        col(5),
        col(6),
        col(7),
        col(8),
        col(9),
        col(10),
        col(11),
      ],
      client,
    );
    const byKey = new Map(inserted.map((r) => [`${r.sid}\u0000${r.id}`, r.rowid]));
    const levelIds: number[] = [];
    const levelData: Buffer[] = [];
    for (const { cid, sid, r } of rows) {
      const key = `${sid}\u0000${r[0]}`;
      let rowid = byKey.get(key);
      if (rowid !== undefined) byKey.delete(key);
      else {
        // An id taken by another file (or earlier in this one): the next free suffix.
        for (let k = 2; rowid === undefined && k < 1000; k++) {
          rowid = (
            await this.query<{ rowid: number }>(
              `INSERT INTO items (cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx, g)
             VALUES (?, ?, ?, coalesce(?::float8, ${-BIG}), ?, ?, ?, ?, ?, ?, ?, ?, ?::json, ?, ?, odas_geom(?::int, ?::float8, ?::float8, ?::float8, ?::float8, ?::text))
             ON CONFLICT (id, cid) DO NOTHING RETURNING rowid`,
              [
                cid,
                sid,
                `${r[0]}_${k}`,
                r[1],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                r[10],
                r[11],
                r[7],
                r[3],
                r[4],
                r[5],
                r[6],
                r[8],
              ],
              client,
            )
          )[0]?.rowid;
        }
      }
      const lv = r[12];
      if (lv && rowid !== undefined) {
        levelIds.push(rowid);
        levelData.push(Buffer.from(lv.buffer, lv.byteOffset, lv.byteLength));
      }
    }
    if (levelIds.length > 0)
      await this.query(
        'INSERT INTO feature_levels (rowid, data) SELECT * FROM unnest(?::bigint[], ?::bytea[])',
        [levelIds, levelData],
        client,
      );
  }

  /** Remove sources and their items (inside the caller's transaction). */
  async deleteSources(client: PoolClient, sids: number[]): Promise<void> {
    if (sids.length === 0) return;
    await this.query(
      'DELETE FROM feature_levels WHERE rowid IN (SELECT rowid FROM items WHERE sid = ANY(?::bigint[]))',
      [sids],
      client,
    );
    await this.query('DELETE FROM items WHERE sid = ANY(?::bigint[])', [sids], client);
    await this.query('DELETE FROM sources WHERE sid = ANY(?::bigint[])', [sids], client);
  }

  async deleteSource(client: PoolClient, sid: number): Promise<void> {
    await this.deleteSources(client, [sid]);
  }

  /** Recompute a collection's stats from its sources; false when it has none left. */
  async refreshStats(client: PoolClient, cid: number): Promise<boolean> {
    let stats: CollectionStats | undefined;
    for (const r of await this.query<{ stats: string }>(
      'SELECT stats FROM sources WHERE cid = ? ORDER BY sid',
      [cid],
      client,
    )) {
      const s = JSON.parse(r.stats) as CollectionStats;
      stats = stats ? mergeStats(stats, s) : s;
    }
    if (!stats) return false;
    await this.query('UPDATE collections SET stats = ? WHERE cid = ?', [JSON.stringify(stats), cid], client);
    return true;
  }

  async addStats(client: PoolClient, cid: number, s: CollectionStats): Promise<void> {
    const row = (
      await this.query<{ stats: string | null }>(
        'SELECT stats FROM collections WHERE cid = ? FOR UPDATE',
        [cid],
        client,
      )
    )[0];
    const merged = row?.stats ? mergeStats(JSON.parse(row.stats) as CollectionStats, s) : s;
    await this.query('UPDATE collections SET stats = ? WHERE cid = ?', [JSON.stringify(merged), cid], client);
  }

  /** Static catalogs: make the database hold exactly these sources of the scope's kinds (see CatalogStore.sync). */
  async sync(sources: Iterable<CollectionSource>, scope?: ItemKind[]): Promise<SyncReport> {
    const t0 = Date.now();
    const report: SyncReport = { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 };
    const list = [...sources];
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SYNC_LOCK]);
      const existing = new Map<string, { sid: number; stamp: string }>();
      const kinds = scope ? 'WHERE c.kind = ANY(?::text[])' : '';
      for (const r of await this.query<{ sid: number; stamp: string; rel: string; cid: string }>(
        `SELECT s.sid, s.stamp, s.rel, c.id AS cid FROM sources s JOIN collections c ON c.cid = s.cid ${kinds}`,
        scope ? [scope] : [],
        client,
      )) {
        existing.set(`${r.cid}\u0000${r.rel}`, { sid: r.sid, stamp: r.stamp });
      }
      const keepCollections = new Set<string>();
      const keepSources = new Set<number>();
      for (const c of list) {
        report.collections++;
        keepCollections.add(c.id);
        const cid = (
          await this.query<{ cid: number }>(
            'INSERT INTO collections (id, kind) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind RETURNING cid',
            [c.id, c.kind],
            client,
          )
        )[0]!.cid;
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
            await this.deleteSource(client, prev.sid);
            existing.delete(key);
            report.replaced++;
          }
          const sid = (
            await this.query<{ sid: number }>(
              'INSERT INTO sources (cid, rel, stamp, size, stats) VALUES (?, ?, ?, ?, ?) RETURNING sid',
              [cid, f.rel, f.stamp, f.size?.() ?? null, '{}'],
              client,
            )
          )[0]!.sid;
          keepSources.add(sid);
          const stats = await this.insertItems(client, cid, sid, f.items());
          report.items += stats.count;
          await this.query('UPDATE sources SET stats = ? WHERE sid = ?', [JSON.stringify(stats), sid], client);
        }
      }
      for (const { sid } of existing.values()) {
        if (keepSources.has(sid)) continue;
        await this.deleteSource(client, sid);
        report.removed++;
      }
      const all = await this.query<{ cid: number; id: string; kind: ItemKind }>(
        'SELECT cid, id, kind FROM collections',
        [],
        client,
      );
      for (const r of all) {
        if (!keepCollections.has(r.id) && (!scope || scope.includes(r.kind)))
          await this.query('DELETE FROM collections WHERE cid = ?', [r.cid], client);
      }
      for (const r of all) {
        if (!keepCollections.has(r.id)) continue;
        if (!(await this.refreshStats(client, r.cid)))
          await this.query('UPDATE collections SET stats = NULL WHERE cid = ?', [r.cid], client);
      }
    });
    await this.loadCatalog();
    report.seconds = (Date.now() - t0) / 1000;
    return report;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.indexTimer) clearTimeout(this.indexTimer);
    await this.writing;
    await this.indexing;
    const session = this.session;
    this.session = undefined;
    this.locked = false;
    if (session) await session.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

/** The files table in PostgreSQL; the indexing lease is an advisory lock. */
class PgLedger implements CatalogLedger {
  constructor(private readonly db: PgBackend) {}

  async folder(root: string, folder: string): Promise<Map<string, FileState>> {
    const out = new Map<string, FileState>();
    for (const r of await this.db.query<{ rel: string; size: number; mtime: number; status: FileStatus }>(
      'SELECT rel, size, mtime, status FROM files WHERE root = ? AND folder = ?',
      [root, folder],
    )) {
      out.set(r.rel, { size: r.size, mtimeMs: r.mtime, status: r.status });
    }
    return out;
  }
  async folderCounts(root: string, folder: string): Promise<{ files: number; failed: number }> {
    return (
      await this.db.query<{ files: number; failed: number }>(
        "SELECT count(*) AS files, count(*) FILTER (WHERE status = 'failed') AS failed FROM files WHERE root = ? AND folder = ?",
        [root, folder],
      )
    )[0]!;
  }
  async folders(root: string): Promise<string[]> {
    return (await this.db.query<{ folder: string }>('SELECT DISTINCT folder FROM files WHERE root = ?', [root])).map(
      (r) => r.folder,
    );
  }
  async roots(): Promise<string[]> {
    return (await this.db.query<{ root: string }>('SELECT DISTINCT root FROM files')).map((r) => r.root);
  }
  async folderCollections(root: string, folder: string): Promise<Array<{ rel: string; collection: string }>> {
    return this.db.query(
      "SELECT f.rel, c.id AS collection FROM files f JOIN collections c ON c.cid = f.cid WHERE f.root = ? AND f.folder = ? AND f.status = 'ok'",
      [root, folder],
    );
  }
  async collectionRoot(id: string): Promise<string | null | undefined> {
    const r = (await this.db.query<{ root: string | null }>('SELECT root FROM collections WHERE id = ?', [id]))[0];
    return r ? r.root : undefined;
  }
  async collectionHasOtherFiles(id: string, root: string, folder: string | undefined, rel: string): Promise<boolean> {
    const cid =
      this.db.cidOf(id) ??
      (await this.db.query<{ cid: number }>('SELECT cid FROM collections WHERE id = ?', [id]))[0]?.cid;
    if (cid === undefined) return false;
    const rows =
      folder === undefined
        ? await this.db.query('SELECT 1 FROM files WHERE cid = ? AND NOT (root = ? AND rel = ?) LIMIT 1', [
            cid,
            root,
            rel,
          ])
        : await this.db.query('SELECT 1 FROM files WHERE cid = ? AND NOT (root = ? AND folder = ?) LIMIT 1', [
            cid,
            root,
            folder,
          ]);
    return rows.length > 0;
  }
  async collectionFiles(id: string, limit = -1): Promise<Array<{ rel: string; entry: unknown }>> {
    const cid = this.db.cidOf(id);
    if (cid === undefined) return [];
    const rows = await this.db.query<{ rel: string; entry: string | null }>(
      `SELECT rel, entry FROM files WHERE cid = ? ORDER BY rel COLLATE "C"${limit >= 0 ? ' LIMIT ?' : ''}`,
      limit >= 0 ? [cid, limit] : [cid],
    );
    return rows.map((r) => ({ rel: r.rel, entry: r.entry ? (JSON.parse(r.entry) as unknown) : undefined }));
  }
  fileCount(id: string): number {
    return this.db.statsOf(id).files ?? 0;
  }
  async failures(limit: number): Promise<Array<{ root: string; file: string; error: string; at: string }>> {
    const rows = await this.db.query<{ root: string; rel: string; error: string | null; indexed_at: number }>(
      "SELECT root, rel, error, indexed_at FROM files WHERE status = 'failed' ORDER BY indexed_at DESC LIMIT ?",
      [limit],
    );
    return rows.map(failureOf);
  }
  async counts(): Promise<Record<FileStatus, number>> {
    const out: Record<FileStatus, number> = { ok: 0, skipped: 0, failed: 0 };
    for (const r of await this.db.query<{ status: FileStatus; n: number }>(
      'SELECT status, count(*) AS n FROM files GROUP BY status',
    ))
      out[r.status] = r.n;
    return out;
  }

  /** The advisory lock: held by this process's session until it ends (a dead process loses it at once); ttl is not needed. */
  async lease(): Promise<boolean> {
    return this.db.lock();
  }
  async release(): Promise<void> {
    await this.db.unlock();
  }

  /** Write file states with their items and remove files in one transaction, a few statements for the whole batch. */
  async commit(files: FileCommit[], removed: FileRemoval[] = []): Promise<Set<string>> {
    const touched = new Set<number>();
    const ids = new Map<number, string>();
    let written = 0;
    await this.db.transaction(async (client) => {
      // Not waiting for the WAL flush: a commit PostgreSQL loses in a crash (the last few hundred ms)
      // takes its files table rows with it, so the next scan reads those files again.
      await client.query('SET LOCAL synchronous_commit = off');
      await this.db.fence(client);
      const dirty = new Set<number>();
      const grown = new Map<number, CollectionStats>();
      const q = <R extends QueryResultRow>(sql: string, params: unknown[]) => this.db.query<R>(sql, params, client);
      const now = Date.now();
      const key = (root: string, rel: string) => `${root}\u0000${rel}`;
      const asked = [...files, ...removed];
      const prev = new Map<string, { fid: number; sid: number | null; cid: number | null }>();
      if (asked.length > 0) {
        const rows = await q<{ fid: number; sid: number | null; cid: number | null; root: string; rel: string }>(
          'SELECT f.fid, f.sid, f.cid, f.root, f.rel FROM files f JOIN unnest(?::text[], ?::text[]) AS k(root, rel) ON f.root = k.root AND f.rel = k.rel',
          [asked.map((f) => f.root), asked.map((f) => f.rel)],
        );
        for (const r of rows) prev.set(key(r.root, r.rel), r);
      }
      await this.db.deleteSources(
        client,
        [...prev.values()].flatMap((p) => (p.sid ? [p.sid] : [])),
      );
      for (const p of prev.values()) {
        if (!p.cid) continue;
        dirty.add(p.cid);
        touched.add(p.cid);
      }
      // Collections first (a few per batch), then every source at once, then every item at once.
      const cidOf = new Map<string, number>();
      const served = files.filter((f) => f.status === 'ok' && f.collection);
      for (const f of served) {
        const c = f.collection!;
        if (cidOf.has(c.id)) continue;
        const cid = (
          await q<{ cid: number }>(
            'INSERT INTO collections (id, kind, root) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind RETURNING cid',
            [c.id, c.kind, f.root],
          )
        )[0]!.cid;
        cidOf.set(c.id, cid);
        ids.set(cid, c.id);
        touched.add(cid);
      }
      // Each source goes in with its stats (known before its items are written): one write per row.
      const prepared = served.map((f) => {
        const items = f.items ?? [];
        const p = 'rows' in items ? items : prepareItems(items);
        return { cid: cidOf.get(f.collection!.id)!, items: p, stats: { ...p.stats, files: 1 } };
      });
      const sidOf = new Map<string, number>();
      if (served.length > 0) {
        const rows = await q<{ sid: number; cid: number; rel: string }>(
          'INSERT INTO sources (cid, rel, stamp, size, stats) SELECT * FROM unnest(?::int[], ?::text[], ?::text[], ?::bigint[], ?::text[]) RETURNING sid, cid, rel',
          [
            prepared.map((p) => p.cid),
            served.map((f) => f.rel),
            served.map((f) => `${f.size}:${f.mtimeMs}`),
            served.map((f) => f.size),
            prepared.map((p) => JSON.stringify(p.stats)),
          ],
        );
        for (const r of rows) sidOf.set(`${r.cid}\u0000${r.rel}`, r.sid);
      }
      const batch = served.map((f, i) => {
        const { cid, items, stats } = prepared[i]!;
        const g = grown.get(cid);
        grown.set(cid, g ? mergeStats(g, stats) : stats);
        return { cid, sid: sidOf.get(`${cid}\u0000${f.rel}`)!, items };
      });
      await this.db.insertSources(client, batch);
      written = batch.reduce((n, b) => n + b.items.rows.length, prev.size);
      if (files.length > 0) {
        const cidFor = (f: FileCommit) => (f.status === 'ok' && f.collection ? cidOf.get(f.collection.id)! : null);
        const sidFor = (f: FileCommit) => {
          const c = cidFor(f);
          return c === null ? null : (sidOf.get(`${c}\u0000${f.rel}`) ?? null);
        };
        await q(
          `INSERT INTO files (root, folder, rel, size, mtime, status, error, cid, sid, entry, indexed_at)
           SELECT t.*, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::float8[], ?::text[], ?::text[], ?::int[], ?::bigint[], ?::text[]) AS t
           ON CONFLICT (root, rel) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, status = excluded.status, error = excluded.error, cid = excluded.cid, sid = excluded.sid, entry = excluded.entry, indexed_at = excluded.indexed_at`,
          [
            now,
            files.map((f) => f.root),
            files.map((f) => folderOf(f.rel)),
            files.map((f) => f.rel),
            files.map((f) => f.size),
            files.map((f) => f.mtimeMs),
            files.map((f) => f.status),
            files.map((f) => f.error ?? null),
            files.map(cidFor),
            files.map(sidFor),
            files.map((f) => (f.entry === undefined ? null : JSON.stringify(f.entry))),
          ],
        );
      }
      const gone = removed.flatMap((r) => {
        const p = prev.get(key(r.root, r.rel));
        return p ? [p.fid] : [];
      });
      if (gone.length > 0) await q('DELETE FROM files WHERE fid = ANY(?::bigint[])', [gone]);
      for (const cid of dirty) {
        if (!(await this.db.refreshStats(client, cid))) {
          const id = (await q<{ id: string }>('SELECT id FROM collections WHERE cid = ?', [cid]))[0]?.id;
          if (id) ids.set(cid, id);
          await q('UPDATE files SET cid = NULL WHERE cid = ?', [cid]);
          await q('DELETE FROM collections WHERE cid = ?', [cid]);
        }
      }
      for (const [cid, stats] of grown) if (!dirty.has(cid)) await this.db.addStats(client, cid, stats);
    });
    for (const cid of touched) {
      const id = this.db.idOf(cid);
      if (id && !ids.has(cid)) ids.set(cid, id);
    }
    await this.db.reloadCollections(touched);
    this.db.scheduleMaintenance(written);
    return new Set([...touched].map((cid) => ids.get(cid)).filter((id): id is string => id !== undefined));
  }
}
