/**
 * What the OPeNDAP tests share: Debian's netCDF-C clients (python3-netCDF4 and xarray, through
 * client_check.py and insitu_check.py, which compare through dap_compare.py) run against a listening
 * server in a child process while this one serves them (a synchronous spawn would block the server),
 * and a small daily folder aggregated along time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNetcdf3, type NcFileDef } from '../../src/encoders/netcdf3/writer.js';

const PY = '/usr/bin/python3';
const HERE = dirname(fileURLToPath(import.meta.url));

export const haveClients = spawnSync(PY, ['-c', 'import netCDF4, xarray'], { encoding: 'utf8' }).status === 0;

export interface ClientResult {
  client: string;
  url: string;
  variable: string;
  slices?: number[][];
  ok: boolean;
  why: string;
}

/** Runs a checker of this folder (client_check.py for grids, insitu_check.py for DSG arrays) over the cases. */
export async function runClients(cases: object[], script = 'client_check.py'): Promise<ClientResult[]> {
  const child = spawn(PY, [join(HERE, script)], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 300_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(JSON.stringify(cases));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (status !== 0) throw new Error(`client check failed (${status}): ${stderr}`);
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ClientResult);
}

async function write(path: string, def: NcFileDef, data: Record<string, ArrayLike<number>>): Promise<void> {
  const parts: Uint8Array[] = [];
  for await (const chunk of writeNetcdf3(def, (name) => (data[name] ? [data[name]!] : undefined))) parts.push(chunk);
  await writeFile(path, Buffer.concat(parts));
}

/** Three daily files (written out of order), a packed i2 field with a fill and an unsigned-byte field: one DAP2 dataset. */
export async function makeDaily(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const [name, day] of [
    ['b.nc', 0],
    ['a.nc', 1],
    ['c.nc', 2],
  ] as const) {
    const path = join(dir, name);
    await write(
      path,
      {
        dims: [
          { name: 'time', size: 1 },
          { name: 'lat', size: 5 },
          { name: 'lon', size: 7 },
        ],
        variables: [
          {
            name: 'time',
            type: 'f8',
            dims: ['time'],
            attrs: { units: 'days since 2020-01-01', standard_name: 'time' },
          },
          { name: 'lat', type: 'f4', dims: ['lat'], attrs: { units: 'degrees_north' } },
          { name: 'lon', type: 'f4', dims: ['lon'], attrs: { units: 'degrees_east' } },
          {
            name: 'chl',
            type: 'i2',
            dims: ['time', 'lat', 'lon'],
            attrs: { units: 'mg m-3', scale_factor: 0.01, _FillValue: { type: 'i2', value: -1 } },
          },
          {
            name: 'flag',
            type: 'i1',
            dims: ['time', 'lat', 'lon'],
            attrs: { _Unsigned: 'true', _FillValue: { type: 'i1', value: -1 } },
          },
        ],
      },
      {
        time: [day],
        lat: [10, 11, 12, 13, 14],
        lon: [20, 21, 22, 23, 24, 25, 26],
        chl: Int16Array.from({ length: 35 }, (_, k) => (k === 5 ? -1 : 100 * day + k)),
        flag: Int8Array.from({ length: 35 }, (_, k) => (k === 7 ? -1 : ((k * 9 + day) % 250) - 120)),
      },
    );
    files[day] = path;
  }
  return files;
}
