/**
 * A small generic worker_threads pool: one task at a time per worker, a FIFO queue, ids on every
 * message, transferable results, per-task AbortSignal, crash recovery.
 *
 * Main thread: `new WorkerPool(workerScript('./x-worker.js', import.meta.url))`.
 * Worker side: `serveTasks(handler)` (same module, so both ends share one protocol).
 */
import os from 'node:os';
import { isMainThread, parentPort, Worker, type ResourceLimits, type Transferable } from 'node:worker_threads';

/** An error as it crosses the thread boundary (class identity does not survive structured clone). */
export interface SerializedError {
  name: string;
  message: string;
  /** Machine-readable kind chosen by the worker's error mapper. */
  code?: string;
  /** Structured-clonable details (e.g. a path or a filter id). */
  data?: unknown;
}

/** Thrown on the main thread when the worker's handler threw. */
export class WorkerTaskError extends Error {
  readonly code?: string;
  readonly data?: unknown;
  constructor(readonly remote: SerializedError) {
    super(remote.message);
    this.name = remote.name;
    this.code = remote.code;
    this.data = remote.data;
  }
}

/** The worker running a task died (uncaught error, process.exit, out of memory, terminate). */
export class WorkerCrashedError extends Error {
  constructor(
    message: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

/** The pool was closed before the task could finish. */
export class PoolClosedError extends Error {
  constructor(poolName: string) {
    super(`${poolName} worker pool is closed`);
    this.name = 'PoolClosedError';
  }
}

// ---- protocol ------------------------------------------------------------------------------

interface TaskMessage<Req> {
  type: 'task';
  id: number;
  request: Req;
}

type ReplyMessage<Res> =
  | { type: 'result'; id: number; value: Res; retire: boolean }
  | { type: 'error'; id: number; error: SerializedError; retire: boolean };

/** What a worker handler returns: the value plus the buffers to move (not copy) back. */
export interface TaskOutcome<Res> {
  value: Res;
  transfer?: Transferable[];
}

export interface ServeOptions {
  /** Runs once before the first task (e.g. load a wasm module); a rejection kills the worker. */
  init?: () => Promise<void>;
  /** Maps a thrown value to what the main thread sees. Default: name + message. */
  serializeError?: (err: unknown) => SerializedError;
  /**
   * Asked after every task: true makes the pool replace this worker once the reply is sent
   * (e.g. a wasm heap that grew past a limit and can never shrink, or a wasm abort).
   */
  shouldRetire?: (err?: unknown) => boolean;
}

function defaultSerializeError(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** Worker side: answer tasks from the pool, one at a time. Call once at the worker's top level. */
export function serveTasks<Req, Res>(
  handler: (request: Req) => TaskOutcome<Res> | Promise<TaskOutcome<Res>>,
  options: ServeOptions = {},
): void {
  const port = parentPort;
  if (isMainThread || port === null) throw new Error('serveTasks() must run inside a worker thread');
  const serialize = options.serializeError ?? defaultSerializeError;
  const ready = options.init ? options.init() : Promise.resolve();
  // Let an init failure surface as an uncaught error: the pool sees the worker exit and rejects with it.
  ready.catch((err: unknown) => {
    throw err;
  });
  // Tasks arrive one at a time (the pool never sends a second before the first is answered),
  // but chaining keeps the order even if that ever changes.
  let chain: Promise<void> = ready;
  port.on('message', (msg: TaskMessage<Req>) => {
    chain = chain.then(async () => {
      let reply: ReplyMessage<Res>;
      let transfer: Transferable[] = [];
      try {
        const outcome = await handler(msg.request);
        transfer = outcome.transfer ?? [];
        reply = { type: 'result', id: msg.id, value: outcome.value, retire: options.shouldRetire?.() ?? false };
      } catch (err) {
        reply = { type: 'error', id: msg.id, error: serialize(err), retire: options.shouldRetire?.(err) ?? false };
      }
      try {
        port.postMessage(reply, transfer);
      } catch (err) {
        // e.g. a value that cannot be cloned: answer anyway, or the pool would wait forever.
        port.postMessage({
          type: 'error',
          id: msg.id,
          error: serialize(err),
          retire: false,
        } satisfies ReplyMessage<Res>);
      }
    });
  });
}

// ---- main thread ---------------------------------------------------------------------------

/**
 * Where a worker script lives, relative to the calling module: the `.js` file next to compiled code
 * in dist/, or the `.ts` source when the caller itself runs from source under tsx (tests, dev).
 * `execArgv` is undefined (inherit the parent's flags) for compiled code.
 */
export function workerScript(relativeJs: string, callerUrl: string): { url: URL; execArgv?: string[] } {
  if (!callerUrl.endsWith('.ts')) return { url: new URL(relativeJs, callerUrl) };
  const target = new URL(relativeJs.replace(/\.js$/, '.ts'), callerUrl).href;
  // Node 20 does not apply loader hooks given in a Worker's execArgv (`--import tsx` fails with
  // "Unknown file extension .ts", nodejs/node#47747), so the worker starts from a one-line
  // bootstrap that registers tsx inside its own thread and then imports the TypeScript file.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(tsxApi)};\nregister();\nawait import(${JSON.stringify(target)});\n`;
  // Empty execArgv: the parent's flags (test-runner hooks, a failing --import) stay out of the worker.
  return { url: new URL(`data:text/javascript,${encodeURIComponent(code)}`), execArgv: [] };
}

export interface WorkerPoolOptions {
  /** Number of workers; default min(2, os.availableParallelism()). */
  size?: number;
  /** Name used in error messages. */
  name?: string;
  execArgv?: string[];
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
}

export interface RunOptions {
  /** Aborted while queued: dropped. Aborted while running: the worker finishes, the result is discarded. */
  signal?: AbortSignal;
  /** Buffers in the request to move to the worker instead of copying. */
  transfer?: Transferable[];
}

interface Task<Req, Res> {
  id: number;
  request: Req;
  transfer: Transferable[];
  signal?: AbortSignal;
  onAbort?: () => void;
  settled: boolean;
  resolve: (value: Res) => void;
  reject: (err: unknown) => void;
}

interface Slot<Req, Res> {
  worker: Worker;
  task?: Task<Req, Res>;
  /** Last uncaught error reported by the worker, used to explain its exit. */
  lastError?: Error;
  retiring: boolean;
}

export interface PoolStats {
  workers: number;
  busy: number;
  queued: number;
}

export class WorkerPool<Req, Res> {
  readonly size: number;
  private readonly name: string;
  private readonly slots = new Set<Slot<Req, Res>>();
  private readonly queue: Task<Req, Res>[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly script: URL,
    private readonly options: WorkerPoolOptions = {},
  ) {
    this.size = Math.max(1, Math.floor(options.size ?? Math.min(2, os.availableParallelism())));
    this.name = options.name ?? 'worker';
  }

  /** Runs one request on the next free worker. */
  run(request: Req, options: RunOptions = {}): Promise<Res> {
    if (this.closed) return Promise.reject(new PoolClosedError(this.name));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Res>((resolve, reject) => {
      const task: Task<Req, Res> = {
        id: this.nextId++,
        request,
        transfer: options.transfer ?? [],
        signal,
        settled: false,
        resolve,
        reject,
      };
      if (signal) {
        task.onAbort = () => this.abort(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Starts every worker now, so the first requests do not pay for their start-up (wasm compilation). */
  warm(): void {
    while (!this.closed && this.liveSlots() < this.size) this.spawn();
  }

  get stats(): PoolStats {
    let busy = 0;
    for (const slot of this.slots) if (slot.task) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  /** Rejects queued and running tasks, terminates every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new PoolClosedError(this.name);
    for (const task of this.queue.splice(0)) this.settle(task, err);
    const exits: Promise<number>[] = [];
    for (const slot of this.slots) {
      if (slot.task) this.settle(slot.task, err);
      exits.push(slot.worker.terminate());
    }
    this.slots.clear();
    await Promise.all(exits);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.idleSlot();
      if (!slot) {
        if (this.liveSlots() >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift() as Task<Req, Res>;
      slot.task = task;
      // Busy workers keep the process alive (an awaited read must not be cut short); idle ones do not.
      slot.worker.ref();
      const msg: TaskMessage<Req> = { type: 'task', id: task.id, request: task.request };
      try {
        slot.worker.postMessage(msg, task.transfer);
      } catch (err) {
        // e.g. a request that cannot be cloned: the worker never saw it.
        slot.task = undefined;
        slot.worker.unref();
        this.settle(task, err);
      }
    }
  }

  private idleSlot(): Slot<Req, Res> | undefined {
    for (const slot of this.slots) if (!slot.task && !slot.retiring) return slot;
    return undefined;
  }

  private liveSlots(): number {
    let n = 0;
    for (const slot of this.slots) if (!slot.retiring) n++;
    return n;
  }

  private spawn(): Slot<Req, Res> {
    const worker = new Worker(this.script, {
      execArgv: this.options.execArgv,
      workerData: this.options.workerData,
      resourceLimits: this.options.resourceLimits,
    });
    worker.unref();
    const slot: Slot<Req, Res> = { worker, retiring: false };
    this.slots.add(slot);
    worker.on('message', (msg: ReplyMessage<Res>) => this.onReply(slot, msg));
    worker.on('error', (err: Error) => {
      slot.lastError = err;
    });
    worker.on('messageerror', (err: Error) => {
      // A reply that could not be deserialized: fail that task, keep the worker.
      const task = slot.task;
      slot.task = undefined;
      slot.worker.unref();
      if (task) this.settle(task, new Error(`${this.name} worker sent an unreadable reply: ${err.message}`));
      this.dispatch();
    });
    worker.on('exit', (code: number) => this.onExit(slot, code));
    return slot;
  }

  private onReply(slot: Slot<Req, Res>, msg: ReplyMessage<Res>): void {
    const task = slot.task;
    if (!task || task.id !== msg.id) return; // a reply for a task already failed by messageerror
    slot.task = undefined;
    slot.worker.unref();
    if (msg.type === 'result') this.settle(task, undefined, msg.value);
    else this.settle(task, new WorkerTaskError(msg.error));
    if (msg.retire) {
      slot.retiring = true;
      void slot.worker.terminate();
    }
    this.dispatch();
  }

  private onExit(slot: Slot<Req, Res>, code: number): void {
    this.slots.delete(slot);
    const task = slot.task;
    slot.task = undefined;
    if (task && !this.closed) {
      const why = slot.lastError ? `: ${slot.lastError.message}` : '';
      this.settle(
        task,
        new WorkerCrashedError(
          `${this.name} worker exited with code ${code} while running task ${task.id}${why}`,
          code,
        ),
      );
    }
    // A replacement is spawned on demand by dispatch() when work is waiting.
    if (!this.closed) this.dispatch();
  }

  private abort(task: Task<Req, Res>): void {
    const i = this.queue.indexOf(task);
    if (i >= 0) this.queue.splice(i, 1);
    // A running task keeps its worker busy until the reply arrives; only the caller stops waiting.
    this.settle(task, abortReason(task.signal as AbortSignal));
  }

  private settle(task: Task<Req, Res>, err: unknown, value?: Res): void {
    if (task.settled) return;
    task.settled = true;
    if (task.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
    if (err !== undefined) task.reject(err);
    else task.resolve(value as Res);
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
