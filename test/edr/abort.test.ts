import t from 'tap';
import { parseEdrQuery } from '../../src/api/edr/query.js';
import { runEdrQuery } from '../../src/api/edr/run.js';
import { encodeEdr } from '../../src/api/edr/encode.js';
import { discoverRoots, SHARED_DATA } from '../helpers/app.js';

t.test('an aborted request stops the reads (grid and in-situ)', async (t) => {
  const collections = await discoverRoots([SHARED_DATA]);
  for (const [id, type, query] of [
    ['coads_sst', 'cube', { bbox: '-180,-90,180,90' }],
    ['1900857_prof', 'cube', { bbox: '-180,-90,180,90' }],
  ] as const) {
    const c = collections.get(id)!;
    const controller = new AbortController();
    const payload = await runEdrQuery(c, parseEdrQuery(type, c, { ...query }), 'test', controller.signal);
    let chunks = 0;
    let error: unknown;
    try {
      for await (const _ of encodeEdr('csv', payload)) {
        chunks++;
        if (chunks === 1) controller.abort(new Error('client went away'));
      }
    } catch (err) {
      error = err;
    }
    t.match(String(error), /client went away|abort/i, `${id}: the stream ends with the abort`);
    t.ok(chunks < 20, `${id}: stopped after ${chunks} chunks`);
  }
});
