/**
 * JPEG and WebP maps (decoded by Pillow, the Debian python3-pil), bilinear interpolation and the
 * ncWMS ABOVEMAXCOLOR / BELOWMINCOLOR, over a listening server.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { COLOUR_MAPS } from '../../src/encoders/render/colormaps.js';
import { closeEncodePool } from '../../src/encoders/offload/offload.js';
import { discoverRoots } from '../helpers/app.js';
import { referenceEntries, sharedData } from '../helpers/data.js';
import { decodePng, pixel, type Rgba } from './png.js';

const run = promisify(execFile);
const COADS = 'coads_sst';
const OUT = join(import.meta.dirname, '..', '..', '.tap', 'maps-formats');

let app: FastifyInstance;
let base: string;

t.before(async () => {
  await mkdir(OUT, { recursive: true });
  app = await buildApp({ collections: await discoverRoots([sharedData('satellite')]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(async () => {
  await app?.close();
  await closeEncodePool();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

const wms = (q: string) => `/wms?SERVICE=WMS&VERSION=1.3.0&${q}`;

/** An image decoded by Pillow: its format name and RGBA pixels (re-written by Pillow as a PNG). */
async function pillow(body: Buffer, name: string): Promise<{ format: string; img: Rgba }> {
  const src = join(OUT, name);
  const png = `${src}.rgba.png`;
  await writeFile(src, body);
  const { stdout } = await run('/usr/bin/python3', [
    '-c',
    'import sys\nfrom PIL import Image\nim = Image.open(sys.argv[1])\nprint(im.format)\nim.convert("RGBA").save(sys.argv[2])',
    src,
    png,
  ]);
  return { format: stdout.trim(), img: decodePng(await readFile(png)) };
}

/** Mean absolute RGB difference over the pixels opaque in both. */
function meanDifference(a: Rgba, b: Rgba): { mean: number; compared: number } {
  let sum = 0;
  let n = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    if (a.rgba[p * 4 + 3] !== 255 || b.rgba[p * 4 + 3] !== 255) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(a.rgba[p * 4 + c]! - b.rgba[p * 4 + c]!);
    n++;
  }
  return { mean: sum / (3 * Math.max(n, 1)), compared: n };
}

t.test('JPEG and WebP maps (WMS FORMAT, OGC f and Accept) decode to the size asked, close to the PNG', async (t) => {
  const q = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=thermal&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&COLORSCALERANGE=-2,32`;
  const png = decodePng((await get(wms(`${q}&FORMAT=image/png`))).body);
  const caps = (await get(wms('REQUEST=GetCapabilities'))).body.toString();
  t.match(caps, /<GetMap><Format>image\/png<\/Format><Format>image\/jpeg<\/Format><Format>image\/webp<\/Format>/);
  for (const [type, name] of [
    ['image/jpeg', 'JPEG'],
    ['image/webp', 'WEBP'],
  ] as const) {
    const r = await get(wms(`${q}&FORMAT=${type}`));
    t.equal(r.status, 200);
    t.equal(r.type, type);
    const { format, img } = await pillow(r.body, `wms.${name.toLowerCase()}`);
    t.equal(format, name);
    t.same([img.width, img.height], [360, 180]);
    const { mean, compared } = meanDifference(img, png);
    t.ok(compared > 20000, `${compared} ocean pixels compared`);
    t.ok(mean < 4, `${name} mean difference from the PNG ${mean.toFixed(2)}`);
  }
  // Land (missing) is transparent in WebP, white in JPEG (it has no alpha): Antarctica at 20E 75S.
  const land = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=0,-80,40,-70&WIDTH=20&HEIGHT=10`;
  t.equal(pixel((await pillow((await get(wms(`${land}&FORMAT=image/webp`))).body, 'land.webp')).img, 10, 5)[3], 0);
  const white = (await pillow((await get(wms(`${land}&FORMAT=image/jpeg`))).body, 'land.jpeg')).img;
  t.ok(
    pixel(white, 10, 5).every((v) => v >= 250),
    'white land in JPEG',
  );

  // OGC API - Maps f=jpeg, a tile f=image/webp, and a tile asked for by Accept only.
  const map = await get(`/collections/${COADS}/map?width=360&height=180&f=jpeg&range=-2,32&style=thermal`);
  t.equal(map.type, 'image/jpeg');
  const mapImg = (await pillow(map.body, 'map.jpeg')).img;
  t.same([mapImg.width, mapImg.height], [360, 180]);
  t.ok(meanDifference(mapImg, png).mean < 4, 'the Maps JPEG is the WMS picture');
  const tile = `/collections/${COADS}/map/tiles/WebMercatorQuad/1/0/1`;
  const tilePng = decodePng((await get(tile)).body);
  for (const r of [await get(`${tile}?f=image/webp`), await get(tile, { accept: 'image/webp' })]) {
    t.equal(r.type, 'image/webp');
    const img = (await pillow(r.body, 'tile.webp')).img;
    t.same([img.width, img.height], [256, 256]);
    t.ok(meanDifference(img, tilePng).mean < 4, 'the WebP tile is the PNG tile');
  }
  t.equal((await get(tile, { accept: 'image/webp,image/*,*/*;q=0.8' })).type, 'image/png', 'browsers get PNG');
});

