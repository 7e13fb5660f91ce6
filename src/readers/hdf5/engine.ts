/**
 * Chooses, per file and variable, between chunk-direct reading and h5wasm: direct when the
 * variable's manifest covers it (layout, index, filters, type), h5wasm otherwise. Manifests come
 * from the ManifestStore or are taken on first use; every lookup is keyed by the file's current
 * path, size and mtime, so a file rewritten since its manifest was taken gets a new one.
 */
import { stat } from 'node:fs/promises';
import type { ByteSource, DType } from '../types.js';
import { FileSource } from '../source/file.js';
import { ChunkCache } from './chunk-cache.js';
import { WorkerPool, workerScript } from '../../workers/pool.js';
import type { PicksResult, PicksTask } from './picks-protocol.js';
import {
  buildManifest,
  MemoryManifestStore,
  type ChunkManifest,
  type ManifestOrMiss,
  type ManifestStore,
} from './manifest.js';

/** The subset of a pino logger this module uses. */
export interface Hdf5Log {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
}

export interface DirectEngineOptions {
  /** Default true, unless the environment sets ODAS_HDF5_DIRECT=0 (every read then goes through h5wasm). */
  enabled?: boolean;
  manifests?: ManifestStore;
  log?: Hdf5Log;
  /** Decoded chunks kept for reads that come back to them (default: $ODAS_HDF5_CHUNK_CACHE_MB MiB, else 16 MiB). */
  chunkCacheBytes?: number;
}

export interface DirectTarget {
  manifest: ChunkManifest;
  source: ByteSource;
  /** `${path}:${size}:${mtimeMs}` of the file the manifest describes. */
  key: string;
}

/** What the engine needs to know of a variable from h5wasm's metadata. */
export interface DirectVariable {
  h5path: string;
  dtype: DType;
}

/** Looks up a dataset's object header address in the file's (current) metadata. */
export type AddressLookup = (path: string, h5path: string) => Promise<number | undefined>;

/** Decimated reads' worker tasks over the process: decoded, or dropped before a worker took them (read aborted). */
export const picksStats = { tasks: 0, chunks: 0, dropped: 0 };

/** Open file sources kept (least recently used closed first, after a grace period for reads in flight). */
const MAX_SOURCES = 64;
const CLOSE_GRACE_MS = 60_000;
/** Decisions remembered for the log-once rule before the memory is reset. */
const MAX_LOGGED = 10_000;

export class DirectEngine {
  readonly enabled: boolean;
  /** Decoded chunks, shared by every reader of the process. */
  readonly chunks: ChunkCache;
  private manifests: ManifestStore;
  private log: Hdf5Log | undefined;
  private readonly sources = new Map<string, FileSource>();
  private readonly building = new Map<string, Promise<ManifestOrMiss | undefined>>();
  private readonly logged = new Set<string>();
  /** Chunk-decoding workers of decimated reads, started on the first one. */
  private picks: WorkerPool<PicksTask, PicksResult> | undefined;

  constructor(
    private readonly addressOf: AddressLookup,
    options: DirectEngineOptions = {},
  ) {
    this.enabled = options.enabled ?? process.env['ODAS_HDF5_DIRECT'] !== '0';
    this.manifests = options.manifests ?? new MemoryManifestStore();
    const cacheMb = Number(process.env['ODAS_HDF5_CHUNK_CACHE_MB']);
    this.chunks = new ChunkCache(
      options.chunkCacheBytes ?? (Number.isFinite(cacheMb) && cacheMb >= 0 ? cacheMb * 1024 * 1024 : undefined),
    );
    this.log = options.log;
  }

  /** Where manifests are kept (the server's catalog, so a restart parses no file again). */
  setManifestStore(store: ManifestStore): void {
    this.manifests = store;
  }

  setLog(log: Hdf5Log | undefined): void {
    this.log = log;
  }

  /** The manifest and byte source to read `v` directly, or undefined: read it with h5wasm. */
  async target(path: string, v: DirectVariable): Promise<DirectTarget | undefined> {
    if (!this.enabled) return undefined;
    const found = await this.manifest(path, v.h5path);
    if (!found) return undefined; // file gone or changing: h5wasm reports or reads it as it always has
    let { manifest } = found;
    if (manifest.covered && manifest.dtype !== v.dtype) {
      manifest = { covered: false, reason: `element type ${manifest.dtype} differs from h5wasm's ${v.dtype}` };
    }
    this.note(path, v.h5path, manifest);
    if (!manifest.covered) return undefined;
    return { manifest, source: this.source(found.key, path, found.size, found.mtimeMs), key: found.key };
  }

