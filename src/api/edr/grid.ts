/**
 * EDR queries over gridded collections, through the one grid pipeline: the query becomes a
 * GridRequest (a box, a time interval, z levels, resolution-x|y|z counts, and for area, radius and
 * corridor the geometry whose cells are kept) → planGrid (src/core/grid/plan.ts) → an encoder of the
 * grid registry, exactly as Coverages (src/api/grid-answer.ts). Positions and trajectories are the
 * cells nearest given points: one plan per point, read whole and answered as sample sets.
 */
import { decodeNumeric } from '../../cf/decode.js';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { InvalidParameterValue } from '../../core/errors.js';
import { CRS84 } from '../../core/grid/crs.js';
import { checkSize } from '../../core/grid/limits.js';
import { outputStrides, planGrid, type GridPlan, type GridRequest } from '../../core/grid/plan.js';
import { readField, type OpenReader } from '../../core/grid/read.js';
import type { GridAxis, GridModel } from '../../core/grid/types.js';
import type { BBox } from '../../core/query/bbox.js';
import type { TimeInterval } from '../../core/query/datetime.js';
import {
  bboxOf,
  circleBBox,
  distanceToPath,
  EARTH_RADIUS_M,
  haversine,
  pointInPolygons,
} from '../../core/query/geodesic.js';
import { polygonsOf, vertices, type Position } from '../../core/query/wkt.js';
import type { ZSelection } from '../../core/query/z.js';
import type { SampleDomain, SampleSet, SamplesPayload } from '../../encoders/edr/payload.js';
import { verticalAxis } from '../../encoders/grid/table.js';
import type { VerticalAxis } from '../../encoders/table/rows.js';
import { openReader } from '../../readers/registry.js';
import type { Reader } from '../../readers/types.js';
import { edrParameters } from './parameters.js';
import type { EdrQuery } from './query.js';

/** Trajectory vertices read one by one: a path longer than this is a mistake or a corridor. */
const MAX_VERTICES = 10_000;

/** Rough bytes per value of a sample answer (a number, its time and position), for the size limit. */
const SAMPLE_VALUE_BYTES = 48;

const GEOGRAPHIC = { uri: CRS84, native: false, geographic: true, latitudeFirst: false };

/** A grid answer: a plan over the collection, written by an encoder of the grid registry when sent. */
export interface EdrGridAnswer {
  kind: 'grid';
  collection: Collection;
  plan: GridPlan;
  /** The request line for outputs' history. */
  request: string;
  signal?: AbortSignal | undefined;
}

/** Readers shared by every read of one answer: opened once per file, closed when the answer ends. */
class SharedReaders {
  private readonly open = new Map<string, Promise<Reader>>();

  readonly opener: OpenReader = async (path) => {
    let r = this.open.get(path);
    if (!r) {
      r = openReader(path);
      this.open.set(path, r);
    }
    const reader = await r;
    // readField closes what it opened; the real close happens in close().
    return {
      info: () => reader.info(),
      readRaw: (...a) => reader.readRaw(...a),
      read: (req) => reader.read(req),
      close: async () => undefined,
    };
  };

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}

/**
 * The grid's request for a box (CRS84 degrees) and the query's time, levels, counts and parameters.
 * A grid without a time axis holds the same values at every time: `datetime` selects all of it
 * (the EDR test suite sends the collection's temporal extent, even `null/null`, to every collection).
 */
function request(
  model: GridModel,
  q: EdrQuery,
  box: [number, number, number, number],
  parameter: string,
  datetime: TimeInterval | undefined,
  z: ZSelection | undefined,
  sizes: boolean,
): GridRequest {
  const req: GridRequest = {
    bbox: { box, crs: GEOGRAPHIC, parameter },
    properties: q.parameters,
    firstOfOtherAxes: true,
  };
  if (datetime && model.axes.some((a) => a.role === 't')) req.datetime = datetime;
  if (z) req.z = z;
  const r = q.resolution ?? {};
  // resolution-x|y|z: a number of positions; never more than the window has (no upsampling).
  const counts = (['x', 'y', 'z'] as const).flatMap((a) =>
    r[a] !== undefined ? [{ axis: a, value: r[a]!, parameter: `resolution-${a}`, atMost: true }] : [],
  );
  if (sizes && counts.length > 0) req.scaling = { sizes: counts };
  return req;
}

