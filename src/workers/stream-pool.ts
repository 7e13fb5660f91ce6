/**
 * A worker_threads pool for streamed jobs: a job is a request in, a stream of byte pieces out, and
 * the worker may pull input streams from the main thread as it goes (e.g. a field's blocks as the
 * readers produce them). Pieces and pulled items cross as transferred buffers, not copies. The
 * consumer's pace holds the worker back (a window of credits), a cancelled job (client gone) is
 * stopped at the worker's next await, and several jobs share a worker so a slow client does not
 * hold one hostage. Jobs beyond the pool's capacity wait in a bounded queue; a full queue refuses.
 *
 * Main thread: `new StreamPool(workerScript('./x-worker.js', import.meta.url))`.
 * Worker side: `serveStreams(handler)` (same module, so both ends share one protocol).
 */
import os from 'node:os';
import { isMainThread, parentPort, Worker, type Transferable } from 'node:worker_threads';
import { WorkerCrashedError, WorkerTaskError, type SerializedError } from './pool.js';

// ---- protocol ------------------------------------------------------------------------------

type ToWorker =
  | { type: 'start'; id: number; request: unknown }
  | { type: 'credit'; id: number; n: number }
  | { type: 'cancel'; id: number }
  | { type: 'item'; id: number; src: number; value: unknown }
  | { type: 'end'; id: number; src: number }
  | { type: 'fail'; id: number; src: number; error: SerializedError };

type FromWorker =
  | { type: 'piece'; id: number; data: Uint8Array }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; error: SerializedError }
  /** The next item of input stream `src`; `args` on the first pull opens it. */
  | { type: 'pull'; id: number; src: number; args?: unknown; open: boolean }
  | { type: 'close'; id: number; src: number };

/** Pieces a worker may send ahead of the consumer: bounds the memory a slow client can pin. */
const WINDOW = 4;

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** A view's bytes as something to transfer: the whole buffer when the view spans it, else a copy that does. */
function owned(data: Uint8Array): { data: Uint8Array; transfer: Transferable[] } {
  if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength)
    return { data, transfer: [data.buffer] };
  const copy = data.slice();
  return { data: copy, transfer: [copy.buffer] };
}

// ---- worker side ---------------------------------------------------------------------------

/** What a job's handler gets besides its request. */
interface JobContext {
  /** Aborted when the main thread cancels the job (its client went away). */
  signal: AbortSignal;
  /** An input stream the main thread opens with `args` (its `source` option), pulled item by item. */
  source<T>(args: unknown): AsyncIterable<T>;
}

interface WorkerJob {
  credits: number;
  wake?: () => void;
  controller: AbortController;
  pulls: Map<number, { resolve: (r: IteratorResult<unknown>) => void; reject: (err: unknown) => void }>;
  nextSrc: number;
}

/** Worker side: run jobs from the pool, several at once, interleaved at their awaits. Call once at top level. */
export function serveStreams<Req>(handler: (request: Req, ctx: JobContext) => AsyncIterable<Uint8Array>): void {
  const port = parentPort;
  if (isMainThread || port === null) throw new Error('serveStreams() must run inside a worker thread');
  const jobs = new Map<number, WorkerJob>();
  const post = (msg: FromWorker, transfer: Transferable[] = []) => port.postMessage(msg, transfer);

  const run = async (id: number, request: Req) => {
    const job: WorkerJob = { credits: WINDOW, controller: new AbortController(), pulls: new Map(), nextSrc: 0 };
    jobs.set(id, job);
    const { signal } = job.controller;
    const ctx: JobContext = {
      signal,
      source<T>(args: unknown): AsyncIterable<T> {
        const src = job.nextSrc++;
        let opened = false;
        let finished = false;
        const iterator: AsyncIterator<T> = {
          next: () => {
            if (finished) return Promise.resolve({ done: true, value: undefined });
            if (signal.aborted) return Promise.reject(signal.reason);
            return new Promise<IteratorResult<T>>((resolve, reject) => {
              job.pulls.set(src, {
                resolve: (r) => {
                  if (r.done) finished = true;
                  resolve(r as IteratorResult<T>);
                },
                reject: (err) => {
                  finished = true;
                  reject(err);
                },
              });
              post(opened ? { type: 'pull', id, src, open: false } : { type: 'pull', id, src, args, open: true });
              opened = true;
            });
          },
          return: () => {
            if (opened && !finished && !signal.aborted) post({ type: 'close', id, src });
            finished = true;
            return Promise.resolve({ done: true, value: undefined });
          },
        };
        return { [Symbol.asyncIterator]: () => iterator };
      },
    };
    try {
      for await (const piece of handler(request, ctx)) {
        while (job.credits === 0 && !signal.aborted) await new Promise<void>((resolve) => (job.wake = resolve));
        if (signal.aborted) break;
        job.credits--;
        const { data, transfer } = owned(piece);
        post({ type: 'piece', id, data }, transfer);
      }
      if (!signal.aborted) post({ type: 'done', id });
    } catch (err) {
      if (!signal.aborted) post({ type: 'error', id, error: serialize(err) });
    } finally {
      jobs.delete(id);
    }
  };

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'start') {
      void run(msg.id, msg.request as Req);
      return;
    }
    const job = jobs.get(msg.id);
    if (!job) return;
    switch (msg.type) {
      case 'credit':
        job.credits += msg.n;
        job.wake?.();
        job.wake = undefined;
        break;
      case 'cancel': {
        job.controller.abort(new Error('job cancelled'));
        job.wake?.();
        job.wake = undefined;
        for (const p of job.pulls.values()) p.reject(job.controller.signal.reason);
        job.pulls.clear();
        break;
      }
      case 'item':
      case 'end':
      case 'fail': {
        const p = job.pulls.get(msg.src);
        if (!p) return;
        job.pulls.delete(msg.src);
        if (msg.type === 'item') p.resolve({ done: false, value: msg.value });
        else if (msg.type === 'end') p.resolve({ done: true, value: undefined });
        else p.reject(new WorkerTaskError(msg.error));
        break;
      }
    }
  });
}

