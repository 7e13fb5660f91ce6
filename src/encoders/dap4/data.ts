/**
 * The DAP4 data response (.dap): a chunked stream (spec vol. 1 §5) whose first chunk is the DMR,
 * then the selected variables in DMR order, little-endian (the flag in every chunk header says so:
 * no byte swap here, the stored values travel as the typed arrays hold them). Each chunk starts with
 * 4 bytes, big-endian: the flags in the first byte (1 last, 4 little-endian, 8 no checksums; 2 marks an error chunk, not sent here), the length in
 * the other three. Fixed-size values are packed; a string is its 8-byte count then its UTF-8 bytes.
 * After each variable comes the CRC-32 of its bytes, which netCDF-C checks by default; with
 * dap4.checksum=false there is none and the chunk headers say so.
 */
import { crc32 } from 'node:zlib';
import type { NumericArray } from '../../readers/types.js';
import { slabCount } from '../dap2/response.js';
import { dap4ValueBytes } from './dataset.js';
import { dmrText, type Dap4Selection } from './dmr.js';

const LAST = 1;
const LITTLE_ENDIAN = 4;
/** No CRC-32 follows the variables (netCDF-C 4.9.0 reads this flag, not the dap4.checksum parameter). */
const NO_CHECKSUM = 8;
/** Largest chunk the 24-bit length allows. */
const MAX_CHUNK = 0xffffff;
/** Small pieces (coordinates, checksums) are gathered into chunks of at least this size. */
const MIN_CHUNK = 64 * 1024;

function chunkHeader(flags: number, length: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, ((flags & 0xff) << 24) | length);
  return b;
}

/** Bytes of the data part of a selection (strings estimated), checksums included. */
export function dap4DataBytes(sel: Dap4Selection, checksums: boolean): number {
  let n = 0;
  for (const item of sel.items)
    n += item.slabs.reduce((p, s) => p * slabCount(s), 1) * dap4ValueBytes(item.variable.dtype) + (checksums ? 4 : 0);
  return n;
}

function bytesOf(block: NumericArray | string[]): Uint8Array {
  if (!Array.isArray(block)) return new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
  const texts = block.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(texts.reduce((n, t) => n + 8 + t.length, 0));
  let at = 0;
  for (const t of texts) {
    out.writeBigUInt64LE(BigInt(t.length), at);
    t.copy(out, at + 8);
    at += 8 + t.length;
  }
  return out;
}

/** Frames pieces into chunks; the piece held back last is the one flagged LAST when the body ends. */
class Chunker {
  constructor(private readonly flags: number) {}

  private parts: Uint8Array[] = [];
  private size = 0;

  *add(piece: Uint8Array): Generator<Uint8Array> {
    if (piece.length === 0) return;
    if (this.size >= MIN_CHUNK || this.size + piece.length > MAX_CHUNK) yield* this.flush(0);
    this.parts.push(piece);
    this.size += piece.length;
  }

  *flush(flags: number): Generator<Uint8Array> {
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    // A piece larger than a chunk can hold is split.
    const pieces = parts.flatMap((p) => {
      const out: Uint8Array[] = [];
      for (let at = 0; at < p.length; at += MAX_CHUNK) out.push(p.subarray(at, at + MAX_CHUNK));
      return out;
    });
    let group: Uint8Array[] = [];
    let groupSize = 0;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (groupSize + p.length > MAX_CHUNK) {
        yield chunkHeader(this.flags, groupSize);
        yield* group;
        group = [];
        groupSize = 0;
      }
      group.push(p);
      groupSize += p.length;
    }
    yield chunkHeader(this.flags | flags, groupSize);
    yield* group;
  }
}

/** The .dap body: the DMR chunk, then the data chunks, each variable followed by its CRC-32 when asked for. */
export async function* dapBody(
  sel: Dap4Selection,
  checksums: boolean,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  // Every read is planned before the first byte goes out: a bad plan is still an error answer.
  const values = sel.items.map((item) => item.variable.open(item.slabs, signal));
  // netCDF-C overwrites the DMR chunk's last byte with a NUL: it ends with a line break to spare.
  const dmr = Buffer.from(`${dmrText(sel)}\r\n`);
  const flags = LITTLE_ENDIAN | (checksums ? 0 : NO_CHECKSUM);
  yield chunkHeader(flags, dmr.length);
  yield dmr;
  const chunker = new Chunker(flags);
  for (const blocks of values) {
    let crc = 0;
    for await (const block of blocks) {
      const bytes = bytesOf(block);
      if (checksums) crc = crc32(bytes, crc);
      yield* chunker.add(bytes);
    }
    if (checksums) {
      const sum = new Uint8Array(4);
      new DataView(sum.buffer).setUint32(0, crc, true);
      yield* chunker.add(sum);
    }
  }
  yield* chunker.flush(LAST);
}