/** Decoded values of one field over a plan, in output order, block by block. */
async function* decoded(
  p: GridPlan,
  field: GridPlan['fields'][number],
  open: OpenReader,
  signal?: AbortSignal,
): AsyncGenerator<Float64Array> {
  for await (const b of readField(p, field, open, signal ? { signal } : {})) {
    yield decodeNumeric({ dtype: b.dtype, shape: [b.data.length], data: b.data }, field.attrs, {
      attrTypes: field.attrTypes,
    });
  }
}

/** Everything of a small plan (a point, a vertex): each field fully in memory. */
async function readAll(p: GridPlan, open: OpenReader, signal?: AbortSignal): Promise<Record<string, Float64Array>> {
  const out: Record<string, Float64Array> = {};
  for (const f of p.fields) {
    const all = new Float64Array(p.cells);
    let k = 0;
    for await (const chunk of decoded(p, f, open, signal)) {
      all.set(chunk, k);
      k += chunk.length;
    }
    out[f.name] = all;
  }
  return out;
}

function axisOf(p: GridPlan, role: GridAxis['role']): { values: Float64Array; index: number } | undefined {
  const index = p.axes.findIndex((a) => a.axis.role === role);
  return index < 0 ? undefined : { values: p.axes[index]!.values, index };
}

function boxOf(b: BBox): [number, number, number, number] {
  return [b.west, b.south, b.east, b.north];
}

function widen(b: BBox, metres: number): BBox {
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  const lat = Math.min(89, Math.max(Math.abs(b.south), Math.abs(b.north)) + dLat);
  const dLon = Math.min(180, dLat / Math.cos((lat * Math.PI) / 180));
  return {
    west: Math.max(-180, b.west - dLon),
    south: Math.max(-90, b.south - dLat),
    east: Math.min(180, b.east + dLon),
    north: Math.min(90, b.north + dLat),
  };
}

interface Context {
  c: Collection;
  model: GridModel;
  q: EdrQuery;
  request: string;
  signal?: AbortSignal | undefined;
}

function base(ctx: Context): {
  collectionId: string;
  title: string;
  parameters: ReturnType<typeof edrParameters>;
  request: string;
  vertical?: VerticalAxis;
} {
  const vertical = verticalAxis(ctx.model);
  return {
    collectionId: ctx.c.id,
    title: ctx.c.title,
    parameters: edrParameters(ctx.c, ctx.q.parameters),
    request: ctx.request,
    ...(vertical ? { vertical } : {}),
  };
}

function grid(ctx: Context, plan: GridPlan): EdrGridAnswer {
  return { kind: 'grid', collection: ctx.c, plan, request: ctx.request, signal: ctx.signal };
}

/** A box plan keeping the (y, x) cells inside a geometry: area, radius and corridor answers. */
function masked(
  ctx: Context,
  box: BBox,
  datetime: TimeInterval | undefined,
  z: ZSelection | undefined,
  inside: (lon: number, lat: number) => boolean,
): EdrGridAnswer {
  const req = request(ctx.model, ctx.q, boxOf(box), 'coords', datetime, z, true);
  req.within = { parameter: 'coords', inside };
  return grid(ctx, planGrid(ctx.model, req));
}

/** The same size policy as grid answers, on the cells of all the points' plans. */
function checkSamples(ctx: Context, plans: GridPlan[]): void {
  const cells = plans.reduce((n, p) => n + p.cells, 0);
  const fields = ctx.q.parameters.length;
  checkSize({ bytes: cells * fields * SAMPLE_VALUE_BYTES, cells, fields, format: 'point samples', api: 'edr' });
}

