/**
 * The rows of a tabledap query, from the catalog first and the files only for what it lacks.
 *
 * The box, time and platform constraints go down to the catalog (its bbox, time and platform
 * indexes), so a query over an archive reads only the features they select; constraints on other
 * feature variables are tested before any row is read; the remaining ones row by row. Profiles'
 * levels of the measured parameters come from the catalog through the shared in-situ reader (no
 * file opened); QC flags, adjusted values and per-profile file variables are read from the files
 * only when the query names them. A row whose every row variable is missing is left out, as ERDDAP
 * does (it also drops the padding levels of multi-profile files). One feature is in memory at a time.
 */
import { join } from 'node:path';
import type { FeatureRecord } from '../../catalog/feature.js';
import { charsPerElement } from '../../catalog/extract/common.js';
import type { FeatureFilter } from '../../catalog/store/types.js';
import { DecodedReader } from '../../cf/read.js';
import { DataSourceError } from '../../core/errors.js';
import { checkSize, coverageLimitBytes, heldLimitBytes } from '../../core/grid/limits.js';
import type { BBox } from '../../core/query/bbox.js';
import type { TimeInterval } from '../../core/query/datetime.js';
import { openReader } from '../../readers/registry.js';
import type { Reader } from '../../readers/types.js';
import { InSituSource } from '../edr/insitu-source.js';
import { passes, type Constraint, type TableQuery } from './tabledap-query.js';
import type { TableDataset, TableVar } from './tabledap-schema.js';

/** A value: a number (time in epoch ms; NaN missing) or a string ('' missing). */
export type Cell = number | string;

/** Rows of the result columns, each with the id of the feature it belongs to. */
export interface RowBatch {
  rows: Cell[][];
  features: string[];
}

const BATCH_ROWS = 4096;
/** About this many characters a cell in text answers: the estimate behind the 413. */
const CELL_BYTES = 12;

function isMissing(v: Cell): boolean {
  return typeof v === 'number' ? Number.isNaN(v) : v === '';
}

/** What the catalog can select on: its box, time and platform indexes. Empty when nothing can match. */
export function catalogFilters(ds: TableDataset, q: TableQuery): FeatureFilter[] {
  const box: BBox = { west: -180, south: -90, east: 180, north: 90 };
  const time: TimeInterval = { start: -Infinity, end: Infinity };
  let boxed = false;
  let timed = false;
  let platforms: string[] | undefined;
  for (const c of q.constraints) {
    const { source } = c.variable;
    if (typeof c.value === 'number' && !Number.isNaN(c.value) && !c.regex) {
      const v = c.value;
      const lower = c.op === '>' || c.op === '>=' || c.op === '=';
      const upper = c.op === '<' || c.op === '<=' || c.op === '=';
      if (source.from === 'lat') {
        if (lower) box.south = Math.max(box.south, v);
        if (upper) box.north = Math.min(box.north, v);
        boxed ||= lower || upper;
      } else if (source.from === 'lon') {
        if (lower) box.west = Math.max(box.west, v);
        if (upper) box.east = Math.min(box.east, v);
        boxed ||= lower || upper;
      } else if (source.from === 'time') {
        if (lower) time.start = Math.max(time.start, v);
        if (upper) time.end = Math.min(time.end, v);
        timed ||= lower || upper;
      }
    }
    if (ds.argo && source.from === 'property' && source.key === 'platform_number') {
      let values: string[] | undefined;
      if (c.op === '=' && typeof c.value === 'string') values = [c.value];
      else if (c.op === '=~' && typeof c.value === 'string') {
        // argopy's `platform_number=~"6902746|6902757"`: a list of literal numbers.
        const inner = c.value.replace(/^\^?\((.*)\)\$?$/, '$1').replace(/^\^|\$$/g, '');
        if (/^[A-Za-z0-9_ -]+(\|[A-Za-z0-9_ -]+)*$/.test(inner)) values = inner.split('|');
      }
      if (values) platforms = platforms ? platforms.filter((p) => values.includes(p)) : [...new Set(values)];
    }
  }
  if (box.south > box.north || box.west > box.east || time.start > time.end) return [];
  const base: FeatureFilter = {
    ...(boxed ? { bbox: { west: box.west, south: box.south, east: box.east, north: box.north } } : {}),
    ...(timed ? { datetime: time } : {}),
  };
  if (!platforms) return [base];
  return platforms.map((p) => ({ ...base, properties: { platform_number: p } }));
}

/** The variables a query reads: its columns and those its constraints test. */
function neededVars(q: TableQuery): TableVar[] {
  return [...new Set([...q.columns, ...q.constraints.map((c) => c.variable)])];
}

