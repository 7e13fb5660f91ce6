/**
 * numcodecs codecs for Zarr v2 chunks. zlib and gzip use Node's asynchronous zlib, so chunks are
 * inflated on the libuv thread pool in parallel. Blosc (the zarr-python and xarray default, used for
 * coordinate arrays) is decoded here in plain JS for its lz4 and zlib inner codecs with byte shuffle
 * or none: the other blosc inner codecs (blosclz, lz4hc is lz4, snappy, zstd), bit shuffle and
 * stand-alone zstd/lz4/bz2 compressors are refused with UnsupportedFilterError.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { CodecConfig } from './metadata.js';

const inflate = promisify(zlib.inflate);
const unzip = promisify(zlib.unzip);

/**
 * A chunk uses a codec, dtype or layout this reader cannot decode (the store itself is fine). Named like
 * the HDF5 reader's error so the API maps both to the same "data source" answer.
 */
export class UnsupportedFilterError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly dataset: string,
    readonly codec: string,
  ) {
    super(message);
    this.name = 'UnsupportedFilterError';
  }
}

/** A codec failed on the bytes of one chunk: the caller names the store, array and chunk key. */
export class CodecError extends Error {}

const SUPPORTED_COMPRESSORS = new Set(['zlib', 'gzip', 'blosc']);
const SUPPORTED_FILTERS = new Set(['shuffle', 'delta']);

/** Why a compressor or filter list cannot be decoded here, or undefined when it can. */
export function unsupportedCodec(compressor: CodecConfig | null, filters: CodecConfig[]): string | undefined {
  if (compressor && !SUPPORTED_COMPRESSORS.has(compressor.id)) {
    return `compressor "${compressor.id}" is not supported (supported: zlib, gzip, blosc with lz4 or zlib)`;
  }
  if (compressor?.id === 'blosc') {
    const cname = compressor['cname'];
    if (cname !== undefined && !['lz4', 'lz4hc', 'zlib'].includes(String(cname))) {
      return `blosc with inner codec "${String(cname)}" is not supported (supported: lz4, lz4hc, zlib)`;
    }
    if (compressor['shuffle'] === 2) return 'blosc with bit shuffle is not supported';
  }
  for (const f of filters) {
    if (!SUPPORTED_FILTERS.has(f.id)) return `filter "${f.id}" is not supported (supported: shuffle, delta)`;
    if (f.id === 'delta') {
      const dtype = String(f['dtype'] ?? '');
      const astype = String(f['astype'] ?? dtype);
      if (!/^[<>|]?[iuf][1248]$/.test(dtype)) return `delta filter on dtype "${dtype}" is not supported`;
      if (astype !== dtype)
        return `delta filter with astype "${astype}" different from dtype "${dtype}" is not supported`;
    }
  }
  return undefined;
}

/** Undoes the compressor. The result is a fresh buffer the caller may modify. */
export async function decompress(compressor: CodecConfig | null, bytes: Uint8Array): Promise<Uint8Array> {
  if (!compressor) return bytes;
  try {
    switch (compressor.id) {
      case 'zlib':
        return new Uint8Array(await inflate(bytes));
      case 'gzip':
        // numcodecs' GZip writes a gzip member; unzip also accepts the zlib streams some writers used.
        return new Uint8Array(await unzip(bytes));
      case 'blosc':
        return bloscDecompress(bytes);
      default:
        throw new CodecError(`compressor "${compressor.id}" is not supported`);
    }
  } catch (err) {
    if (err instanceof CodecError) throw err;
    throw new CodecError(`${compressor.id} decompression failed: ${(err as Error).message}`);
  }
}

/** Undoes the filters, last first. `itemBytes` is the stored element size. */
export function unfilter(filters: CodecConfig[], bytes: Uint8Array, itemBytes: number, bigEndian: boolean): Uint8Array {
  let out = bytes;
  for (let i = filters.length - 1; i >= 0; i--) {
    const f = filters[i]!;
    if (f.id === 'shuffle') {
      const size = typeof f['elementsize'] === 'number' ? f['elementsize'] : itemBytes;
      out = unshuffle(out, size);
    } else if (f.id === 'delta') {
      out = undelta(f, out, bigEndian);
    } else {
      throw new CodecError(`filter "${f.id}" is not supported`);
    }
  }
  return out;
}

