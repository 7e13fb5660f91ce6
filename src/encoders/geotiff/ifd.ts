/**
 * Serialises a TIFF or BigTIFF header and one image file directory (IFD), little-endian.
 *
 * Layout produced: header, IFD, then the out-of-line tag values (each 8-byte aligned), padded to
 * `DATA_ALIGN`. The caller places the pixel data right after (`dataStart`). Sizes never depend on
 * tag values, only on their types and counts, so the layout can be sized before offsets are known.
 *
 * References: TIFF 6.0 §2 (header, IFD, field types); BigTIFF (libtiff "BigTIFF Design": magic
 * 43, 8-byte offsets, 20-byte entries, type LONG8 = 16).
 */

import { Buffer } from 'node:buffer';

export const FieldType = { ASCII: 2, SHORT: 3, LONG: 4, DOUBLE: 12, LONG8: 16 } as const;
type FieldTypeCode = (typeof FieldType)[keyof typeof FieldType];

const TYPE_BYTES: Record<FieldTypeCode, number> = { 2: 1, 3: 2, 4: 4, 12: 8, 16: 8 };

/** One IFD entry. ASCII values are given as text and stored NUL-terminated. */
export interface TagEntry {
  tag: number;
  type: FieldTypeCode;
  values: ArrayLike<number> | string;
}

/** Pixel data starts on this boundary (cheap, and friendly to readers that map or DMA). */
const DATA_ALIGN = 16;
const VALUE_ALIGN = 8;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function entryCount(entry: TagEntry): number {
  return typeof entry.values === 'string' ? Buffer.byteLength(entry.values, 'latin1') + 1 : entry.values.length;
}

interface Geometry {
  bigTiff: boolean;
  headerBytes: number;
  entryBytes: number;
  inlineBytes: number;
}

function geometry(bigTiff: boolean): Geometry {
  return bigTiff
    ? { bigTiff, headerBytes: 16, entryBytes: 20, inlineBytes: 8 }
    : { bigTiff, headerBytes: 8, entryBytes: 12, inlineBytes: 4 };
}

/** Bytes from the start of the file to the first pixel byte, for these tags. */
export function headerSize(entries: TagEntry[], bigTiff: boolean): number {
  const g = geometry(bigTiff);
  const countBytes = bigTiff ? 8 : 2;
  let end = g.headerBytes + countBytes + entries.length * g.entryBytes + (bigTiff ? 8 : 4);
  for (const e of entries) {
    const bytes = entryCount(e) * TYPE_BYTES[e.type];
    if (bytes > g.inlineBytes) end = align(end, VALUE_ALIGN) + bytes;
  }
  return align(end, DATA_ALIGN);
}

function writeValues(view: DataView, at: number, entry: TagEntry): void {
  if (typeof entry.values === 'string') {
    const bytes = Buffer.from(entry.values, 'latin1');
    new Uint8Array(view.buffer, view.byteOffset + at, bytes.length).set(bytes);
    view.setUint8(at + bytes.length, 0);
    return;
  }
  const values = entry.values;
  const size = TYPE_BYTES[entry.type];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const p = at + i * size;
    switch (entry.type) {
      case FieldType.SHORT:
        view.setUint16(p, v, true);
        break;
      case FieldType.LONG:
        view.setUint32(p, v, true);
        break;
      case FieldType.DOUBLE:
        view.setFloat64(p, v, true);
        break;
      case FieldType.LONG8:
        view.setBigUint64(p, BigInt(v), true);
        break;
      default:
        view.setUint8(p, v);
    }
  }
}

/** Throws when a value cannot be stored in its field (NUL in text, integer out of range…). */
export function checkValues(entry: TagEntry, bigTiff: boolean): void {
  if (typeof entry.values === 'string') {
    if (!/^[\x01-\xff]*$/.test(entry.values))
      throw new RangeError(`tag ${entry.tag}: ASCII value holds NUL or non-Latin-1 characters`);
    return;
  }
  const limit =
    entry.type === FieldType.SHORT ? 0xffff : entry.type === FieldType.LONG ? 0xffffffff : Number.MAX_SAFE_INTEGER;
  if (entry.type === FieldType.DOUBLE) return;
  if (entry.type === FieldType.LONG8 && !bigTiff) throw new RangeError(`tag ${entry.tag}: LONG8 needs BigTIFF`);
  for (let i = 0; i < entry.values.length; i++) {
    const v = entry.values[i]!;
    if (!Number.isInteger(v) || v < 0 || v > limit)
      throw new RangeError(`tag ${entry.tag}: value ${v} does not fit its field type`);
  }
}

/** Header + IFD + out-of-line values, `headerSize(entries, bigTiff)` bytes long, IFD at the first free byte. */
export function encodeHeaderAndIfd(entries: TagEntry[], bigTiff: boolean): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.tag === sorted[i - 1]!.tag) throw new Error(`tag ${sorted[i]!.tag} given twice`);
  }
  const g = geometry(bigTiff);
  const total = headerSize(sorted, bigTiff);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  // Header: byte order "II", magic, first IFD offset (the IFD follows the header directly).
  out[0] = 0x49;
  out[1] = 0x49;
  if (bigTiff) {
    view.setUint16(2, 43, true);
    view.setUint16(4, 8, true);
    view.setUint16(6, 0, true);
    view.setBigUint64(8, BigInt(g.headerBytes), true);
  } else {
    view.setUint16(2, 42, true);
    view.setUint32(4, g.headerBytes, true);
  }
  let p = g.headerBytes;
  if (bigTiff) {
    view.setBigUint64(p, BigInt(sorted.length), true);
    p += 8;
  } else {
    view.setUint16(p, sorted.length, true);
    p += 2;
  }
  let free = p + sorted.length * g.entryBytes + (bigTiff ? 8 : 4);
  for (const entry of sorted) {
    checkValues(entry, bigTiff);
    const count = entryCount(entry);
    const bytes = count * TYPE_BYTES[entry.type];
    view.setUint16(p, entry.tag, true);
    view.setUint16(p + 2, entry.type, true);
    if (bigTiff) view.setBigUint64(p + 4, BigInt(count), true);
    else view.setUint32(p + 4, count, true);
    const valueField = p + (bigTiff ? 12 : 8);
    if (bytes <= g.inlineBytes) {
      writeValues(view, valueField, entry);
    } else {
      free = align(free, VALUE_ALIGN);
      if (bigTiff) view.setBigUint64(valueField, BigInt(free), true);
      else view.setUint32(valueField, free, true);
      writeValues(view, free, entry);
      free += bytes;
    }
    p += g.entryBytes;
  }
  // Next-IFD offset stays 0: a single image.
  return out;
}
