/**
 * Columns of float64 values gathered in one pass and read back in order: in memory up to a budget,
 * then in a temporary file. NetCDF needs every count before the first byte (the header states
 * them), so in-situ answers are spooled once rather than read twice.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MEMORY_BUDGET_BYTES = 32 << 20;
const READ_CHUNK = 1 << 17;

class Column {
  chunks: Float64Array[] = [];
  file: FileHandle | undefined;
  written = 0;
  length = 0;
}

export class Spool {
  private readonly columns = new Map<string, Column>();
  private memory = 0;
  private dir: string | undefined;

  constructor(private readonly budget = MEMORY_BUDGET_BYTES) {}

  async push(name: string, values: Float64Array): Promise<void> {
    let col = this.columns.get(name);
    if (!col) {
      col = new Column();
      this.columns.set(name, col);
    }
    col.length += values.length;
    if (!col.file && this.memory + values.byteLength <= this.budget) {
      col.chunks.push(values);
      this.memory += values.byteLength;
      return;
    }
    if (!col.file) {
      this.dir ??= await mkdtemp(join(tmpdir(), 'odas-spool-'));
      col.file = await open(join(this.dir, `${this.columns.size}-${col.chunks.length}.f64`), 'w+');
      for (const c of col.chunks) await this.append(col, c);
      this.memory -= col.chunks.reduce((a, c) => a + c.byteLength, 0);
      col.chunks = [];
    }
    await this.append(col, values);
  }

  private async append(col: Column, values: Float64Array): Promise<void> {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    await col.file!.write(bytes, 0, bytes.length, col.written);
    col.written += bytes.length;
  }

  length(name: string): number {
    return this.columns.get(name)?.length ?? 0;
  }

  /** The column's values in push order. */
  async *read(name: string): AsyncGenerator<Float64Array> {
    const col = this.columns.get(name);
    if (!col) return;
    if (!col.file) {
      yield* col.chunks;
      return;
    }
    for (let pos = 0; pos < col.written; pos += READ_CHUNK * 8) {
      const n = Math.min(READ_CHUNK * 8, col.written - pos);
      const buf = new Float64Array(n / 8);
      await col.file.read(new Uint8Array(buf.buffer), 0, n, pos);
      yield buf;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.columns.values()].flatMap((c) => (c.file ? [c.file.close()] : [])));
    this.columns.clear();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
