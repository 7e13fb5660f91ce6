import type { ByteSource } from '../types.js';
import { throwIfAborted } from './file.js';

/**
 * A whole small file already in memory. Indexing reads each of thousands of ~20 KB Argo files
 * once: one synchronous read on the indexing thread beats a thread-pool round trip per header block.
 */
export class MemorySource implements ByteSource {
  constructor(
    readonly key: string,
    private readonly bytes: Uint8Array,
  ) {}

  async size(): Promise<number> {
    return this.bytes.length;
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    throwIfAborted(signal);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`${this.key}: invalid read of ${length} bytes at ${offset}`);
    }
    // A copy: callers may modify what they get (byte swapping in place).
    return this.bytes.slice(offset, Math.min(offset + length, this.bytes.length));
  }

  async close(): Promise<void> {}
}
