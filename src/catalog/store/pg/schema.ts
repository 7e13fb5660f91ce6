/**
 * The PostgreSQL catalog's schema as numbered migrations, applied in order at start (and by
 * `odas catalog migrate`). A database whose schema is newer than this odas knows is refused: an
 * older odas would misread what a newer one writes.
 */
import type { Pool, PoolClient } from 'pg';

/** Each entry moves the schema from its index to its index + 1. Never edit one that shipped: add another. */
const MIGRATIONS: string[] = [
  `
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE meta (key text PRIMARY KEY, value text);
CREATE TABLE collections (cid serial PRIMARY KEY, id text NOT NULL UNIQUE, kind text NOT NULL, stats text, root text);
CREATE TABLE sources (sid bigserial PRIMARY KEY, cid integer NOT NULL, rel text NOT NULL, stamp text NOT NULL, size bigint, stats text NOT NULL, UNIQUE (cid, rel));
-- props is json (not jsonb): the text is served as stored, key order included.
CREATE TABLE items (
  rowid bigserial PRIMARY KEY, cid integer NOT NULL, sid bigint NOT NULL, id text NOT NULL,
  sk double precision NOT NULL, s double precision, e double precision,
  minx double precision, miny double precision, maxx double precision, maxy double precision,
  gtype integer NOT NULL, geom text, props json NOT NULL, doc text, fidx integer,
  g geometry(Geometry, 4326),
  UNIQUE (id, cid));
CREATE INDEX items_g ON items USING gist (g);
CREATE INDEX items_sk ON items (sk, rowid);
CREATE INDEX items_cid_sk ON items (cid, sk, rowid);
CREATE INDEX items_cid_rowid ON items (cid, rowid);
CREATE INDEX items_se ON items (s, e);
CREATE INDEX items_sid ON items (sid);
CREATE INDEX items_platform ON items (cid, (props->>'platform_number'));
CREATE TABLE feature_levels (rowid bigint PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE manifests (file_key text NOT NULL, path text NOT NULL, variable text NOT NULL, json text NOT NULL, PRIMARY KEY (file_key, variable));
CREATE INDEX manifests_path ON manifests (path);
CREATE TABLE files (
  fid bigserial PRIMARY KEY, root text NOT NULL, folder text NOT NULL, rel text NOT NULL, size bigint NOT NULL,
  mtime double precision NOT NULL, status text NOT NULL, error text, cid integer, sid bigint, entry text,
  indexed_at double precision NOT NULL, UNIQUE (root, rel));
CREATE INDEX files_folder ON files (root, folder);
CREATE INDEX files_cid ON files (cid, rel);
CREATE INDEX files_status ON files (status);
INSERT INTO meta (key, value) VALUES ('data_version', '0');
-- An item's geometry for the GiST index: points and boxes from their stored box, other shapes from
-- their GeoJSON; a shape PostGIS cannot build (a one-point line) falls back to its box.
CREATE FUNCTION odas_shape(geom text, minx float8, miny float8, maxx float8, maxy float8) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN ST_SetSRID(ST_GeomFromGeoJSON(geom), 4326);
EXCEPTION WHEN OTHERS THEN
  RETURN ST_MakeEnvelope(minx, miny, maxx, maxy, 4326);
END $$;
CREATE FUNCTION odas_geom(gtype integer, minx float8, miny float8, maxx float8, maxy float8, geom text) RETURNS geometry
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN gtype = 0 OR minx IS NULL THEN NULL
    WHEN gtype = 1 THEN ST_SetSRID(ST_MakePoint(minx, miny), 4326)
    WHEN gtype = 3 OR geom IS NULL THEN ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)
    ELSE odas_shape(geom, minx, miny, maxx, maxy)
  END
$$;
`,
  `
-- Space and time in one GiST key (x, y, z = days since 1970): a box + interval query walks only the
-- items near both, as SQLite's R*-tree over (lon, lat, time) does; the exact tests still follow.
CREATE FUNCTION odas_days(t float8) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT least(greatest(t / 86400000.0, -1e7), 1e7) $$;
CREATE FUNCTION odas_stbox(minx float8, miny float8, maxx float8, maxy float8, s float8, e float8) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN minx IS NULL OR s IS NULL THEN NULL
    ELSE ST_MakeLine(ST_MakePoint(minx, miny, odas_days(s)), ST_MakePoint(maxx, maxy, odas_days(coalesce(e, s)))) END
$$;
CREATE INDEX items_stbox ON items USING gist (odas_stbox(minx, miny, maxx, maxy, s, e) gist_geometry_ops_nd);
-- The indexing lease's fencing epoch: bumped by each new lock holder before it writes; a commit
-- carrying an older epoch is refused (an indexer whose lock went with its connection stops).
INSERT INTO meta (key, value) VALUES ('index_epoch', '0') ON CONFLICT (key) DO NOTHING;
`,
  `
-- Property tests compare text byte-wise (COLLATE "C", as SQLite does): an index on the default
-- collation is never used for them. The indexer adds one like this per queryable property
-- (PgBackend.indexQueryables); the Argo platform, the commonest, from the start.
DROP INDEX IF EXISTS items_platform;
CREATE INDEX items_q_s_platform_number ON items (cid, ((props->>'platform_number') COLLATE "C"));
`,
  `
-- A collection's files in byte order (ORDER BY rel COLLATE "C", as SQLite sorts): the default-collation
-- index could not serve that order, so each look at a collection's first files sorted all of them
-- (1.3 s at 1 000 000 files, once per folder slice while indexing); this one answers in 1 ms.
CREATE INDEX files_cid_c ON files (cid, rel COLLATE "C");
DROP INDEX IF EXISTS files_cid;
`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Advisory lock key held while migrating (several replicas starting at once migrate once). */
const MIGRATE_LOCK = 0x6f646173_01;

class NewerCatalogError extends Error {}

async function versionOf(client: PoolClient): Promise<number> {
  await client.query(
    'CREATE TABLE IF NOT EXISTS odas_schema (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM odas_schema');
  return r.rows[0]?.v ?? 0;
}

/** Bring the database to this odas's schema; returns the versions before and after. Refuses a newer one. */
export async function migrate(pool: Pool, where: string): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      const from = await versionOf(client);
      if (from > SCHEMA_VERSION) {
        throw new NewerCatalogError(
          `the catalog ${where} was written by a newer odas (schema ${from}; this odas knows schemas up to ${SCHEMA_VERSION}): upgrade odas, or give this one another database`,
        );
      }
      for (let v = from; v < SCHEMA_VERSION; v++) {
        await client.query('BEGIN');
        try {
          await client.query(MIGRATIONS[v]!);
          await client.query('INSERT INTO odas_schema (version) VALUES ($1)', [v + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`catalog migration ${v + 1} failed on ${where}: ${(err as Error).message}`, { cause: err });
        }
      }
      return { from, to: Math.max(from, SCHEMA_VERSION) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
