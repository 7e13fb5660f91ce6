// `npm run bench`: builds nothing itself (run `npm run build` first, or `npm ci`), prints the
// figures as Markdown and writes them to bench/out/latest.md for bench/RESULTS.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchFeatures } from './features.js';

const header = `## Run of ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`;
const sections = [header, await benchFeatures()];
const text = sections.join('\n');
process.stdout.write(`${text}\n`);
await mkdir(join(import.meta.dirname, 'out'), { recursive: true });
await writeFile(join(import.meta.dirname, 'out', 'latest.md'), text);
