import type { FastifyInstance } from 'fastify';

/** One check of readiness: its name, whether it passes, and what it found. */
export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

/** What /ready reports; `ready` is false when any check fails. */
export interface Readiness {
  catalog: ReadinessCheck;
  workers: ReadinessCheck;
  indexing: ReadinessCheck & { state: string; filesDone: number; filesTotal: number };
  draining: boolean;
}

const noStore = { 'cache-control': 'no-store' };

/**
 * Liveness and readiness for orchestrators and load balancers. /health answers as long as the
 * event loop turns; /ready answers 503 while the catalog cannot be read, the HDF5 workers are
 * down, no collection has been indexed yet on a first start, or the server is draining.
 */
export async function healthRoutes(
  app: FastifyInstance,
  opts: { readiness: () => Readiness | Promise<Readiness> },
): Promise<void> {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['Common'],
        response: { 200: { description: 'Alive', type: 'object', additionalProperties: true } },
      },
    },
    async (_request, reply) =>
      reply
        .headers(noStore)
        .type('application/json')
        .send(JSON.stringify({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) })),
  );

  app.get(
    '/ready',
    {
      schema: {
        summary: 'Readiness: catalog reachable, workers up, indexing state; 503 when not ready',
        tags: ['Common'],
        response: {
          200: { description: 'Ready to serve', type: 'object', additionalProperties: true },
          503: { description: 'Not ready (the checks say why)', type: 'object', additionalProperties: true },
        },
      },
    },
    async (_request, reply) => {
      let r: Readiness;
      try {
        r = await opts.readiness();
      } catch (err) {
        r = {
          catalog: { ok: false, detail: `readiness could not be checked: ${(err as Error).message}` },
          workers: { ok: false, detail: 'unknown' },
          indexing: { ok: false, detail: 'unknown', state: 'unknown', filesDone: 0, filesTotal: 0 },
          draining: false,
        };
      }
      const ready = r.catalog.ok && r.workers.ok && r.indexing.ok && !r.draining;
      return reply
        .code(ready ? 200 : 503)
        .headers(noStore)
        .type('application/json')
        .send(
          JSON.stringify({
            status: ready ? 'ready' : 'not ready',
            checks: { catalog: r.catalog, workers: r.workers, indexing: r.indexing },
            draining: r.draining,
          }),
        );
    },
  );
}
