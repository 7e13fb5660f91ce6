import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import jpeg from 'jpeg-js';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { discoverRoots } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';
import { decodePng, pixel } from './png.js';

let app: FastifyInstance;
let base: string;
t.before(async () => {
  app = await buildApp({ collections: await discoverRoots([sharedData('satellite')]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(() => app?.close());

const MAP = '/collections/coads_sst/map?properties=SST&datetime=2000-01-16T06:00:00Z&width=360&height=180';

async function get(path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: Buffer.from(await r.arrayBuffer()) };
}

t.test('f=jpeg and f=webp, and WMS FORMAT=image/webp', async (t) => {
  const j = await get(`${MAP}&f=jpeg`);
  t.equal(j.type, 'image/jpeg');
  const img = jpeg.decode(j.body);
  t.same([img.width, img.height], [360, 180]);
  const w = await get(`${MAP}&f=webp`);
  t.equal(w.type, 'image/webp');
  t.equal(w.body.subarray(8, 12).toString('latin1'), 'WEBP');
  const wms = await get(
    '/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=coads_sst/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=200&HEIGHT=100&FORMAT=image/webp',
  );
  t.equal(wms.type, 'image/webp');
  t.equal((await get(`${MAP}&f=gif`)).status, 400);
});

t.test('abovemaxcolor and belowmincolor (WMS ABOVEMAXCOLOR, BELOWMINCOLOR)', async (t) => {
  // Tropical SST is above 10: red; with a range of 28..40, the cold ocean is below: transparent.
  const red = decodePng((await get(`${MAP}&range=0,10&abovemaxcolor=0xFF0000`)).body);
  t.same(pixel(red, 180 - 30, 90 - 5), [255, 0, 0, 255], 'tropical Atlantic is red');
  const gone = decodePng((await get(`${MAP}&range=28,40&belowmincolor=transparent`)).body);
  t.equal(pixel(gone, 180 - 30, 90 + 50)[3], 0, 'the cold South Atlantic is transparent');
  const ext = decodePng((await get(`${MAP}&range=28,40`)).body);
  t.equal(pixel(ext, 180 - 30, 90 + 50)[3], 255, 'extended by default');
  const wms = await get(
    '/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=coads_sst/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&FORMAT=image/png&TIME=2000-01-16T06:00:00Z&COLORSCALERANGE=0,10&ABOVEMAXCOLOR=0x00FF00',
  );
  t.same(pixel(decodePng(wms.body), 180 - 30, 90 - 5), [0, 255, 0, 255]);
  t.equal((await get(`${MAP}&abovemaxcolor=pink`)).status, 400);
});

t.test('bilinear interpolation blends between cells where nearest shows blocks', async (t) => {
  // Four 2° cells drawn 128 pixels wide: nearest gives a few colours per row, bilinear many (the
  // SST there is 28.6–29.2 °C: a range around it, so neighbouring cells fall in distinct bands).
  const q =
    '/collections/coads_sst/map?properties=SST&datetime=2000-01-16T06:00:00Z&bbox=-38,0,-30,8&width=128&height=128&range=28.5,29.5';
  const colours = (buf: Buffer) => {
    const img = decodePng(buf);
    return new Set(Array.from({ length: 128 }, (_, x) => pixel(img, x, 64).join(','))).size;
  };
  const nearest = colours((await get(q)).body);
  const bilinear = colours((await get(`${q}&interpolation=bilinear`)).body);
  t.ok(nearest <= 6, `nearest: ${nearest} colours across`);
  t.ok(bilinear > nearest * 3, `bilinear: ${bilinear} colours across`);
  t.equal((await get(`${q}&interpolation=cubic`)).status, 400);
});

t.test('GetLegendGraphic shows the ABOVEMAXCOLOR and BELOWMINCOLOR colours over and under the bar', async (t) => {
  const legend = (extra: string) =>
    get(
      `/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=coads_sst/SST&STYLE=thermal&FORMAT=image/png&COLORSCALERANGE=0,30${extra}`,
    );
  // The default legend is 110 × 264: the bar runs from row 7 to row 256, 24 pixels wide from column 4.
  const plain = decodePng((await legend('')).body);
  t.same(pixel(plain, 10, 3), [255, 255, 255, 255], 'no swatch above without ABOVEMAXCOLOR');
  t.same(pixel(plain, 10, 260), [255, 255, 255, 255], 'no swatch below without BELOWMINCOLOR');
  const both = await legend('&ABOVEMAXCOLOR=0xFF0000&BELOWMINCOLOR=0x0000FF');
  t.equal(both.status, 200);
  const img = decodePng(both.body);
  t.same(pixel(img, 10, 3), [255, 0, 0, 255], 'above-max colour over the bar');
  t.same(pixel(img, 10, 260), [0, 0, 255, 255], 'below-min colour under the bar');
  t.same(pixel(img, 10, 100), pixel(plain, 10, 100), 'the bar itself unchanged');
  const transparent = decodePng((await legend('&ABOVEMAXCOLOR=transparent')).body);
  t.same(pixel(transparent, 10, 3), [255, 255, 255, 255], 'transparent: no swatch');
});
