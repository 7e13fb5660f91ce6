// `npm run bench`: needs a build (`npm ci` or `npm run build`); prints the figures as Markdown and
// writes them to bench/out/latest.md, from which bench/RESULTS.md is updated.
// BENCH_ONLY=features|grid|stac|archive|maps|load|soak|dap|pg runs one section (archive: ARCHIVE_FILES=100000 by default, see bench/archive.ts;
// pg: PG_FILES=100000, see bench/pg.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const only = process.env['BENCH_ONLY'];
const sections: Array<[string, () => Promise<string>]> = [
  ['features', async () => (await import('./features.js')).benchFeatures()],
  ['grid', async () => (await import('./grid.js')).benchGrid()],
  ['stac', async () => (await import('./stac.js')).benchStac()],
  ['archive', async () => (await import('./archive.js')).benchArchive()],
  ['maps', async () => (await import('./maps.js')).benchMaps()],
  ['load', async () => (await import('./load.js')).benchLoad()],
  ['soak', async () => (await import('./soak.js')).benchSoak()],
  ['dap', async () => (await import('./dap.js')).benchDap()],
  ['pg', async () => (await import('./pg.js')).benchPg()],
];
const out = [
  `## Run of ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`,
];
for (const [name, run] of sections) {
  if (only && only !== name) continue;
  // The load mix keeps the machine busy for minutes: only when asked for.
  if (!only && (name === 'load' || name === 'soak')) continue;
  const text = await run();
  process.stdout.write(`${text}\n`);
  out.push(text);
}
await mkdir(join(import.meta.dirname, 'out'), { recursive: true });
await writeFile(join(import.meta.dirname, 'out', 'latest.md'), out.join('\n'));
