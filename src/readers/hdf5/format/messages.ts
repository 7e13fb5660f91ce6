/**
 * Decoders of the header messages that chunk-direct reading needs: dataspace, datatype, fill value,
 * data layout and filter pipeline (HDF5 file format specification, section IV.A.2).
 */
import { Cursor, FormatError, type Widths } from './cursor.js';

export interface Dataspace {
  shape: number[];
  /** Maximum dimensions (Infinity for unlimited); equal to `shape` when the message has none. */
  maxShape: number[];
}

export function decodeDataspace(body: Uint8Array, widths: Widths): Dataspace {
  const c = new Cursor(body, widths);
  const version = c.u8();
  const rank = c.u8();
  const flags = c.u8();
  if (version === 1) c.skip(5);
  else if (version === 2)
    c.skip(1); // type: scalar / simple / null
  else throw new FormatError(`dataspace message version ${version}`);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(c.length());
  if (!(flags & 0x01)) return { shape, maxShape: [...shape] };
  const maxShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const raw = c.take(widths.lengthSize);
    maxShape.push(raw.every((b) => b === 0xff) ? Infinity : new Cursor(raw, widths).length());
  }
  return { shape, maxShape };
}

type NumericKind = 'int' | 'uint' | 'float' | 'char';

export interface Datatype {
  kind: NumericKind;
  /** Bytes per element. */
  size: number;
  littleEndian: boolean;
}

/** Fixed-point, IEEE float and one-byte fixed strings (NetCDF NC_CHAR); anything else is undefined. */
export function decodeDatatype(body: Uint8Array, widths: Widths): Datatype | undefined {
  const c = new Cursor(body, widths);
  const classVersion = c.u8();
  const cls = classVersion & 0x0f;
  const bits0 = c.u8();
  c.skip(2);
  const size = c.u32();
  if (cls === 0) {
    if (![1, 2, 4, 8].includes(size)) return undefined;
    // Values packed in fewer bits than the element (bit offset / precision) need HDF5's conversion.
    const offset = c.u16();
    const precision = c.u16();
    if (offset !== 0 || precision !== size * 8) return undefined;
    return { kind: bits0 & 0x08 ? 'int' : 'uint', size, littleEndian: (bits0 & 0x01) === 0 };
  }
  if (cls === 1) {
    // Bit 6 with bit 0 is VAX byte order: nobody writes it, and it is not a plain swap.
    if (bits0 & 0x40 || (size !== 4 && size !== 8)) return undefined;
    const offset = c.u16();
    const precision = c.u16();
    if (offset !== 0 || precision !== size * 8) return undefined;
    return { kind: 'float', size, littleEndian: (bits0 & 0x01) === 0 };
  }
  if (cls === 3 && size === 1) return { kind: 'char', size, littleEndian: true };
  return undefined;
}

/**
 * The fill value's bytes in the dataset's own byte order, or undefined when none is defined (HDF5
 * then fills unallocated storage with zeros).
 */
export function decodeFillValue(body: Uint8Array, widths: Widths): Uint8Array | undefined {
  const c = new Cursor(body, widths);
  const version = c.u8();
  if (version === 1 || version === 2) {
    c.skip(2); // allocation time, fill write time
    const defined = c.u8();
    if (version === 2 && !defined) return undefined;
    if (c.remaining < 4) return undefined;
    const size = c.u32();
    return defined && size > 0 ? c.take(size) : undefined;
  }
  if (version === 3) {
    const flags = c.u8();
    if (!(flags & 0x20)) return undefined;
    const size = c.u32();
    return size > 0 ? c.take(size) : undefined;
  }
  throw new FormatError(`fill value message version ${version}`);
}

/** The deprecated fill value message (type 4), still written by old libraries next to the new one. */
export function decodeOldFillValue(body: Uint8Array, widths: Widths): Uint8Array | undefined {
  const c = new Cursor(body, widths);
  const size = c.u32();
  return size > 0 ? c.take(size) : undefined;
}

type ChunkIndexKind = 'btree1' | 'single' | 'implicit' | 'fixed-array' | 'extensible-array' | 'btree2';

