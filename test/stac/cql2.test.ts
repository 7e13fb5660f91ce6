import t from 'tap';
import { parseCql2Json } from '../../src/core/cql2/json.js';
import { parseCql2Text } from '../../src/core/cql2/text.js';
import { likeToGlob } from '../../src/catalog/store/where.js';

t.test('CQL2 text: precedence, predicates and literals', async (t) => {
  t.same(parseCql2Text("a = 1 OR b = 'x' AND NOT c < 2"), {
    op: 'or',
    args: [
      { op: 'compare', cmp: '=', property: { kind: 'property', name: 'a' }, value: { kind: 'number', value: 1 } },
      {
        op: 'and',
        args: [
          { op: 'compare', cmp: '=', property: { kind: 'property', name: 'b' }, value: { kind: 'string', value: 'x' } },
          {
            op: 'not',
            arg: {
              op: 'compare',
              cmp: '<',
              property: { kind: 'property', name: 'c' },
              value: { kind: 'number', value: 2 },
            },
          },
        ],
      },
    ],
  });
  t.same(parseCql2Text('cycle_number BETWEEN 3 AND 4'), {
    op: 'between',
    property: { kind: 'property', name: 'cycle_number' },
    low: { kind: 'number', value: 3 },
    high: { kind: 'number', value: 4 },
  });
  t.same(parseCql2Text("data_mode NOT IN ('R', 'A')").op, 'not');
  t.same(parseCql2Text('"pi name" LIKE \'Sab%\''), {
    op: 'like',
    property: { kind: 'property', name: 'pi name' },
    pattern: 'Sab%',
  });
  t.same(parseCql2Text('pres_max IS NOT NULL'), {
    op: 'not',
    arg: { op: 'isNull', property: { kind: 'property', name: 'pres_max' } },
  });
  t.same(parseCql2Text("name = 'it''s'"), {
    op: 'compare',
    cmp: '=',
    property: { kind: 'property', name: 'name' },
    value: { kind: 'string', value: "it's" },
  });
  const ts = parseCql2Text("datetime > TIMESTAMP('2009-01-01T00:00:00Z')");
  t.same(ts, {
    op: 'compare',
    cmp: '>',
    property: { kind: 'property', name: 'datetime' },
    value: { kind: 'instant', start: Date.UTC(2009, 0, 1), end: Date.UTC(2009, 0, 1) },
  });
  const day = parseCql2Text("datetime = DATE('2009-05-01')") as { value: { start: number; end: number } };
  t.equal(day.value.end - day.value.start, 86_400_000 - 1, 'a DATE is the whole day');
  t.same(parseCql2Text('TRUE'), { op: 'literal', value: true });
});

t.test('CQL2 text: spatial and temporal functions', async (t) => {
  const s = parseCql2Text('S_INTERSECTS(geometry, POLYGON((0 0, 10 0, 10 10, 0 10, 0 0)))');
  t.equal(s.op, 's_intersects');
  t.same((s as { geometry: unknown }).geometry, {
    type: 'Polygon',
    coordinates: [
      [
        [0, 0],
        [10, 0],
        [10, 10],
        [0, 10],
        [0, 0],
      ],
    ],
  });
  t.same((parseCql2Text('s_intersects(geometry, POINT(1 2))') as { geometry: unknown }).geometry, {
    type: 'Point',
    coordinates: [1, 2],
  });
  t.same(
    (parseCql2Text('S_INTERSECTS(geometry, BBOX(0, -60, 100, 50))') as { geometry: { type: string } }).geometry.type,
    'Polygon',
  );
  t.same((parseCql2Text('S_INTERSECTS(geometry, MULTIPOINT(1 2, 3 4))') as { geometry: unknown }).geometry, {
    type: 'MultiPoint',
    coordinates: [
      [1, 2],
      [3, 4],
    ],
  });
  const ti = parseCql2Text("T_INTERSECTS(datetime, INTERVAL('2009-01-01', '..'))") as {
    op: string;
    value: { kind: string; start: number; end: number };
  };
  t.equal(ti.op, 't_intersects');
  t.same(ti.value, { kind: 'interval', start: Date.UTC(2009, 0, 1), end: Infinity });
  t.equal(parseCql2Text("T_BEFORE(datetime, TIMESTAMP('2010-01-01T00:00:00Z'))").op, 't_before');
});

t.test('CQL2 text: errors name the filter parameter and the position', async (t) => {
  const bad = [
    'a = ',
    'a == 1',
    'S_CONTAINS(geometry, POINT(1 2))',
    "a = 'open",
    'POLYGON((0 0, 1 1))',
    "datetime > TIMESTAMP('yesterday')",
    'f(a) = 1',
    'a BETWEEN 1',
    '',
  ];
  for (const text of bad) {
    t.throws(() => parseCql2Text(text), { statusCode: 400, message: /'filter'/ }, text);
  }
  t.throws(() => parseCql2Text('a = 1 b'), { message: /character 7/ });
});

t.test('CQL2 JSON: the same tree as the text', async (t) => {
  t.same(
    parseCql2Json({
      op: 'and',
      args: [
        { op: '=', args: [{ property: 'data_mode' }, 'D'] },
        { op: 'between', args: [{ property: 'cycle_number' }, 3, 4] },
      ],
    }),
    parseCql2Text("data_mode = 'D' AND cycle_number BETWEEN 3 AND 4"),
  );
  t.same(parseCql2Json({ op: 'in', args: [{ property: 'a' }, ['x', 'y']] }), parseCql2Text("a IN ('x', 'y')"));
  t.same(parseCql2Json({ op: 'isNull', args: [{ property: 'a' }] }), parseCql2Text('a IS NULL'));
  t.same(
    parseCql2Json({ op: 's_intersects', args: [{ property: 'geometry' }, { type: 'Point', coordinates: [1, 2] }] }),
    parseCql2Text('S_INTERSECTS(geometry, POINT(1 2))'),
  );
  t.same(
    parseCql2Json({ op: 't_intersects', args: [{ property: 'datetime' }, { interval: ['2009-01-01', '..'] }] }),
    parseCql2Text("T_INTERSECTS(datetime, INTERVAL('2009-01-01', '..'))"),
  );
  t.same(
    parseCql2Json({ op: '>', args: [{ property: 'datetime' }, { timestamp: '2009-01-01T00:00:00Z' }] }),
    parseCql2Text("datetime > TIMESTAMP('2009-01-01T00:00:00Z')"),
  );
  t.same(
    parseCql2Json({ op: 'not', args: [{ op: 'like', args: [{ property: 'a' }, 'x%'] }] }),
    parseCql2Text("NOT a LIKE 'x%'"),
  );
  for (const bad of [
    {},
    { op: '=' },
    { op: '=', args: [1, 2] },
    { op: 's_within', args: [] },
    { op: 'and', args: [true] },
    'a = 1',
    { op: '=', args: [{ property: 'a' }, { property: 'b' }] },
  ]) {
    t.throws(() => parseCql2Json(bad), { statusCode: 400, message: /'filter'/ }, JSON.stringify(bad));
  }
});

t.test('LIKE patterns become case-sensitive GLOBs with escapes', async (t) => {
  t.equal(likeToGlob('Sab%'), 'Sab*');
  t.equal(likeToGlob('a_c'), 'a?c');
  t.equal(likeToGlob('100\\%'), '100%');
  t.equal(likeToGlob('a*b?[c]'), 'a[*]b[?][[]c]');
});
