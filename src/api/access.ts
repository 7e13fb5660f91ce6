import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { AccessConfig, CollectionConfig } from '../config/collection-schema.js';
import { ApiErrorWithHeaders, Unauthorized } from '../core/errors.js';
import { claimValues, JwtError, JwtVerifier, type Jwks } from '../core/auth/jwt.js';

/** What a request may do with one collection. */
export type AccessDecision = 'public' | 'granted' | 'anonymous' | 'invalid' | 'forbidden';

interface Rule {
  digests: Buffer[];
  jwt?: { verifier: JwtVerifier; claim?: string };
}

const REALM = 'odas';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A bearer credential, or undefined when the request carries none. */
function bearerOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

function ruleOf(config: CollectionConfig, access: AccessConfig): Rule {
  const digests = (access.tokens ?? []).map((t) =>
    t.startsWith('sha256:') ? Buffer.from(t.slice(7), 'hex') : sha256(t),
  );
  if (!access.jwt) return { digests };
  const path = resolve(dirname(config.file), access.jwt.jwks);
  let jwks: Jwks;
  try {
    jwks = JSON.parse(readFileSync(path, 'utf8')) as Jwks;
  } catch (err) {
    throw new Error(`${config.file}: access.jwt.jwks ${path}: ${(err as Error).message}`, { cause: err });
  }
  const verifier = new JwtVerifier(jwks, {
    ...(access.jwt.issuer !== undefined ? { issuer: access.jwt.issuer } : {}),
    ...(access.jwt.audience !== undefined ? { audience: access.jwt.audience } : {}),
  });
  return { digests, jwt: { verifier, ...(access.jwt.claim !== undefined ? { claim: access.jwt.claim } : {}) } };
}

/**
 * Which collections are restricted (an `access` block in their config) and who may read them: a
 * bearer token of the list (kept as SHA-256 digests, compared in constant time) or a JWT verified
 * against the collection's JWKS. Replaced whole when the configs are reloaded (SIGHUP).
 */
export class AccessPolicy {
  private rules = new Map<string, Rule>();
  /** Verified JWTs by their text (a listing checks every restricted collection): dropped at expiry or after a minute. */
  private readonly verified = new Map<string, { until: number; claims: Record<string, unknown> | JwtError }>();

  constructor(configs: CollectionConfig[] = []) {
    this.update(configs);
  }

  /** Builds the rules of a new set of configs; throws (keeping the old rules) when a JWKS cannot be read. */
  update(configs: CollectionConfig[]): void {
    const rules = new Map<string, Rule>();
    for (const c of configs) if (c.access) rules.set(c.id, ruleOf(c, c.access));
    this.rules = rules;
    this.verified.clear();
  }

  get anyRestricted(): boolean {
    return this.rules.size > 0;
  }

  restricted(id: string): boolean {
    return this.rules.has(id);
  }

  decide(credential: string | undefined, id: string): AccessDecision {
    const rule = this.rules.get(id);
    if (!rule) return 'public';
    if (credential === undefined) return 'anonymous';
    const digest = sha256(credential);
    if (rule.digests.some((d) => d.length === digest.length && timingSafeEqual(d, digest))) return 'granted';
    if (!rule.jwt || credential.split('.').length !== 3) return 'invalid';
    const claims = this.claims(rule.jwt.verifier, credential, id);
    if (claims instanceof JwtError) return 'invalid';
    if (rule.jwt.claim === undefined) return 'granted';
    const values = claimValues(claims, rule.jwt.claim);
    return values.includes(id) || values.includes('*') ? 'granted' : 'forbidden';
  }

  /** May this request see the collection (in listings, search, STAC)? */
  visible(request: FastifyRequest, id: string): boolean {
    const d = this.decide(bearerOf(request), id);
    return d === 'public' || d === 'granted';
  }

  /** Throws the protocol's error (401 with a Bearer challenge, or 403) unless the request may read the collection. */
  check(request: FastifyRequest, id: string): void {
    const d = this.decide(bearerOf(request), id);
    if (d === 'public' || d === 'granted') return;
    if (d === 'anonymous')
      throw new Unauthorized(
        `Collection '${id}' is restricted: send Authorization: Bearer <token>.`,
        `Bearer realm="${REALM}"`,
      );
    if (d === 'invalid')
      throw new Unauthorized(
        `The bearer token is not accepted for collection '${id}'.`,
        `Bearer realm="${REALM}", error="invalid_token"`,
      );
    throw new ApiErrorWithHeaders(403, 'Forbidden', `The token does not grant collection '${id}'.`, {
      'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope"`,
    });
  }

  private claims(verifier: JwtVerifier, token: string, id: string): Record<string, unknown> | JwtError {
    const key = `${id}\0${token}`;
    const now = Date.now();
    const hit = this.verified.get(key);
    if (hit && hit.until > now) return hit.claims;
    let claims: Record<string, unknown> | JwtError;
    try {
      claims = verifier.verify(token);
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      claims = err;
    }
    if (this.verified.size > 10_000) this.verified.clear();
    const exp = claims instanceof JwtError ? undefined : claims['exp'];
    this.verified.set(key, { until: Math.min(now + 60_000, typeof exp === 'number' ? exp * 1000 : Infinity), claims });
    return claims;
  }
}
