/** Sample sets as the rows of the tabular outputs (CSV, GeoJSON, Arrow in src/encoders/table). */
import type { Table } from '../table/rows.js';
import type { SamplesPayload } from './payload.js';

export function samplesTable(p: SamplesPayload): Table {
  return {
    collectionId: p.collectionId,
    request: p.request,
    parameters: p.parameters,
    ...(p.vertical ? { vertical: p.vertical } : {}),
    withId: p.hasIds,
    withZ: p.vertical !== undefined,
    batches: async function* () {
      for await (const s of p.sets()) {
        if (s.t.length === 0) continue;
        yield {
          n: s.t.length,
          ...(p.hasIds ? { id: s.id } : {}),
          t: s.t,
          x: s.x,
          y: s.y,
          ...(s.z ? { z: s.z } : {}),
          values: s.values,
        };
      }
    },
  };
}
