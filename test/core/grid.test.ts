import t from 'tap';
import { crsFromGridMapping, epsgFromText, projectionForEpsg } from '../../src/core/grid/crs.js';
import { detectGrid } from '../../src/core/grid/detect.js';
import { aggregateAlongTime, monotony } from '../../src/core/grid/model.js';
import { planGrid, type GridRequest } from '../../src/core/grid/plan.js';
import { readField } from '../../src/core/grid/read.js';
import { nearestCell, trimAxis, trimLongitude } from '../../src/core/grid/select.js';
import { summarizeGrid } from '../../src/core/grid/summary.js';
import type { GridAxis, GridModel } from '../../src/core/grid/types.js';
import { parseSubset } from '../../src/core/query/subset.js';
import { ApiError } from '../../src/core/errors.js';
import type { Chunk, DatasetInfo, NumericArray, ReadRequest, Reader, VariableInfo } from '../../src/readers/types.js';

function axis(values: number[], extra: Partial<GridAxis> = {}): GridAxis {
  const v = Float64Array.from(values);
  const m = monotony(v)!;
  return {
    role: 'x',
    dim: 'x',
    label: 'x',
    names: ['x'],
    values: v,
    attrs: {},
    dtype: 'f8',
    direction: m.direction,
    ...(m.step ? { step: m.step } : {}),
    ...extra,
  };
}

const range = (n: number, start: number, step: number) => Array.from({ length: n }, (_, i) => start + i * step);

t.test('polar stereographic (EPSG:3411, Hughes 1980) agrees with PROJ, and with the sea ice references', async (t) => {
  const p = projectionForEpsg(3411)!;
  // x, y → PROJ 9 (pyproj, EPSG:3411 as +proj=stere … +a=6378273 +b=6356889.449) lon, lat; MANIFEST lon, lat.
  // The MANIFEST's lon/lat were computed on WGS84 (EPSG:3413, PROJ's replacement of the deprecated 3411): ~40 m apart.
  const refs: Array<[number, number, number, number, number, number]> = [
    [-37500, 237500, 143.9726266148964, 87.78072247936991, 143.97263, 87.78068],
    [187500, 2037500, 129.7421908310453, 71.27394309636792, 129.74219, 71.27355],
    [-1212500, -1412500, -85.6430249941537, 72.93812299872275, -85.64302, 72.93777],
  ];
  for (const [x, y, lon, lat, mlon, mlat] of refs) {
    const [lo, la] = p.inverse(x, y);
    t.ok(
      Math.abs(lo - lon) < 1e-8 && Math.abs(la - lat) < 1e-8,
      `inverse(${x}, ${y}) = ${lo}, ${la} (PROJ ${lon}, ${lat})`,
    );
    t.ok(Math.abs(lo - mlon) < 1e-4 && Math.abs(la - mlat) < 1e-3, `within 1e-3° of the MANIFEST's ${mlon}, ${mlat}`);
    const [fx, fy] = p.forward(lon, lat);
    t.ok(Math.abs(fx - x) < 1e-3 && Math.abs(fy - y) < 1e-3, `forward(${lon}, ${lat}) = ${fx}, ${fy}`);
  }
  const south = projectionForEpsg(3031)!;
  const [x, y] = south.forward(0, -71);
  t.ok(Math.abs(x) < 1e-6 && y > 0, 'south polar aspect: lon 0 points up from the pole');
  const [lon, lat] = south.inverse(x, y);
  t.ok(Math.abs(lon) < 1e-9 && Math.abs(lat + 71) < 1e-9, 'south polar round trip');
});

t.test('UTM and Web Mercator match the GeoTIFF references (gdalinfo)', async (t) => {
  const utm18 = projectionForEpsg(32618)!;
  const [lon, lat] = utm18.inverse(222150.189633, 2736752.44429);
  t.ok(Math.abs(lon + 77.746572) < 1e-5 && Math.abs(lat - 24.720196) < 1e-5, `UTM 18N: ${lon}, ${lat}`);
  const merc = projectionForEpsg(3857)!;
  const [mlon, mlat] = merc.inverse(14322159.162305, 4532715.478856);
  t.ok(Math.abs(mlon - 128.658145) < 1e-6 && Math.abs(mlat - 37.668601) < 1e-6, `Web Mercator: ${mlon}, ${mlat}`);
});