/** Rows of a small plan (t × z at one cell), as a sample set at the requested position. */
function samplesOf(
  p: GridPlan,
  values: Record<string, Float64Array>,
  id: string,
  at: Position,
  domainType: SampleDomain,
  time?: number,
): SampleSet {
  const t = axisOf(p, 't');
  const z = axisOf(p, 'z');
  const n = p.cells;
  const strides = outputStrides(p);
  const idx = (k: number, a: { index: number } | undefined) =>
    a ? Math.floor(k / strides[a.index]!) % p.shape[a.index]! : 0;
  const set: SampleSet = {
    id,
    domainType,
    t: Float64Array.from({ length: n }, (_, k) => time ?? (t ? t.values[idx(k, t)]! : NaN)),
    x: new Float64Array(n).fill(at.x),
    y: new Float64Array(n).fill(at.y),
    values,
  };
  if (z) set.z = Float64Array.from({ length: n }, (_, k) => at.z ?? z.values[idx(k, z)]!);
  return set;
}

function pointBox(v: Position): [number, number, number, number] {
  return [v.x, v.y, v.x, v.y];
}

async function position(ctx: Context): Promise<EdrAnswer> {
  const { model, q, signal } = ctx;
  const points = vertices(q.coords!);
  const plans = points.map((pt) => planGrid(model, request(model, q, pointBox(pt), 'coords', q.datetime, q.z, false)));
  const p0 = plans[0]!;
  const nt = axisOf(p0, 't')?.values.length ?? 0;
  const nz = axisOf(p0, 'z')?.values.length ?? 0;
  if (nt > 1 && nz > 1) {
    if (plans.length > 1)
      throw new InvalidParameterValue(
        'z',
        'a MULTIPOINT position over several times and several levels has no CoverageJSON domain: give one level (z) or one time (datetime)',
      );
    return grid(ctx, p0);
  }
  checkSamples(ctx, plans);
  const domainType: SampleDomain = nz > 1 ? 'VerticalProfile' : nt >= 1 ? 'PointSeries' : 'Point';
  const readers = new SharedReaders();
  const payload: SamplesPayload = {
    kind: 'samples',
    ...base(ctx),
    domainType,
    single: points.length === 1,
    hasIds: false,
    sets: () =>
      (async function* () {
        try {
          for (const [i, p] of plans.entries()) {
            const pt = points[i]!;
            const at = { x: axisOf(p, 'x')!.values[0]!, y: axisOf(p, 'y')!.values[0]! };
            yield samplesOf(
              p,
              await readAll(p, readers.opener, signal),
              `${pt.x},${pt.y}`,
              model.crs.kind === 'geographic' ? at : pt,
              domainType,
            );
          }
        } finally {
          await readers.close();
        }
      })(),
  };
  return payload;
}

async function trajectory(ctx: Context): Promise<EdrAnswer> {
  const { model, q, signal } = ctx;
  const path = vertices(q.coords!);
  if (path.length > MAX_VERTICES)
    throw new InvalidParameterValue(
      'coords',
      `${path.length} vertices; at most ${MAX_VERTICES} (use a corridor for long paths)`,
    );
  // Each vertex: its own time (LINESTRINGM/ZM) or the datetime parameter, its own level (Z) or z.
  const plans = path.map((v) =>
    planGrid(
      model,
      request(
        model,
        q,
        pointBox(v),
        'coords',
        v.m !== undefined ? { start: v.m * 1000, end: v.m * 1000 } : q.datetime,
        v.z !== undefined ? { kind: 'values', values: [v.z] } : q.z,
        false,
      ),
    ),
  );
  checkSamples(ctx, plans);
  const readers = new SharedReaders();
  return {
    kind: 'samples',
    ...base(ctx),
    domainType: 'Trajectory',
    single: true,
    hasIds: false,
    sets: () =>
      (async function* () {
        try {
          const parts: SampleSet[] = [];
          for (const [i, p] of plans.entries()) {
            const v = path[i]!;
            parts.push(
              samplesOf(
                p,
                await readAll(p, readers.opener, signal),
                'trajectory',
                v,
                'Trajectory',
                v.m !== undefined ? v.m * 1000 : undefined,
              ),
            );
          }
          yield concat(parts, q.parameters);
        } finally {
          await readers.close();
        }
      })(),
  };
}