/**
 * Memory a held row takes (distinct(), orderBy…, .nc and .ncCF hold every row before writing): an
 * array of cells, boxed numbers or strings, and its feature id.
 */
const HELD_CELL_BYTES = 32;
const HELD_ROW_BYTES = 64;

/** Why an answer holds its rows, or undefined when it streams them. */
export function heldReason(q: TableQuery, ext: string): string | undefined {
  if (ext.startsWith('nc'))
    return `to write the ${ext === 'ncCF' || ext === 'ncCFHeader' ? '.ncCF' : '.nc'} file's header`;
  if (q.distinct) return 'to apply distinct()';
  if (q.order) return `to apply ${q.order.kind}`;
  return undefined;
}

/**
 * 413 before anything is read when the answer would be over the limit (features counted by the
 * catalog): its text size against the answer limit and, when it holds every row first (`held`),
 * the memory those rows take against the held-memory limit. The rows are an upper bound from the
 * catalog's counts: what is held while reading never exceeds it.
 */
export async function checkTableSize(
  ds: TableDataset,
  q: TableQuery,
  filters: FeatureFilter[],
  format: string,
  held?: string,
) {
  const store = ds.collection.features;
  const perRow = neededVars(q).some((v) => v.scope === 'row');
  const countKey = ds.cdmType === 'Profile' ? 'n_levels' : 'n_observations';
  let features = 0;
  for (const f of filters) features += (await store.page(f, 0, 0)).matched;
  const maxRows = perRow ? Math.max(1, store.range(countKey)?.[1] ?? 1) : 1;
  const bytesOf = (rows: number) => rows * q.columns.length * CELL_BYTES;
  const heldOf = (rows: number) => rows * (q.columns.length * HELD_CELL_BYTES + HELD_ROW_BYTES);
  const over = (rows: number) =>
    bytesOf(rows) > coverageLimitBytes() || (held !== undefined && heldOf(rows) > heldLimitBytes());
  let rows = features * maxRows;
  if (over(rows)) {
    // The upper bound is over: count the rows of the features the catalog's values select.
    rows = 0;
    const cheap = q.constraints.filter(
      (k) => k.variable.scope === 'feature' && k.variable.source.from !== 'featureFile',
    );
    for (const f of filters)
      for await (const r of store.iterate(f)) {
        if (!cheap.every((k) => passes(k, catalogValue(r, k.variable)!))) continue;
        const n = r.properties[countKey];
        rows += perRow ? (typeof n === 'number' ? n : maxRows) : 1;
      }
  }
  const split = () =>
    'ask for a smaller box (latitude>=…&latitude<=…), a shorter time range (time>=…&time<=…) or fewer floats';
  const size = { cells: rows * q.columns.length, fields: q.columns.length, format, api: 'erddap' as const, split };
  checkSize({ ...size, bytes: bytesOf(rows) });
  if (held) checkSize({ ...size, bytes: heldOf(rows), held });
}

interface OpenFile {
  reader: Reader;
  data: DecodedReader;
  nLevels: number;
  whole: Map<string, Promise<Float64Array | string[]>>;
}

/** Per-profile and per-level file variables the catalog lacks, read whole once per file. */
class FileVariables {
  private readonly files = new Map<string, Promise<OpenFile>>();

  constructor(private readonly ds: TableDataset) {}

  private open(file: string): Promise<OpenFile> {
    let f = this.files.get(file);
    if (!f) {
      const c = this.ds.collection;
      f = (async () => {
        let reader: Reader;
        try {
          reader = await openReader(join(c.root, file));
        } catch (err) {
          throw new DataSourceError(c.id, `${file}: ${(err as Error).message}`);
        }
        const info = await reader.info();
        return { reader, data: await DecodedReader.of(reader), nLevels: info.dims['N_LEVELS'] ?? 0, whole: new Map() };
      })();
      this.files.set(file, f);
      // Features come in file order: two open files are enough.
      while (this.files.size > 2) {
        const [oldest, opening] = this.files.entries().next().value as [string, Promise<OpenFile>];
        this.files.delete(oldest);
        void opening.then((o) => o.reader.close()).catch(() => undefined);
      }
    }
    return f;
  }

  private async variable(f: OpenFile, name: string, chars: boolean, perElement: boolean) {
    let w = f.whole.get(name);
    if (!w) {
      w = chars
        ? perElement
          ? charsPerElement(f.data, name).then((x) => x ?? [])
          : f.data.strings(name, undefined, !chars)
        : f.data.numbers(name);
      f.whole.set(name, w);
    }
    return w;
  }

  async featureValue(r: FeatureRecord, name: string, chars: boolean): Promise<Cell> {
    const f = await this.open(r.source.file);
    if (!f.data.has(name)) return chars ? '' : NaN;
    const dims = f.data.variable(name)!.dims.length;
    const all = await this.variable(f, name, chars, dims <= 1);
    const v = all[r.source.index];
    return v === undefined ? (chars ? '' : NaN) : typeof v === 'string' ? v.trim() : v;
  }

