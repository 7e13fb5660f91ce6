// The api/features.test.ts suite again, every catalog in a fresh PostgreSQL/PostGIS database.
process.env['ODAS_TEST_CATALOG'] = 'postgresql';
await import('../api/features.test.js');
