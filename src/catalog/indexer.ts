/**
 * The background indexer: walks the data roots, reads new and changed files on worker threads,
 * writes each file's rows to the catalog in one transaction with its file record, and removes
 * files that are gone. The server answers from the catalog meanwhile; a restart resumes from what
 * was committed (files whose size and mtime match are not read again).
 */
import os from 'node:os';
import { watch, type FSWatcher } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WorkerPool, workerScript } from '../workers/pool.js';
import type { FileIndex } from './file-index.js';
import { collectionIdFor, Grouping, type PathRule } from './group.js';
import { indexToRows, type IndexedFile, type IndexTask, type IndexTaskResult } from './index-worker.js';
import { gridDrafts } from './items.js';
import type { CatalogBackend, CatalogLedger } from './store/backend.js';
import type { FileCommit, FileRemoval } from './store/ledger.js';
import { walkFolders, type FolderMemo, type FoundFile } from './walk.js';

/** Files read per worker task: amortises the message round trip without starving the other worker. */
const TASK_FILES = 16;
/** Files of one folder decided and committed together; the first slice of a bigger folder decides its grouping. */
const SLICE = 256;
/** Folder slices in flight at once (keeps every worker busy across many small folders). */
const IN_FLIGHT = 4;
const PROGRESS_MS = 5000;
/**
 * Seconds between rescans: a new or removed file shows within this plus one quick scan (which lists
 * only folders whose mtime changed: a second or two for a million files).
 */
const DEFAULT_RESCAN_S = 15;
/** A watched change triggers a quick scan this long after it (a burst of writes gives one scan). */
const WATCH_DELAY_MS = 1000;
/** A file modified less recently than this is complete (copies and downloads write without pauses longer). */
const SETTLE_MS = 2000;
/** A lease not renewed for this long belongs to a dead process. */
const LEASE_MS = 30_000;
/** A lease that could not be asked for (the database away) is asked again this soon, not a rescan later. */
const LEASE_RETRY_MS = 2000;
/** Collections touched by commits are re-described at most this often. */
const NOTIFY_MS = 250;

export interface IndexerOptions {
  store: CatalogBackend;
  roots: string[];
  grouping: Grouping;
  log: Logger;
  /** Extraction threads (default: every core). */
  workers?: number;
  /** Seconds between rescans; 0 = index once. Default 15. */
  rescanSeconds?: number;
  /** Every n-th rescan stats every file (the others list only folders whose mtime changed). Default 20. */
  fullScanEvery?: number;
  /** A file modified less than this long ago is left for the next scan (it may be half-written). Default 2000 ms. */
  settleMs?: number;
  /** Watch the roots for changes where the platform can (default true with rescans on). */
  watch?: boolean;
  /** Called after an HDF5 file is indexed (the server takes its chunk manifests then). */
  onHdf5File?: (abs: string) => Promise<void>;
}

export interface IndexStatus {
  /** follower: another process holds the indexing lease; this one serves what it commits. */
  state: 'idle' | 'indexing' | 'follower';
  /** Files found by the current (or last) scan, and how many of them are up to date in the catalog. */
  files: { total: number; indexed: number; failed: number; pending: number };
  /** Files read per second during the current (or last) scan. */
  rate: number;
  scans: number;
  lastScan?: { started: string; finished?: string; seconds?: number; read: number; removed: number; full: boolean };
}

interface Decision {
  id: string;
  signature?: string;
  kind?: string;
}

type Listener = (changed: Set<string>) => void;