  async levels(r: FeatureRecord, name: string, chars: boolean): Promise<ArrayLike<Cell>> {
    const f = await this.open(r.source.file);
    if (!f.data.has(name)) return [];
    const i = r.source.index;
    const all = await this.variable(f, name, chars, false);
    if (chars) return Array.from((all as string[])[i] ?? '', (ch) => (ch.trim() === '' || ch === '\0' ? '' : ch));
    return (all as Float64Array).subarray(i * f.nLevels, (i + 1) * f.nLevels);
  }

  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.allSettled(files.map(async (p) => (await p).reader.close()));
  }
}

function propertyCell(v: unknown, type: string): Cell {
  if (v === null || v === undefined) return type === 'String' ? '' : NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return String(v);
  return type === 'String' ? String(v) : Number(v);
}

/** A feature variable's value from the catalog, or undefined when it needs the file. */
function catalogValue(r: FeatureRecord, v: TableVar): Cell | undefined {
  const s = v.source;
  const xy = r.geometry?.type === 'Point' ? r.geometry.coordinates : undefined;
  switch (s.from) {
    case 'property':
      return propertyCell(r.properties[s.key], v.type);
    case 'time':
      return r.start;
    case 'lat':
      return xy ? xy[1] : NaN;
    case 'lon':
      return xy ? xy[0] : NaN;
    default:
      return undefined;
  }
}

/** The query's rows, batch by batch, in catalog order (file order). */
export async function* tableRows(
  ds: TableDataset,
  q: TableQuery,
  filters: FeatureFilter[],
  signal?: AbortSignal,
): AsyncGenerator<RowBatch> {
  const c = ds.collection;
  const needed = neededVars(q);
  const rowVars = needed.filter((v) => v.scope === 'row');
  const perRow = rowVars.length > 0;
  const featureVars = needed.filter((v) => v.scope === 'feature');
  const cheap = q.constraints.filter((k) => k.variable.scope === 'feature' && k.variable.source.from !== 'featureFile');
  const fromFile = q.constraints.filter((k) => k.variable.source.from === 'featureFile');
  const perRowTests = q.constraints.filter((k) => k.variable.scope === 'row');
  const readVars = [...new Set(rowVars.flatMap((v) => (v.source.from === 'rows' ? [v.source.variable] : [])))];
  const readsRows = rowVars.some((v) => ['rows', 'time', 'lat', 'lon'].includes(v.source.from));
  const withLevels = c.kind === 'profile' && readVars.length > 0;
  // Rows count as present when one of these has a value.
  const presence = (q.columns.some((v) => v.scope === 'row') ? q.columns : rowVars)
    .map((v) => needed.indexOf(v))
    .filter((k) => needed[k]!.scope === 'row');
  const columnAt = q.columns.map((v) => needed.indexOf(v));
  const testAt = (k: Constraint) => needed.indexOf(k.variable);
  const source = new InSituSource(c, signal);
  const files = new FileVariables(ds);
  let batch: RowBatch = { rows: [], features: [] };
  try {
    for (const filter of filters) {
      for await (const r of c.features.iterate(filter, withLevels)) {
        signal?.throwIfAborted();
        const fv = new Map<TableVar, Cell>();
        for (const v of featureVars) {
          const x = catalogValue(r, v);
          if (x !== undefined) fv.set(v, x);
        }
        if (!cheap.every((k) => passes(k, fv.get(k.variable)!))) continue;
        for (const v of featureVars)
          if (v.source.from === 'featureFile')
            fv.set(v, await files.featureValue(r, v.source.variable, v.source.chars));
        if (!fromFile.every((k) => passes(k, fv.get(k.variable)!))) continue;
        if (!perRow) {
          batch.rows.push(q.columns.map((v) => fv.get(v)!));
          batch.features.push(r.id);
        } else {
          const cols: Array<ArrayLike<Cell> | undefined> = new Array(needed.length);
          let n = 0;
          if (readsRows) {
            const s = await source.read(r, readVars);
            needed.forEach((v, k) => {
              if (v.scope !== 'row') return;
              const src = v.source;
              const col =
                src.from === 'time'
                  ? s.t
                  : src.from === 'lat'
                    ? s.y
                    : src.from === 'lon'
                      ? s.x
                      : src.from === 'rows'
                        ? s.values[src.variable]
                        : undefined;
              if (col) cols[k] = col;
            });
            n = s.t.length;
          }
          for (let k = 0; k < needed.length; k++) {
            const v = needed[k]!;
            if (v.source.from === 'levelFile') cols[k] = await files.levels(r, v.source.variable, v.source.chars);
            if (v.scope === 'row') n = Math.max(n, cols[k]?.length ?? 0);
          }
          const cell = (k: number, i: number): Cell => {
            const v = needed[k]!;
            if (v.scope === 'feature') return fv.get(v)!;
            const col = cols[k];
            const x = col && i < col.length ? col[i]! : undefined;
            return x ?? (v.type === 'String' ? '' : NaN);
          };
          for (let i = 0; i < n; i++) {
            if (presence.length > 0 && presence.every((k) => isMissing(cell(k, i)))) continue;
            if (!perRowTests.every((k) => passes(k, cell(testAt(k), i)))) continue;
            batch.rows.push(columnAt.map((k) => cell(k, i)));
            batch.features.push(r.id);
          }
        }
        if (batch.rows.length >= BATCH_ROWS) {
          yield batch;
          batch = { rows: [], features: [] };
        }
      }
    }
    if (batch.rows.length > 0) yield batch;
  } finally {
    await Promise.allSettled([source.close(), files.close()]);
  }
}

