/**
 * The in-process cache of rendered images (tiles, maps, legends): least recently used first out,
 * bounded by the bytes it holds (ODAS_TILE_CACHE_MB, default 64). Entries are keyed by the
 * canonical request and the identity of the grid model they were drawn from, so a collection
 * whose files changed is drawn again.
 */
export class ImageCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.maxBytes / 8) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.length;
    while (this.bytes > this.maxBytes) {
      const [k, v] = this.entries.entries().next().value as [string, Buffer];
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

function cacheMegabytes(): number {
  const v = Number(process.env['ODAS_TILE_CACHE_MB']);
  return Number.isFinite(v) && v >= 0 ? v : 64;
}

export const imageCache = new ImageCache(cacheMegabytes() * 1024 * 1024);
