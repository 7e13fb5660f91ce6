import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { sharedDataRoot } from '../helpers/data.js';

let validator: ValidateFunction | undefined;

/** The CoverageJSON working group's JSON Schema (the one the acceptance probe applies). */
export function covjsonValidator(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(
    readFileSync(`${sharedDataRoot}/../schemas/covjson/coveragejson.schema.json`, 'utf8'),
  ) as Record<string, unknown>;
  delete schema['$schema'];
  validator = new Ajv({ strict: false, allErrors: false }).compile(schema);
  return validator;
}
