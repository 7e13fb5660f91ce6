import { copyFile, mkdtemp, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openReader } from '../../src/readers/registry.js';
import { OpenReaders } from '../../src/readers/shared.js';
import type { Reader } from '../../src/readers/types.js';
import { sharedData } from '../helpers/data.js';

const PROF = 'argo/1900857_prof.nc';
const META = 'argo/1900857_meta.nc';

/** Real readers of real files, with the openings and closings counted. */
function counting(): { opened: string[]; closed: string[]; open: (p: string) => Promise<Reader> } {
  const opened: string[] = [];
  const closed: string[] = [];
  return {
    opened,
    closed,
    open: async (p) => {
      opened.push(p);
      const r = await openReader(p);
      return {
        info: () => r.info(),
        readRaw: (...a) => r.readRaw(...a),
        read: (req) => r.read(req),
        close: async () => {
          closed.push(p);
          await r.close();
        },
      };
    },
  };
}

t.test('leases of one file share one opening and read what a fresh reader reads', async (t) => {
  const c = counting();
  const readers = new OpenReaders({ open: c.open });
  const file = sharedData(PROF);
  const [a, b] = await Promise.all([readers.lease(file), readers.lease(file)]);
  const fresh = await openReader(file);
  t.teardown(() => fresh.close());
  const window = { N_PROF: [3, 4] as [number, number] };
  t.same(await a.readRaw('PRES', window), await fresh.readRaw('PRES', window));
  await a.close();
  t.same(await b.readRaw('TEMP', window), await fresh.readRaw('TEMP', window), 'one lease closed, the other reads on');
  await b.close();
  const again = await readers.lease(file);
  t.same(await again.readRaw('PSAL', window), await fresh.readRaw('PSAL', window));
  await again.close();
  t.same(c.opened, [file], 'opened once for three leases');
  t.same(c.closed, [], 'kept open with no lease out');
  await readers.close();
  t.same(c.closed, [file], 'closed with the cache');
});

t.test('the least recently used file is closed once its last lease is released', async (t) => {
  const c = counting();
  const readers = new OpenReaders({ open: c.open, max: 1 });
  const prof = sharedData(PROF);
  const meta = sharedData(META);
  const held = await readers.lease(prof);
  const other = await readers.lease(meta);
  t.equal(readers.size, 1, 'one file kept');
  t.same(c.closed, [], 'the evicted file is still leased: not closed');
  t.ok((await held.info()).variables.length > 0, 'and still reads');
  await held.close();
  t.same(c.closed, [prof], 'closed when released');
  await other.close();
  await readers.close();
  t.same(c.closed, [prof, meta]);
});

t.test('a file changed on disk is opened anew', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'odas-open-readers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'p.nc');
  await copyFile(sharedData(PROF), file);
  const c = counting();
  // Stamps are checked at every lease here (the default is once a second).
  const readers = new OpenReaders({ open: c.open, restampMs: 0 });
  t.teardown(() => readers.close());
  await (await readers.lease(file)).close();
  await (await readers.lease(file)).close();
  t.equal(c.opened.length, 1, 'unchanged: kept');
  await copyFile(sharedData(META), file);
  await utimes(file, new Date(), new Date(Date.now() + 5000));
  const changed = await readers.lease(file);
  t.equal(c.opened.length, 2, 'changed: opened again');
  t.same(c.closed, [file], 'the old reader was closed');
  t.ok(
    (await changed.info()).variables.some((v) => v.name === 'LAUNCH_DATE'),
    'the new content is read',
  );
  await changed.close();
});

t.test('a file that cannot be opened is not kept', async (t) => {
  const readers = new OpenReaders();
  const missing = path.join(os.tmpdir(), 'odas-no-such-file.nc');
  await t.rejects(readers.lease(missing));
  t.equal(readers.size, 0);
  await t.rejects(readers.lease(missing), 'asked again: tried again');
});
