import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { discoverRoots } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(import.meta.dirname, '..', '..', '.tap', 'maps');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// A browser (or QGIS) on a loaded two-core machine takes minutes, not seconds.
t.setTimeout(360_000);

let app: FastifyInstance;
let base: string;
let browser: Browser;

t.before(async () => {
  await mkdir(OUT, { recursive: true });
  app = await buildApp({ collections: await discoverRoots([sharedData('satellite'), sharedData('argo')]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
t.teardown(async () => {
  await browser?.close();
  await app?.close();
});

/** Opens a page, collecting console errors and failed requests; waits for `ready` in the page. */
async function visit(path: string, ready: string, shot: string): Promise<{ errors: string[]; value: string }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${base}${path}`, { waitUntil: 'load' });
  await page.waitForFunction(ready, undefined, { timeout: 30_000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT, shot), fullPage: true });
  const value = await page.evaluate(ready);
  await page.close();
  return { errors, value: String(value) };
}

t.test('a grid collection page shows its tiles, a time slider and the legend, without console errors', async (t) => {
  const { errors, value } = await visit(
    '/collections/coads_sst?f=html',
    'Number(document.body.dataset.tilesLoaded || 0) >= 2 && document.getElementById("odas-legend").complete && document.getElementById("odas-legend").naturalWidth',
    'coads_sst-page.png',
  );
  t.same(errors, []);
  t.ok(Number(value) > 0, 'the legend image loaded');
  const page = await browser.newPage();
  await page.goto(`${base}/collections/coads_sst?f=html`);
  await page.waitForFunction('Number(document.body.dataset.tilesLoaded || 0) >= 1');
  t.equal(await page.locator('#odas-time').getAttribute('max'), '11', 'twelve monthly steps');
  const before = await page.evaluate('Number(document.body.dataset.tilesLoaded)');
  await page.locator('#odas-time').fill('3');
  await page.waitForFunction(`Number(document.body.dataset.tilesLoaded) > ${String(before)}`);
  t.match(await page.locator('#odas-time-label').textContent(), /^2000-04-/);
  const srcs = await page
    .locator('img.leaflet-tile-loaded')
    .evaluateAll((imgs) => imgs.map((i) => (i as unknown as { src: string }).src));
  t.ok(
    srcs.some((s) => s.includes('datetime=2000-04-')),
    'tiles follow the slider',
  );
  await page.close();
});

t.test('the polar sea ice grid is drawn on the Web Mercator map', async (t) => {
  const { errors, value } = await visit(
    '/collections/seaice_conc_monthly_nh_202112_f17_v04r00?f=html',
    'Number(document.body.dataset.tilesLoaded || 0)',
    'seaice-page.png',
  );
  t.same(errors, []);
  t.ok(Number(value) >= 1);
});

t.test('a feature collection page shows its profiles as points with popups', async (t) => {
  const { errors, value } = await visit(
    '/collections/1900857_prof?f=html',
    'Number(document.body.dataset.featuresLoaded || 0)',
    'argo-page.png',
  );
  t.same(errors, []);
  t.equal(Number(value), 194, 'every profile of the float');
});

/** A page that records console errors, failed requests and error responses. */
async function watchedPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  return { page, errors };
}

t.test('the landing page lists every collection with a thumbnail that loads, and says what is served', async (t) => {
  const { page, errors } = await watchedPage();
  await page.goto(`${base}/?f=html`, { waitUntil: 'load' });
  const thumbs = page.locator('img.odas-thumb');
  const n = await thumbs.count();
  const collections = (await (await fetch(`${base}/collections?f=json`)).json()) as { collections: unknown[] };
  t.equal(n, collections.collections.length, 'a thumbnail per collection');
  for (let i = 0; i < n; i++) {
    const img = thumbs.nth(i);
    await img.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      (el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete,
      await img.elementHandle(),
      {
        timeout: 60_000,
      },
    );
    const size = await img.evaluate(
      (el) => (el as unknown as { complete: boolean; naturalWidth: number }).naturalWidth,
    );
    t.ok(size > 0, `thumbnail ${String(await img.getAttribute('alt'))} loaded`);
  }
  await page.screenshot({ path: join(OUT, 'landing-page.png'), fullPage: true });
  const text = await page.locator('main').innerText();
  for (const word of ['Coverages', 'EDR', 'STAC', 'Maps and Tiles', 'WMS 1.3.0', 'OPeNDAP', 'ERDDAP'])
    t.match(text, word, `mentions ${word}`);
  t.notMatch(text, /yet to land|not yet/i, 'nothing is announced as missing');
  t.same(errors, []);
  await page.close();
});

t.test('thumbnails: a grid is a PNG drawn by the renderer, a feature collection an SVG of its points', async (t) => {
  const grid = await fetch(`${base}/collections/coads_sst/thumbnail`);
  t.equal(grid.status, 200);
  t.equal(grid.headers.get('content-type'), 'image/png');
  const png = Buffer.from(await grid.arrayBuffer());
  t.equal(png.readUInt32BE(16), 240, '240 pixels wide');
  t.equal(png.readUInt32BE(20), 120, 'a global box is half as high');
  const argo = await fetch(`${base}/collections/1900857_prof/thumbnail`);
  t.equal(argo.headers.get('content-type'), 'image/svg+xml');
  t.equal(((await argo.text()).match(/<circle /g) ?? []).length, 194, 'every profile drawn');
  t.equal((await fetch(`${base}/collections/nope/thumbnail`)).status, 404);
});

t.test('clicking a grid point plots its EDR time series with units and a time axis', async (t) => {
  const { page, errors } = await watchedPage();
  await page.goto(`${base}/collections/coads_sst?f=html`, { waitUntil: 'load' });
  await page.waitForFunction('Number(document.body.dataset.tilesLoaded || 0) >= 1');
  // A point in the tropical Atlantic, where COADS has twelve months of SST.
  const at = (await page.evaluate(
    '(() => { const p = window.odas.map.latLngToContainerPoint([10, -30]); return [p.x, p.y]; })()',
  )) as [number, number];
  const answered = page.waitForResponse((r) => r.url().includes('/collections/coads_sst/position?'));
  await page.locator('#odas-map').click({ position: { x: at[0], y: at[1] } });
  const response = await answered;
  t.equal(response.status(), 200, 'the EDR position query answered');
  const cov = (await response.json()) as { ranges: { SST: { values: Array<number | null> } } };
  t.equal(cov.ranges.SST.values.length, 12);
  await page.waitForFunction('Number(document.body.dataset.chartDrawn || 0) >= 1', undefined, { timeout: 30_000 });
  t.equal(await page.locator('#odas-chart').getAttribute('data-points'), '12', 'twelve monthly values drawn');
  t.equal(await page.locator('#odas-chart canvas').count(), 1, 'uPlot drew on a canvas');
  const axes = await page.locator('#odas-chart .u-label').allInnerTexts();
  t.ok(
    axes.some((a) => a.includes('Deg C')),
    `the value axis carries the units (${axes.join(' | ')})`,
  );
  t.ok(
    axes.some((a) => a.includes('time')),
    'a time axis',
  );
  const scale = (await page.evaluate('[window.odas.chart.scales.x.time, window.odas.chart.data[0][0]]')) as [
    boolean,
    number,
  ];
  t.same(scale, [true, Date.parse('2000-01-16T06:00:00Z') / 1000], 'a time scale from the first month');
  t.match(
    await page.locator('#odas-chart-title').innerText(),
    /SEA SURFACE TEMPERATURE at (9|10)\.\d+°, -(29|30)\.\d+° \(nearest cell/,
  );
  await page.screenshot({ path: join(OUT, 'coads_sst-chart.png'), fullPage: true });
  t.same(errors, []);
  await page.close();
});

const py = (script: string, cwd: string) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn('/usr/bin/python3', ['-c', script], { cwd });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });

t.test('the subset form builds working Coverages, EDR and STAC URLs with curl and Python snippets', async (t) => {
  const { page, errors } = await watchedPage();
  await page.goto(`${base}/collections/coads_sst?f=html`, { waitUntil: 'load' });
  await page.waitForFunction('Number(document.body.dataset.tilesLoaded || 0) >= 1');
  await page.locator('#odas-subset-west').fill('-40');
  await page.locator('#odas-subset-south').fill('0');
  await page.locator('#odas-subset-east').fill('-20');
  await page.locator('#odas-subset-north').fill('20');
  await page.locator('#odas-subset-start').fill('2000-01-01');
  await page.locator('#odas-subset-end').fill('2000-03-31');
  await page.locator('#odas-subset-field').selectOption('AIRT');
  const urls = await page
    .locator('a.odas-subset-url')
    .evaluateAll((as) =>
      as.map((a) => [
        (a as unknown as { dataset: Record<string, string> }).dataset['key'],
        (a as unknown as { href: string }).href,
      ]),
    );
  t.same(
    urls.map((u) => u[0]),
    ['coverages', 'edr', 'stac'],
  );
  const byKey = Object.fromEntries(urls) as Record<string, string>;
  t.match(
    byKey['coverages'],
    /\/collections\/coads_sst\/coverage\?bbox=-40,0,-20,20&datetime=2000-01-01T00:00:00Z\/2000-03-31T23:59:59Z&properties=AIRT&f=netcdf$/,
  );
  const cov = await fetch(byKey['coverages']!);
  t.equal(cov.status, 200, 'the coverage URL answers');
  t.equal(cov.headers.get('content-type'), 'application/x-netcdf');
  const edr = await fetch(byKey['edr']!);
  t.equal(edr.status, 200, 'the EDR URL answers');
  const edrDoc = (await edr.json()) as {
    parameters: Record<string, unknown>;
    domain: { axes: { t: { values: string[] } } };
  };
  t.same(Object.keys(edrDoc.parameters), ['AIRT']);
  t.equal(edrDoc.domain.axes.t.values.length, 3, 'January to March');
  const stac = (await (await fetch(byKey['stac']!)).json()) as { features: Array<{ collection: string }> };
  t.equal(stac.features.length, 3, 'three monthly items in the range');
  // Every snippet names a URL the page built, and the curl and Python ones run.
  const snippets = await page
    .locator('pre[data-odas-url]')
    .evaluateAll((ps) =>
      ps.map((p) => [
        p.id,
        p.textContent ?? '',
        (p as unknown as { dataset: Record<string, string> }).dataset['odasUrl'] ?? '',
      ]),
    );
  t.equal(snippets.length, 6, 'curl and Python for each of the three URLs');
  for (const [id, text, url] of snippets) t.ok(text!.includes(url!), `${id} uses its URL`);
  const dir = await mkdtemp(join(tmpdir(), 'odas-snippet-'));
  const python = snippets.find((s) => s[0] === 'odas-snippet-coverages-python')![1]!;
  const run = await py(python, dir);
  t.equal(run.code, 0, `the xarray snippet runs: ${run.out.slice(-400)}`);
  t.match(run.out, /AIRT/, 'xarray opened the subset with its field');
  const stacRun = await py(snippets.find((s) => s[0] === 'odas-snippet-stac-python')![1]!, dir);
  t.equal(stacRun.code, 0, `the STAC snippet runs: ${stacRun.out.slice(-400)}`);
  t.equal(stacRun.out.trim().split('\n').length, 3, 'three items printed');
  const curl = snippets.find((s) => s[0] === 'odas-snippet-edr-curl')![1]!;
  t.match(curl, /^curl -f '[^']+'$/);
  // Drawing a box on the map fills the form.
  await page.locator('#odas-subset-draw').click();
  const from = (await page.evaluate(
    '(() => { const p = window.odas.map.latLngToContainerPoint([40, -60]); return [p.x, p.y]; })()',
  )) as [number, number];
  const to = (await page.evaluate(
    '(() => { const p = window.odas.map.latLngToContainerPoint([-10, 30]); return [p.x, p.y]; })()',
  )) as [number, number];
  const box = await page.locator('#odas-map').boundingBox();
  await page.mouse.move(box!.x + from[0], box!.y + from[1]);
  await page.mouse.down();
  await page.mouse.move(box!.x + (from[0] + to[0]) / 2, box!.y + (from[1] + to[1]) / 2);
  await page.mouse.move(box!.x + to[0], box!.y + to[1]);
  await page.mouse.up();
  const drawn = await Promise.all(
    ['west', 'south', 'east', 'north'].map(async (k) => Number(await page.locator(`#odas-subset-${k}`).inputValue())),
  );
  t.ok(
    Math.abs(drawn[0]! + 60) < 2 && Math.abs(drawn[2]! - 30) < 2,
    `west and east from the drawn box (${drawn.join(',')})`,
  );
  t.ok(Math.abs(drawn[1]! + 10) < 2 && Math.abs(drawn[3]! - 40) < 2, 'south and north from the drawn box');
  await page.screenshot({ path: join(OUT, 'coads_sst-subset.png'), fullPage: true });
  t.same(errors, []);
  await page.close();
});

t.test('a feature collection page builds Features, EDR and STAC URLs that answer', async (t) => {
  const { page, errors } = await watchedPage();
  await page.goto(`${base}/collections/1900857_prof?f=html`, { waitUntil: 'load' });
  await page.waitForFunction('Number(document.body.dataset.featuresLoaded || 0) >= 1');
  await page.locator('#odas-subset-view').click();
  const urls = Object.fromEntries(
    await page
      .locator('a.odas-subset-url')
      .evaluateAll((as) =>
        as.map((a) => [
          (a as unknown as { dataset: Record<string, string> }).dataset['key'],
          (a as unknown as { href: string }).href,
        ]),
      ),
  ) as Record<string, string>;
  t.same(Object.keys(urls), ['features', 'edr', 'stac']);
  const items = (await (await fetch(urls['features']!)).json()) as { numberMatched: number };
  t.equal(items.numberMatched, 194, 'the whole float is inside the map view');
  t.equal((await fetch(urls['edr']!)).status, 200, 'the EDR cube answers');
  t.equal((await fetch(urls['stac']!)).status, 200, 'the STAC search answers');
  t.same(errors, []);
  await page.close();
});
