/**
 * Holds compressed tiles until the file layout is known: in memory up to a limit, then in a
 * temporary file. Byte counts are kept per tile (8 bytes each, whatever the raster size).
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const READ_BYTES = 1024 * 1024;

export class TileSpool {
  readonly byteCounts: number[] = [];
  private memory: Uint8Array[] = [];
  private memoryBytes = 0;
  private dir: string | undefined;
  private file: FileHandle | undefined;
  private written = 0;

  constructor(
    private readonly memoryLimit: number,
    private readonly tempDir: string = os.tmpdir(),
  ) {}

  get totalBytes(): number {
    return this.written + this.memoryBytes;
  }

  /** Whether tiles went to a temporary file (for tests and logs). */
  get spilled(): boolean {
    return this.file !== undefined;
  }

  async append(tile: Uint8Array): Promise<void> {
    this.byteCounts.push(tile.byteLength);
    if (!this.file && this.memoryBytes + tile.byteLength <= this.memoryLimit) {
      this.memory.push(tile);
      this.memoryBytes += tile.byteLength;
      return;
    }
    if (!this.file) {
      this.dir = await mkdtemp(path.join(this.tempDir, 'odas-geotiff-'));
      this.file = await open(path.join(this.dir, 'tiles.bin'), 'w+');
      for (const held of this.memory) await this.write(held);
      this.memory = [];
      this.memoryBytes = 0;
    }
    await this.write(tile);
  }

  /** Every tile's bytes in append order; the spool is empty afterwards. */
  async *drain(): AsyncGenerator<Uint8Array> {
    if (!this.file) {
      const held = this.memory;
      this.memory = [];
      this.memoryBytes = 0;
      yield* held;
      return;
    }
    for (let position = 0; position < this.written;) {
      // A fresh buffer per read: the consumer may keep the previous one (stream queues do).
      const buffer = new Uint8Array(Math.min(READ_BYTES, this.written - position));
      const { bytesRead } = await this.file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`GeoTIFF spool file ended at ${position} of ${this.written} bytes`);
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  }

  /** Closes and deletes the temporary file, if any. Safe to call more than once. */
  async dispose(): Promise<void> {
    this.memory = [];
    const file = this.file;
    const dir = this.dir;
    this.file = undefined;
    this.dir = undefined;
    await file?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  private async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await this.file!.write(bytes, done, bytes.byteLength - done, this.written + done);
      done += bytesWritten;
    }
    this.written += bytes.byteLength;
  }
}