export class Indexer {
  private readonly ledger: CatalogLedger;
  private pool?: WorkerPool<IndexTask, IndexTaskResult>;
  private readonly memo: FolderMemo = new Map();
  private readonly listeners: Listener[] = [];
  private readonly pendingIds = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private scans = 0;
  private status_: IndexStatus = {
    state: 'idle',
    files: { total: 0, indexed: 0, failed: 0, pending: 0 },
    rate: 0,
    scans: 0,
  };
  private roots: string[] = [];
  private readonly changed = new Set<string>();
  private readonly dirWatchers = new Map<string, FSWatcher>();
  private watching = false;
  /** Absolute paths of the folders the current scan walked. */
  private walked = new Set<string>();
  private loop?: () => Promise<void>;
  /** When the next scan is due (epoch ms), Infinity when none is scheduled. */
  private dueAt = Infinity;
  /** A watched change arrived during a scan: scan again soon after it. */
  private changedSince = false;
  private readonly owner = `${os.hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private leading = false;
  /** The error of the last lease request, when the catalog could not answer it. */
  private leaseError: string | undefined;
  private leaseAt = 0;
  private notifyTimer?: NodeJS.Timeout;
  /** Collection id → data root, for ids already looked up in this process (ids never move between roots). */
  private readonly rootOfId = new Map<string, string>();

  constructor(private readonly opts: IndexerOptions) {
    this.ledger = opts.store.ledger;
  }

  /** Called with the ids of collections whose content changed, after each commit. */
  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  status(): IndexStatus {
    return structuredClone(this.status_);
  }

  /** Whether files that will belong to this collection are still waiting to be read. */
  isIndexing(collectionId: string): boolean {
    return (this.pendingIds.get(collectionId) ?? 0) > 0;
  }

  /**
   * Index now, then again every `rescanSeconds`, in the background; where the platform can watch the
   * roots (inotify on Linux), a change anywhere under them brings the next quick scan forward to
   * about a second after it, and the periodic rescan is only the fallback.
   */
  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.timer = undefined;
      this.dueAt = Infinity;
      this.running = this.scan().catch((err: Error) =>
        this.opts.log.error({ err: err.message }, `indexing failed: ${err.message}`),
      );
      await this.running;
      this.running = undefined;
      if (this.stopped) return;
      const every = (this.opts.rescanSeconds ?? DEFAULT_RESCAN_S) * 1000;
      // Files still being written are read as soon as they settle, not a whole rescan interval later.
      const settling = this.status_.files.pending > 0 ? (this.opts.settleMs ?? SETTLE_MS) + 100 : Infinity;
      const retry = this.notLeading?.held === false ? LEASE_RETRY_MS : Infinity;
      const wait = Math.min(
        every > 0 ? every : Infinity,
        settling,
        retry,
        this.changedSince ? WATCH_DELAY_MS : Infinity,
      );
      this.changedSince = false;
      if (wait < Infinity) this.schedule(wait);
    };
    this.loop = loop;
    this.watching = (this.opts.rescanSeconds ?? DEFAULT_RESCAN_S) > 0 && this.opts.watch !== false;
    void loop();
  }

  /** Run the next scan in `ms` unless one is due sooner (or running: it runs again after). */
  private schedule(ms: number): void {
    if (this.stopped || !this.loop) return;
    if (this.running) {
      this.changedSince = true;
      return;
    }
    const at = Date.now() + ms;
    if (at >= this.dueAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = at;
    const loop = this.loop;
    this.timer = setTimeout(() => void loop(), ms);
  }

  /**
   * One inotify watch per folder of the archive (Node's recursive watch keeps every file in memory:
   * 300 MB for 100 000 files). Folders come and go with the scans: watches follow what the last scan saw.
   */
  private async watchFolders(folders: Set<string>): Promise<void> {
    if (!this.watching || this.stopped) return;
    for (const [dir, w] of this.dirWatchers) {
      if (folders.has(dir)) continue;
      w.close();
      this.dirWatchers.delete(dir);
    }
    let added = 0;
    for (const dir of folders) {
      if (this.stopped) return;
      if (this.dirWatchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => {
          // The next quick scan lists this folder even when its mtime did not change (a file rewritten in place).
          this.memo.delete(dir);
          this.schedule(WATCH_DELAY_MS);
        });
        w.on('error', () => {
          w.close();
          this.dirWatchers.delete(dir);
        });
        this.dirWatchers.set(dir, w);
      } catch (err) {
        // ENOSPC (the inotify watch limit), network file systems: rescans find the changes.
        this.watching = false;
        for (const w of this.dirWatchers.values()) w.close();
        this.dirWatchers.clear();
        this.opts.log.warn(
          { err: (err as Error).message },
          `cannot watch ${dir} (${(err as Error).message}): changes are found by rescans every ${this.opts.rescanSeconds ?? DEFAULT_RESCAN_S} s`,
        );
        return;
      }
      // Thousands of folders: yield now and then so requests keep being served.
      if (++added % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watching = false;
    for (const w of this.dirWatchers.values()) w.close();
    this.dirWatchers.clear();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    if (this.leading) await this.ledger.release(this.owner).catch(() => undefined);
    this.leading = false;
    await this.pool?.close();
    this.pool = undefined;
  }

  /** Whether this process holds the indexing lease (renewed while it indexes). */
  get leader(): boolean {
    return this.leading;
  }

  /** Give the indexing lease back (a one-off index is done; another process may index at once). */
  async releaseLease(): Promise<void> {
    if (this.leading) await this.ledger.release(this.owner);
    this.leading = false;
  }

  private async renewLease(): Promise<boolean> {
    // A catalog away for a moment (PostgreSQL restarting) is not a lease lost for good: try again soon.
    this.leaseError = undefined;
    this.leading = await this.ledger.lease(this.owner, LEASE_MS).catch((err: Error) => {
      this.leaseError = err.message;
      this.opts.log.warn({ err: err.message }, `indexing lease: ${err.message}`);
      return false;
    });
    this.leaseAt = Date.now();
    return this.leading;
  }

  /**
   * Why the last scan did not index: another process holds the lease, or the catalog could not be
   * asked for it (its error); undefined when this process leads.
   */
  get notLeading(): { held: true } | { held: false; error: string } | undefined {
    if (this.leading) return undefined;
    return this.leaseError === undefined ? { held: true } : { held: false, error: this.leaseError };
  }

  /** One pass over every root: read what changed, drop what is gone. */
  async scan(): Promise<void> {
    if (!(await this.renewLease())) {
      this.status_.state = 'follower';
      return;
    }
    const full = this.scans % (this.opts.fullScanEvery ?? 20) === 0;
    this.scans++;
    this.status_.state = 'indexing';
    if (this.roots.length === 0) this.roots = await Promise.all(this.opts.roots.map((r) => realpath(r)));
    const t0 = Date.now();
    const st = this.status_;
    st.state = 'indexing';
    st.scans = this.scans;
    st.files = { total: 0, indexed: 0, failed: 0, pending: 0 };
    st.rate = 0;
    st.lastScan = { started: new Date(t0).toISOString(), read: 0, removed: 0, full };
    let lastReport = t0;
    const progress = (final: boolean) => {
      const secs = (Date.now() - t0) / 1000;
      st.rate = secs > 0 ? Math.round(st.lastScan!.read / secs) : 0;
      const msg = `${final ? 'indexed' : 'indexing'}: ${st.files.indexed + st.files.failed}/${st.files.total} files up to date (${st.lastScan!.read} read, ${st.files.failed} failed, ${st.lastScan!.removed} removed), ${st.rate} files/s, ${secs.toFixed(1)} s`;
      this.opts.log.info(
        {
          ...st.files,
          read: st.lastScan!.read,
          removed: st.lastScan!.removed,
          rate: st.rate,
          seconds: Number(secs.toFixed(1)),
        },
        msg,
      );
    };
    const tick = () => {
      if (Date.now() - this.leaseAt > LEASE_MS / 3) {
        this.leaseAt = Date.now();
        void this.renewLease();
      }
      if (Date.now() - lastReport >= PROGRESS_MS) {
        lastReport = Date.now();
        progress(false);
      }
    };
    this.rootOfId.clear();
    this.walked = new Set();
    const known = new Set(this.roots);
    const goneRoots = (await this.ledger.roots()).filter((r) => !known.has(r));
    for (const root of goneRoots) await this.removeFolders(root, await this.ledger.folders(root));
    for (const root of this.roots) await this.scanRoot(root, full, tick);
    this.notify();
    if (!this.stopped) await this.watchFolders(this.walked);
    // The reading threads hold tens of MB each: let them go until a rescan finds work again.
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
    // Files waiting to settle are work still to do: the catalog is not complete yet.
    st.state = st.files.pending > 0 ? 'indexing' : 'idle';
    st.lastScan!.finished = new Date().toISOString();
    st.lastScan!.seconds = (Date.now() - t0) / 1000;
    if (st.lastScan!.read > 0 || st.lastScan!.removed > 0 || this.scans === 1) progress(true);
  }

  private async scanRoot(root: string, full: boolean, tick: () => void): Promise<void> {
    const seen = new Set<string>();
    const inFlight = new Set<Promise<void>>();
    const st = this.status_;
    const onSkip = (path: string, why: string) => this.opts.log.warn({ path }, `skipped ${path}: ${why}`);
    for await (const listing of walkFolders(root, onSkip, this.memo, !full)) {
      // Stopping mid-scan loses nothing: every committed folder stays, the next start resumes.
      if (this.stopped) break;
      seen.add(listing.folder);
      this.walked.add(listing.folder ? join(root, listing.folder) : root);
      if (listing.unchanged) {
        const { files, failed } = await this.ledger.folderCounts(root, listing.folder);
        st.files.total += files;
        st.files.failed += failed;
        st.files.indexed += files - failed;
        continue;
      }
      const known = await this.ledger.folder(root, listing.folder);
      const now = Date.now();
      const settle = this.opts.settleMs ?? SETTLE_MS;
      let changed = listing.files.filter((f) => {
        const k = known.get(f.rel);
        return !k || k.size !== f.size || k.mtimeMs !== f.mtimeMs;
      });
      const present = new Set(listing.files.map((f) => f.rel));
      const removed = [...known.keys()].filter((rel) => !present.has(rel)).map((rel) => ({ root, rel }));
      // A folder grouped by the folder rule is regrouped as a whole when files come or go (1 file → 2 makes a folder collection).
      const byFolderRule = listing.files.filter((f) => this.opts.grouping.ruleFor(f.rel).rule === 'folder');
      const composition =
        byFolderRule.some((f) => !known.has(f.rel)) ||
        removed.some((r) => this.opts.grouping.ruleFor(r.rel).rule === 'folder');
      // A folder already served as one collection just takes the new file in (decideFolder keeps its grouping).
      const grouped =
        composition &&
        listing.folder !== '' &&
        (await this.ledger.folderCollections(root, listing.folder)).some(
          (e) => e.collection === collectionIdFor(listing.folder, true),
        );
      if (composition && !grouped && byFolderRule.length <= SLICE)
        changed = [...new Set([...changed, ...byFolderRule])];
      // A file modified in the future (clock skew on shared storage) would never settle: read it.
      const fresh = changed.filter((f) => now - f.mtimeMs >= settle || f.mtimeMs > now);
      const young = changed.length - fresh.length;
      if (young > 0) {
        // Half-written files wait for the next scan, which must list this folder again.
        st.files.pending += young;
        this.memo.delete(listing.folder ? join(root, listing.folder) : root);
      }
      st.files.total += listing.files.length;
      const changedSet = new Set(changed.map((f) => f.rel));
      for (const f of listing.files) {
        if (changedSet.has(f.rel)) continue;
        if (known.get(f.rel)?.status === 'failed') st.files.failed++;
        else st.files.indexed++;
      }
      if (fresh.length === 0 && removed.length === 0) continue;
      for (const f of fresh) this.countPending(f.rel, listing.folder, 1);
      const job = this.indexFolder(root, listing.folder, fresh, removed, listing.files.length).finally(() => {
        inFlight.delete(job);
        tick();
      });
      inFlight.add(job);
      while (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      tick();
    }
    await Promise.all(inFlight);
    if (this.stopped) return;
    const gone = (await this.ledger.folders(root)).filter((f) => !seen.has(f));
    await this.removeFolders(root, gone);
  }

  private async removeFolders(root: string, folders: string[]): Promise<void> {
    for (const folder of folders) {
      const removed = [...(await this.ledger.folder(root, folder)).keys()].map((rel) => ({ root, rel }));
      if (removed.length > 0) await this.commit([], removed);
    }
  }

  private predictedId(rel: string, folder: string): string {
    const rule = this.opts.grouping.ruleFor(rel);
    if (rule.rule === 'config' || rule.rule === 'family') return rule.id;
    return folder === '' ? collectionIdFor(rel, false) : collectionIdFor(folder, true);
  }

  private countPending(rel: string, folder: string, delta: number): void {
    const id = this.predictedId(rel, folder);
    const n = (this.pendingIds.get(id) ?? 0) + delta;
    if (n <= 0) this.pendingIds.delete(id);
    else this.pendingIds.set(id, n);
  }

  private async indexFolder(
    root: string,
    folder: string,
    files: FoundFile[],
    removed: FileRemoval[],
    folderSize: number,
  ): Promise<void> {
    let decision: Decision | 'per-file' | undefined;
    if (files.length === 0) {
      await this.commit([], removed);
      return;
    }
    for (let i = 0; i < files.length && !this.stopped; i += SLICE) {
      const slice = files.slice(i, i + SLICE);
      const results = await this.read(slice);
      decision ??= await this.decideFolder(root, folder, results, folderSize);
      const commits: FileCommit[] = [];
      for (const r of results) commits.push(await this.toCommit(root, folder, r, decision));
      for (const f of slice) this.countPending(f.rel, folder, -1);
      await this.commit(commits, i === 0 ? removed : []);
      this.status_.lastScan!.read += slice.length;
      for (const c of commits) {
        if (c.status === 'failed') this.status_.files.failed++;
        else this.status_.files.indexed++;
      }
    }
  }

  private async commit(files: FileCommit[], removed: FileRemoval[]): Promise<void> {
    // A lease found lost stops the writing here; the catalog refuses a lost holder's commit anyway (PostgreSQL's fencing epoch).
    if (Date.now() - this.leaseAt > LEASE_MS / 3 && !(await this.renewLease()))
      throw new Error('the indexing lease was lost (another process indexes now): this scan stops');
    const changed = await this.ledger.commit(files, removed);
    this.status_.lastScan!.removed += removed.length;
    for (const id of changed) this.changed.add(id);
    // Listeners rebuild collection descriptions: once per interval, not once per commit.
    if (this.changed.size > 0 && !this.notifyTimer) this.notifyTimer = setTimeout(() => this.notify(), NOTIFY_MS);
  }

  /** Tell listeners which collections changed since the last notice. */
  notify(): void {
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    if (this.changed.size === 0) return;
    const changed = new Set(this.changed);
    this.changed.clear();
    for (const l of this.listeners) l(changed);
  }

  /** Read a slice of files on the worker threads (HDF5 files on this thread's h5wasm pool). */
  private async read(files: FoundFile[]): Promise<IndexedFile[]> {
    this.pool ??= (() => {
      const { url, execArgv } = workerScript('./index-worker.js', import.meta.url);
      return new WorkerPool<IndexTask, IndexTaskResult>(url, {
        size: this.opts.workers ?? os.availableParallelism(),
        name: 'indexer',
        ...(execArgv ? { execArgv } : {}),
      });
    })();
    const tasks: Array<Promise<IndexTaskResult>> = [];
    for (let i = 0; i < files.length; i += TASK_FILES)
      tasks.push(this.pool.run({ files: files.slice(i, i + TASK_FILES) }));
    const out: IndexedFile[] = [];
    for (const r of (await Promise.all(tasks)).flat()) {
      if (!('delegate' in r)) {
        out.push(r);
        continue;
      }
      const indexed = await indexToRows(r.delegate);
      if (indexed.entry.format === 'hdf5' && !indexed.entry.skip && this.opts.onHdf5File) {
        await this.opts
          .onHdf5File(r.delegate.abs)
          .catch((err: Error) =>
            this.opts.log.warn({ file: r.delegate.rel }, `chunk manifests of ${r.delegate.rel}: ${err.message}`),
          );
      }
      out.push(indexed);
    }
    return out;
  }

  /**
   * The folder rule: a folder whose files share format, variables, dimensions and kind (grids: each
   * file its own time span) is one collection named after it; otherwise each file is one. Decided
   * on the first slice of the folder; a folder already grouped keeps its grouping for new files.
   */
  private async decideFolder(
    root: string,
    folder: string,
    results: IndexedFile[],
    folderSize: number,
  ): Promise<Decision | 'per-file'> {
    if (folder === '' || folderSize < 2) return 'per-file';
    const folderId = collectionIdFor(folder, true);
    const mine = results.filter((r) => this.opts.grouping.ruleFor(r.entry.rel).rule === 'folder' && !r.entry.skip);
    if (results.length < folderSize) {
      // Only part of the folder changed: keep what the catalog already decided.
      const existing = await this.ledger.folderCollections(root, folder);
      if (existing.some((e) => e.collection === folderId)) {
        const first = (await this.ledger.collectionFiles(folderId, 1))[0]?.entry as
          Omit<FileIndex, 'features'> | undefined;
        return {
          id: folderId,
          ...(first?.signature ? { signature: first.signature } : {}),
          ...(first?.kind ? { kind: first.kind } : {}),
        };
      }
      if (existing.length > 0) return 'per-file';
    }
    if (mine.length < 2) return 'per-file';
    const sig = mine[0]!.entry.signature;
    const kind = mine[0]!.entry.kind;
    const same = mine.every((r) => r.entry.signature === sig && r.entry.kind === kind);
    if (!same) return 'per-file';
    if (kind === 'grid' && !alongTime(mine.map((r) => r.entry.timeSpan))) return 'per-file';
    return { id: folderId, ...(sig ? { signature: sig } : {}), ...(kind ? { kind } : {}) };
  }

  private async toCommit(
    root: string,
    folder: string,
    r: IndexedFile,
    decision: Decision | 'per-file',
  ): Promise<FileCommit> {
    const e = r.entry;
    const base = { root, rel: e.rel, size: e.size, mtimeMs: e.mtimeMs };
    if (e.skip) {
      const failed = /^cannot (read|open|index)/.test(e.skip);
      this.opts.log[failed ? 'warn' : 'info']({ file: e.rel, root }, `skipped ${e.rel}: ${e.skip}`);
      return { ...base, status: failed ? 'failed' : 'skipped', error: e.skip, entry: e };
    }
    const rule: PathRule = this.opts.grouping.ruleFor(e.rel);
    let id: string;
    if (rule.rule === 'metadata')
      return { ...base, status: 'skipped', error: 'Argo metadata file (not a collection)', entry: e };
    if (rule.rule === 'config' || rule.rule === 'family') {
      id = rule.id;
    } else if (decision !== 'per-file' && e.signature === decision.signature && e.kind === decision.kind) {
      id = decision.id;
    } else {
      if (decision !== 'per-file')
        this.opts.log.warn(
          { file: e.rel },
          `${e.rel} differs from the other files of ${folder}: served as its own collection`,
        );
      id = collectionIdFor(e.rel, false);
    }
    id = await this.uniqueId(
      id,
      root,
      rule.rule === 'folder' && decision !== 'per-file' && id === (decision as Decision).id ? folder : undefined,
      e.rel,
    );
    const single = !(rule.rule !== 'folder' || (decision !== 'per-file' && id.startsWith(decision.id)));
    const items =
      e.kind === 'grid'
        ? gridDrafts({
            collectionId: id,
            single,
            rel: e.rel,
            ...(e.grid ? { summary: e.grid } : {}),
            ...(e.bbox ? { bbox: e.bbox } : {}),
            ...(e.timeSpan ? { timeSpan: e.timeSpan } : {}),
            ...(e.dataTime ? { dataTime: e.dataTime } : {}),
          })
        : r.items;
    return { ...base, status: 'ok', entry: e, collection: { id, kind: e.kind === 'grid' ? 'grid' : 'feature' }, items };
  }

  /** An id already used by files elsewhere (another root, folder or file) gets a numeric suffix. */
  private async uniqueId(id: string, root: string, folder: string | undefined, rel: string): Promise<string> {
    const rule = this.opts.grouping.ruleFor(rel);
    for (let k = 1; ; k++) {
      const candidate = k === 1 ? id : `${id}-${k}`;
      let owner: string | null | undefined = this.rootOfId.get(candidate);
      if (owner === undefined) owner = await this.ledger.collectionRoot(candidate);
      if (owner === undefined || owner === null) return candidate;
      this.rootOfId.set(candidate, owner);
      if (owner !== root) continue;
      if (rule.rule === 'config' || rule.rule === 'family') return candidate;
      if (!(await this.ledger.collectionHasOtherFiles(candidate, root, folder, rel))) return candidate;
    }
  }
}

/** Grids aggregate only along time: files that each cover their own time span (daily or monthly files). */
function alongTime(spans: Array<[number, number] | undefined>): boolean {
  if (spans.some((s) => !s || !Number.isFinite(s[0]) || !Number.isFinite(s[1]))) return false;
  const sorted = (spans as Array<[number, number]>).slice().sort((a, b) => a[0] - b[0]);
  return sorted.every((s, i) => i === 0 || s[0] > sorted[i - 1]![1]);
}