t.test(
  'CRS of a grid_mapping: EPSG and PROJ string win over contradicting CF attributes, with a warning',
  async (t) => {
    const attrs = {
      grid_mapping_name: 'polar_stereographic',
      latitude_of_projection_origin: 90,
      standard_parallel: 70,
      straight_vertical_longitude_from_pole: 135,
      srid: 'urn:ogc:def:crs:EPSG::3411',
      proj4text:
        '+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +k=1 +x_0=0 +y_0=0 +a=6378273 +b=6356889.449 +units=m +no_defs',
    };
    const { crs, warnings } = crsFromGridMapping('projection', attrs);
    t.equal(crs.uri, 'http://www.opengis.net/def/crs/EPSG/0/3411');
    t.equal(crs.kind, 'projected');
    t.match(warnings[0], /disagree/);
    const [lon] = crs.projection!.inverse(-37500, 237500);
    t.ok(Math.abs(lon - 143.97263) < 1e-4, 'the PROJ string (lon_0=-45) is followed');
    t.equal(
      epsgFromText('PROJCS["x",GEOGCS["y",AUTHORITY["EPSG","4054"]],AUTHORITY["EPSG","3411"]]'),
      3411,
      'the outermost WKT authority',
    );
    t.equal(epsgFromText('http://www.opengis.net/def/crs/EPSG/0/32618'), 32618);
  },
);

t.test('trim and slice rules on ascending, descending and narrow selections', async (t) => {
  const asc = axis(range(90, -89, 2));
  t.same(trimAxis(asc, -10, 20), [{ start: 40, stop: 55, shift: 0 }], 'centres -9..19');
  const desc = axis(range(90, 89, -2));
  t.same(trimAxis(desc, -10, 20), [{ start: 35, stop: 50, shift: 0 }], 'descending: centres 19..-9, in file order');
  t.same(
    trimAxis(asc, 10.2, 10.8),
    [{ start: 50, stop: 51, shift: 0 }],
    'narrower than a cell: the cell holding its middle (11)',
  );
  t.same(trimAxis(asc, 95, 100), [], 'outside: nothing');
  t.equal(nearestCell(asc, 10.1), 50, 'slice: nearest centre 11');
  t.equal(nearestCell(asc, 90.5), undefined, 'slice beyond the cells');
  t.equal(nearestCell(axis([5]), 5), 0, 'a single cell matches its own value');
  t.equal(nearestCell(axis([5]), 5.5), undefined, 'and nothing else');
});

t.test('longitudes wrap: a -180..180 box on a 0..360 grid, and across the antimeridian', async (t) => {
  const lon360 = axis(range(360, 0.5, 1), { longitude: true });
  t.same(
    trimLongitude(lon360, -10, 10),
    [
      { start: 350, stop: 360, shift: -360 },
      { start: 0, stop: 10, shift: 0 },
    ],
    'west of 0 then east of it',
  );
  t.same(trimLongitude(lon360, 170, 190), [{ start: 170, stop: 190, shift: 0 }], 'one run in the 0..360 frame');
  const lon180 = axis(range(180, -179, 2), { longitude: true });
  t.same(
    trimLongitude(lon180, 170, 190),
    [
      { start: 175, stop: 180, shift: 0 },
      { start: 0, stop: 5, shift: 360 },
    ],
    'across the antimeridian on a -180..180 grid',
  );
  t.same(
    trimLongitude(lon360, -180, 180).reduce((n, r) => n + r.stop - r.start, 0),
    360,
    'the whole circle: every cell once',
  );
});

t.test('subset parsing: quoted and unquoted times, open ends, slices, errors', async (t) => {
  const s = parseSubset(['Lat(10:20),Lon(30:40),time("2000-03-01T00:00:00Z":"2000-06-30T00:00:00Z")', 'z(5)']);
  t.same(
    s.map((x) => [x.axis, x.kind]),
    [
      ['Lat', 'trim'],
      ['Lon', 'trim'],
      ['time', 'trim'],
      ['z', 'slice'],
    ],
  );
  t.same(s[2]!.low, { kind: 'text', value: '2000-03-01T00:00:00Z' });
  const open = parseSubset(['time(2000-03-01T00:00:00Z:*)'])[0]!;
  t.same(
    [open.low, open.high],
    [{ kind: 'text', value: '2000-03-01T00:00:00Z' }, { kind: 'open' }],
    'unquoted date-time with its own colons',
  );
  t.same(parseSubset(['Lat(*:0)'])[0]!.low, { kind: 'open' });
  const bad = (v: string, re: RegExp) => t.throws(() => parseSubset([v]), re, v);
  bad('Lat(10:20', /unbalanced/);
  bad('Lat 10:20', /form axisName/);
  bad('Lat(10:20),lat(1:2)', /more than once/);
  bad('Lat(abc:2)', /neither a number/);
});

