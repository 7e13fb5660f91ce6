/**
 * HDF5 superblock (versions 0–3): only what locating structures needs, i.e. the address and length
 * widths and the base address that every other address is relative to.
 */
import { Cursor, FormatError, type ReadAt, type Widths } from './cursor.js';

export interface Superblock extends Widths {
  version: number;
  /** Absolute file offset that stored addresses are relative to (non-zero with a user block). */
  baseAddress: number;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** The signature sits at 0, 512, 1024, 2048…: a user block may come first. */
export async function readSuperblock(readAt: ReadAt, fileSize: number): Promise<Superblock> {
  for (let at = 0; at + 8 <= fileSize; at = at === 0 ? 512 : at * 2) {
    const head = await readAt(at, 64);
    if (!SIGNATURE.every((b, i) => head[i] === b)) continue;
    const version = head[8]!;
    if (version === 0 || version === 1) {
      // v0/v1: versions of free space, root group, reserved, shared header, then the two widths.
      const c = new Cursor(head, { offsetSize: 8, lengthSize: 8 }, 13);
      const offsetSize = c.u8();
      const lengthSize = c.u8();
      c.skip(1 + 2 + 2 + 4 + (version === 1 ? 4 : 0));
      const widths = { offsetSize, lengthSize };
      const base = new Cursor(head, widths, c.pos).address();
      return { version, offsetSize, lengthSize, baseAddress: base < 0 ? at : base };
    }
    if (version === 2 || version === 3) {
      const offsetSize = head[9]!;
      const lengthSize = head[10]!;
      const base = new Cursor(head, { offsetSize, lengthSize }, 12).address();
      return { version, offsetSize, lengthSize, baseAddress: base < 0 ? at : base };
    }
    throw new FormatError(`superblock version ${version} is not supported`);
  }
  throw new FormatError('no HDF5 superblock signature');
}
