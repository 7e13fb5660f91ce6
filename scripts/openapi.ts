// Regenerates openapi/openapi.json from the route schemas (`npm run openapi`); a test fails when it is stale.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openapiDocument } from '../src/openapi-doc.js';

const file = join(import.meta.dirname, '..', 'openapi', 'openapi.json');
await writeFile(file, `${JSON.stringify(await openapiDocument(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
