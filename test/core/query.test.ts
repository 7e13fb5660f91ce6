import t from 'tap';
import { containsPoint, lineIntersectsBBox, parseBBox } from '../../src/core/query/bbox.js';
import { parseDatetime } from '../../src/core/query/datetime.js';

t.test('bbox', async (t) => {
  t.same(parseBBox('10,-10,40,20'), { west: 10, south: -10, east: 40, north: 20 });
  t.same(parseBBox('10,-10,0,40,20,100'), { west: 10, south: -10, east: 40, north: 20 }, '3-D form drops heights');
  const anti = parseBBox('170,-10,-170,10');
  t.ok(containsPoint(anti, 175, 0));
  t.ok(containsPoint(anti, -175, 0));
  t.notOk(containsPoint(anti, 0, 0));
  t.ok(
    lineIntersectsBBox(parseBBox('0,0,1,1'), [
      [-1, 0.5],
      [2, 0.5],
    ]),
    'a line crossing the box without a vertex inside',
  );
  t.notOk(
    lineIntersectsBBox(parseBBox('0,0,1,1'), [
      [-1, 2],
      [2, 2],
    ]),
  );
  for (const bad of ['1,2,3', '1,2,3,x', '', '0,10,5,-10', '0,-91,1,1', '-181,0,0,1']) {
    t.throws(() => parseBBox(bad), { code: 'InvalidParameterValue', parameter: 'bbox' }, bad);
  }
});

t.test('datetime', async (t) => {
  const z = Date.parse('2009-01-01T00:00:00Z');
  t.same(parseDatetime('2009-01-01T00:00:00Z'), { start: z, end: z });
  t.same(parseDatetime('2009-01-01T02:00:00+02:00'), { start: z, end: z }, 'offsets');
  t.same(parseDatetime('2009-01-01T00:00:00Z/..'), { start: z, end: Infinity });
  t.same(parseDatetime('/2009-01-01T00:00:00Z'), { start: -Infinity, end: z });
  t.same(parseDatetime('2009-01-01T00:00:00Z/'), { start: z, end: Infinity });
  t.same(parseDatetime('2009-01-01'), { start: z, end: z + 86_400_000 - 1 }, 'a date is the whole day');
  t.equal(parseDatetime('2009-01-01T00:00:00.5Z').start, z + 500);
  for (const bad of ['../..', 'x', '2009-13-01', '2009-02-29', '2010/2009', '2010-01-01/2009-01-01', 'a/b/c']) {
    t.throws(() => parseDatetime(bad), { code: 'InvalidParameterValue', parameter: 'datetime' }, bad);
  }
});
