/**
 * Reads the rows of in-situ features (Argo profiles, glider and float trajectories, mooring time
 * series) for EDR: only the selected parameters plus time, position and the vertical coordinate,
 * CF-decoded in src/cf. One reader per file stays open for the whole request (a query over 200
 * profiles of one file opens it once) and every read carries the request's AbortSignal.
 */
import { join } from 'node:path';
import { findAxis } from '../../cf/axes.js';
import { decodeNumeric } from '../../cf/decode.js';
import { attrString } from '../../cf/read.js';
import { decodeTimes } from '../../cf/time.js';
import type { Collection } from '../../catalog/collection.js';
import type { FeatureRecord } from '../../catalog/feature.js';
import { DataSourceError } from '../../core/errors.js';
import type { SampleDomain, SampleSet } from '../../encoders/edr/payload.js';
import type { VerticalAxis } from '../../encoders/table/rows.js';
import { openReader } from '../../readers/registry.js';
import type { DatasetInfo, RawArray, Reader, VariableInfo, Window } from '../../readers/types.js';

/** How one file lays out its features' rows. */
export interface InSituLayout {
  domainType: SampleDomain;
  /** Dimension indexing features (N_PROF, station); undefined for a single-trajectory file. */
  featureDim?: string;
  time?: VariableInfo;
  lat?: VariableInfo;
  lon?: VariableInfo;
  /** Per-row vertical coordinate: PRES for Argo, depth for gliders, a pressure record for moorings. */
  z?: VariableInfo;
  vertical?: VerticalAxis;
}

const PRESSURE_NAME = /^(pres|pressure)(_\d+)?$/i;

function verticalOf(v: VariableInfo): VerticalAxis {
  const units = attrString(v.attrs, 'units');
  const positive = (attrString(v.attrs, 'positive') ?? '').toLowerCase() === 'up' ? 'up' : 'down';
  return { name: v.name, ...(units ? { units } : {}), positive };
}

/** The vertical coordinate for rows along `rowDims`: a declared z axis, else a pressure variable. */
function zVariable(info: DatasetInfo, rowDims: string[]): VariableInfo | undefined {
  const fits = (v: VariableInfo) =>
    v.dims.length > 0 && v.dims.every((d) => rowDims.includes(d)) && v.dtype !== 'char' && v.dtype !== 'string';
  const axis = findAxis(info, 'z');
  if (axis && fits(axis) && axis.dims.some((d) => d === rowDims[rowDims.length - 1])) return axis;
  return info.variables.find(
    (v) =>
      fits(v) &&
      (v.attrs['standard_name'] === 'sea_water_pressure' || PRESSURE_NAME.test(v.name)) &&
      !/_(QC|ADJUSTED)/.test(v.name),
  );
}

function layoutOf(c: Collection, info: DatasetInfo): InSituLayout {
  if (c.kind === 'profile') {
    const pres = info.variables.find((v) => v.name === 'PRES') ?? zVariable(info, ['N_PROF', 'N_LEVELS']);
    return {
      domainType: 'VerticalProfile',
      featureDim: 'N_PROF',
      ...(pres ? { z: pres, vertical: verticalOf(pres) } : {}),
    };
  }
  const time = findAxis(info, 'time');
  const lat = findAxis(info, 'lat');
  const lon = findAxis(info, 'lon');
  if (c.kind === 'timeSeries') {
    const featureDim = lat?.dims[0];
    const rowDims = [...(featureDim ? [featureDim] : []), ...(time?.dims ?? [])];
    const z = zVariable(info, rowDims);
    return {
      domainType: 'PointSeries',
      ...(featureDim ? { featureDim } : {}),
      ...(time ? { time } : {}),
      ...(z ? { z, vertical: verticalOf(z) } : {}),
    };
  }
  const z = lat ? zVariable(info, lat.dims) : undefined;
  return {
    domainType: 'Trajectory',
    ...(time ? { time } : {}),
    ...(lat ? { lat } : {}),
    ...(lon ? { lon } : {}),
    ...(z ? { z, vertical: verticalOf(z) } : {}),
  };
}

interface OpenFile {
  reader: Reader;
  info: DatasetInfo;
  layout: InSituLayout;
  vars: Map<string, VariableInfo>;
}

/** Files one query keeps open at once (features are read in catalog order, mostly file by file). */
const MAX_OPEN_FILES = 32;

export class InSituSource {
  private readonly files = new Map<string, Promise<OpenFile>>();

  constructor(
    private readonly c: Collection,
    private readonly signal?: AbortSignal,
  ) {}

  /** The layout of the collection's first file: what every response header (columns, z) is built from. */
  async layout(): Promise<InSituLayout> {
    this.firstLayout ??= (async () => {
      const file = this.c.files[0];
      if (!file) return { domainType: 'Point' } as InSituLayout;
      return (await this.open(file)).layout;
    })();
    return this.firstLayout;
  }

  private firstLayout?: Promise<InSituLayout>;

  private open(file: string): Promise<OpenFile> {
    let f = this.files.get(file);
    if (f) {
      // Most recently used last: the least recently used file is closed first.
      this.files.delete(file);
      this.files.set(file, f);
    }
    if (!f) {
      f = (async () => {
        let reader: Reader;
        try {
          reader = await openReader(join(this.c.root, file));
        } catch (err) {
          throw new DataSourceError(this.c.id, `${file}: ${(err as Error).message}`);
        }
        const info = await reader.info();
        return { reader, info, layout: layoutOf(this.c, info), vars: new Map(info.variables.map((v) => [v.name, v])) };
      })();
      this.files.set(file, f);
      // An area over a whole archive touches thousands of files: keep only a few open.
      while (this.files.size > MAX_OPEN_FILES) {
        const [oldest, opening] = this.files.entries().next().value as [string, Promise<OpenFile>];
        this.files.delete(oldest);
        void opening.then((o) => o.reader.close()).catch(() => undefined);
      }
    }
    return f;
  }