/** A small (t, y, x) grid model over in-memory "files": value = 10000·t + 100·y + x (global indices). */
/** One window a test reader was asked for, with the file it came from and whether it fits the file's time steps. */
interface ReadLog {
  window: Record<string, [number, number]>;
  file: string;
  inside: boolean;
}

function memoryGrid(
  nt: number[],
  ny: number,
  nx: number,
  lon0 = 0.5,
): { model: GridModel; open: (path: string) => Promise<Reader>; reads: ReadLog[] } {
  const totalT = nt.reduce((a, b) => a + b, 0);
  const tAxis: GridAxis = {
    role: 't',
    dim: 'time',
    variable: 'time',
    label: 'time',
    names: ['time', 't'],
    values: Float64Array.from(range(totalT, Date.UTC(2000, 0, 1), 86_400_000)),
    attrs: {},
    dtype: 'f8',
    direction: 1,
    step: 86_400_000,
  };
  const yAxis: GridAxis = {
    role: 'y',
    dim: 'lat',
    variable: 'lat',
    label: 'Lat',
    names: ['Lat', 'lat', 'y'],
    values: Float64Array.from(range(ny, (ny - 1) / 2, -1)),
    attrs: {},
    dtype: 'f8',
    direction: -1,
    step: -1,
  };
  const xAxis: GridAxis = {
    role: 'x',
    dim: 'lon',
    variable: 'lon',
    label: 'Lon',
    names: ['Lon', 'lon', 'x'],
    values: Float64Array.from(range(nx, lon0, 360 / nx)),
    attrs: {},
    dtype: 'f8',
    direction: 1,
    step: 360 / nx,
    longitude: true,
  };
  let start = 0;
  const files = nt.map((n, i) => {
    const slot = { path: `mem://${i}`, rel: `f${i}.nc`, timeStart: start, timeCount: n };
    start += n;
    return slot;
  });
  const model: GridModel = {
    axes: [tAxis, yAxis, xAxis],
    fields: [{ name: 'v', dtype: 'i4', dims: ['time', 'lat', 'lon'], attrs: {} }],
    crs: { uri: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84', label: 'CRS84', kind: 'geographic' },
    files,
    attrs: {},
  };
  const reads: ReadLog[] = [];
  const open = async (path: string): Promise<Reader> => {
    const slot = files.find((f) => f.path === path)!;
    return {
      info: async () => ({ format: 'netcdf3', dims: {}, variables: [], attrs: {} }) as DatasetInfo,
      readRaw: async () => {
        throw new Error('unused');
      },
      async *read(req: ReadRequest): AsyncGenerator<Chunk> {
        const w = req.window as Record<string, [number, number]>;
        const [t0, t1] = w['time']!;
        const [y0, y1] = w['lat']!;
        const [x0, x1] = w['lon']!;
        reads.push({ window: w, file: slot.rel, inside: t0 >= 0 && t1 <= slot.timeCount });
        const data = new Int32Array((t1 - t0) * (y1 - y0) * (x1 - x0));
        let k = 0;
        for (let ti = t0; ti < t1; ti++)
          for (let yi = y0; yi < y1; yi++)
            for (let xi = x0; xi < x1; xi++) data[k++] = 10000 * (ti + slot.timeStart) + 100 * yi + xi;
        yield { variable: 'v', window: w, dtype: 'i4', shape: [t1 - t0, y1 - y0, x1 - x0], data };
      },
      close: async () => undefined,
    };
  };
  return { model, open, reads };
}

async function collect(gen: AsyncIterable<{ data: NumericArray }>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of gen) for (const v of b.data) out.push(Number(v));
  return out;
}

