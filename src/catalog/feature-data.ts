import { join } from 'node:path';
import { DecodedReader } from '../cf/read.js';
import { findAxis } from '../cf/axes.js';
import { DataSourceError } from '../core/errors.js';
import { faithfulNumber } from '../core/number-text.js';
import { OpenReaders } from '../readers/shared.js';
import type { Collection } from './collection.js';
import { isoOrNull } from './extract/common.js';
import type { FeatureRecord } from './feature.js';

interface DataColumn {
  name: string;
  units?: string;
  values: Array<number | string | null>;
}

/** Per-level (profile) or per-observation (trajectory, time series) values of one feature. */
export interface FeatureData {
  /** What one row is: a level of a profile or an observation in time. */
  rowKind: 'level' | 'observation';
  columns: DataColumn[];
}

function toColumn(name: string, values: Float64Array, units?: string): DataColumn {
  const out: Array<number | null> = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? faithfulNumber(v) : null;
  }
  return { name, ...(units ? { units } : {}), values: out };
}

/**
 * The in-situ files features are read from, kept open between requests: a single profile is a few
 * reads from a parsed header and cached blocks rather than a dozen file operations to open it anew.
 */
const featureFiles = new OpenReaders({ max: 16 });

/** Read one feature's measurements from its file: only the rows of that profile or station. */
export async function readFeatureData(c: Collection, r: FeatureRecord): Promise<FeatureData> {
  let reader;
  try {
    reader = await featureFiles.lease(join(c.root, r.source.file));
  } catch (err) {
    throw new DataSourceError(c.id, (err as Error).message);
  }
  try {
    const data = await DecodedReader.of(reader);
    const info = await reader.info();
    const i = r.source.index;
    const columns: DataColumn[] = [];
    if (c.kind === 'profile') {
      const win = { N_PROF: [i, i + 1] as [number, number] };
      for (const p of c.parameters) {
        columns.push(toColumn(p.name, await data.numbers(p.name, win), p.units));
        const adj = `${p.name}_ADJUSTED`;
        if (data.has(adj)) columns.push(toColumn(adj, await data.numbers(adj, win), p.units));
        const qc = `${p.name}_QC`;
        if (data.has(qc)) {
          const [flags] = await data.strings(qc, win, false);
          columns.push({ name: qc, values: Array.from(flags ?? '', (ch) => (ch.trim() ? ch : null)) });
        }
      }
      // Drop trailing levels where every parameter is missing (N_LEVELS is the maximum over all profiles).
      let last = 0;
      for (const col of columns)
        col.values.forEach((v, k) => {
          if (v !== null && !col.name.endsWith('_QC')) last = Math.max(last, k + 1);
        });
      for (const col of columns) col.values = col.values.slice(0, last);
      return { rowKind: 'level', columns };
    }
    const time = findAxis(info, 'time');
    if (!time) return { rowKind: 'observation', columns };
    const timeDim = time.dims[0]!;
    const times = await data.times(time.name);
    columns.push({ name: 'time', values: Array.from(times, (t) => isoOrNull(t)) });
    if (c.kind === 'trajectory') {
      const lat = findAxis(info, 'lat');
      const lon = findAxis(info, 'lon');
      if (lat && lon && lat.dims[0] === timeDim) {
        columns.push(toColumn('latitude', await data.numbers(lat.name), 'degrees_north'));
        columns.push(toColumn('longitude', await data.numbers(lon.name), 'degrees_east'));
      }
    }
    for (const p of c.parameters) {
      const v = data.variable(p.name);
      if (!v) continue;
      const win =
        v.dims.length === 2
          ? { [v.dims[0] === timeDim ? v.dims[1]! : v.dims[0]!]: [i, i + 1] as [number, number] }
          : undefined;
      columns.push(toColumn(p.name, await data.numbers(p.name, win), p.units));
    }
    return { rowKind: 'observation', columns };
  } catch (err) {
    if (err instanceof DataSourceError) throw err;
    throw new DataSourceError(c.id, `${r.source.file}: ${(err as Error).message}`);
  } finally {
    await reader.close().catch(() => undefined);
  }
}