  private async numbers(f: OpenFile, v: VariableInfo, window: Window | undefined): Promise<Float64Array> {
    const raw = await f.reader.readRaw(v.name, window, this.signal);
    return decodeNumeric(raw, v.attrs, { attrTypes: v.attrTypes });
  }

  /** The window of one feature along `v`'s dimensions (its row of N_PROF or station). */
  private windowFor(f: OpenFile, v: VariableInfo, index: number): Window | undefined {
    const dim = f.layout.featureDim;
    return dim && v.dims.includes(dim) ? { [dim]: [index, index + 1] } : undefined;
  }

  /** Every row of one feature, with the given parameters (missing ones come back all NaN). */
  async read(r: FeatureRecord, parameters: string[]): Promise<SampleSet> {
    const fromCatalog = await this.fromCatalog(r, parameters);
    if (fromCatalog) return fromCatalog;
    const f = await this.open(r.source.file);
    const { layout } = f;
    const i = r.source.index;
    const values: Record<string, Float64Array> = {};
    let n = -1;
    for (const name of parameters) {
      const v = f.vars.get(name);
      if (!v) continue;
      values[name] = await this.numbers(f, v, this.windowFor(f, v, i));
      n = Math.max(n, values[name]!.length);
    }
    const z = layout.z ? await this.numbers(f, layout.z, this.windowFor(f, layout.z, i)) : undefined;
    if (n < 0) n = z?.length ?? 0;
    let t: Float64Array;
    let x: Float64Array;
    let y: Float64Array;
    if (layout.domainType === 'Trajectory' && layout.lat && layout.lon) {
      y = await this.numbers(f, layout.lat, undefined);
      x = await this.numbers(f, layout.lon, undefined);
      n = y.length;
      for (let k = 0; k < n; k++) if (x[k]! > 180) x[k] = x[k]! - 360;
    } else {
      const [lon, lat] = r.geometry?.type === 'Point' ? r.geometry.coordinates : [NaN, NaN];
      x = new Float64Array(n).fill(lon);
      y = new Float64Array(n).fill(lat);
    }
    if (layout.time && layout.domainType !== 'VerticalProfile') {
      const raw = await this.numbers(f, layout.time, undefined);
      t = decodeTimes(raw, attrString(layout.time.attrs, 'units') ?? '', attrString(layout.time.attrs, 'calendar'));
    } else {
      t = new Float64Array(n).fill(r.start);
    }
    for (const name of parameters) if (!values[name]) values[name] = new Float64Array(n).fill(NaN);
    return { id: r.id, domainType: layout.domainType, t, x, y, ...(z ? { z } : {}), values, properties: r.properties };
  }

  /**
   * A profile's rows from the levels the catalog keeps (no file opened): the same decoded values a
   * file read gives. Undefined when the catalog lacks them or the collection's vertical coordinate.
   */
  private async fromCatalog(r: FeatureRecord, parameters: string[]): Promise<SampleSet | undefined> {
    if (this.c.kind !== 'profile' || !this.c.features) return undefined;
    const levels = await this.c.features.levels(r);
    if (!levels) return undefined;
    const layout = await this.layout();
    const z = layout.z ? levels.get(layout.z.name) : undefined;
    if (layout.z && !z) return undefined;
    let n = z?.length ?? 0;
    for (const name of parameters) n = Math.max(n, levels.get(name)?.length ?? 0);
    const values: Record<string, Float64Array> = {};
    for (const name of parameters) values[name] = levels.get(name) ?? new Float64Array(n).fill(NaN);
    const [lon, lat] = r.geometry?.type === 'Point' ? r.geometry.coordinates : [NaN, NaN];
    return {
      id: r.id,
      domainType: layout.domainType,
      t: new Float64Array(n).fill(r.start),
      x: new Float64Array(n).fill(lon),
      y: new Float64Array(n).fill(lat),
      ...(z ? { z } : {}),
      values,
      properties: r.properties,
    };
  }

  /** A file's dimensions, variables and attributes (OPeNDAP builds its arrays from them). */
  async info(file: string): Promise<DatasetInfo> {
    return (await this.open(file)).info;
  }

  /**
   * Stored values of one variable of a feature's file over a window, undecoded: OPeNDAP serves them
   * with the attributes that decode them, as the files hold them. Undefined when the file lacks it.
   */
  async raw(file: string, name: string, window: Window): Promise<RawArray | undefined> {
    const f = await this.open(file);
    if (!f.vars.has(name)) return undefined;
    return f.reader.readRaw(name, window, this.signal);
  }

  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.allSettled(files.map(async (p) => (await p).reader.close()));
  }
}

/** The rows of a set that pass `keep`, as a new set (the same object when every row passes). */
export function filterRows(s: SampleSet, keep: (i: number) => boolean): SampleSet {
  const rows: number[] = [];
  for (let i = 0; i < s.t.length; i++) if (keep(i)) rows.push(i);
  if (rows.length === s.t.length) return s;
  const pick = (a: Float64Array) => Float64Array.from(rows, (i) => a[i]!);
  const values: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(s.values)) values[k] = pick(v);
  return { ...s, t: pick(s.t), x: pick(s.x), y: pick(s.y), ...(s.z ? { z: pick(s.z) } : {}), values };
}
