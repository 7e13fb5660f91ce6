/**
 * JSON Schema of the operations settings (`odas serve --ops-config FILE`, YAML or JSON): the
 * Cache-Control policy per kind of answer, the admission limits per class of work, the per-client
 * rate limit and the shutdown deadline. CLI flags and environment variables override the file.
 */
const limit = {
  type: 'object',
  additionalProperties: false,
  properties: {
    concurrency: { type: 'integer', minimum: 1, description: 'Requests of this class running at once.' },
    queue: {
      type: 'integer',
      minimum: 0,
      description: 'Requests waiting for a slot; beyond it: 503 with Retry-After at once.',
    },
    waitMs: {
      type: 'integer',
      minimum: 1,
      description: 'How long a queued request may wait before it is refused (503).',
    },
    predictive: {
      type: 'boolean',
      description:
        'Refuse at once (503) a request whose expected wait (requests queued ahead × recent mean time a slot is held ÷ concurrency) is over waitMs, instead of queueing it into a slow refusal. Default true.',
    },
  },
} as const;

export const CACHE_KINDS = ['metadata', 'features', 'data', 'stac'] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];
export const WORK_CLASSES = ['metadata', 'features', 'data', 'heavy'] as const;
export type WorkClass = (typeof WORK_CLASSES)[number];

export const opsConfigSchema = {
  $id: 'odas:ops-config',
  title: 'odas operations settings',
  type: 'object',
  additionalProperties: false,
  properties: {
    cacheControl: {
      type: 'object',
      additionalProperties: false,
      description:
        "Cache-Control per kind of answer. Answers that depend on credentials are sent 'private' instead of 'public'.",
      properties: {
        metadata: {
          type: 'string',
          description: 'Landing page, conformance, collections, queryables, domain sets, the API document.',
        },
        features: { type: 'string', description: 'Feature pages and items (Features, EDR in-situ answers).' },
        data: { type: 'string', description: 'Grid answers (Coverages, EDR on grids).' },
        stac: { type: 'string', description: 'STAC documents and search.' },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      description: 'Admission limits per class of work.',
      properties: {
        metadata: limit,
        features: limit,
        data: limit,
        heavy: {
          ...limit,
          description:
            'Large text encodings (CoverageJSON, CSV over 1 MB): such an answer gives its data slot back and takes a heavy one, so a few big answers never hold the slots of small ones.',
        },
      },
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      required: ['perSecond'],
      description:
        'Requests per second per client (its bearer token, else its address); over it: 429 with Retry-After.',
      properties: { perSecond: { type: 'number', exclusiveMinimum: 0 }, burst: { type: 'integer', minimum: 1 } },
    },
    shutdownSeconds: {
      type: 'number',
      minimum: 0,
      description: 'On SIGTERM, how long answers in flight may take to finish before their connections are cut.',
    },
  },
} as const;

interface LimitConfig {
  concurrency: number;
  queue: number;
  waitMs: number;
  predictive?: boolean;
}

export interface OpsConfig {
  cacheControl: Record<CacheKind, string>;
  limits: Record<WorkClass, LimitConfig>;
  rateLimit?: { perSecond: number; burst: number };
  shutdownSeconds: number;
}

/** Sized for a small machine: data reads and large encodes are few at once, metadata many. */
const DEFAULT_OPS: OpsConfig = {
  cacheControl: {
    metadata: 'public, max-age=60',
    features: 'public, max-age=60',
    data: 'public, max-age=300',
    stac: 'public, max-age=60',
  },
  limits: {
    metadata: { concurrency: 64, queue: 256, waitMs: 1000 },
    // A queue longer than a second of work only turns a quick 503 into a slow answer (bench/RESULTS.md, load mix).
    features: { concurrency: 16, queue: 64, waitMs: 1000 },
    // A small subset is ~1 ms of CPU but, under load, several turns of a busy event loop (~0.5 s in the
    // 200-client mix): its slots bound requests waiting, not cores, and 6 of them served 12 answers/s.
    // Large text encodes leave this class for `heavy`; the expected-wait rule keeps the queue honest.
    data: { concurrency: 24, queue: 48, waitMs: 5000 },
    heavy: { concurrency: 2, queue: 8, waitMs: 10_000 },
  },
  shutdownSeconds: 20,
};

export interface OpsConfigInput {
  cacheControl?: Partial<Record<CacheKind, string>>;
  limits?: Partial<Record<WorkClass, Partial<LimitConfig>>>;
  rateLimit?: { perSecond: number; burst?: number };
  shutdownSeconds?: number;
}

/** The defaults with a validated input laid over them. */
export function resolveOps(input: OpsConfigInput = {}): OpsConfig {
  const limits = { ...DEFAULT_OPS.limits };
  for (const k of WORK_CLASSES) limits[k] = { ...DEFAULT_OPS.limits[k], ...input.limits?.[k] };
  return {
    cacheControl: { ...DEFAULT_OPS.cacheControl, ...input.cacheControl },
    limits,
    ...(input.rateLimit
      ? {
          rateLimit: {
            perSecond: input.rateLimit.perSecond,
            burst: input.rateLimit.burst ?? Math.max(1, Math.ceil(input.rateLimit.perSecond * 2)),
          },
        }
      : {}),
    shutdownSeconds: input.shutdownSeconds ?? DEFAULT_OPS.shutdownSeconds,
  };
}