function compareCells(a: Cell, b: Cell): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a - b;
  }
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * orderByClosest as ERDDAP does it: rows sorted by every variable; per group of all but the last
 * one, for each multiple of the interval, the row whose last value is closest to it (the first one
 * on a tie); rows missing that value are dropped.
 */
function closestRows(idx: number[], rows: Cell[][], groups: number[], last: number, interval: number): number[] {
  const kept: number[] = [];
  let bucket = NaN;
  let best = Infinity;
  for (const i of idx) {
    const v = rows[i]![last] as number;
    if (typeof v !== 'number' || Number.isNaN(v)) continue;
    const b = Math.round(v / interval);
    const distance = Math.abs(v - b * interval);
    const prev = kept[kept.length - 1];
    const same =
      prev !== undefined && b === bucket && groups.every((k) => compareCells(rows[prev]![k]!, rows[i]![k]!) === 0);
    if (!same) {
      kept.push(i);
      bucket = b;
      best = distance;
    } else if (distance < best) {
      kept[kept.length - 1] = i;
      best = distance;
    }
  }
  return kept;
}

/**
 * distinct() and the orderBy filters, which need every row: distinct() keeps unique rows sorted by
 * all columns, orderBy sorts (stable), orderByMax/Min keep per group of all but the last variable
 * the row with the largest/smallest last one, orderByClosest the rows closest to its interval.
 */
export function arrangeRows(all: RowBatch, q: TableQuery): RowBatch {
  let idx = all.rows.map((_, i) => i);
  const rows = all.rows;
  if (q.distinct) {
    const cols = q.columns.map((_, k) => k);
    idx.sort((i, j) => {
      for (const k of cols) {
        const d = compareCells(rows[i]![k]!, rows[j]![k]!);
        if (d !== 0) return d;
      }
      return i - j;
    });
    const key = (i: number) =>
      JSON.stringify(rows[i]!.map((v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v)));
    let last = '';
    idx = idx.filter((i) => {
      const k = key(i);
      if (k === last) return false;
      last = k;
      return true;
    });
  }
  if (q.order) {
    const by = q.order.by.map((v) => q.columns.indexOf(v));
    const sign = q.order.kind === 'orderByDescending' ? -1 : 1;
    const sortBy = (keys: number[]) =>
      idx.sort((i, j) => {
        for (const k of keys) {
          const d = compareCells(rows[i]![k]!, rows[j]![k]!);
          if (d !== 0) return sign * d;
        }
        return i - j;
      });
    if (q.order.kind === 'orderByMax' || q.order.kind === 'orderByMin') {
      const groups = by.slice(0, -1);
      const last = by[by.length - 1]!;
      sortBy(groups);
      const kept: number[] = [];
      for (const i of idx) {
        const prev = kept[kept.length - 1];
        if (prev !== undefined && groups.every((k) => compareCells(rows[prev]![k]!, rows[i]![k]!) === 0)) {
          const d = compareCells(rows[i]![last]!, rows[prev]![last]!);
          const better = Number.isNaN(rows[prev]![last] as number) || (q.order.kind === 'orderByMax' ? d > 0 : d < 0);
          if (better && !isMissing(rows[i]![last]!)) kept[kept.length - 1] = i;
        } else kept.push(i);
      }
      idx = kept;
    } else if (q.order.kind === 'orderByClosest') {
      sortBy(by);
      idx = closestRows(idx, rows, by.slice(0, -1), by[by.length - 1]!, q.order.interval!);
    } else sortBy(by);
  }
  return { rows: idx.map((i) => rows[i]!), features: idx.map((i) => all.features[i]!) };
}
