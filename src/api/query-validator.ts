/**
 * Query strings validated by their route's JSON Schema, the one that /api publishes: numbers and
 * integers arrive as text and are read as numbers, and array parameters are OpenAPI's
 * `style: form, explode: false` (one comma-separated value: `bbox=1,2,3,4`). A route module opts
 * in with `app.setValidatorCompiler(queryValidatorCompiler)` inside its own plugin.
 */
import type { FastifySchemaCompiler } from 'fastify';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';

/** Marks a `maximum` that the handler clamps to instead of refusing (Features /req/core/fc-limit-response). */
export const CLAMPED = 'x-clamped-maximum';

const ajv = new Ajv({ coerceTypes: true, allErrors: false, strict: false, useDefaults: false });

type Props = Record<string, Record<string, unknown>>;

/** The schema ajv checks: a clamped maximum is documentation, not a rule. */
function checked(schema: Record<string, unknown>): Record<string, unknown> {
  const props = schema['properties'] as Props | undefined;
  if (!props) return schema;
  const out: Props = {};
  for (const [k, p] of Object.entries(props)) {
    if (p[CLAMPED]) {
      const { maximum: _max, ...rest } = p;
      out[k] = rest;
    } else out[k] = p;
  }
  return { ...schema, properties: out };
}

const compiled = new WeakMap<object, ValidateFunction>();

export const queryValidatorCompiler: FastifySchemaCompiler<AnySchema> = ({ schema, httpPart }) => {
  const s = schema as Record<string, unknown>;
  let validate = compiled.get(s);
  if (!validate) {
    validate = ajv.compile(httpPart === 'querystring' ? checked(s) : s);
    compiled.set(s, validate);
  }
  const v = validate;
  const arrays =
    httpPart === 'querystring'
      ? Object.entries((s['properties'] as Props | undefined) ?? {})
          .filter(([, p]) => p['type'] === 'array')
          .map(([k]) => k)
      : [];
  const fn = (data: unknown) => {
    if (data && typeof data === 'object') {
      const q = data as Record<string, unknown>;
      for (const k of arrays) if (typeof q[k] === 'string') q[k] = (q[k] as string).split(',');
    }
    const ok = v(data);
    fn.errors = v.errors;
    return ok;
  };
  fn.errors = null as ValidateFunction['errors'];
  return fn;
};
