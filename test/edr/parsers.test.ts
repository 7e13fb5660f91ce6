import t from 'tap';
import { InvalidParameterValue } from '../../src/core/errors.js';
import { circleBBox, distanceToPath, haversine, pointInRings, toMetres } from '../../src/core/query/geodesic.js';
import { parseWkt } from '../../src/core/query/wkt.js';
import { parseZ, selectLevels } from '../../src/core/query/z.js';

t.test('WKT: every EDR geometry, with Z, M and ZM', async (t) => {
  t.same(parseWkt('POINT(33 15)'), { type: 'Point', coordinates: { x: 33, y: 15 } });
  t.same(parseWkt('point z (1 2 3)'), { type: 'Point', coordinates: { x: 1, y: 2, z: 3 } });
  t.same(parseWkt('MULTIPOINT((1 2),(3 4))').coordinates, [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
  ]);
  t.same(parseWkt('MULTIPOINT(1 2, 3 4)').coordinates, [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
  ]);
  t.same(parseWkt('LINESTRINGM(1 2 1000, 3 4 2000)').coordinates, [
    { x: 1, y: 2, m: 1000 },
    { x: 3, y: 4, m: 2000 },
  ]);
  t.same(parseWkt('LINESTRING ZM (1 2 5 1000, 3 4 6 2000)').coordinates, [
    { x: 1, y: 2, z: 5, m: 1000 },
    { x: 3, y: 4, z: 6, m: 2000 },
  ]);
  t.same(parseWkt('LINESTRINGZ(1 2 5, 3 4 6)').coordinates, [
    { x: 1, y: 2, z: 5 },
    { x: 3, y: 4, z: 6 },
  ]);
  t.equal(parseWkt('POLYGON((0 0,1 0,1 1,0 1,0 0))').type, 'Polygon');
  const multi = parseWkt('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))');
  t.equal(multi.type === 'MultiPolygon' ? multi.coordinates.length : 0, 2);
  t.same(parseWkt('POINT(350 10)').coordinates, { x: -10, y: 10 }, '0..360 longitudes wrap');
  const bad: Array<[string, RegExp]> = [
    ['', /does not start with/],
    ['CIRCLE(1 2)', /does not start with/],
    ['POINT(1)', /expected a number/],
    ['POINT(1 2', /expected '\)'/],
    ['POINT(1 2) x', /unexpected text/],
    ['POINT(1 95)', /latitude 95/],
    ['POLYGON((0 0,1 0,1 1,0 0.5))', /must be closed/],
    ['POLYGON((0 0,1 0,0 0))', /at least 4/],
    ['LINESTRING(1 2)', /at least 2/],
    ['LINESTRINGZ(1 2, 3 4)', /expected 3 numbers/],
    ['POINT EMPTY', /empty/],
  ];
  for (const [text, re] of bad) {
    let err: unknown;
    try {
      parseWkt(text);
    } catch (e) {
      err = e;
    }
    t.ok(
      err instanceof InvalidParameterValue && err.parameter === 'coords' && re.test(err.message),
      `${text}: ${String(err)}`,
    );
  }
});

t.test('z: value, range, list, repeating interval', async (t) => {
  t.same(parseZ('10'), { kind: 'values', values: [10] });
  t.same(parseZ('0/100'), { kind: 'range', min: 0, max: 100 });
  t.same(parseZ('5,10,20'), { kind: 'values', values: [5, 10, 20] });
  t.same(parseZ('R3/0/10'), { kind: 'values', values: [0, 10, 20] });
  for (const bad of ['', 'a', '10/5', '1/2/3', 'R0/0/1', 'R2/x/1', '1,,2'])
    t.throws(() => parseZ(bad), InvalidParameterValue, bad);
  t.same(selectLevels(parseZ('0/20'), [5, 10, 25]), [0, 1]);
  t.same(selectLevels(parseZ('9,24'), [5, 10, 25]), [1, 2], 'nearest level per value');
});

t.test('geodesic helpers', async (t) => {
  t.ok(Math.abs(haversine(0, 0, 1, 0) - 111_195) < 5, 'one degree of the equator ≈ 111.195 km');
  t.equal(toMetres(2, 'km', 'within-units'), 2000);
  t.equal(toMetres(1, 'nmi', 'within-units'), 1852);
  t.equal(toMetres(1, 'mi', 'within-units'), 1609.344);
  t.throws(() => toMetres(1, 'furlong', 'within-units'), /unknown unit 'furlong'/);
  const b = circleBBox(179.9, 0, 50_000);
  t.ok(b.west > b.east, 'a circle across the antimeridian wraps');
  const sq = [
    { x: 0, y: 0 },
    { x: 2, y: 0 },
    { x: 2, y: 2 },
    { x: 0, y: 2 },
    { x: 0, y: 0 },
  ];
  const hole = [
    { x: 0.5, y: 0.5 },
    { x: 1.5, y: 0.5 },
    { x: 1.5, y: 1.5 },
    { x: 0.5, y: 1.5 },
    { x: 0.5, y: 0.5 },
  ];
  t.ok(pointInRings(0.2, 0.2, [sq, hole]));
  t.notOk(pointInRings(1, 1, [sq, hole]), 'holes are outside');
  const d = distanceToPath(0.5, 0.1, [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
  ]);
  t.ok(Math.abs(d.distance - 11_120) < 20);
  t.equal(d.segment, 0);
  t.ok(Math.abs(d.fraction - 0.5) < 1e-9);
});