export type Layout =
  | { kind: 'compact' }
  | { kind: 'contiguous'; address: number; size: number }
  | {
      kind: 'chunked';
      version: number;
      /** Chunk shape in elements (without HDF5's trailing element-size dimension). */
      chunkShape: number[];
      index: ChunkIndexKind;
      address: number;
      /** Layout v4: edge chunks are stored unfiltered (flag bit 0). */
      unfilteredEdges: boolean;
      /** Single-chunk index of a filtered dataset: the chunk's stored size and filter mask. */
      singleSize?: number;
      singleMask?: number;
      /** Fixed-array index: log2 of the elements per data block page. */
      pageBits?: number;
    }
  | { kind: 'other'; detail: string };

const INDEX_KINDS: Record<number, ChunkIndexKind> = {
  1: 'single',
  2: 'implicit',
  3: 'fixed-array',
  4: 'extensible-array',
  5: 'btree2',
};

export function decodeLayout(body: Uint8Array, widths: Widths): Layout {
  const c = new Cursor(body, widths);
  const version = c.u8();
  if (version < 3) return { kind: 'other', detail: `data layout message version ${version}` };
  if (version > 4) throw new FormatError(`data layout message version ${version}`);
  const cls = c.u8();
  if (cls === 0) return { kind: 'compact' };
  if (cls === 1) return { kind: 'contiguous', address: c.address(), size: c.length() };
  if (cls === 3) return { kind: 'other', detail: 'virtual dataset' };
  if (cls !== 2) throw new FormatError(`data layout class ${cls}`);
  if (version === 3) {
    const ndims = c.u8();
    const address = c.address();
    const dims: number[] = [];
    for (let i = 0; i < ndims; i++) dims.push(c.u32());
    return {
      kind: 'chunked',
      version,
      chunkShape: dims.slice(0, -1),
      index: 'btree1',
      address,
      unfilteredEdges: false,
    };
  }
  const flags = c.u8();
  const ndims = c.u8();
  const encoded = c.u8();
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(c.uint(encoded));
  const indexType = c.u8();
  const index = INDEX_KINDS[indexType];
  if (!index) throw new FormatError(`chunk index type ${indexType}`);
  const layout: Layout = {
    kind: 'chunked',
    version,
    chunkShape: dims.slice(0, -1),
    index,
    address: -1,
    unfilteredEdges: (flags & 0x01) !== 0,
  };
  if (index === 'single' && flags & 0x02) {
    layout.singleSize = c.length();
    layout.singleMask = c.u32();
  } else if (index === 'fixed-array') {
    layout.pageBits = c.u8();
  } else if (index === 'extensible-array') {
    c.skip(5);
  } else if (index === 'btree2') {
    c.skip(6);
  }
  layout.address = c.address();
  return layout;
}

export interface FilterSpec {
  /** HDF5 filter id: 1 deflate, 2 shuffle, 3 fletcher32, others registered with The HDF Group. */
  id: number;
  /** Bit 0: optional (may have been skipped for a chunk, recorded in its filter mask). */
  flags: number;
  /** Client data values (deflate: level; shuffle: element size). */
  values: number[];
}

export function decodeFilters(body: Uint8Array, widths: Widths): FilterSpec[] {
  const c = new Cursor(body, widths);
  const version = c.u8();
  const count = c.u8();
  if (version === 1) c.skip(6);
  else if (version !== 2) throw new FormatError(`filter pipeline message version ${version}`);
  const filters: FilterSpec[] = [];
  for (let i = 0; i < count; i++) {
    const id = c.u16();
    const nameLength = version === 1 || id >= 256 ? c.u16() : 0;
    const flags = c.u16();
    const nValues = c.u16();
    if (version === 1) c.skip(Math.ceil(nameLength / 8) * 8);
    else c.skip(nameLength);
    const values: number[] = [];
    for (let k = 0; k < nValues; k++) values.push(c.u32());
    if (version === 1 && nValues % 2 === 1) c.skip(4);
    filters.push({ id, flags, values });
  }
  return filters;
}
