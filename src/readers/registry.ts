import { access, open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ByteSource, Reader } from './types.js';
import { CorruptFileError } from './types.js';

export type FileFormat = 'netcdf3' | 'hdf5' | 'geotiff' | 'zarr';

/** Files whose presence makes a directory a Zarr v2 store (consolidated metadata, a group or a single array). */
const ZARR_MARKERS = ['.zmetadata', '.zgroup', '.zarray'] as const;

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format of a file from its first bytes (at least 8 when the file has them). */
export function sniffBytes(head: Uint8Array): FileFormat | undefined {
  if (head.length < 4) return undefined;
  if (head[0] === 0x43 && head[1] === 0x44 && head[2] === 0x46 && [1, 2, 5].includes(head[3]!)) return 'netcdf3';
  if (head.length >= 8 && HDF5_MAGIC.every((b, i) => head[i] === b)) return 'hdf5';
  const tiffLE = head[0] === 0x49 && head[1] === 0x49 && (head[2] === 42 || head[2] === 43) && head[3] === 0;
  const tiffBE = head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && (head[3] === 42 || head[3] === 43);
  if (tiffLE || tiffBE) return 'geotiff';
  return undefined;
}

/**
 * Formats sniffed, per file version (path, size, mtime): every data request opens its reader, and the
 * stat it needs anyway is cheaper than an open, a read and a close on the thread pool.
 */
const sniffed = new Map<string, { version: string; format: FileFormat | undefined }>();
const MAX_SNIFFED = 4096;

/**
 * Identify a file by its first bytes, never by its name: data centres name files freely. A directory is
 * a Zarr store when it holds `.zmetadata`, `.zgroup` or `.zarray`; any other directory is no dataset.
 */
export async function sniffFormat(filePath: string): Promise<FileFormat | undefined> {
  const st = await stat(filePath);
  if (st.isDirectory()) {
    for (const marker of ZARR_MARKERS) if (await exists(path.join(filePath, marker))) return 'zarr';
    return undefined;
  }
  const version = `${st.size}:${st.mtimeMs}`;
  const known = sniffed.get(filePath);
  if (known?.version === version) return known.format;
  const handle = await open(filePath, 'r');
  let format: FileFormat | undefined;
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    format = sniffBytes(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
  if (sniffed.size >= MAX_SNIFFED) sniffed.clear();
  sniffed.set(filePath, { version, format });
  return format;
}

/**
 * Open the right reader for a file (or a Zarr store's directory); the caller owns the reader and
 * must close it. `source` gives the bytes another way (a file already read into memory) for formats
 * read through a ByteSource.
 */
export async function openReader(path: string, format?: FileFormat, source?: ByteSource): Promise<Reader> {
  const fmt = format ?? (await sniffFormat(path));
  switch (fmt) {
    case 'netcdf3': {
      const { openFileSource } = await import('./source/file.js');
      const { openNetcdf3 } = await import('./netcdf3/reader.js');
      source ??= await openFileSource(path);
      try {
        return await openNetcdf3(source, path);
      } catch (err) {
        await source.close();
        throw err;
      }
    }
    case 'hdf5': {
      const { openHdf5 } = await import('./hdf5/reader.js');
      return openHdf5(path);
    }
    case 'geotiff': {
      const { openGeoTiff } = await import('./geotiff/reader.js');
      return openGeoTiff(path);
    }
    case 'zarr': {
      const { openZarr } = await import('./zarr/reader.js');
      return openZarr(path);
    }
    default:
      throw new CorruptFileError(path, 'not a NetCDF-3, NetCDF-4/HDF5 or GeoTIFF file, nor a Zarr v2 store');
  }
}
