import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { collectionConfigSchema, type CollectionConfig } from './collection-schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(collectionConfigSchema);

/** Parse and validate one config file; errors name the file and the field. */
export function parseCollectionConfig(text: string, file: string): CollectionConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (!validate(doc)) {
    const details = (validate.errors ?? []).map((e) => {
      const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : '';
      return `field '${field}' ${e.message}${extra}`;
    });
    throw new ConfigError(`${file}: ${details.join('; ')}`);
  }
  const config = { ...(doc as Omit<CollectionConfig, 'file'>), file };
  for (const s of [config.source].flat()) {
    if (s.split('/').includes('..') || s.startsWith('/')) {
      throw new ConfigError(
        `${file}: field 'source' must stay inside the data roots (no '..' or absolute paths): '${s}'`,
      );
    }
  }
  const digest = config.access?.tokens?.find((tk) => tk.startsWith('sha256:') && !/^sha256:[0-9a-fA-F]{64}$/.test(tk));
  if (digest !== undefined)
    throw new ConfigError(
      `${file}: field 'access.tokens' has '${digest.slice(0, 12)}…': a sha256: token must be 64 hex digits`,
    );
  return config;
}

/** Every `*.yaml` / `*.yml` in a folder, validated; ids must be unique. */
export async function loadCollectionConfigs(dir: string): Promise<CollectionConfig[]> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const configs: CollectionConfig[] = [];
  const ids = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const config = parseCollectionConfig(await readFile(file, 'utf8'), file);
    const other = ids.get(config.id);
    if (other) throw new ConfigError(`${file}: field 'id' '${config.id}' is already used by ${other}`);
    ids.set(config.id, file);
    configs.push(config);
  }
  return configs;
}
