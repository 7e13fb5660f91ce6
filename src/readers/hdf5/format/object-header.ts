/**
 * HDF5 object headers, versions 1 and 2: the list of header messages of one object, continuation
 * blocks followed. Message bodies are returned raw; ./messages.ts decodes the few kinds we need.
 */
import { Cursor, FormatError, type ReadAt, type Widths } from './cursor.js';

export interface HeaderMessage {
  type: number;
  /** Message flags: bit 1 means the body is a reference to a shared message, not the message. */
  flags: number;
  body: Uint8Array;
}

export const MSG_DATASPACE = 0x0001;
export const MSG_DATATYPE = 0x0003;
export const MSG_FILL_OLD = 0x0004;
export const MSG_FILL = 0x0005;
export const MSG_EXTERNAL_FILES = 0x0007;
export const MSG_LAYOUT = 0x0008;
export const MSG_FILTERS = 0x000b;
const MSG_CONTINUATION = 0x0010;

/** Guards against a corrupt header looping through continuations forever. */
const MAX_BLOCKS = 4096;

/**
 * Messages of the object header at absolute file offset `address`. `base` is the superblock base
 * address, added to the (relative) addresses found in continuation messages.
 */
export async function readObjectHeader(
  readAt: ReadAt,
  widths: Widths,
  address: number,
  base: number,
): Promise<HeaderMessage[]> {
  const head = await readAt(address, 512);
  const messages: HeaderMessage[] = [];
  const pending: Array<{ at: number; length: number }> = [];
  if (head[0] === 1) {
    const c = new Cursor(head, widths, 2);
    c.skip(2 + 4); // message count (continuations make it unreliable for a bound), reference count
    const size = c.u32();
    const block = size + 16 <= head.length ? head.subarray(16, 16 + size) : await readAt(address + 16, size);
    parseV1Messages(block, widths, messages, pending);
    for (let n = 0; pending.length > 0; n++) {
      if (n > MAX_BLOCKS) throw new FormatError('too many object header continuation blocks');
      const next = pending.shift()!;
      parseV1Messages(await readAt(base + next.at, next.length), widths, messages, pending);
    }
    return messages;
  }
  const c = new Cursor(head, widths);
  c.signature('OHDR');
  const version = c.u8();
  if (version !== 2) throw new FormatError(`object header version ${version} is not supported`);
  const flags = c.u8();
  if (flags & 0x20) c.skip(16); // access, modification, change, birth times
  if (flags & 0x10) c.skip(4); // attribute storage phase change values
  const size = c.uint(1 << (flags & 0x03));
  const start = c.pos;
  const chunk0 = start + size <= head.length ? head.subarray(start, start + size) : await readAt(address + start, size);
  const trackOrder = (flags & 0x04) !== 0;
  parseV2Messages(chunk0, widths, trackOrder, messages, pending);
  for (let n = 0; pending.length > 0; n++) {
    if (n > MAX_BLOCKS) throw new FormatError('too many object header continuation blocks');
    const next = pending.shift()!;
    const block = await readAt(base + next.at, next.length);
    const bc = new Cursor(block, widths);
    bc.signature('OCHK');
    // The block ends with a 4-byte checksum.
    parseV2Messages(block.subarray(4, block.length - 4), widths, trackOrder, messages, pending);
  }
  return messages;
}

function collect(
  type: number,
  flags: number,
  body: Uint8Array,
  widths: Widths,
  messages: HeaderMessage[],
  pending: Array<{ at: number; length: number }>,
): void {
  if (type === MSG_CONTINUATION) {
    const c = new Cursor(body, widths);
    pending.push({ at: c.address(), length: c.length() });
  } else if (type !== 0) {
    messages.push({ type, flags, body });
  }
}

function parseV1Messages(
  block: Uint8Array,
  widths: Widths,
  messages: HeaderMessage[],
  pending: Array<{ at: number; length: number }>,
): void {
  const c = new Cursor(block, widths);
  while (c.remaining >= 8) {
    const type = c.u16();
    const size = c.u16();
    const flags = c.u8();
    c.skip(3);
    if (size > c.remaining) throw new FormatError(`object header message of ${size} bytes overruns its block`);
    collect(type, flags, c.take(size), widths, messages, pending);
  }
}

function parseV2Messages(
  block: Uint8Array,
  widths: Widths,
  trackOrder: boolean,
  messages: HeaderMessage[],
  pending: Array<{ at: number; length: number }>,
): void {
  const c = new Cursor(block, widths);
  const headerSize = trackOrder ? 6 : 4;
  // Fewer bytes than a message header left: that is the gap before the checksum.
  while (c.remaining >= headerSize) {
    const type = c.u8();
    const size = c.u16();
    const flags = c.u8();
    if (trackOrder) c.skip(2);
    if (size > c.remaining) throw new FormatError(`object header message of ${size} bytes overruns its block`);
    collect(type, flags, c.take(size), widths, messages, pending);
  }
}