// ---- main thread ---------------------------------------------------------------------------

/** The pool's queue is full: the caller should refuse the request (503) rather than wait. */
export class PoolSaturatedError extends Error {
  constructor(poolName: string, queued: number) {
    super(`the ${poolName} workers are busy (${queued} jobs queued)`);
    this.name = 'PoolSaturatedError';
  }
}

/** One item of an input stream, and the buffers in it to move to the worker. */
export interface SourceItem {
  value: unknown;
  transfer?: Transferable[];
}

export interface StreamJobOptions {
  /** Buffers in the request to move instead of copy. */
  transfer?: Transferable[];
  /** Aborting cancels the job (queued: dropped; running: stopped at the worker's next await). */
  signal?: AbortSignal;
  /** Opens the input streams the worker asks for (JobContext.source). */
  source?: (args: unknown) => AsyncIterable<SourceItem>;
}

export interface StreamPoolOptions {
  /** Workers; default: one fewer than the cores (the event loop keeps one), at least 1, at most 4. */
  size?: number;
  /** Jobs one worker runs at once (interleaved). */
  perWorker?: number;
  /** Jobs that may wait for a worker; more are refused with PoolSaturatedError. */
  queue?: number;
  name?: string;
  execArgv?: string[];
}

export interface StreamPoolStats {
  workers: number;
  size: number;
  running: number;
  queued: number;
  /** Jobs by how they ended, since start. */
  done: number;
  failed: number;
  cancelled: number;
  refused: number;
}

interface MainJob {
  id: number;
  deliver: (msg: FromWorker) => void;
  crash: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, MainJob>;
  /** Jobs given this worker (counted from the moment a job is handed the slot, before it starts). */
  load: number;
  lastError?: Error;
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

export class StreamPool {
  readonly size: number;
  private readonly perWorker: number;
  private readonly maxQueue: number;
  private readonly name: string;
  private readonly slots = new Set<Slot>();
  private readonly waiting: Array<{ resolve: (slot: Slot) => void; reject: (err: unknown) => void }> = [];
  private nextId = 1;
  private closed = false;
  private readonly counts = { done: 0, failed: 0, cancelled: 0, refused: 0 };

  constructor(
    private readonly script: URL,
    private readonly options: StreamPoolOptions = {},
  ) {
    this.size = Math.max(1, Math.floor(options.size ?? defaultPoolSize()));
    this.perWorker = Math.max(1, options.perWorker ?? 4);
    this.maxQueue = Math.max(0, options.queue ?? 16 * this.size);
    this.name = options.name ?? 'stream';
  }

  get stats(): StreamPoolStats {
    let running = 0;
    for (const s of this.slots) running += s.load;
    return { workers: this.slots.size, size: this.size, running, queued: this.waiting.length, ...this.counts };
  }

  /** Starts every worker now, so the first jobs do not wait for a thread to boot. */
  warm(): void {
    while (!this.closed && this.slots.size < this.size) this.spawn();
  }