t.test('bilinear equals nearest at cell centres and differs between them', async (t) => {
  // Pacific, 1° pixels centred on whole degrees: COADS cell centres are the odd degrees.
  const q = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=thermal&CRS=CRS:84&BBOX=-159.5,-10.5,-139.5,9.5&WIDTH=20&HEIGHT=20&FORMAT=image/png&COLORSCALERANGE=20,32`;
  const nearest = decodePng((await get(wms(q))).body);
  const bilinear = decodePng((await get(wms(`${q}&INTERPOLATION=bilinear`))).body);
  let centres = 0;
  let between = 0;
  let painted = 0;
  for (let j = 0; j < 20; j++)
    for (let i = 0; i < 20; i++) {
      const a = pixel(nearest, i, j);
      const b = pixel(bilinear, i, j);
      if (a[3] === 255) painted++;
      // Pixel centre lon -159 + i (odd when i is even), lat 9 - j (odd when j is even).
      if (i % 2 === 0 && j % 2 === 0) {
        if (a.join() === b.join()) centres++;
        else t.fail(`cell centre ${-159 + i},${9 - j}: nearest ${a.join()} bilinear ${b.join()}`);
      } else if (a.join() !== b.join()) between++;
    }
  t.ok(painted > 250, `${painted} of 400 pixels have a value (COADS misses some cells)`);
  t.equal(centres, 100, 'every cell centre the same');
  t.ok(between > 150, `${between} of 300 pixels between centres differ`);
  const ogc = await get(
    `/collections/${COADS}/map?bbox=-159.5,-10.5,-139.5,9.5&width=20&height=20&range=20,32&style=thermal&interpolation=bilinear`,
  );
  t.same(decodePng(ogc.body).rgba, bilinear.rgba, 'OGC interpolation=bilinear is the WMS one');
});

t.test('ABOVEMAXCOLOR and BELOWMINCOLOR colour the values outside the range', async (t) => {
  const lut = COLOUR_MAPS.get('thermal')!.lut;
  const bottom = [lut[0]!, lut[1]!, lut[2]!, 255];
  const top = [lut[765]!, lut[766]!, lut[767]!, 255];
  for (const ref of referenceEntries('satellite/coads_sst.nc').filter((r) => r.variable === 'SST')) {
    const lon = ref.coordinates!['lon'] as number;
    const lat = ref.coordinates!['lat'] as number;
    const v = ref.value as number;
    const q = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=thermal&WIDTH=360&HEIGHT=180&FORMAT=image/png&TIME=${ref.coordinates!['time'] as string}&CRS=CRS:84&BBOX=-180,-90,180,90`;
    const at = async (extra: string) =>
      pixel(decodePng((await get(wms(`${q}&${extra}`))).body), Math.floor(lon + 180), Math.floor(90 - lat));
    const below = `COLORSCALERANGE=${v + 1},${v + 5}`;
    const above = `COLORSCALERANGE=${v - 5},${v - 1}`;
    t.same(await at(below), bottom, `${v} below: extend by default`);
    t.same(await at(`${below}&BELOWMINCOLOR=extend`), bottom);
    t.same(await at(`${below}&BELOWMINCOLOR=0x00FF00&ABOVEMAXCOLOR=0xFF0000`), [0, 255, 0, 255]);
    t.equal((await at(`${below}&BELOWMINCOLOR=transparent`))[3], 0);
    t.same(await at(above), top, `${v} above: extend by default`);
    t.same(await at(`${above}&BELOWMINCOLOR=0x00FF00&ABOVEMAXCOLOR=0xFF0000`), [255, 0, 0, 255]);
    t.equal((await at(`${above}&ABOVEMAXCOLOR=transparent`))[3], 0);
    // In range, the out-of-range colours change nothing.
    const inside = `COLORSCALERANGE=${v - 5},${v + 5}`;
    t.same(await at(`${inside}&BELOWMINCOLOR=0x00FF00&ABOVEMAXCOLOR=0xFF0000`).then((p) => p[3]), 255);
    t.notSame(await at(`${inside}&BELOWMINCOLOR=0x00FF00&ABOVEMAXCOLOR=0xFF0000`), [255, 0, 0, 255]);
  }
  const ogc = await get(
    `/collections/${COADS}/map?bbox=-159.5,-10.5,-139.5,9.5&width=20&height=20&range=40,50&belowmincolor=0x0000ff`,
  );
  t.same(pixel(decodePng(ogc.body), 5, 5), [0, 0, 255, 255], 'OGC belowmincolor');
});

t.test('bad formats, colours and interpolations: WMS exceptions and OGC JSON 400s', async (t) => {
  const q = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10`;
  for (const [extra, code] of [
    ['FORMAT=image/gif', 'InvalidFormat'],
    ['FORMAT=image/png&ABOVEMAXCOLOR=red', 'InvalidParameterValue'],
    ['FORMAT=image/png&BELOWMINCOLOR=0xFFF', 'InvalidParameterValue'],
    ['FORMAT=image/png&INTERPOLATION=cubic', 'InvalidParameterValue'],
  ] as const) {
    const r = await get(wms(`${q}&${extra}`));
    t.equal(r.status, 400, extra);
    t.match(r.type, /xml/);
    t.match(r.body.toString(), new RegExp(`<ServiceException code="${code}"`), extra);
  }
  for (const extra of ['f=gif', 'abovemaxcolor=red', 'belowmincolor=12', 'interpolation=cubic']) {
    for (const path of [
      `/collections/${COADS}/map?width=10&height=10&`,
      `/collections/${COADS}/map/tiles/WebMercatorQuad/0/0/0?`,
    ]) {
      const r = await get(`${path}${extra}`);
      t.equal(r.status, 400, `${path}${extra}`);
      t.match(r.type, /json/);
      t.match(JSON.parse(r.body.toString()), { code: String, description: String });
    }
  }
});
