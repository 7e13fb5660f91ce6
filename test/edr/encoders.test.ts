import t from 'tap';
import { tableFromIPC } from 'apache-arrow';
import type { GridPlan } from '../../src/core/grid/plan.js';
import type { GridAxis, GridModel } from '../../src/core/grid/types.js';
import { samplesCoverageJson } from '../../src/encoders/edr/coverage-json.js';
import type { SamplesPayload } from '../../src/encoders/edr/payload.js';
import { samplesTable } from '../../src/encoders/edr/table.js';
import type { GridPayload } from '../../src/encoders/grid/payload.js';
import { GRID_ENCODERS } from '../../src/encoders/grid/registry.js';
import { arrowStream } from '../../src/encoders/table/arrow.js';
import { geojsonFeatures } from '../../src/encoders/table/geojson.js';
import { covjsonValidator } from './helpers.js';

const T0 = Date.UTC(2000, 0, 1);

function profiles(n: number): SamplesPayload {
  return {
    kind: 'samples',
    collectionId: 'c',
    title: 't',
    request: 'r',
    domainType: 'VerticalProfile',
    single: false,
    hasIds: true,
    parameters: [
      { name: 'TEMP', label: 'Temperature', units: 'degree_Celsius', standardName: 'sea_water_temperature' },
    ],
    vertical: { name: 'PRES', units: 'decibar', positive: 'down' },
    sets: async function* () {
      for (let k = 0; k < n; k++) {
        yield {
          id: `p${k}`,
          domainType: 'VerticalProfile' as const,
          t: new Float64Array([T0, T0, T0]),
          x: new Float64Array([1, 1, 1]),
          y: new Float64Array([2, 2, 2]),
          z: new Float64Array([5, 10, 10]),
          values: { TEMP: new Float64Array([10.5, NaN, 3]) },
        };
      }
    },
  };
}

/** A (t, y, x) grid of 2 × 2 × 3 cells with a mask dropping (y=-1, x=5); value 4 of each step missing. */
function grid(): GridPayload {
  const axis = (role: GridAxis['role'], dim: string, values: number[]): GridAxis => ({
    role,
    dim,
    variable: dim,
    label: dim,
    names: [dim],
    values: Float64Array.from(values),
    attrs: {},
    dtype: 'f8',
    direction: 1,
  });
  const axes = [axis('t', 'time', [T0, T0 + 86_400_000]), axis('y', 'lat', [-1, 1]), axis('x', 'lon', [1, 3, 5])];
  const field = { name: 'SST', dtype: 'f8' as const, dims: ['time', 'lat', 'lon'], attrs: { units: 'Deg C' } };
  const model: GridModel = { axes, fields: [field], crs: { label: 'CRS84', kind: 'geographic' }, files: [], attrs: {} };
  const plan: GridPlan = {
    model,
    fields: [field],
    shape: [2, 2, 3],
    cells: 12,
    sourceBytes: 96,
    axes: axes.map((a) => ({ axis: a, picks: Int32Array.from(a.values, (_, i) => i), values: a.values })),
    mask: { flags: new Uint8Array([1, 1, 0, 1, 1, 1]), ny: 2, nx: 3, selected: 5 },
  };
  return {
    plan,
    collectionId: 'g',
    title: 'g',
    description: 'g',
    request: 'r',
    read: async function* () {
      for (let it = 0; it < 2; it++) {
        const v = new Float64Array(6).map((_, i) => it * 10 + i);
        v[4] = NaN;
        yield { dtype: 'f8' as const, data: v };
      }
    },
  };
}

async function text(gen: AsyncIterable<string | Uint8Array>): Promise<string> {
  let s = '';
  for await (const c of gen) s += typeof c === 'string' ? c : Buffer.from(c).toString();
  return s;
}

t.test('CoverageJSON of profiles: valid, unique z, nulls', async (t) => {
  const doc = JSON.parse(await text(samplesCoverageJson(profiles(2))));
  const validate = covjsonValidator();
  t.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
  t.equal(doc.coverages.length, 2);
  const cov = doc.coverages[0];
  t.same(cov.domain.axes.z.values, [5, 10], 'repeated level dropped');
  t.same(cov.domain.axes.t.values, ['2000-01-01T00:00:00Z']);
  t.same(cov.ranges.TEMP.values, [10.5, null]);
  t.equal(doc.parameters.TEMP.observedProperty.id, 'http://vocab.nerc.ac.uk/standard_name/sea_water_temperature/');
});

t.test("CoverageJSON grid (the registry's, as Coverages): axis order t,y,x and mask → null", async (t) => {
  const doc = JSON.parse(await text(GRID_ENCODERS.covjson.prepare(grid()).body()));
  const validate = covjsonValidator();
  t.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
  t.same(doc.ranges.SST.axisNames, ['t', 'y', 'x']);
  t.same(doc.ranges.SST.shape, [2, 2, 3]);
  t.same(doc.ranges.SST.values, [0, 1, null, 3, null, 5, 10, 11, null, 13, null, 15]);
});

t.test('CSV and GeoJSON rows skip masked cells', async (t) => {
  const csv = (await text(GRID_ENCODERS.csv.prepare(grid()).body())).trim().split('\r\n');
  t.equal(csv[0], 'time,longitude,latitude,SST [Deg C]');
  t.equal(csv.length, 1 + 2 * 5);
  t.equal(csv[1], '2000-01-01T00:00:00Z,1,-1,0');
  t.equal(csv[4], '2000-01-01T00:00:00Z,3,1,');
  const gj = JSON.parse(await text(geojsonFeatures(samplesTable(profiles(2)))));
  t.equal(gj.features.length, 6);
  t.same(gj.features[0].properties, { feature_id: 'p0', datetime: '2000-01-01T00:00:00Z', PRES: 5, TEMP: 10.5 });
});

t.test('Arrow IPC stream: schema once, every batch, end marker; readable by apache-arrow', async (t) => {
  const parts: Uint8Array[] = [];
  for await (const c of arrowStream(samplesTable(profiles(3)))) parts.push(c);
  const table = tableFromIPC(Buffer.concat(parts));
  t.equal(table.numRows, 9);
  t.same(
    table.schema.fields.map((f) => f.name),
    ['id', 'time', 'lon', 'lat', 'PRES', 'TEMP'],
  );
  const row = table.get(0)!.toJSON() as Record<string, unknown>;
  t.equal(row['id'], 'p0');
  t.equal(Number(row['time']), T0);
  t.equal(row['TEMP'], 10.5);
  t.equal(table.get(1)!.toJSON()['TEMP'], null);
  const empty: Uint8Array[] = [];
  for await (const c of arrowStream(samplesTable(profiles(0)))) empty.push(c);
  t.equal(tableFromIPC(Buffer.concat(empty)).numRows, 0, 'no rows: schema and end marker only');
});