t.test('plan + read: values in output order across a longitude wrap, decimation and files', async (t) => {
  const { model, open, reads } = memoryGrid([2, 3], 6, 36, 5);
  // 36 cells of 10°: centres 5..355. A box across 0° in the -180..180 frame.
  const req: GridRequest = {
    bbox: { box: [-30, -1, 30, 1], crs: { uri: '', native: true, geographic: true, latitudeFirst: false } },
    datetime: { start: Date.UTC(2000, 0, 2), end: Date.UTC(2000, 0, 4) },
  };
  const plan = planGrid(model, req);
  t.same(Array.from(plan.axes[2]!.values), [-25, -15, -5, 5, 15, 25], 'x in the request frame, west to east');
  t.same(Array.from(plan.axes[1]!.values), [0.5, -0.5], 'latitude kept descending');
  t.same(Array.from(plan.axes[0]!.picks), [1, 2, 3], 'three days, across the two files');
  const values = await collect(readField(plan, model.fields[0]!, open, { blockBytes: 64 }));
  const expected: number[] = [];
  for (const ti of [1, 2, 3])
    for (const yi of [2, 3]) for (const xi of [33, 34, 35, 0, 1, 2]) expected.push(10000 * ti + 100 * yi + xi);
  t.same(values, expected, 'every value from its source cell');
  t.ok(
    reads.every(({ window: w }) => w['lon']![1] - w['lon']![0] <= 3),
    'the two sides of the wrap are read separately',
  );
  t.ok(
    reads.every((w) => w.inside),
    "every window lies inside its file's time steps",
  );
  t.same([...new Set(reads.map((w) => w.file))], ['f0.nc', 'f1.nc'], 'both files read');
  const scaled = planGrid(model, { scaling: { factor: 3 } });
  t.same(Array.from(scaled.axes[2]!.picks), range(12, 1, 3), 'a whole factor keeps every 3rd cell, centred');
  const scaledValues = await collect(readField(scaled, model.fields[0]!, open));
  t.equal(scaledValues.length, scaled.cells);
  t.equal(
    scaledValues[0],
    10000 * 2 + 100 * 1 + 1,
    'scale-factor applies to every axis, time included (5 steps → the middle one)',
  );
  const flipped = {
    ...plan,
    axes: plan.axes.map((a, i) =>
      i === 1 ? { ...a, picks: a.picks.slice().reverse(), values: a.values.slice().reverse() } : a,
    ),
  };
  const flippedValues = await collect(readField(flipped, model.fields[0]!, open));
  t.same(flippedValues.slice(0, 6), expected.slice(6, 12), 'a reversed axis reads its rows in reverse');
});

t.test('a box split at the antimeridian takes a cell centred on 180° once', async (t) => {
  const { model } = memoryGrid([1], 2, 360, 0);
  const plan = planGrid(model, {
    bbox: { box: [179, -1, -179, 1], crs: { uri: '', native: true, geographic: true, latitudeFirst: false } },
  });
  t.same(Array.from(plan.axes[2]!.values), [179, 180, -179]);
});

t.test('plan errors name the parameter and what the grid offers', async (t) => {
  const { model } = memoryGrid([3], 6, 36);
  const err = (req: GridRequest, re: RegExp, what: string) => {
    try {
      planGrid(model, req);
      t.fail(`${what}: no error`);
    } catch (e) {
      t.ok(e instanceof ApiError && e.statusCode === 400, `${what}: 400`);
      t.match((e as Error).message, re, what);
    }
  };
  err({ subsets: parseSubset(['depth(1:2)']) }, /parameter 'subset'.*unknown axis 'depth'.*Lat/, 'unknown axis');
  err({ subsets: parseSubset(['Lat(2:1)']) }, /low 2 is above high 1/, 'inverted range');
  err(
    { bbox: { box: [0, 60, 10, 70], crs: { uri: '', native: true, geographic: true, latitudeFirst: false } } },
    /parameter 'bbox'.*selects no cell.*Lat cells span -3 to 3/,
    'bbox outside the extent',
  );
  err({ properties: ['nope'] }, /parameter 'properties': unknown field 'nope'; available: v/, 'unknown property');
  err(
    { datetime: { start: Date.UTC(2001, 0, 1), end: Date.UTC(2001, 1, 1) } },
    /parameter 'datetime'.*3 time steps run from 2000-01-01T00:00:00Z/,
    'datetime outside',
  );
  err(
    { scaling: { sizes: [{ axis: 'Lon', value: 100, parameter: 'width' }] } },
    /parameter 'width'.*only downsampling/,
    'upsampling',
  );
  err({ subsets: parseSubset(['time(5)']) }, /takes RFC 3339 date-times/, 'a number on the time axis');
});

