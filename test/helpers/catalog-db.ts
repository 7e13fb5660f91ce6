/**
 * Test catalogs in PostgreSQL: with ODAS_TEST_CATALOG=postgresql, every catalog a test builds is a
 * fresh database on the machine's PostgreSQL (ODAS_TEST_PG, default postgres@127.0.0.1:5432),
 * with PostGIS, dropped when the test file ends. The same tests then run against both backends.
 */
import pg from 'pg';
import t from 'tap';

const ADMIN_URL = process.env['ODAS_TEST_PG'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const created: string[] = [];
let teardown = false;

function testBackend(): 'sqlite' | 'postgresql' {
  return process.env['ODAS_TEST_CATALOG'] === 'postgresql' ? 'postgresql' : 'sqlite';
}

/** A URL naming `db` on the admin URL's server. */
function urlFor(db: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A new empty database for one catalog; dropped (with any connection still open) when the test file ends. */
export async function freshDatabase(): Promise<string> {
  const name = `odas_test_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  created.push(name);
  if (!teardown) {
    teardown = true;
    t.teardown(dropCreated);
  }
  return urlFor(name);
}

async function dropCreated(): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    for (const name of created.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The catalog option for a test catalog: a fresh database under ODAS_TEST_CATALOG=postgresql, else nothing (SQLite). */
export async function testCatalogOption(): Promise<{ catalog?: string }> {
  return testBackend() === 'postgresql' ? { catalog: await freshDatabase() } : {};
}
