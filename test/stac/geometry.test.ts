import t from 'tap';
import {
  boxPolygon,
  intersects,
  parseGeometry,
  prepare,
  PreparedByText,
  type GeoJsonGeometry,
} from '../../src/core/geometry.js';

const square: GeoJsonGeometry = boxPolygon([0, 0, 10, 10]);
const pt = (x: number, y: number): GeoJsonGeometry => ({ type: 'Point', coordinates: [x, y] });

t.test('intersects: points, lines and polygons', async (t) => {
  t.ok(intersects(square, pt(5, 5)), 'inside');
  t.ok(intersects(square, pt(10, 5)), 'on the edge');
  t.notOk(intersects(square, pt(11, 5)), 'outside');
  t.ok(
    intersects(square, {
      type: 'LineString',
      coordinates: [
        [-5, 5],
        [15, 5],
      ],
    }),
    'a line crossing it',
  );
  t.notOk(
    intersects(square, {
      type: 'LineString',
      coordinates: [
        [-5, -5],
        [-1, 20],
      ],
    }),
    'a line passing by',
  );
  t.ok(
    intersects(square, {
      type: 'LineString',
      coordinates: [
        [1, 1],
        [2, 2],
      ],
    }),
    'a line inside',
  );
  t.ok(intersects(boxPolygon([2, 2, 3, 3]), square), 'a polygon inside another');
  t.ok(intersects(square, boxPolygon([9, 9, 20, 20])), 'overlapping polygons');
  const withHole: GeoJsonGeometry = {
    type: 'Polygon',
    coordinates: [
      [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
        [0, 0],
      ],
      [
        [4, 4],
        [6, 4],
        [6, 6],
        [4, 6],
        [4, 4],
      ],
    ],
  };
  t.notOk(intersects(withHole, pt(5, 5)), 'in the hole');
  t.ok(intersects(withHole, pt(2, 2)));
  t.ok(
    intersects(
      {
        type: 'MultiPoint',
        coordinates: [
          [50, 50],
          [5, 5],
        ],
      },
      square,
    ),
  );
});

t.test('parseGeometry checks shape and ranges, naming the parameter', async (t) => {
  t.same(parseGeometry({ type: 'Point', coordinates: [1, 2, 3] }, 'intersects'), {
    type: 'Point',
    coordinates: [1, 2],
  });
  t.throws(
    () =>
      parseGeometry(
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          ],
        },
        'intersects',
      ),
    { statusCode: 400, message: /'intersects'/ },
  );
  t.throws(
    () =>
      parseGeometry(
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 1],
            ],
          ],
        },
        'intersects',
      ),
    { message: /closed/ },
  );
  t.throws(() => parseGeometry({ type: 'Point', coordinates: [200, 0] }, 'intersects'), { message: /outside/ });
  t.throws(() => parseGeometry({ type: 'Circle' }, 'intersects'), { message: /unknown GeoJSON geometry type/ });
  t.throws(() => parseGeometry('POINT(1 2)', 'intersects'), { message: /GeoJSON geometry object/ });
});

t.test('a box against a track: a vertex inside decides, a track passing by does not hit', async (t) => {
  const box = prepare(boxPolygon([0, 0, 10, 10]));
  const track = (coordinates: Array<[number, number]>): GeoJsonGeometry => ({ type: 'LineString', coordinates });
  t.ok(
    intersects(
      box,
      track([
        [-20, -20],
        [-15, -15],
        [5, 5],
        [30, 30],
      ]),
    ),
    'a vertex inside',
  );
  t.ok(
    intersects(
      track([
        [-20, -20],
        [10, 10],
        [30, 40],
      ]),
      box,
    ),
    'a vertex on the corner, either order',
  );
  t.ok(
    intersects(
      box,
      track([
        [-5, 5],
        [15, 5],
      ]),
    ),
    'crossing without a vertex inside',
  );
  t.notOk(
    intersects(
      box,
      track([
        [-5, 11],
        [5, 20],
        [15, 11],
      ]),
    ),
    'around it',
  );
});

t.test('PreparedByText: the same text gives the same preparation; the budget drops the oldest', async (t) => {
  const cache = new PreparedByText(60);
  const a = JSON.stringify({
    type: 'LineString',
    coordinates: [
      [0, 0],
      [1, 1],
    ],
  });
  const b = JSON.stringify({
    type: 'LineString',
    coordinates: [
      [5, 5],
      [6, 7],
    ],
  });
  const first = cache.get(a);
  t.equal(cache.get(`${a}`), first, 'found by its text');
  t.same(first.box, [0, 0, 1, 1]);
  cache.get(b);
  t.not(cache.get(a), first, 'over the budget: parsed again');
  t.same(cache.get(b).box, [5, 5, 6, 7]);
});
