/**
 * Move a SQLite catalog into PostgreSQL as it is (files, collections, sources, items, levels,
 * grouping rules): the replicas then serve at once, without reading the archive again. Row ids are
 * kept, so the order features are served in is the same.
 */
import type Database from 'better-sqlite3';
import type { PoolClient } from 'pg';
import type { PgBackend } from './backend.js';

/** Rows per INSERT: big enough to amortise the round trip, small enough to stay within memory. */
const BATCH = 5_000;

export interface CopyReport {
  collections: number;
  files: number;
  items: number;
  seconds: number;
}

type Row = Record<string, unknown>;

/** Copy every row of the SQLite catalog into an empty PostgreSQL catalog, in one transaction. */
export async function copySqliteToPg(
  db: Database.Database,
  target: PgBackend,
  progress?: (table: string, rows: number) => void,
): Promise<CopyReport> {
  const t0 = Date.now();
  const held = await target.query<{ n: number }>(
    'SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM files) AS n',
  );
  if ((held[0]?.n ?? 0) > 0)
    throw new Error(
      `the target catalog ${target.location} is not empty (${held[0]!.n} files and items): copy into a new database`,
    );
  const report: CopyReport = { collections: 0, files: 0, items: 0, seconds: 0 };
  await target.transaction(async (client) => {
    const copy = async (table: string, select: string, insert: (client: PoolClient, rows: Row[]) => Promise<void>) => {
      let batch: Row[] = [];
      let n = 0;
      for (const r of db.prepare(select).iterate() as Iterable<Row>) {
        batch.push(r);
        if (batch.length >= BATCH) {
          await insert(client, batch);
          n += batch.length;
          progress?.(table, n);
          batch = [];
        }
      }
      if (batch.length > 0) await insert(client, batch);
      n += batch.length;
      progress?.(table, n);
      return n;
    };
    const arrays = (rows: Row[], cols: string[]) =>
      cols.map((c) => rows.map((r) => (r[c] === undefined ? null : r[c])));
    const plain = (table: string, cols: string[], types: string[]) => async (c: PoolClient, rows: Row[]) => {
      await target.query(
        `INSERT INTO ${table} (${cols.join(', ')}) SELECT * FROM unnest(${types.map((t) => `?::${t}[]`).join(', ')})`,
        arrays(rows, cols),
        c,
      );
    };
    for (const r of db.prepare("SELECT key, value FROM meta WHERE key = 'grouping'").all() as Array<{
      key: string;
      value: string;
    }>) {
      await target.query(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [r.key, r.value],
        client,
      );
    }
    report.collections = await copy(
      'collections',
      'SELECT cid, id, kind, stats, root FROM collections',
      plain('collections', ['cid', 'id', 'kind', 'stats', 'root'], ['int', 'text', 'text', 'text', 'text']),
    );
    await copy(
      'sources',
      'SELECT sid, cid, rel, stamp, size, stats FROM sources',
      plain(
        'sources',
        ['sid', 'cid', 'rel', 'stamp', 'size', 'stats'],
        ['bigint', 'int', 'text', 'text', 'bigint', 'text'],
      ),
    );
    report.items = await copy(
      'items',
      'SELECT rowid, cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx FROM items ORDER BY rowid',
      async (c, rows) => {
        const cols = [
          'rowid',
          'cid',
          'sid',
          'id',
          'sk',
          's',
          'e',
          'minx',
          'miny',
          'maxx',
          'maxy',
          'gtype',
          'geom',
          'props',
          'doc',
          'fidx',
        ];
        await target.query(
          `INSERT INTO items (${cols.join(', ')}, g)
         SELECT t.*, odas_geom(t.gtype, t.minx, t.miny, t.maxx, t.maxy, t.geom) FROM (
           SELECT rowid, cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props::json, doc, fidx
           FROM unnest(?::bigint[], ?::int[], ?::bigint[], ?::text[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::int[], ?::text[], ?::text[], ?::text[], ?::int[])
             AS u(rowid, cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx)) t`,
          arrays(rows, cols),
          c,
        );
      },
    );
    await copy('feature_levels', 'SELECT rowid, data FROM feature_levels', async (c, rows) => {
      await target.query(
        'INSERT INTO feature_levels (rowid, data) SELECT * FROM unnest(?::bigint[], ?::bytea[])',
        [rows.map((r) => r['rowid']), rows.map((r) => r['data'])],
        c,
      );
    });
    report.files = await copy(
      'files',
      'SELECT fid, root, folder, rel, size, mtime, status, error, cid, sid, entry, indexed_at FROM files',
      plain(
        'files',
        ['fid', 'root', 'folder', 'rel', 'size', 'mtime', 'status', 'error', 'cid', 'sid', 'entry', 'indexed_at'],
        ['bigint', 'text', 'text', 'text', 'bigint', 'float8', 'text', 'text', 'int', 'bigint', 'text', 'float8'],
      ),
    );
    // New rows continue after the copied ids.
    for (const [table, key, seq] of [
      ['collections', 'cid', 'collections_cid_seq'],
      ['sources', 'sid', 'sources_sid_seq'],
      ['items', 'rowid', 'items_rowid_seq'],
      ['files', 'fid', 'files_fid_seq'],
    ] as const) {
      await client.query(`SELECT setval('${seq}', coalesce((SELECT max(${key}) FROM ${table}), 0) + 1, false)`);
    }
  });
  await target.loadCatalog();
  await target.query('ANALYZE');
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}