  /** Runs a job; its pieces arrive as the consumer pulls them. */
  async *stream(request: unknown, opts: StreamJobOptions = {}): AsyncGenerator<Uint8Array> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const slot = await this.acquire(signal);
    const id = this.nextId++;
    const inbox: FromWorker[] = [];
    let wake: (() => void) | undefined;
    let failure: Error | undefined;
    let finished = false;
    const sources = new Map<number, AsyncIterator<SourceItem>>();
    const post = (msg: ToWorker, transfer: Transferable[] = []) => {
      if (this.slots.has(slot)) slot.worker.postMessage(msg, transfer);
    };
    const serveSource = async (src: number, args: unknown, open: boolean) => {
      try {
        let it = sources.get(src);
        if (open || !it) {
          if (!opts.source) throw new Error('this job has no input streams');
          it = opts.source(args)[Symbol.asyncIterator]();
          sources.set(src, it);
        }
        const r = await it.next();
        if (finished) return;
        if (r.done) {
          sources.delete(src);
          post({ type: 'end', id, src });
        } else post({ type: 'item', id, src, value: r.value.value }, r.value.transfer ?? []);
      } catch (err) {
        sources.delete(src);
        if (!finished) post({ type: 'fail', id, src, error: serialize(err) });
      }
    };
    const job: MainJob = {
      id,
      deliver: (msg) => {
        if (msg.type === 'pull') void serveSource(msg.src, msg.args, msg.open);
        else if (msg.type === 'close') {
          const it = sources.get(msg.src);
          sources.delete(msg.src);
          void it?.return?.(undefined);
        } else {
          inbox.push(msg);
          wake?.();
        }
      },
      crash: (err) => {
        failure = err;
        wake?.();
      },
    };
    let settled = false;
    // Gives the worker's slot back once: at the end of the generator, or as soon as the job is cancelled,
    // because a consumer that stops reading need not resume (or close) the generator, and the slot would leak.
    const settle = (outcome: 'done' | 'failed' | 'cancelled') => {
      if (settled) return;
      settled = true;
      finished = true;
      if (outcome === 'cancelled') post({ type: 'cancel', id });
      this.counts[outcome]++;
      for (const it of sources.values()) void it.return?.(undefined);
      sources.clear();
      slot.jobs.delete(id);
      slot.load--;
      if (slot.load === 0) slot.worker.unref();
      this.dispatch();
    };
    const onAbort = () => {
      failure ??= signal?.reason instanceof Error ? signal.reason : new Error('job cancelled');
      wake?.();
      // At once, not when the generator resumes: a consumer that stopped reading may never resume it.
      settle('cancelled');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) failure ??= signal.reason instanceof Error ? signal.reason : new Error('job cancelled');
    if (!this.slots.has(slot)) job.crash(new WorkerCrashedError(`${this.name} worker exited before the job started`));
    slot.jobs.set(id, job);
    slot.worker.ref();
    let outcome: 'done' | 'failed' | 'cancelled' = 'cancelled';
    try {
      post({ type: 'start', id, request }, opts.transfer ?? []);
      for (;;) {
        while (inbox.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (failure) throw failure;
        const msg = inbox.shift()!;
        if (msg.type === 'done') {
          outcome = 'done';
          return;
        }
        if (msg.type === 'error') {
          outcome = 'failed';
          throw new WorkerTaskError(msg.error);
        }
        if (msg.type === 'piece') {
          yield msg.data;
          post({ type: 'credit', id, n: 1 });
        }
      }
    } catch (err) {
      if (err instanceof WorkerCrashedError) outcome = 'failed';
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      settle(outcome);
    }
  }

  /** Ends every job and terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error(`${this.name} worker pool is closed`);
    for (const w of this.waiting.splice(0)) w.reject(err);
    const exits: Array<Promise<number>> = [];
    for (const slot of this.slots) {
      for (const job of slot.jobs.values()) job.crash(err);
      exits.push(slot.worker.terminate());
    }
    this.slots.clear();
    await Promise.all(exits);
  }

  private free(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.load < best.load) best = s;
    // A new thread before a second job on a busy one: jobs are CPU-bound.
    if ((!best || best.load > 0) && this.slots.size < this.size) best = this.spawn();
    if (!best || best.load >= this.perWorker) return undefined;
    best.load++;
    return best;
  }

  private acquire(signal: AbortSignal | undefined): Promise<Slot> {
    if (this.closed) return Promise.reject(new Error(`${this.name} worker pool is closed`));
    const slot = this.waiting.length === 0 ? this.free() : undefined;
    if (slot) return Promise.resolve(slot);
    if (this.waiting.length >= this.maxQueue) {
      this.counts.refused++;
      return Promise.reject(new PoolSaturatedError(this.name, this.waiting.length));
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter = {
        resolve: (s: Slot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        this.counts.cancelled++;
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && !this.closed) {
      const slot = this.free();
      if (!slot) return;
      this.waiting.shift()!.resolve(slot);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.script, { execArgv: this.options.execArgv });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), load: 0 };
    this.slots.add(slot);
    worker.on('message', (msg: FromWorker) => slot.jobs.get(msg.id)?.deliver(msg));
    worker.on('error', (err: Error) => {
      slot.lastError = err;
    });
    worker.on('exit', (code: number) => {
      this.slots.delete(slot);
      const why = slot.lastError ? `: ${slot.lastError.message}` : '';
      for (const job of slot.jobs.values())
        job.crash(new WorkerCrashedError(`${this.name} worker exited with code ${code}${why}`, code));
      slot.jobs.clear();
      if (!this.closed) this.dispatch();
    });
    return slot;
  }
}
