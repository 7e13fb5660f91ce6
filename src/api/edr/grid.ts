/**
 * EDR queries over gridded collections, on the coverages grid model (src/core/grid): planCoverage
 * turns a box and a time interval into source indices, readField streams stored values, src/cf
 * decodes them. Here: the nearest cell (position), cells inside a polygon, circle or corridor
 * (a box plan plus a mask), a cube, and the nearest cell at each vertex of a trajectory.
 */
import { decodeNumeric } from '../../cf/decode.js';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { InvalidParameterValue, ResponseTooLarge } from '../../core/errors.js';
import { CRS84 } from '../../core/grid/crs.js';
import { planCoverage, type CoveragePlan, type CoverageRequest } from '../../core/grid/plan.js';
import { readField, type OpenReader } from '../../core/grid/read.js';
import type { GridAxis, GridField, GridModel } from '../../core/grid/types.js';
import type { BBox } from '../../core/query/bbox.js';
import type { TimeInterval } from '../../core/query/datetime.js';
import { bboxOf, circleBBox, distanceToPath, EARTH_RADIUS_M, haversine, pointInPolygons } from '../../core/query/geodesic.js';
import { polygonsOf, vertices, type Position } from '../../core/query/wkt.js';
import { selectLevels, type ZSelection } from '../../core/query/z.js';
import type { EdrPayload, GridBlock, GridDim, GridPayload, SampleDomain, SampleSet, SamplesPayload, VerticalAxis } from '../../encoders/edr/payload.js';
import { openReader } from '../../readers/registry.js';
import type { Reader } from '../../readers/types.js';
import { edrParameters } from './parameters.js';
import type { EdrQuery } from './query.js';

/** Values one answer may hold (cells × parameters): past this, 413 before reading anything. */
export const MAX_VALUES = 50_000_000;

/** Trajectory vertices read one by one: a path longer than this is a mistake or a corridor. */
export const MAX_VERTICES = 10_000;

const GEOGRAPHIC = { uri: CRS84, native: false, geographic: true, latitudeFirst: false };

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
    return { info: () => reader.info(), readRaw: (...a) => reader.readRaw(...a), read: (req) => reader.read(req), close: async () => undefined };
  };

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}

function verticalOf(model: GridModel): VerticalAxis | undefined {
  const z = model.axes.find((a) => a.role === 'z');
  if (!z) return undefined;
  const units = typeof z.attrs['units'] === 'string' ? z.attrs['units'] : undefined;
  const positive = typeof z.attrs['positive'] === 'string' && z.attrs['positive'].toLowerCase() === 'up' ? 'up' : 'down';
  return { name: z.variable ?? z.dim, ...(units ? { units } : {}), positive };
}

/** The vertical extent of a grid collection for its EDR description, when its model is built. */
export function gridVertical(model: GridModel): { interval: [number, number]; values: number[]; vrs: string; name: string } | undefined {
  const z = model.axes.find((a) => a.role === 'z');
  if (!z) return undefined;
  const values = Array.from(z.values);
  const v = verticalOf(model)!;
  return { interval: [Math.min(...values), Math.max(...values)], values, vrs: `${v.positive === 'down' ? 'depth' : 'height'}${v.units ? ` (${v.units})` : ''}`, name: v.name };
}