function concat(parts: SampleSet[], names: string[]): SampleSet {
  const cat = (get: (s: SampleSet) => Float64Array | undefined) => {
    const n = parts.reduce((a, s) => a + s.t.length, 0);
    const out = new Float64Array(n);
    let k = 0;
    for (const s of parts) {
      const a = get(s) ?? new Float64Array(s.t.length).fill(NaN);
      out.set(a, k);
      k += a.length;
    }
    return out;
  };
  const set: SampleSet = {
    id: 'trajectory',
    domainType: 'Trajectory',
    t: cat((s) => s.t),
    x: cat((s) => s.x),
    y: cat((s) => s.y),
    values: Object.fromEntries(names.map((n) => [n, cat((s) => s.values[n])])),
  };
  if (parts.some((s) => s.z)) set.z = cat((s) => s.z);
  return set;
}

/** An EDR answer: sample sets (in-situ data, grid positions and trajectories) or a grid plan. */
export type EdrAnswer = SamplesPayload | EdrGridAnswer;

/** The answer of an EDR query on a grid collection; values are read when it is encoded. */
export async function gridAnswer(
  c: Collection,
  q: EdrQuery,
  requestLine: string,
  signal?: AbortSignal,
): Promise<EdrAnswer> {
  const model = await collectionGrid(c);
  const ctx: Context = { c, model, q, request: requestLine, signal };
  switch (q.type) {
    case 'position':
      return position(ctx);
    case 'trajectory':
      return trajectory(ctx);
    case 'cube':
      return grid(ctx, planGrid(model, request(model, q, boxOf(q.bbox!), 'bbox', q.datetime, q.z, true)));
    case 'area': {
      const polygons = polygonsOf(q.coords!);
      return masked(ctx, bboxOf(vertices(q.coords!)), q.datetime, q.z, (x, y) => pointInPolygons(x, y, polygons));
    }
    case 'radius': {
      const centres = vertices(q.coords!);
      const r = q.within!;
      const boxes = centres.map((p) => circleBBox(p.x, p.y, r));
      const box =
        boxes.length === 1
          ? boxes[0]!
          : boxes.some((b) => b.west > b.east)
            ? { west: -180, south: -90, east: 180, north: 90 }
            : bboxOf(
                boxes.flatMap((b) => [
                  { x: b.west, y: b.south },
                  { x: b.east, y: b.north },
                ]),
              );
      return masked(ctx, box, q.datetime, q.z, (x, y) => centres.some((p) => haversine(p.x, p.y, x, y) <= r));
    }
    case 'corridor': {
      const path = vertices(q.coords!);
      const half = q.corridorWidth! / 2;
      const ms = path.flatMap((v) => (v.m !== undefined ? [v.m * 1000] : []));
      const datetime = ms.length > 0 ? { start: Math.min(...ms), end: Math.max(...ms) } : q.datetime;
      const zs = path.flatMap((v) => (v.z !== undefined ? [v.z] : []));
      const h = q.corridorHeight;
      const z: ZSelection | undefined =
        zs.length > 0 && h !== undefined
          ? { kind: 'range', min: Math.min(...zs) - h / 2, max: Math.max(...zs) + h / 2 }
          : q.z;
      return masked(ctx, widen(bboxOf(path), half), datetime, z, (x, y) => distanceToPath(x, y, path).distance <= half);
    }
    case 'locations':
      throw new InvalidParameterValue(
        'locations',
        `collection '${c.id}' is a grid: it has no named locations; use position`,
      );
  }
}
