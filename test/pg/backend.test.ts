// The PostgreSQL test runs do reach PostgreSQL: a catalog built by the test helper is a PostGIS database.
import t from 'tap';
import { catalogOf } from '../../src/catalog/catalog.js';
import { discoverRoots } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';

process.env['ODAS_TEST_CATALOG'] = 'postgresql';

t.test('the test helper builds PostgreSQL catalogs when asked', async (t) => {
  const collections = await discoverRoots([sharedData('argo')]);
  const catalog = catalogOf(collections)!;
  t.equal(catalog.store.kind, 'postgresql');
  t.match(catalog.file, /^postgresql:\/\/postgres@127\.0\.0\.1:5432\/odas_test_/);
  t.ok(collections.get('1900857_prof'), 'the Argo file is a collection');
  await catalog.close();
});