/** A box plan, then the z selection and the first index of any extra axis, applied to its picks. */
function plan(model: GridModel, fields: string[], box: [number, number, number, number], datetime: TimeInterval | undefined, z: ZSelection | undefined, sizes: Array<{ axis: string; value: number; parameter: string }>, what: string): CoveragePlan {
  const req: CoverageRequest = { bbox: { box, crs: GEOGRAPHIC }, properties: fields };
  if (datetime) req.datetime = datetime;
  let p: CoveragePlan;
  try {
    p = planCoverage(model, req);
    if (sizes.length > 0) {
      // resolution-x|y|z: a number of positions; never more than the window has (no upsampling).
      const clamp = sizes.map((s) => {
        const i = p.axes.findIndex((a) => a.axis.role === s.axis);
        return { ...s, value: i < 0 ? s.value : Math.min(s.value, p.axes[i]!.picks.length) };
      }).filter((s) => p.axes.some((a) => a.axis.role === s.axis));
      if (clamp.length > 0) p = planCoverage(model, { ...req, scaling: { sizes: clamp } });
    }
  } catch (err) {
    // The plan speaks of bbox; the user gave coords (or a circle, a corridor).
    if (err instanceof InvalidParameterValue && err.parameter === 'bbox' && what !== 'bbox') {
      throw new InvalidParameterValue(what, err.message.replace(/^Invalid value for parameter 'bbox': /, ''));
    }
    throw err;
  }
  const axes = p.axes.map((a) => {
    if (a.axis.role === 'z' && z) {
      const levels = selectLevels(z, Array.from(a.picks, (i) => a.axis.values[i]!));
      if (levels.length === 0) throw new InvalidParameterValue('z', `no level of ${a.axis.label} in the selection; levels: ${Array.from(a.axis.values).slice(0, 50).join(', ')}`);
      return { axis: a.axis, picks: Int32Array.from(levels, (k) => a.picks[k]!), values: Float64Array.from(levels, (k) => a.values[k]!) };
    }
    if (a.axis.role === 'other' && a.picks.length > 1) return { axis: a.axis, picks: a.picks.slice(0, 1), values: a.values.slice(0, 1) };
    return a;
  });
  const shape = axes.map((a) => a.picks.length);
  const cells = shape.reduce((n, s) => n * s, 1);
  if (cells * p.fields.length > MAX_VALUES) {
    throw new ResponseTooLarge(`the answer would hold ${cells * p.fields.length} values (limit ${MAX_VALUES}): narrow the area, the time interval or the parameters, or use resolution-x/resolution-y`);
  }
  return { ...p, axes, shape, cells };
}

/** Decoded values of one field over a plan, in output order, chunk by chunk. */
async function* decoded(p: CoveragePlan, field: GridField, open: OpenReader, signal?: AbortSignal): AsyncGenerator<Float64Array> {
  for await (const b of readField(p, field, open, signal ? { signal } : {})) {
    yield decodeNumeric({ dtype: b.dtype, shape: [b.data.length], data: b.data }, field.attrs);
  }
}

/** Several fields' value streams cut into blocks of equal extent (they chunk differently by storage type). */
async function* aligned(p: CoveragePlan, fields: GridField[], open: OpenReader, signal?: AbortSignal): AsyncGenerator<GridBlock> {
  const its = fields.map((f) => decoded(p, f, open, signal)[Symbol.asyncIterator]());
  const bufs: Float64Array[] = fields.map(() => new Float64Array(0));
  let start = 0;
  try {
    while (start < p.cells) {
      for (let i = 0; i < fields.length; i++) {
        if (bufs[i]!.length > 0) continue;
        const r = await its[i]!.next();
        if (r.done) throw new Error(`${fields[i]!.name}: fewer values than planned (${start} of ${p.cells})`);
        bufs[i] = r.value;
      }
      const n = Math.min(...bufs.map((b) => b.length));
      const values: Record<string, Float64Array> = {};
      fields.forEach((f, i) => {
        values[f.name] = bufs[i]!.subarray(0, n);
        bufs[i] = bufs[i]!.subarray(n);
      });
      yield { start, length: n, values };
      start += n;
    }
  } finally {
    await Promise.allSettled(its.map((it) => it.return?.(undefined)));
  }
}

