import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A JSON Web Key Set as a file holds it (`{"keys":[…]}`), public keys only. */
export interface Jwks {
  keys: Array<JsonWebKey & { kid?: string; alg?: string; use?: string }>;
}

export interface JwtRules {
  issuer?: string;
  audience?: string;
  /** Seconds of clock difference tolerated on exp and nbf. */
  leewaySeconds?: number;
}

export type JwtClaims = Record<string, unknown>;

export class JwtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwtError';
  }
}

/** The algorithms accepted, with how node:crypto verifies each (ES256 signatures are raw r‖s, not DER). */
const ALGORITHMS = {
  RS256: { kty: 'RSA', hash: 'sha256', dsaEncoding: undefined },
  ES256: { kty: 'EC', hash: 'sha256', dsaEncoding: 'ieee-p1363' },
} as const;
type Algorithm = keyof typeof ALGORITHMS;

interface Key {
  kid?: string;
  alg?: string;
  kty: string;
  key: KeyObject;
}

function decodePart(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new JwtError(`the token's ${what} is not base64url JSON`);
}

/** Verifies compact JWS tokens (RS256, ES256) against the public keys of one JWKS; no network. */
export class JwtVerifier {
  private readonly keys: Key[];

  constructor(
    jwks: Jwks,
    private readonly rules: JwtRules = {},
  ) {
    if (!jwks || !Array.isArray(jwks.keys)) throw new JwtError('a JWKS must be an object with a "keys" array');
    this.keys = jwks.keys
      .filter((k) => k.use === undefined || k.use === 'sig')
      .map((k) => ({
        ...(k.kid !== undefined ? { kid: k.kid } : {}),
        ...(k.alg !== undefined ? { alg: k.alg } : {}),
        kty: String(k.kty),
        key: createPublicKey({ key: k, format: 'jwk' }),
      }));
    if (this.keys.length === 0) throw new JwtError('the JWKS holds no signing key');
  }

  /** The token's claims when its signature and its iss, aud, exp and nbf hold; a JwtError says which did not. */
  verify(token: string, nowSeconds = Date.now() / 1000): JwtClaims {
    const parts = token.split('.');
    if (parts.length !== 3) throw new JwtError('not a compact JWT (three dot-separated parts)');
    const [h, p, s] = parts as [string, string, string];
    const header = decodePart(h, 'header');
    const alg = header['alg'];
    if (typeof alg !== 'string' || !(alg in ALGORITHMS))
      throw new JwtError(`algorithm ${String(alg)} is not accepted (RS256, ES256)`);
    const spec = ALGORITHMS[alg as Algorithm];
    const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
    const candidates = this.keys.filter(
      (k) =>
        k.kty === spec.kty &&
        (k.alg === undefined || k.alg === alg) &&
        (kid === undefined || k.kid === undefined || k.kid === kid),
    );
    if (candidates.length === 0) throw new JwtError(`no key in the JWKS for ${alg}${kid ? ` kid ${kid}` : ''}`);
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    const ok = candidates.some((k) =>
      verifySignature(
        spec.hash,
        data,
        spec.dsaEncoding ? { key: k.key, dsaEncoding: spec.dsaEncoding } : k.key,
        signature,
      ),
    );
    if (!ok) throw new JwtError('bad signature');
    const claims = decodePart(p, 'payload');
    const leeway = this.rules.leewaySeconds ?? 60;
    if (typeof claims['exp'] === 'number' && nowSeconds > claims['exp'] + leeway) throw new JwtError('expired');
    if (typeof claims['nbf'] === 'number' && nowSeconds < claims['nbf'] - leeway) throw new JwtError('not valid yet');
    if (this.rules.issuer !== undefined && claims['iss'] !== this.rules.issuer)
      throw new JwtError(`issuer ${String(claims['iss'])} is not ${this.rules.issuer}`);
    if (this.rules.audience !== undefined) {
      const aud = claims['aud'];
      const list = Array.isArray(aud) ? aud : [aud];
      if (!list.includes(this.rules.audience)) throw new JwtError(`audience does not include ${this.rules.audience}`);
    }
    return claims;
  }
}

/** A claim's values as a list: an array, or a string of space- or comma-separated values (OAuth scope style). */
export function claimValues(claims: JwtClaims, name: string): string[] {
  const v = claims[name];
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(/[\s,]+/).filter(Boolean);
  return [];
}