  /** Whether the file still has the size and mtime its target was taken for (checked after a read). */
  async unchanged(path: string, target: DirectTarget): Promise<boolean> {
    const st = await stat(path).catch(() => undefined);
    return st !== undefined && `${path}:${st.size}:${st.mtimeMs}` === target.key;
  }

  /**
   * The manifest of dataset `h5path` for the file as it is on disk now: from the store, else taken
   * and stored. Undefined when the file is gone or changed while it was being parsed. Works whether
   * or not direct reads are enabled, so an indexer can take manifests ahead of serving.
   */
  async manifest(
    path: string,
    h5path: string,
  ): Promise<{ manifest: ManifestOrMiss; key: string; size: number; mtimeMs: number } | undefined> {
    const st = await stat(path).catch(() => undefined);
    if (!st) return undefined;
    const key = `${path}:${st.size}:${st.mtimeMs}`;
    let manifest = this.manifests.get(key, h5path);
    if (!manifest) {
      const flight = `${key}\n${h5path}`;
      let pending = this.building.get(flight);
      if (!pending) {
        // Shared by concurrent reads of the variable, so no one request's signal may cancel it.
        pending = this.take(path, key, st.size, st.mtimeMs, h5path).finally(() => this.building.delete(flight));
        this.building.set(flight, pending);
      }
      manifest = await pending;
      if (!manifest) return undefined;
    }
    return { manifest, key, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** Runs one task of a decimated read on the chunk-decoding workers (one per core, at most two). */
  readonly runPicks = (task: PicksTask, signal: AbortSignal | undefined): Promise<PicksResult> => {
    if (!this.picks) {
      const { url, execArgv } = workerScript('./picks-worker.js', import.meta.url);
      this.picks = new WorkerPool(url, { name: 'hdf5-picks', execArgv });
    }
    const run = this.picks.run(task, signal ? { signal } : {});
    run.then(
      (r) => {
        picksStats.tasks++;
        picksStats.chunks += r.decoded;
      },
      () => {
        if (signal?.aborted) picksStats.dropped++;
      },
    );
    return run;
  };

  /** Closes the open file sources and the decoding workers (server shutdown). */
  async close(): Promise<void> {
    const open = [...this.sources.values()];
    this.sources.clear();
    const picks = this.picks;
    this.picks = undefined;
    await Promise.all([...open.map((s) => s.close()), picks?.close()]);
  }

  private async take(
    path: string,
    key: string,
    size: number,
    mtimeMs: number,
    h5path: string,
  ): Promise<ManifestOrMiss | undefined> {
    const address = await this.addressOf(path, h5path);
    let manifest: ManifestOrMiss;
    if (address === undefined) {
      manifest = { covered: false, reason: 'no object header address from h5wasm' };
    } else {
      const source = this.source(key, path, size, mtimeMs);
      manifest = await buildManifest((at, length) => source.read(at, length), size, address);
    }
    // The file may have changed while its structures were parsed: never keep such a manifest.
    const after = await stat(path).catch(() => undefined);
    if (!after || `${path}:${after.size}:${after.mtimeMs}` !== key) return undefined;
    this.manifests.put(key, h5path, manifest);
    return manifest;
  }

  private note(path: string, h5path: string, m: ManifestOrMiss): void {
    const id = `${path}\n${h5path}`;
    if (!this.log || this.logged.has(id)) return;
    if (this.logged.size >= MAX_LOGGED) this.logged.clear();
    this.logged.add(id);
    if (m.covered) {
      this.log.debug(
        { path, variable: h5path, storage: m.storage, chunks: m.offsets.length, filters: m.filters.map((f) => f.id) },
        'hdf5 read path: direct (native zlib)',
      );
    } else {
      this.log.info({ path, variable: h5path, reason: m.reason }, 'hdf5 read path: h5wasm');
    }
  }

  private source(key: string, path: string, size: number, mtimeMs: number): FileSource {
    let s = this.sources.get(key);
    if (s) {
      this.sources.delete(key);
      this.sources.set(key, s);
      return s;
    }
    s = new FileSource(path, size, mtimeMs);
    this.sources.set(key, s);
    while (this.sources.size > MAX_SOURCES) {
      const oldestKey = this.sources.keys().next().value!;
      const oldest = this.sources.get(oldestKey)!;
      this.sources.delete(oldestKey);
      setTimeout(() => void oldest.close(), CLOSE_GRACE_MS).unref();
    }
    return s;
  }
}
