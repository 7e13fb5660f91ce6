/**
 * JSON Schema of a `collections/*.yaml` file: validated by ajv at start and by `odas validate`,
 * and published in the OpenAPI document's components.
 */
export const collectionConfigSchema = {
  $id: 'odas:collection-config',
  title: 'odas collection configuration',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'source'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Collection id used in URLs (letters, digits, _ and - only: QGIS breaks on dots).',
    },
    title: { type: 'string' },
    description: { type: 'string' },
    keywords: { type: 'array', items: { type: 'string' } },
    license: { type: 'string', description: 'SPDX id or licence name, e.g. CC-BY-4.0.' },
    attribution: { type: 'string' },
    source: {
      description: 'Files of the collection: paths or globs (*, **, ?) relative to a data root (--data).',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      ],
    },
    variables: {
      type: 'array',
      items: { type: 'string' },
      description: 'Measured variables to expose; default: all found.',
    },
    extent: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bbox: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
        temporal: { type: 'array', items: { type: ['string', 'null'] }, minItems: 2, maxItems: 2 },
      },
    },
    access: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description:
        'Restricts the collection to clients sending `Authorization: Bearer <token or JWT>`; anonymous clients get 401 and do not see it in listings, STAC or search.',
      properties: {
        tokens: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'string',
            minLength: 1,
            description: 'A token as is, or "sha256:<64 hex digits>" of it (keeps the token itself out of the file).',
          },
        },
        jwt: {
          type: 'object',
          additionalProperties: false,
          required: ['jwks'],
          description: 'JWTs signed RS256 or ES256 by a key of the JWKS file; exp and nbf are checked.',
          properties: {
            jwks: {
              type: 'string',
              minLength: 1,
              description: 'Path of a JWKS file (`{"keys":[…]}`), relative to this config file.',
            },
            issuer: { type: 'string', description: 'Required `iss`.' },
            audience: { type: 'string', description: 'Required in `aud`.' },
            claim: {
              type: 'string',
              description:
                'A claim that must list this collection id (or "*"): an array or a space/comma-separated string. Absent: any valid token from the issuer.',
            },
          },
        },
      },
    },
    providers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          url: { type: 'string' },
          roles: { type: 'array', items: { enum: ['licensor', 'producer', 'processor', 'host'] } },
        },
      },
    },
  },
} as const;

export interface CollectionConfig {
  id: string;
  title?: string;
  description?: string;
  keywords?: string[];
  license?: string;
  attribution?: string;
  source: string | string[];
  variables?: string[];
  extent?: { bbox?: [number, number, number, number]; temporal?: [string | null, string | null] };
  providers?: Array<{ name: string; url?: string; roles?: string[] }>;
  access?: AccessConfig;
  /** The file it was read from, for error messages. */
  file: string;
}

export interface AccessConfig {
  tokens?: string[];
  jwt?: { jwks: string; issuer?: string; audience?: string; claim?: string };
}
