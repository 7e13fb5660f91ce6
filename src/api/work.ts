import type { FastifyRequest } from 'fastify';

/**
 * A request's admission ticket, set by the server's admission control (absent in apps built without it).
 * An answer that turns out to be a large text encoding swaps its slot for a `heavy` one, so a few
 * big CoverageJSON or CSV answers can neither take every core nor hold the slots of cheap requests.
 */
export interface WorkTicket {
  /** Gives the request's own slot back, then resolves when a heavy slot is held (released with the response); rejects with a 503 when saturated. */
  heavy(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    work: WorkTicket | null;
  }
}

/** Text answers above this size are heavy encodes (CoverageJSON, CSV, GeoJSON: ~100 ms of CPU per 2 MB). */
const HEAVY_TEXT_BYTES = 1024 * 1024;

/** Take a heavy slot when an answer of `mediaType` and about `bytes` is heavy to encode; no-op otherwise. */
export async function admitEncode(request: FastifyRequest, mediaType: string, bytes: number): Promise<void> {
  if (!request.work || bytes < HEAVY_TEXT_BYTES) return;
  if (!/json|csv|text/.test(mediaType)) return;
  await request.work.heavy();
}