/** Byte unshuffle (numcodecs Shuffle and blosc): byte j of every element was stored together. */
function unshuffle(src: Uint8Array, typeSize: number): Uint8Array {
  if (typeSize <= 1) return src;
  const n = Math.floor(src.length / typeSize);
  const out = new Uint8Array(src.length);
  for (let j = 0; j < typeSize; j++) {
    const base = j * n;
    for (let i = 0; i < n; i++) out[i * typeSize + j] = src[base + i]!;
  }
  // Bytes past the last whole element are stored unshuffled.
  out.set(src.subarray(n * typeSize), n * typeSize);
  return out;
}

/** numcodecs Delta: values are differences from the previous one; decoding is a running sum in the stored type. */
function undelta(f: CodecConfig, src: Uint8Array, bigEndian: boolean): Uint8Array {
  const dtype = String(f['dtype'] ?? '');
  const astype = String(f['astype'] ?? dtype);
  if (dtype !== astype)
    throw new CodecError(`delta filter with astype ${astype} different from dtype ${dtype} is not supported`);
  const m = /^[<>|]?([iuf])(\d)$/.exec(dtype);
  if (!m) throw new CodecError(`delta filter on dtype ${dtype} is not supported`);
  const kind = m[1]!;
  const size = Number(m[2]);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const le = !bigEndian && !dtype.startsWith('>');
  const n = Math.floor(src.length / size);
  if (kind === 'f') {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const o = i * size;
      if (size === 4) {
        acc = Math.fround(acc + view.getFloat32(o, le));
        view.setFloat32(o, acc, le);
      } else {
        acc += view.getFloat64(o, le);
        view.setFloat64(o, acc, le);
      }
    }
    return src;
  }
  let acc = 0n;
  const bits = BigInt(size * 8);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    // Integer arithmetic wraps like numpy's: sums are kept modulo 2^bits and written back as unsigned.
    let v: bigint;
    if (size === 1) v = BigInt(view.getUint8(o));
    else if (size === 2) v = BigInt(view.getUint16(o, le));
    else if (size === 4) v = BigInt(view.getUint32(o, le));
    else v = view.getBigUint64(o, le);
    acc = BigInt.asUintN(Number(bits), acc + v);
    if (size === 1) view.setUint8(o, Number(acc));
    else if (size === 2) view.setUint16(o, Number(acc), le);
    else if (size === 4) view.setUint32(o, Number(acc), le);
    else view.setBigUint64(o, acc, le);
  }
  return src;
}

// ---- blosc 1 -------------------------------------------------------------------------------

const BLOSC_DOSHUFFLE = 0x1;
const BLOSC_MEMCPYED = 0x2;
const BLOSC_DOBITSHUFFLE = 0x4;
const BLOSC_DONT_SPLIT = 0x10;
const BLOSC_FORMATS = ['blosclz', 'lz4', 'snappy', 'zlib', 'zstd'];

/**
 * A blosc 1 frame: 16-byte header (version, versionlz, flags, typesize, nbytes, blocksize, cbytes),
 * then either the raw bytes (memcpyed) or a table of block starts and, per block, one or `typesize`
 * compressed streams, each prefixed by its compressed length; shuffled blocks are unshuffled one by one.
 */
