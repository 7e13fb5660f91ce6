/**
 * The HDF5 filters chunk-direct reading undoes natively: deflate (id 1) with Node's zlib, whose
 * callback form runs on the libuv thread pool so chunks inflate in parallel on every core; shuffle
 * (id 2); fletcher32 (id 3), verified. Any other filter id is not covered (h5wasm reads those).
 */
import { inflate } from 'node:zlib';

export const FILTER_DEFLATE = 1;
export const FILTER_SHUFFLE = 2;
export const FILTER_FLETCHER32 = 3;
export const COVERED_FILTERS: ReadonlySet<number> = new Set([FILTER_DEFLATE, FILTER_SHUFFLE, FILTER_FLETCHER32]);

/** A chunk whose stored bytes do not decode: the caller names the file and variable. */
export class ChunkDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkDecodeError';
  }
}

export function inflateAsync(data: Uint8Array, expectedBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // A chunk never inflates past its logical size; the bound stops a corrupt stream from ballooning.
    // One output buffer of the chunk's size: the default 16 KiB pieces cost a thread-pool round trip each.
    inflate(
      data,
      { maxOutputLength: Math.max(expectedBytes, 1), chunkSize: Math.max(expectedBytes, 64) },
      (err, out) => {
        if (err) reject(new ChunkDecodeError(`deflate stream does not inflate (${err.message})`));
        else resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      },
    );
  });
}

/** Typed-array stores follow the host's byte order; the 16-bit unshuffle path assumes little endian. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Scratch for unshuffle, grown on demand and reused: one less chunk-sized allocation per chunk. */
let scratch = new Uint8Array(0);

/**
 * Undoes HDF5's shuffle in place: bytes were grouped by significance (all first bytes, then all
 * second bytes…); trailing bytes that do not make a whole element were left where they were.
 * Planes 1… are copied aside; element i is then written at i·size, walking down from the last, which
 * never overwrites a plane-0 byte still to be read (plane-0 byte j sits at j < i·size for j < i).
 */
export function unshuffle(data: Uint8Array, itemSize: number): Uint8Array {
  if (itemSize <= 1) return data;
  const n = Math.floor(data.length / itemSize);
  if (n < 2) return data;
  const upper = (itemSize - 1) * n;
  if (scratch.length < upper) scratch = new Uint8Array(Math.max(upper, scratch.length * 2));
  const planes = scratch;
  planes.set(data.subarray(n, n + upper));
  if (itemSize === 2 && LITTLE_ENDIAN_HOST && data.byteOffset % 2 === 0) {
    // One 16-bit store per element (int16 is the common packed type): about twice as fast.
    const out16 = new Uint16Array(data.buffer, data.byteOffset, n);
    for (let i = n - 1; i >= 0; i--) out16[i] = data[i]! | (planes[i]! << 8);
  } else if (itemSize === 2) {
    for (let i = n - 1, o = 2 * (n - 1); i >= 0; i--, o -= 2) {
      data[o] = data[i]!;
      data[o + 1] = planes[i]!;
    }
  } else if (itemSize === 4) {
    const n2 = 2 * n;
    for (let i = n - 1, o = 4 * (n - 1); i >= 0; i--, o -= 4) {
      data[o] = data[i]!;
      data[o + 1] = planes[i]!;
      data[o + 2] = planes[n + i]!;
      data[o + 3] = planes[n2 + i]!;
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      const o = i * itemSize;
      data[o] = data[i]!;
      for (let b = 1; b < itemSize; b++) data[o + b] = planes[(b - 1) * n + i]!;
    }
  }
  return data;
}

/** HDF5's Fletcher-32 (H5_checksum_fletcher32): 16-bit words read most significant byte first. */
function fletcher32(data: Uint8Array): number {
  let sum1 = 0;
  let sum2 = 0;
  let words = data.length >> 1;
  let p = 0;
  while (words > 0) {
    // 360 words keep both sums below 2^32 before folding.
    let block = words > 360 ? 360 : words;
    words -= block;
    do {
      sum1 += (data[p]! << 8) | data[p + 1]!;
      p += 2;
      sum2 += sum1;
    } while (--block);
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  if (data.length & 1) {
    sum1 += data[p]! << 8;
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
  return ((sum2 << 16) | sum1) >>> 0;
}

/** Strips and checks the trailing checksum; files from HDF5 < 1.6.3 stored it byte-reversed. */
export function checkFletcher32(data: Uint8Array): Uint8Array {
  if (data.length < 4) throw new ChunkDecodeError('chunk shorter than its fletcher32 checksum');
  const body = data.subarray(0, data.length - 4);
  const t = data.length - 4;
  const stored = (data[t]! | (data[t + 1]! << 8) | (data[t + 2]! << 16) | (data[t + 3]! << 24)) >>> 0;
  const sum = fletcher32(body);
  const reversed = (((sum & 0xff) << 24) | ((sum & 0xff00) << 8) | ((sum >>> 8) & 0xff00) | (sum >>> 24)) >>> 0;
  if (stored !== sum && stored !== reversed) throw new ChunkDecodeError('fletcher32 checksum mismatch');
  return body;
}
