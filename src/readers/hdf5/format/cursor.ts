/**
 * Little-endian cursor over a byte block of an HDF5 file. HDF5 stores every structure field little
 * endian; addresses and lengths have the widths the superblock declares ("size of offsets/lengths").
 */

/** HDF5's undefined address (all bits set), as returned by `Cursor.address()`. */
export const UNDEFINED_ADDRESS = -1;

/** A structure that does not parse: the caller turns it into a fallback or a CorruptFileError. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

export interface Widths {
  /** Bytes of a file address (superblock "size of offsets"). */
  offsetSize: number;
  /** Bytes of a length (superblock "size of lengths"). */
  lengthSize: number;
}

export class Cursor {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly widths: Widths,
    pos = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new FormatError(`structure truncated: need ${n} bytes at ${this.pos} of ${this.bytes.length}`);
    }
  }

  skip(n: number): this {
    this.need(n);
    this.pos += n;
    return this;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An unsigned little-endian integer of `n` bytes (n ≤ 8); beyond 2^53 is refused, not rounded. */
  uint(n: number): number {
    this.need(n);
    let v = 0;
    let scale = 1;
    for (let i = 0; i < n; i++) {
      v += this.bytes[this.pos + i]! * scale;
      scale *= 256;
    }
    this.pos += n;
    if (!Number.isSafeInteger(v)) throw new FormatError(`integer of ${n} bytes beyond 2^53`);
    return v;
  }

  /** A file address, or UNDEFINED_ADDRESS when all its bits are set. */
  address(): number {
    const n = this.widths.offsetSize;
    this.need(n);
    let allSet = true;
    for (let i = 0; i < n; i++) if (this.bytes[this.pos + i] !== 0xff) allSet = false;
    if (allSet) {
      this.pos += n;
      return UNDEFINED_ADDRESS;
    }
    return this.uint(n);
  }

  length(): number {
    return this.uint(this.widths.lengthSize);
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  signature(expected: string): void {
    const got = String.fromCharCode(...this.take(expected.length));
    if (got !== expected) throw new FormatError(`expected signature ${expected}, found ${JSON.stringify(got)}`);
  }
}

/** Reads `length` bytes at a file address; how (positional reads, ranges) is the caller's business. */
export type ReadAt = (address: number, length: number) => Promise<Uint8Array>;
