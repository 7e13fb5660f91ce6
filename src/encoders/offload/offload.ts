/**
 * Heavy encoding off the event loop: large text answers of the grid pipeline (CoverageJSON, CSV,
 * GeoJSON) and map images (PNG, JPEG, WebP) are encoded by a small pool of worker threads running the same encoders.
 * The readers stay on the main thread (their caches and the HDF5 workers are there): the worker
 * pulls each field's blocks as it encodes, and they cross as transferred buffers. A client that
 * goes away cancels the job. ODAS_ENCODE_WORKERS sets the pool's size; 0 encodes on the main
 * thread (the load bench's reference).
 */
import type { Transferable } from 'node:worker_threads';
import { Refused } from '../../core/errors.js';
import type { GridPlan } from '../../core/grid/plan.js';
import type { NumericArray } from '../../readers/types.js';
import { workerScript } from '../../workers/pool.js';
import {
  defaultPoolSize,
  PoolSaturatedError,
  StreamPool,
  type SourceItem,
  type StreamPoolStats,
} from '../../workers/stream-pool.js';
import type { GridPayload } from '../grid/payload.js';
import type { GridFormat } from '../grid/registry.js';
import { encodeLossy, type LossyFormat } from '../render/formats.js';
import { encodeIndexedPng, type IndexedImage } from '../render/png.js';
import { OFFLOADED_FORMATS, type EncodeJob, type OffloadedFormat } from './jobs.js';

/** Answers estimated below this are encoded in place: the round trip would cost more than the encoding. */
const MIN_OFFLOAD_BYTES = 64 * 1024;
/** Images with fewer pixels are written in place (a 256 × 256 tile deflates in about a millisecond). */
const MIN_OFFLOAD_PIXELS = 256 * 256;

function configuredSize(): number {
  const v = process.env['ODAS_ENCODE_WORKERS'];
  if (v === undefined || v === '') return defaultPoolSize();
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : defaultPoolSize();
}

let shared: StreamPool | undefined;
let size: number | undefined;

/** The process-wide encode pool, or undefined when encoding stays on the main thread (ODAS_ENCODE_WORKERS=0). */
function encodePool(): StreamPool | undefined {
  size ??= configuredSize();
  if (size === 0) return undefined;
  const script = workerScript('./encode-worker.js', import.meta.url);
  shared ??= new StreamPool(script.url, {
    size,
    name: 'encode',
    ...(script.execArgv ? { execArgv: script.execArgv } : {}),
  });
  return shared;
}

/** Starts the encode workers (server start-up), so the first heavy answer does not wait for them. */
export function warmEncodePool(): void {
  encodePool()?.warm();
}

/** Counts for /metrics and /ready; undefined when there is no pool. */
export function encodePoolStats(): StreamPoolStats | undefined {
  return encodePool()?.stats;
}

/** Terminates the workers (shutdown, end of tests); the next use starts a new pool. */
export async function closeEncodePool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}

/** Whether a grid answer of `format` and about `bytes` is encoded in the pool. */
export function offloadable(format: GridFormat, plan: GridPlan, bytes: number): format is OffloadedFormat {
  if (!(OFFLOADED_FORMATS as readonly string[]).includes(format) || bytes < MIN_OFFLOAD_BYTES) return false;
  // Table rows of a projected grid need its projection (functions do not cross threads).
  if (format !== 'covjson' && plan.model.crs.kind === 'projected') return false;
  return encodePool() !== undefined;
}

/** The plan without what cannot or need not cross: the projection's functions, the file list (reads stay here). */
function portablePlan(plan: GridPlan): GridPlan {
  const { projection: _projection, ...crs } = plan.model.crs;
  return { ...plan, model: { ...plan.model, crs, files: [] } };
}

/** A block's values as a transfer: the buffer itself when the array spans it, else a copy of just the view. */
function movable(data: NumericArray): { data: NumericArray; transfer: Transferable[] } {
  if (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength)
    return { data, transfer: [data.buffer] };
  const copy = data.slice();
  return { data: copy, transfer: [copy.buffer as ArrayBuffer] };
}

function refused(err: unknown): unknown {
  return err instanceof PoolSaturatedError
    ? new Refused(`The server is busy encoding large answers (${err.message}); retry shortly.`, 2)
    : err;
}

/** A grid answer encoded by a worker: its bytes as they are produced. */
export async function* encodeInPool(
  format: OffloadedFormat,
  payload: GridPayload,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const pool = encodePool();
  if (!pool) throw new Error('the encode pool is disabled');
  const { read: _read, ...meta } = payload;
  const job: EncodeJob = { kind: 'grid', format, payload: { ...meta, plan: portablePlan(payload.plan) } };
  async function* blocks(args: unknown): AsyncGenerator<SourceItem> {
    const field = payload.plan.fields.find((f) => f.name === args);
    if (!field) throw new Error(`no field ${String(args)} in the plan`);
    for await (const block of payload.read(payload.plan, field)) {
      const { data, transfer } = movable(block.data);
      yield { value: { dtype: block.dtype, data }, transfer };
    }
  }
  try {
    yield* pool.stream(job, { signal, source: blocks });
  } catch (err) {
    throw refused(err);
  }
}

/**
 * An image of indexed colours as PNG, JPEG or WebP, written by a worker when it is large enough to
 * matter (the pixels are moved, not copied). JPEG has no transparency: empty pixels take
 * `background` (white by default).
 */
export async function imageInPool(
  image: IndexedImage,
  format: 'png' | LossyFormat,
  options: { signal?: AbortSignal; background?: [number, number, number] } = {},
): Promise<Buffer> {
  const pool = encodePool();
  const { signal, background } = options;
  if (!pool || image.width * image.height < MIN_OFFLOAD_PIXELS)
    return format === 'png' ? encodeIndexedPng(image) : encodeLossy(image, format, background);
  const transfer: Transferable[] = [];
  for (const a of [image.pixels, image.palette])
    if (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer)
      transfer.push(a.buffer);
  const job: EncodeJob =
    format === 'png' ? { kind: 'png', image } : { kind: 'lossy', format, image, ...(background ? { background } : {}) };
  const parts: Uint8Array[] = [];
  try {
    for await (const piece of pool.stream(job, { transfer, ...(signal ? { signal } : {}) })) parts.push(piece);
  } catch (err) {
    throw refused(err);
  }
  return Buffer.concat(parts);
}