t.test(
  'detection: CF names, real names, projected x/y with a grid_mapping; summaries aggregate along time',
  async (t) => {
    const v = (
      name: string,
      dims: string[],
      attrs: Record<string, string | number> = {},
      dtype: VariableInfo['dtype'] = 'f4',
    ): VariableInfo => ({ name, dtype, dims, shape: dims.map(() => 2), attrs });
    const coads: DatasetInfo = {
      format: 'hdf5',
      dims: { TIME: 2, COADSY: 2, COADSX: 2 },
      attrs: {},
      variables: [
        v('COADSX', ['COADSX'], { units: 'degrees_east' }, 'f8'),
        v('COADSY', ['COADSY'], { units: 'degrees_north' }, 'f8'),
        v('TIME', ['TIME'], { units: 'hours since 2000-01-01' }, 'f8'),
        v('SST', ['TIME', 'COADSY', 'COADSX']),
      ],
    };
    const g = detectGrid(coads);
    t.notOk('reason' in g);
    if (!('reason' in g)) {
      t.same(
        g.axes.map((a) => [a.role, a.label]),
        [
          ['t', 'time'],
          ['y', 'Lat'],
          ['x', 'Lon'],
        ],
      );
      t.same(
        g.fields.map((f) => f.name),
        ['SST'],
      );
    }
    const seaice: DatasetInfo = {
      format: 'hdf5',
      dims: { tdim: 1, y: 2, x: 2 },
      attrs: {},
      variables: [
        v('xgrid', ['x'], { standard_name: 'projection_x_coordinate', units: 'meters' }),
        v('ygrid', ['y'], { standard_name: 'projection_y_coordinate', units: 'meters' }),
        v('time', ['tdim'], { standard_name: 'time', units: 'days since 1601-01-01' }),
        {
          name: 'projection',
          dtype: 'char',
          dims: [],
          shape: [],
          attrs: { grid_mapping_name: 'polar_stereographic', srid: 'urn:ogc:def:crs:EPSG::3411' },
        },
        v('conc', ['tdim', 'y', 'x'], { grid_mapping: 'projection', coordinates: 'time ygrid xgrid' }, 'u1'),
      ],
    };
    const s = detectGrid(seaice);
    t.notOk('reason' in s);
    if (!('reason' in s)) {
      t.same(
        s.axes.map((a) => [a.role, a.coordinate?.name]),
        [
          ['t', 'time'],
          ['y', 'ygrid'],
          ['x', 'xgrid'],
        ],
      );
      t.equal(s.crs.uri, 'http://www.opengis.net/def/crs/EPSG/0/3411');
    }
    const bag: DatasetInfo = {
      format: 'hdf5',
      dims: { phony_dim_0: 2, phony_dim_1: 2 },
      attrs: {},
      variables: [v('BAG_root/elevation', ['phony_dim_0', 'phony_dim_1'])],
    };
    const b = detectGrid(bag);
    t.match('reason' in b ? b.reason : '', /BAG/, 'a BAG is not a grid, with a reason');

    const { model } = memoryGrid([2], 6, 36);
    const first = { model, warnings: [] };
    const next = summarizeGrid({
      ...model,
      axes: model.axes.map((a) =>
        a.role === 't' ? { ...a, values: Float64Array.from([Date.UTC(2000, 0, 3), Date.UTC(2000, 0, 4)]) } : a,
      ),
      rawTime: { values: Float64Array.from([2, 3]), units: 'days since 2000-01-01' },
    });
    const agg = aggregateAlongTime(
      { ...first, model: { ...model, rawTime: { values: Float64Array.from([0, 1]), units: 'days since 2000-01-01' } } },
      [{ path: '/b', rel: 'b.nc', summary: next }],
    );
    t.same(
      agg.model.files.map((f) => [f.rel, f.timeStart, f.timeCount]),
      [
        ['f0.nc', 0, 2],
        ['b.nc', 2, 2],
      ],
    );
    t.same(Array.from(agg.model.rawTime!.values), [0, 1, 2, 3], 'same units: raw times concatenated');
    const clash = aggregateAlongTime(first, [
      {
        path: '/c',
        rel: 'c.nc',
        summary: { ...next, axes: next.axes.map((a) => (a.role === 'x' ? { ...a, size: 10 } : a)) },
      },
    ]);
    t.equal(clash.model.files.length, 1, 'a file with another grid is left out');
    t.match(clash.warnings[0], /c\.nc left out.*10 cells along 'lon'/);
  },
);
