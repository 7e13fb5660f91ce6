import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ConfigError } from './load.js';
import {
  CACHE_KINDS,
  opsConfigSchema,
  WORK_CLASSES,
  type CacheKind,
  type OpsConfigInput,
  type WorkClass,
} from './ops-schema.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(opsConfigSchema);

/** Operations settings as flags and environment variables give them (each overrides the file). */
export interface OpsOverrides {
  /** `KIND=VALUE` pairs (flags), or one `KIND=VALUE;KIND=VALUE` string (ODAS_CACHE_CONTROL). */
  cacheControl?: string[];
  /** `CLASS=CONCURRENCY[:QUEUE[:WAIT_MS]]`. */
  limits?: string[];
  /** `PER_SECOND[:BURST]`. */
  rateLimit?: string;
  shutdownSeconds?: string;
}

function check(doc: unknown, where: string): OpsConfigInput {
  if (!validate(doc)) {
    const details = (validate.errors ?? []).map((e) => {
      const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : '';
      return `field '${field}' ${e.message}${extra}`;
    });
    throw new ConfigError(`${where}: ${details.join('; ')}`);
  }
  return doc as OpsConfigInput;
}

function pair(text: string, what: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new ConfigError(`${what} '${text}': expected NAME=VALUE`);
  return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
}

/** The file (if any) with the flags and environment laid over it, validated against the schema. */
export async function loadOpsConfig(file: string | undefined, o: OpsOverrides): Promise<OpsConfigInput> {
  let doc: Record<string, unknown> = {};
  if (file) {
    let parsed: unknown;
    try {
      parsed = parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`--ops-config ${file}: ${(err as Error).message}`);
    }
    doc = check(parsed ?? {}, file) as Record<string, unknown>;
  }
  const input = structuredClone(doc) as OpsConfigInput;
  for (const entry of (o.cacheControl ?? []).flatMap((s) => s.split(';')).filter((s) => s.trim())) {
    const [kind, value] = pair(entry, '--cache-control');
    if (!(CACHE_KINDS as readonly string[]).includes(kind))
      throw new ConfigError(`--cache-control ${kind}: kinds are ${CACHE_KINDS.join(', ')}`);
    input.cacheControl = { ...input.cacheControl, [kind as CacheKind]: value };
  }
  for (const entry of o.limits ?? []) {
    const [cls, value] = pair(entry, '--limit');
    if (!(WORK_CLASSES as readonly string[]).includes(cls))
      throw new ConfigError(`--limit ${cls}: classes are ${WORK_CLASSES.join(', ')}`);
    const [concurrency, queue, waitMs] = value.split(':').map(Number);
    input.limits = {
      ...input.limits,
      [cls as WorkClass]: {
        ...input.limits?.[cls as WorkClass],
        concurrency,
        ...(queue !== undefined ? { queue } : {}),
        ...(waitMs !== undefined ? { waitMs } : {}),
      },
    };
  }
  if (o.rateLimit !== undefined && o.rateLimit !== '' && o.rateLimit !== '0') {
    const [perSecond, burst] = o.rateLimit.split(':').map(Number);
    input.rateLimit = { perSecond: perSecond!, ...(burst !== undefined ? { burst } : {}) };
  }
  if (o.shutdownSeconds !== undefined) input.shutdownSeconds = Number(o.shutdownSeconds);
  return check(input, 'operations settings (--ops-config, flags, environment)');
}
