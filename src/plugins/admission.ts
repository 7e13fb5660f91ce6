import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkTicket } from '../api/work.js';
import { WORK_CLASSES, type OpsConfig, type WorkClass } from '../config/ops-schema.js';
import { Refused, TooManyRequests } from '../core/errors.js';
import { Limiter, RateLimiter, SaturatedError } from '../core/limiter.js';
import type { OpsMetrics } from './metrics.js';
import { classifyRoute, type RouteOpsConfig } from './route-class.js';

/** The admission state of one app: a limiter per class of work, the rate limit, and whether it is draining. */
export class Admission {
  readonly limiters: Record<WorkClass, Limiter>;
  readonly rate: RateLimiter | undefined;
  /** Set on shutdown: new requests are refused with 503 while answers in flight finish. */
  draining = false;

  constructor(config: OpsConfig) {
    this.limiters = Object.fromEntries(WORK_CLASSES.map((c) => [c, new Limiter(c, config.limits[c])])) as Record<
      WorkClass,
      Limiter
    >;
    this.rate = config.rateLimit ? new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst) : undefined;
  }

  drain(): void {
    this.draining = true;
    for (const l of Object.values(this.limiters)) l.close();
  }
}

/** Who a client is for the rate limit: its bearer credential (hashed: never kept in memory as such), else its address. */
function clientKey(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth))
    return `t:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}`;
  return `a:${request.ip}`;
}

function unavailable(err: unknown): unknown {
  return err instanceof SaturatedError ? new Refused(err.message, err.retryAfterSeconds) : err;
}

/**
 * Admission control: the per-client rate limit (429), then a slot in the request's class of work;
 * when the class is saturated the request is refused at once with 503 and Retry-After, in the OGC
 * exception form, instead of queueing into a slow timeout. Slots are released when the response
 * closes (finished or cut).
 */
export const admissionPlugin = fp(
  async (app: FastifyInstance, opts: { admission: Admission; metrics?: OpsMetrics }) => {
    const { admission, metrics } = opts;
    app.decorateRequest('work', null);
    app.addHook('onRequest', async (request, reply) => {
      const cls = classifyRoute(
        request.routeOptions.url,
        request.routeOptions.config as RouteOpsConfig | undefined,
      ).work;
      if (admission.draining && request.routeOptions.url !== '/health') {
        reply.header('connection', 'close');
        throw new Refused('The server is shutting down; retry on another instance or in a few seconds.', 5);
      }
      if (!cls) return;
      if (admission.rate) {
        const wait = admission.rate.take(clientKey(request));
        if (wait > 0) {
          metrics?.rejected.inc({ class: cls, reason: 'rate limit' });
          throw new TooManyRequests(wait);
        }
      }
      const releases: Array<() => void> = [];
      reply.raw.once('close', () => {
        for (const release of releases.splice(0)) release();
      });
      const take = async (c: WorkClass): Promise<() => void> => {
        try {
          const release = await admission.limiters[c].acquire();
          // The client may have gone while it waited: give the slot back at once.
          if (reply.raw.destroyed || reply.raw.writableEnded) release();
          else releases.push(release);
          return release;
        } catch (err) {
          if (err instanceof SaturatedError) metrics?.rejected.inc({ class: c, reason: err.reason });
          throw unavailable(err);
        }
      };
      const own = await take(cls);
      let heavy = false;
      const ticket: WorkTicket = {
        heavy: async () => {
          if (heavy) return;
          heavy = true;
          // A heavy answer swaps its slot for a heavy one: waiting for the heavy lane, and then taking
          // seconds, it would otherwise hold a data slot that dozens of small answers could use (issue 14).
          own();
          await take('heavy');
        },
      };
      request.work = ticket;
    });
  },
);