export function bloscDecompress(src: Uint8Array): Uint8Array {
  if (src.length < 16) throw new CodecError(`blosc frame of ${src.length} bytes is shorter than its header`);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const flags = src[2]!;
  const typeSize = src[3]!;
  const nbytes = view.getUint32(4, true);
  const blockSize = view.getUint32(8, true);
  const cbytes = view.getUint32(12, true);
  if (cbytes > src.length) throw new CodecError(`blosc frame says ${cbytes} bytes but has ${src.length}`);
  const out = new Uint8Array(nbytes);
  if (flags & BLOSC_MEMCPYED) {
    if (16 + nbytes > src.length) throw new CodecError('blosc memcpyed frame is truncated');
    out.set(src.subarray(16, 16 + nbytes));
    return out;
  }
  if (nbytes === 0) return out;
  if (flags & BLOSC_DOBITSHUFFLE && typeSize > 1) throw new CodecError('blosc bit shuffle is not supported');
  const format = BLOSC_FORMATS[(flags >> 5) & 0x7] ?? `format ${(flags >> 5) & 0x7}`;
  if (format !== 'lz4' && format !== 'zlib') throw new CodecError(`blosc inner codec "${format}" is not supported`);
  if (blockSize === 0) throw new CodecError('blosc frame has a block size of 0');
  const nblocks = Math.ceil(nbytes / blockSize);
  const leftover = nbytes % blockSize;
  const shuffled = (flags & BLOSC_DOSHUFFLE) !== 0 && typeSize > 1;
  const dontSplit = (flags & BLOSC_DONT_SPLIT) !== 0;
  for (let b = 0; b < nblocks; b++) {
    const isLeftover = b === nblocks - 1 && leftover > 0;
    const bsize = isLeftover ? leftover : blockSize;
    let pos = view.getUint32(16 + 4 * b, true);
    const nsplits = !dontSplit && !isLeftover && typeSize <= 16 && bsize / typeSize >= 128 ? typeSize : 1;
    const splitBytes = Math.floor(bsize / nsplits);
    const block = shuffled ? new Uint8Array(bsize) : out.subarray(b * blockSize, b * blockSize + bsize);
    for (let s = 0; s < nsplits; s++) {
      if (pos + 4 > src.length) throw new CodecError(`blosc block ${b} is truncated`);
      const clen = view.getInt32(pos, true);
      pos += 4;
      if (clen < 0 || pos + clen > src.length) throw new CodecError(`blosc block ${b} has a bad stream length ${clen}`);
      const dest = block.subarray(s * splitBytes, (s + 1) * splitBytes);
      const stream = src.subarray(pos, pos + clen);
      if (clen === splitBytes) dest.set(stream);
      else if (format === 'lz4') {
        const got = lz4DecompressBlock(stream, dest);
        if (got !== splitBytes) throw new CodecError(`blosc block ${b}: lz4 gave ${got} bytes, expected ${splitBytes}`);
      } else {
        const inflated = zlib.inflateSync(stream);
        if (inflated.length !== splitBytes)
          throw new CodecError(`blosc block ${b}: zlib gave ${inflated.length} bytes, expected ${splitBytes}`);
        dest.set(inflated);
      }
      pos += clen;
    }
    if (shuffled) out.set(unshuffle(block, typeSize), b * blockSize);
  }
  return out;
}

/** LZ4 block format (no frame) into `dest`; returns the bytes written. */
export function lz4DecompressBlock(src: Uint8Array, dest: Uint8Array): number {
  let ip = 0;
  let op = 0;
  const end = src.length;
  while (ip < end) {
    const token = src[ip++]!;
    let literals = token >> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw new CodecError('lz4 stream ends inside a literal length');
        b = src[ip++]!;
        literals += b;
      } while (b === 255);
    }
    if (ip + literals > end || op + literals > dest.length)
      throw new CodecError('lz4 literals run past the stream or the output');
    dest.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip >= end) break; // the last sequence has literals only
    if (ip + 2 > end) throw new CodecError('lz4 stream ends inside a match offset');
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new CodecError(`lz4 match offset ${offset} is outside the output`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (ip >= end) throw new CodecError('lz4 stream ends inside a match length');
        b = src[ip++]!;
        length += b;
      } while (b === 255);
    }
    length += 4;
    if (op + length > dest.length) throw new CodecError('lz4 match runs past the output');
    let from = op - offset;
    if (offset >= length) {
      dest.copyWithin(op, from, from + length);
      op += length;
    } else {
      // Overlapping match: repeats the last `offset` bytes, so copy byte by byte.
      for (let k = 0; k < length; k++) dest[op++] = dest[from++]!;
    }
  }
  return op;
}
