import { stat } from 'node:fs/promises';
import { openReader } from './registry.js';
import type { Reader } from './types.js';

interface Entry {
  path: string;
  stamp: string;
  checkedAt: number;
  reader: Promise<Reader>;
  leases: number;
  /** Out of the map (evicted or stale): closed when its last lease is released. */
  retired: boolean;
  /** A stat of the file in flight. */
  checking?: Promise<void> | undefined;
}

export interface OpenReadersOptions {
  /** Files kept open at most (least recently used go first). */
  max?: number;
  open?: (path: string) => Promise<Reader>;
  /** How often a kept reader's file is stat'ed again (ms): a file replaced in place is seen within this. */
  restampMs?: number;
}

async function stampOf(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.size}:${s.mtimeMs}`;
}

/**
 * Readers kept open across requests, a few files at a time. Opening a file (sniffing it, reading
 * and parsing its header) is a dozen asynchronous file operations, each one a turn of the event
 * loop: under load a turn takes tens of milliseconds, so a single Argo profile took a second to
 * open and read. A kept reader answers from its parsed header and its block cache instead. Each
 * user leases the reader and closes its lease; the file is closed when it is evicted (or changed
 * on disk: its size and mtime are checked at most once a second) and no lease is left.
 */
export class OpenReaders {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  private readonly opener: (path: string) => Promise<Reader>;
  private readonly restampMs: number;

  constructor(opts: OpenReadersOptions = {}) {
    this.max = opts.max ?? 16;
    this.restampMs = opts.restampMs ?? 1000;
    this.opener = opts.open ?? ((p) => openReader(p));
  }

  /** Files open now (kept or still leased). */
  get size(): number {
    return this.entries.size;
  }

  /** A reader of `path`; its close() ends this lease only. */
  async lease(path: string): Promise<Reader> {
    const entry = await this.entry(path);
    let reader: Reader;
    try {
      reader = await entry.reader;
    } catch (err) {
      this.release(entry);
      throw err;
    }
    let released = false;
    return {
      info: () => reader.info(),
      readRaw: (...a) => reader.readRaw(...a),
      read: (req) => reader.read(req),
      close: async () => {
        if (released) return;
        released = true;
        this.release(entry);
      },
    };
  }

  /** Close every kept reader (leases still out close theirs when released). */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) this.retire(e);
  }

  /** The entry of `path`, its lease counted before any other request can retire it. */
  private async entry(path: string): Promise<Entry> {
    let e = this.entries.get(path);
    if (e && Date.now() - e.checkedAt >= this.restampMs) {
      // One stat a second per file, shared by the requests that arrive meanwhile.
      e.checking ??= this.recheck(e);
      await e.checking;
      e = this.entries.get(path);
    }
    if (e) {
      // Most recently used last.
      this.entries.delete(path);
      this.entries.set(path, e);
      e.leases++;
      return e;
    }
    const stamp = await stampOf(path).catch(() => 'missing');
    const raced = this.entries.get(path);
    if (raced) {
      raced.leases++;
      return raced;
    }
    const fresh: Entry = {
      path,
      stamp,
      checkedAt: Date.now(),
      reader: this.opener(path),
      leases: 1,
      retired: false,
    };
    // A file that cannot be opened is not kept: the next request tries again (and gets its error).
    fresh.reader.catch(() => {
      if (this.entries.get(path) === fresh) this.entries.delete(path);
      fresh.retired = true;
    });
    this.entries.set(path, fresh);
    while (this.entries.size > this.max) {
      const [oldest, old] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldest);
      this.retire(old);
    }
    return fresh;
  }

  /** Retire `e` when its file changed on disk (or went away): the next lease opens it anew. */
  private async recheck(e: Entry): Promise<void> {
    const stamp = await stampOf(e.path).catch(() => 'missing');
    e.checkedAt = Date.now();
    e.checking = undefined;
    if (stamp !== e.stamp && this.entries.get(e.path) === e) {
      this.entries.delete(e.path);
      this.retire(e);
    }
  }

  private release(e: Entry): void {
    e.leases--;
    if (e.retired && e.leases === 0) this.closeReader(e);
  }

  private retire(e: Entry): void {
    if (e.retired) return;
    e.retired = true;
    if (e.leases === 0) this.closeReader(e);
  }

  private closeReader(e: Entry): void {
    void e.reader.then((r) => r.close()).catch(() => undefined);
  }
}
