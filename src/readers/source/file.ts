import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { ByteSource } from '../types.js';

export interface FileSourceOptions {
  /**
   * Size of the read-ahead blocks, in bytes. Reads no longer than this are served from cached,
   * block-aligned reads: headers and the many tiny per-profile variables of Argo files then cost one
   * syscall per block instead of one per variable (a whole small file is a single block).
   */
  blockBytes?: number;
  /** How many blocks one source keeps (least recently used goes first): bounds memory per open file. */
  maxBlocks?: number;
}

const DEFAULT_BLOCK_BYTES = 64 * 1024;
const DEFAULT_MAX_BLOCKS = 16;

/** Throws the signal's reason (an AbortError unless the caller chose another) when it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
  }
}

/** A local file read with positional reads; opened on first read so listing many files costs no descriptors. */
export class FileSource implements ByteSource {
  readonly key: string;
  private handle: Promise<FileHandle> | undefined;
  private closed = false;
  private readonly blocks = new Map<number, Promise<Uint8Array>>();
  private readonly blockBytes: number;
  private readonly maxBlocks: number;

  constructor(
    readonly path: string,
    private readonly byteLength: number,
    mtimeMs: number,
    options: FileSourceOptions = {},
  ) {
    this.key = `${path}:${byteLength}:${mtimeMs}`;
    this.blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    this.maxBlocks = options.maxBlocks ?? DEFAULT_MAX_BLOCKS;
  }

  async size(): Promise<number> {
    return this.byteLength;
  }

  /** A fresh buffer the caller may modify: cached bytes are copied out, never shared. */
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    throwIfAborted(signal);
    if (this.closed) throw new Error(`${this.path}: read after close`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`${this.path}: invalid read of ${length} bytes at ${offset}`);
    }
    const end = Math.min(offset + length, this.byteLength);
    if (end <= offset) return new Uint8Array(0);
    if (end - offset <= this.blockBytes) return this.readThroughBlocks(offset, end);
    return this.readDirect(offset, end - offset);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.blocks.clear();
    const handle = this.handle;
    this.handle = undefined;
    const opened = await handle?.catch(() => undefined);
    await opened?.close();
  }

  private async readThroughBlocks(offset: number, end: number): Promise<Uint8Array> {
    const first = Math.floor(offset / this.blockBytes);
    const last = Math.floor((end - 1) / this.blockBytes);
    const out = new Uint8Array(end - offset);
    for (let index = first; index <= last; index++) {
      const block = await this.block(index);
      const blockStart = index * this.blockBytes;
      const from = Math.max(offset, blockStart) - blockStart;
      const to = Math.min(end, blockStart + block.length) - blockStart;
      if (to > from) out.set(block.subarray(from, to), blockStart + from - offset);
      // A short block means the file shrank since it was opened: report the short read, never zeros.
      if (blockStart + block.length < Math.min(end, blockStart + this.blockBytes)) {
        return out.subarray(0, Math.max(0, blockStart + block.length - offset));
      }
    }
    return out;
  }

  private block(index: number): Promise<Uint8Array> {
    const cached = this.blocks.get(index);
    if (cached) {
      // Map keeps insertion order: re-inserting marks the block as most recently used.
      this.blocks.delete(index);
      this.blocks.set(index, cached);
      return cached;
    }
    const start = index * this.blockBytes;
    const loading = this.readDirect(start, Math.min(this.blockBytes, this.byteLength - start));
    this.blocks.set(index, loading);
    loading.catch(() => {
      if (this.blocks.get(index) === loading) this.blocks.delete(index);
    });
    while (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next().value as number;
      this.blocks.delete(oldest);
    }
    return loading;
  }

  private async readDirect(offset: number, length: number): Promise<Uint8Array> {
    const handle = await this.open();
    const buffer = new Uint8Array(length);
    let filled = 0;
    // A positional read may return less than asked (large reads, network file systems): loop to EOF.
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  }

  private open(): Promise<FileHandle> {
    if (this.closed) return Promise.reject(new Error(`${this.path}: read after close`));
    if (!this.handle) {
      const opening = open(this.path, 'r');
      opening.catch(() => {
        if (this.handle === opening) this.handle = undefined;
      });
      this.handle = opening;
    }
    return this.handle;
  }
}

/** Stats the file (for the cache key and size) without opening it. */
export async function openFileSource(path: string, options?: FileSourceOptions): Promise<FileSource> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path}: not a regular file`);
  return new FileSource(path, info.size, info.mtimeMs, options);
}
