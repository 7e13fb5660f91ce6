/**
 * The demo data `odas serve --demo` (and so `npm start`) serves on a fresh clone: small synthetic
 * files, generated with our own NetCDF-3 writer, that follow the real conventions (Argo user manual
 * `_prof.nc` layout, CF grids, CF DSG timeSeries) so discovery classifies them like real data.
 *
 * Every value comes from a seeded PRNG and fixed formulas: the files are byte-identical on every run
 * (V8's Math.exp/log/sin/cos are fdlibm ports, identical across platforms).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { threadId } from 'node:worker_threads';
import { ncLayout, writeNetcdf3 } from '../encoders/netcdf3/writer.js';
import { argoProfiles } from './argo.js';
import { mooringTimeSeries } from './mooring.js';
import type { DemoDataset } from './shared.js';
import { sstGrid } from './sst-grid.js';

/** Paths of the demo files, relative to the demo folder. */
export const DEMO_FILES = [
  'argo/6900001_prof.nc',
  'gridded/demo_sst_monthly.nc',
  'moorings/demo_mooring_timeseries.nc',
] as const;

const BUILDERS: Record<(typeof DEMO_FILES)[number], () => DemoDataset> = {
  'argo/6900001_prof.nc': argoProfiles,
  'gridded/demo_sst_monthly.nc': sstGrid,
  'moorings/demo_mooring_timeseries.nc': mooringTimeSeries,
};

/**
 * Writes the demo files under `dir` unless they are already there, and returns their absolute paths.
 * A file whose size differs from the expected one (an interrupted write, an older generator) is
 * rewritten. Files are written to a hidden temporary name and renamed, so a concurrent server scan
 * or a second generator never sees a partial file.
 */
export async function generateDemoData(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const rel of DEMO_FILES) {
    const path = join(dir, rel);
    const dataset = BUILDERS[rel]();
    if ((await sizeOf(path)) !== ncLayout(dataset.def).totalSize) await writeAtomically(path, dataset);
    paths.push(path);
  }
  return paths;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

let tmpCounter = 0;

async function writeAtomically(path: string, { def, values }: DemoDataset): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${threadId}-${tmpCounter++}.tmp`);
  try {
    const bytes = writeNetcdf3(def, (name) => (values[name] === undefined ? undefined : [values[name]]));
    await pipeline(Readable.from(bytes), createWriteStream(tmp));
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
