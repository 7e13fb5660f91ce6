// The edr/api.test.ts suite again, every catalog in a fresh PostgreSQL/PostGIS database.
process.env['ODAS_TEST_CATALOG'] = 'postgresql';
await import('../edr/api.test.js');
