/**
 * Chunk manifests: where every stored chunk of a dataset lies in the file, with the filter pipeline
 * and element layout needed to decode it without HDF5 (the kerchunk / virtual-Zarr idea). A manifest
 * is plain JSON so the catalog can persist it; it is keyed by the file's path, size and mtime so a
 * rewritten file is never read with stale offsets.
 */
import type { DType } from '../types.js';
import { readChunkIndex, NotCoveredError } from './format/chunk-index.js';
import { FormatError, UNDEFINED_ADDRESS, type ReadAt } from './format/cursor.js';
import {
  decodeDataspace,
  decodeDatatype,
  decodeFillValue,
  decodeFilters,
  decodeLayout,
  decodeOldFillValue,
  type Datatype,
} from './format/messages.js';
import {
  MSG_DATASPACE,
  MSG_DATATYPE,
  MSG_EXTERNAL_FILES,
  MSG_FILL,
  MSG_FILL_OLD,
  MSG_FILTERS,
  MSG_LAYOUT,
  readObjectHeader,
} from './format/object-header.js';
import { readSuperblock } from './format/superblock.js';
import { COVERED_FILTERS } from './filters.js';

const MANIFEST_VERSION = 1 as const;

/** A dataset that chunk-direct reading covers. Every address is an absolute file offset. */
export interface ChunkManifest {
  covered: true;
  version: typeof MANIFEST_VERSION;
  storage: 'chunked' | 'contiguous';
  dtype: DType;
  /** Bytes per element. */
  itemSize: number;
  littleEndian: boolean;
  /** Dataset shape when the manifest was taken. */
  shape: number[];
  /** Chunk shape in elements; for contiguous storage, the dataset shape. */
  chunkShape: number[];
  /** Filter pipeline in write order (reading undoes it backwards); ids 1 deflate, 2 shuffle, 3 fletcher32. */
  filters: Array<{ id: number; values: number[] }>;
  /** Fill value bytes in the dataset's byte order, or null: unallocated storage then reads as zeros. */
  fill: number[] | null;
  /** Chunk-grid coordinates of stored chunk k at [k * rank, (k + 1) * rank). */
  coords: number[];
  /** File offset, stored bytes and filter mask (bit i: filter i skipped) of stored chunk k. */
  offsets: number[];
  sizes: number[];
  masks: number[];
}

/** A dataset chunk-direct reading does not cover, and why (layout, filter, type…): h5wasm reads it. */
interface ManifestMiss {
  covered: false;
  reason: string;
}

export type ManifestOrMiss = ChunkManifest | ManifestMiss;

/**
 * Persistence hook for manifests. `fileKey` is `${path}:${size}:${mtimeMs}` (as FileSource.key):
 * a file that changes gets a new key, so an entry can never describe other bytes than the file's.
 * `variable` is the HDF5 path of the dataset (e.g. "/sst").
 */
export interface ManifestStore {
  get(fileKey: string, variable: string): ManifestOrMiss | undefined;
  put(fileKey: string, variable: string, manifest: ManifestOrMiss): void;
}

/** Default store: in memory, least recently used out first, bounded by the chunks it describes. */
export class MemoryManifestStore implements ManifestStore {
  private readonly entries = new Map<string, ManifestOrMiss>();
  private chunks = 0;

  /** @param maxChunks chunk entries kept in all (about 40 bytes each). */
  constructor(private readonly maxChunks = 500_000) {}

