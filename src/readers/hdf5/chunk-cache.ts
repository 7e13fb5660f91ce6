/**
 * Decoded chunks, least recently used out first, bounded in bytes: HDF5's own chunk cache plays
 * this part for h5wasm. Windows that do not follow the chunk grid (blocks planned by output size)
 * cut through chunk rows, and without it each such chunk would be read and inflated twice.
 * Concurrent requests for one chunk share a single decode.
 */
/** Counters over every cache of the process, read by the server's /metrics. */
export const chunkCacheStats = { hits: 0, misses: 0, evictions: 0, bytes: 0 };

export class ChunkCache {
  private readonly entries = new Map<string, Promise<Uint8Array>>();
  private readonly sizes = new Map<string, number>();
  private bytes = 0;

  /** @param maxBytes decoded bytes kept (default 16 MiB: a row of chunks across a global grid). */
  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The decoded chunk under `key`, decoding it with `load` on a miss. A failed load is not kept. */
  get(key: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.entries.get(key);
    if (hit) {
      chunkCacheStats.hits++;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    chunkCacheStats.misses++;
    const loading = load();
    this.entries.set(key, loading);
    loading.then(
      (data) => {
        if (this.entries.get(key) !== loading) return;
        if (data.length > this.maxBytes) {
          this.entries.delete(key);
          return;
        }
        this.sizes.set(key, data.length);
        this.bytes += data.length;
        chunkCacheStats.bytes += data.length;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === loading) this.entries.delete(key);
      },
    );
    return loading;
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return;
      const size = this.sizes.get(key);
      if (size === undefined) continue; // still loading: counted once it lands
      this.entries.delete(key);
      this.sizes.delete(key);
      this.bytes -= size;
      chunkCacheStats.bytes -= size;
      chunkCacheStats.evictions++;
    }
  }
}
