import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
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