/** Everything of a small plan (a point, a vertex): each field fully in memory. */
async function readAll(p: CoveragePlan, open: OpenReader, signal?: AbortSignal): Promise<Record<string, Float64Array>> {
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

function axisOf(p: CoveragePlan, role: GridAxis['role']): { values: Float64Array; index: number } | undefined {
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
  return { west: Math.max(-180, b.west - dLon), south: Math.max(-90, b.south - dLat), east: Math.min(180, b.east + dLon), north: Math.min(90, b.north + dLat) };
}

interface Context {
  c: Collection;
  model: GridModel;
  q: EdrQuery;
  request: string;
  signal?: AbortSignal | undefined;
}

function base(ctx: Context): { collectionId: string; title: string; parameters: ReturnType<typeof edrParameters>; request: string; vertical?: VerticalAxis } {
  const vertical = verticalOf(ctx.model);
  return { collectionId: ctx.c.id, title: ctx.c.title, parameters: edrParameters(ctx.c, ctx.q.parameters), request: ctx.request, ...(vertical ? { vertical } : {}) };
}

function sizesOf(q: EdrQuery): Array<{ axis: string; value: number; parameter: string }> {
  const r = q.resolution ?? {};
  return (['x', 'y', 'z'] as const).flatMap((a) => (r[a] !== undefined ? [{ axis: a, value: r[a]!, parameter: `resolution-${a}` }] : []));
}

/** A box plan with a mask over its (y, x) cells: area, radius and corridor answers. */
function maskedGrid(ctx: Context, box: BBox, datetime: TimeInterval | undefined, z: ZSelection | undefined, inside: (lon: number, lat: number) => boolean, what: string): GridPayload {
  const { model, q } = ctx;
  const p = plan(model, q.parameters, boxOf(box), datetime, z, sizesOf(q), what);
  const x = axisOf(p, 'x')!.values;
  const y = axisOf(p, 'y')!.values;
  const projection = model.crs.kind === 'projected' ? model.crs.projection : undefined;
  const mask = new Uint8Array(x.length * y.length);
  let any = false;
  for (let iy = 0; iy < y.length; iy++) {
    for (let ix = 0; ix < x.length; ix++) {
      const [lon, lat] = projection ? projection.inverse(x[ix]!, y[iy]!) : [x[ix]!, y[iy]!];
      const ok = inside(lon, lat);
      mask[iy * x.length + ix] = ok ? 1 : 0;
      any ||= ok;
    }
  }
  if (!any) throw new InvalidParameterValue(what, 'no cell centre of the grid lies inside the requested geometry');
  return gridOf(ctx, p, mask);
}

function gridOf(ctx: Context, p: CoveragePlan, mask?: Uint8Array): GridPayload {
  const order: GridDim[] = p.axes.flatMap((a) => (a.axis.role === 'other' ? [] : [a.axis.role as GridDim]));
  const t = axisOf(p, 't');
  const z = axisOf(p, 'z');
  const fields = p.fields;
  const readers = new SharedReaders();
  const { signal } = ctx;
  return {
    kind: 'grid',
    ...base(ctx),
    order,
    x: axisOf(p, 'x')!.values,
    y: axisOf(p, 'y')!.values,
    ...(t ? { t: t.values } : {}),
    ...(z ? { z: z.values } : {}),
    ...(mask ? { mask } : {}),
    ...(ctx.model.crs.kind === 'projected'
      ? { projected: { label: ctx.model.crs.label, ...(ctx.model.crs.uri ? { uri: ctx.model.crs.uri } : {}), ...(ctx.model.crs.projection ? { toLonLat: ctx.model.crs.projection.inverse.bind(ctx.model.crs.projection) } : {}) } }
      : {}),
    blocks: (names) => (async function* () {
      try {
        yield* aligned(p, names ? fields.filter((f) => names.includes(f.name)) : fields, readers.opener, signal);
      } finally {
        await readers.close();
      }
    })(),
  };
}

/** Rows of a small plan (t × z at one cell), as a sample set at the requested position. */
function samplesOf(p: CoveragePlan, values: Record<string, Float64Array>, id: string, at: Position, domainType: SampleDomain, time?: number): SampleSet {
  const t = axisOf(p, 't');
  const z = axisOf(p, 'z');
  const n = p.cells;
  const strides = new Array<number>(p.axes.length);
  let acc = 1;
  for (let d = p.axes.length - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= p.shape[d]!;
  }
  const idx = (k: number, a: { index: number } | undefined) => (a ? Math.floor(k / strides[a.index]!) % p.shape[a.index]! : 0);
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

async function position(ctx: Context): Promise<EdrPayload> {
  const { model, q, signal } = ctx;
  const points = vertices(q.coords!);
  const plans = points.map((pt) => plan(model, q.parameters, pointBox(pt), q.datetime, q.z, [], 'coords'));
  const p0 = plans[0]!;
  const nt = axisOf(p0, 't')?.values.length ?? 0;
  const nz = axisOf(p0, 'z')?.values.length ?? 0;
  if (nt > 1 && nz > 1) {
    if (plans.length > 1) throw new InvalidParameterValue('z', 'a MULTIPOINT position over several times and several levels has no CoverageJSON domain: give one level (z) or one time (datetime)');
    return gridOf(ctx, p0);
  }
  const domainType: SampleDomain = nz > 1 ? 'VerticalProfile' : nt >= 1 ? 'PointSeries' : 'Point';
  const readers = new SharedReaders();
  const payload: SamplesPayload = {
    kind: 'samples',
    ...base(ctx),
    domainType,
    single: points.length === 1,
    hasIds: false,
    sets: () => (async function* () {
      try {
        for (const [i, p] of plans.entries()) {
          const pt = points[i]!;
          const at = { x: axisOf(p, 'x')!.values[0]!, y: axisOf(p, 'y')!.values[0]! };
          yield samplesOf(p, await readAll(p, readers.opener, signal), `${pt.x},${pt.y}`, model.crs.kind === 'geographic' ? at : pt, domainType);
        }
      } finally {
        await readers.close();
      }
    })(),
  };
  return payload;
}

async function trajectory(ctx: Context): Promise<EdrPayload> {
  const { model, q, signal } = ctx;
  const path = vertices(q.coords!);
  if (path.length > MAX_VERTICES) throw new InvalidParameterValue('coords', `${path.length} vertices; at most ${MAX_VERTICES} (use a corridor for long paths)`);
  // Each vertex: its own time (LINESTRINGM/ZM) or the datetime parameter, its own level (Z) or z.
  const plans = path.map((v) => plan(model, q.parameters, pointBox(v), v.m !== undefined ? { start: v.m * 1000, end: v.m * 1000 } : q.datetime,
    v.z !== undefined ? { kind: 'values', values: [v.z] } : q.z, [], 'coords'));
  const total = plans.reduce((n, p) => n + p.cells, 0);
  if (total * q.parameters.length > MAX_VALUES) throw new ResponseTooLarge(`the trajectory would hold ${total * q.parameters.length} values (limit ${MAX_VALUES})`);
  const readers = new SharedReaders();
  return {
    kind: 'samples',
    ...base(ctx),
    domainType: 'Trajectory',
    single: true,
    hasIds: false,
    sets: () => (async function* () {
      try {
        const parts: SampleSet[] = [];
        for (const [i, p] of plans.entries()) {
          const v = path[i]!;
          parts.push(samplesOf(p, await readAll(p, readers.opener, signal), 'trajectory', v, 'Trajectory', v.m !== undefined ? v.m * 1000 : undefined));
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

/** The payload of an EDR query on a grid collection; values are read when the payload is encoded. */
export async function gridPayload(c: Collection, q: EdrQuery, request: string, signal?: AbortSignal): Promise<EdrPayload> {
  const model = await collectionGrid(c);
  const ctx: Context = { c, model, q, request, signal };
  switch (q.type) {
    case 'position':
      return position(ctx);
    case 'trajectory':
      return trajectory(ctx);
    case 'cube':
      return gridOf(ctx, plan(model, q.parameters, boxOf(q.bbox!), q.datetime, q.z, sizesOf(q), 'bbox'));
    case 'area': {
      const polygons = polygonsOf(q.coords!);
      return maskedGrid(ctx, bboxOf(vertices(q.coords!)), q.datetime, q.z, (x, y) => pointInPolygons(x, y, polygons), 'coords');
    }
    case 'radius': {
      const centres = vertices(q.coords!);
      const r = q.within!;
      const boxes = centres.map((p) => circleBBox(p.x, p.y, r));
      const box = boxes.length === 1 ? boxes[0]! : boxes.some((b) => b.west > b.east) ? { west: -180, south: -90, east: 180, north: 90 } : bboxOf(boxes.flatMap((b) => [{ x: b.west, y: b.south }, { x: b.east, y: b.north }]));
      return maskedGrid(ctx, box, q.datetime, q.z, (x, y) => centres.some((p) => haversine(p.x, p.y, x, y) <= r), 'coords');
    }
    case 'corridor': {
      const path = vertices(q.coords!);
      const half = q.corridorWidth! / 2;
      const ms = path.flatMap((v) => (v.m !== undefined ? [v.m * 1000] : []));
      const datetime = ms.length > 0 ? { start: Math.min(...ms), end: Math.max(...ms) } : q.datetime;
      const zs = path.flatMap((v) => (v.z !== undefined ? [v.z] : []));
      const h = q.corridorHeight;
      const z: ZSelection | undefined = zs.length > 0 && h !== undefined ? { kind: 'range', min: Math.min(...zs) - h / 2, max: Math.max(...zs) + h / 2 } : q.z;
      return maskedGrid(ctx, widen(bboxOf(path), half), datetime, z, (x, y) => distanceToPath(x, y, path).distance <= half, 'coords');
    }
    case 'locations':
      throw new InvalidParameterValue('locations', `collection '${c.id}' is a grid: it has no named locations; use position`);
  }
}
