/**
 * The encode worker: runs the grid encoders of the registry (the same code as on the main thread)
 * and the PNG writer, so a large CoverageJSON, CSV or GeoJSON answer or a map costs the event loop
 * nothing but the copies to the socket. Field values come from the main thread, where the readers
 * and their caches live, block by block as the encoder pulls them; text leaves as UTF-8 pieces of
 * at least 64 KiB.
 */
import type { FieldBlock } from '../../core/grid/read.js';
import { serveStreams } from '../../workers/stream-pool.js';
import type { GridPayload } from '../grid/payload.js';
import { GRID_ENCODERS } from '../grid/registry.js';
import { encodeLossy } from '../render/formats.js';
import { encodeIndexedPng } from '../render/png.js';
import type { EncodeJob } from './jobs.js';

const PIECE_BYTES = 64 * 1024;

async function* utf8Pieces(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let parts: string[] = [];
  let size = 0;
  for await (const piece of body) {
    if (typeof piece !== 'string') {
      if (size > 0) yield encoder.encode(parts.join(''));
      parts = [];
      size = 0;
      yield piece;
      continue;
    }
    parts.push(piece);
    size += piece.length;
    if (size >= PIECE_BYTES) {
      yield encoder.encode(parts.join(''));
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield encoder.encode(parts.join(''));
}

serveStreams<EncodeJob>(async function* (job, ctx) {
  if (job.kind === 'png') {
    yield encodeIndexedPng(job.image);
    return;
  }
  if (job.kind === 'lossy') {
    yield await encodeLossy(job.image, job.format, job.background);
    return;
  }
  const payload: GridPayload = {
    ...job.payload,
    read: (plan, field) => {
      // The text encoders read the payload's own plan; a reordered one would need the main thread to plan it.
      if (plan !== payload.plan) throw new Error('the encode worker reads the payload plan only');
      return ctx.source<FieldBlock>(field.name);
    },
  };
  yield* utf8Pieces(GRID_ENCODERS[job.format].prepare(payload).body());
});