  get(fileKey: string, variable: string): ManifestOrMiss | undefined {
    const key = `${fileKey}\n${variable}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  put(fileKey: string, variable: string, manifest: ManifestOrMiss): void {
    const key = `${fileKey}\n${variable}`;
    this.drop(key);
    this.entries.set(key, manifest);
    this.chunks += weight(manifest);
    while (this.chunks > this.maxChunks && this.entries.size > 1) this.drop(this.entries.keys().next().value!);
  }

  private drop(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.chunks -= weight(old);
  }
}

function weight(m: ManifestOrMiss): number {
  return m.covered ? m.offsets.length + 1 : 1;
}

function dtypeOf(t: Datatype): DType {
  if (t.kind === 'char') return 'char';
  if (t.kind === 'float') return t.size === 4 ? 'f4' : 'f8';
  return `${t.kind === 'int' ? 'i' : 'u'}${t.size}` as DType;
}

const miss = (reason: string): ManifestMiss => ({ covered: false, reason });

/**
 * Takes the manifest of the dataset whose object header is at `objectAddress` (relative to the
 * superblock's base address, as HDF5 object references store it). Structures this parser does not
 * cover give a ManifestMiss with the reason; so does a structure that does not parse (h5wasm, the
 * fallback, then reports what is wrong with the file).
 */
export async function buildManifest(readAt: ReadAt, fileSize: number, objectAddress: number): Promise<ManifestOrMiss> {
  try {
    return await build(readAt, fileSize, objectAddress);
  } catch (err) {
    if (err instanceof NotCoveredError) return miss(err.reason);
    if (err instanceof FormatError) return miss(`HDF5 structure not parsed: ${err.message}`);
    throw err;
  }
}

async function build(readAt: ReadAt, fileSize: number, objectAddress: number): Promise<ManifestOrMiss> {
  const sb = await readSuperblock(readAt, fileSize);
  if (![2, 4, 8].includes(sb.offsetSize) || ![2, 4, 8].includes(sb.lengthSize)) {
    return miss(`address widths ${sb.offsetSize}/${sb.lengthSize}`);
  }
  const messages = await readObjectHeader(readAt, sb, sb.baseAddress + objectAddress, sb.baseAddress);
  const find = (type: number) => messages.find((m) => m.type === type);
  const space = find(MSG_DATASPACE);
  const type = find(MSG_DATATYPE);
  const layoutMsg = find(MSG_LAYOUT);
  if (!space || !type || !layoutMsg) return miss('not a dataset object header');
  // Raw data in other files: the layout's own address is then undefined, not "unallocated".
  if (find(MSG_EXTERNAL_FILES)) return miss('external data files');
  for (const m of [space, type, layoutMsg, find(MSG_FILTERS), find(MSG_FILL)]) {
    if (m && m.flags & 0x02) return miss('shared header message (committed datatype or shared pipeline)');
  }
  const { shape, maxShape } = decodeDataspace(space.body, sb);
  if (shape.length === 0) return miss('scalar dataset');
  const datatype = decodeDatatype(type.body, sb);
  if (!datatype) return miss('datatype other than integer, IEEE float or single char');
  const layout = decodeLayout(layoutMsg.body, sb);
  const filtersMsg = find(MSG_FILTERS);
  const filters = filtersMsg ? decodeFilters(filtersMsg.body, sb) : [];
  const unsupported = filters.find((f) => !COVERED_FILTERS.has(f.id));
  if (unsupported) return miss(`HDF5 filter ${unsupported.id} is not decoded natively`);
  const fillMsg = find(MSG_FILL);
  const oldFill = find(MSG_FILL_OLD);
  const fillBytes = fillMsg
    ? decodeFillValue(fillMsg.body, sb)
    : oldFill
      ? decodeOldFillValue(oldFill.body, sb)
      : undefined;
  if (fillBytes && fillBytes.length !== datatype.size)
    return miss(`fill value of ${fillBytes.length} bytes for ${datatype.size}-byte elements`);
  const base = {
    covered: true as const,
    version: MANIFEST_VERSION,
    dtype: dtypeOf(datatype),
    itemSize: datatype.size,
    littleEndian: datatype.littleEndian,
    shape,
    fill: fillBytes ? Array.from(fillBytes) : null,
  };
  if (layout.kind === 'contiguous') {
    if (filters.length > 0) return miss('filters on contiguous storage');
    const stored = layout.address !== UNDEFINED_ADDRESS;
    const rank = shape.length;
    return {
      ...base,
      storage: 'contiguous',
      chunkShape: [...shape],
      filters: [],
      coords: stored ? new Array<number>(rank).fill(0) : [],
      offsets: stored ? [sb.baseAddress + layout.address] : [],
      sizes: stored ? [layout.size] : [],
      masks: stored ? [0] : [],
    };
  }
  if (layout.kind === 'compact') return miss('compact layout (data inside the object header)');
  if (layout.kind === 'other') return miss(layout.detail);
  if (layout.chunkShape.length !== shape.length) throw new FormatError('chunk rank differs from dataset rank');
  if (layout.unfilteredEdges && filters.length > 0) return miss('partial edge chunks stored unfiltered');
  const stored = await readChunkIndex(layout, {
    readAt,
    widths: sb,
    base: sb.baseAddress,
    shape,
    maxShape,
    itemSize: datatype.size,
  });
  const coords: number[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  const masks: number[] = [];
  for (const ch of stored) {
    if (ch.address + ch.size > fileSize)
      throw new FormatError(`chunk at ${ch.address} (${ch.size} bytes) past the end of the file`);
    coords.push(...ch.coords);
    offsets.push(ch.address);
    sizes.push(ch.size);
    masks.push(ch.mask);
  }
  return {
    ...base,
    storage: 'chunked',
    chunkShape: layout.chunkShape,
    filters: filters.map((f) => ({ id: f.id, values: f.values })),
    coords,
    offsets,
    sizes,
    masks,
  };
}
