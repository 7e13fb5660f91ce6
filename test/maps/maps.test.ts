import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { COLOUR_MAPS } from '../../src/encoders/render/colormaps.js';
import { discoverRoots } from '../helpers/app.js';
import { referenceEntries, sharedData } from '../helpers/data.js';
import { decodePng, pixel } from './png.js';

const COADS = 'coads_sst';
const SEAICE = 'seaice_conc_monthly_nh_202112_f17_v04r00';
const ICE_FIELD = 'cdr_seaice_conc_monthly';
const OUT = join(import.meta.dirname, '..', '..', '.tap', 'maps');

let app: FastifyInstance;
let base: string;

t.before(async () => {
  await mkdir(OUT, { recursive: true });
  app = await buildApp({ collections: await discoverRoots([sharedData('satellite')]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(() => app?.close());

async function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: Buffer; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
    headers: res.headers,
  };
}

/** The colour odas must paint a value with: the band of a 254-band scale over [lo, hi], sampled from the map's table. */
function expectedColour(map: string, v: number, lo: number, hi: number): [number, number, number] {
  const bands = 254;
  const b = Math.min(bands - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bands)));
  const at = Math.round((b * 255) / (bands - 1));
  const lut = COLOUR_MAPS.get(map)!.lut;
  return [lut[at * 3]!, lut[at * 3 + 1]!, lut[at * 3 + 2]!];
}

const wms = (q: string) => `/wms?SERVICE=WMS&VERSION=1.3.0&${q}`;

t.test('WMS GetCapabilities lists a layer per field with time, styles, legends and the three CRSs', async (t) => {
  const r = await get(wms('REQUEST=GetCapabilities'));
  t.equal(r.status, 200);
  t.match(r.type, /text\/xml/);
  const xml = r.body.toString();
  t.match(xml, /<WMS_Capabilities version="1.3.0"/);
  t.match(xml, /<Name>coads_sst\/SST<\/Name>/);
  t.match(xml, /<Name>coads_sst\/AIRT<\/Name>/);
  t.match(xml, /<CRS>CRS:84<\/CRS><CRS>EPSG:4326<\/CRS><CRS>EPSG:3857<\/CRS>/);
  t.match(xml, /<Dimension name="time" units="ISO8601"[^>]*default="2000-12-16T01:20:06Z">2000-01-16T06:00:00Z\//);
  // EPSG:4326 boxes are latitude first in 1.3.0.
  t.match(xml, /<BoundingBox CRS="EPSG:4326" minx="-90" miny="-180" maxx="90" maxy="180"\/>/);
  t.match(xml, /LegendURL[\s\S]*REQUEST=GetLegendGraphic/);
});

t.test('WMS GetMap pixels are the source values through the colour map (CRS:84 and EPSG:4326 agree)', async (t) => {
  for (const ref of referenceEntries('satellite/coads_sst.nc')) {
    const lon = ref.coordinates!['lon'] as number;
    const lat = ref.coordinates!['lat'] as number;
    const time = ref.coordinates!['time'] as string;
    const common = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=thermal&WIDTH=360&HEIGHT=180&FORMAT=image/png&TIME=${time}&COLORSCALERANGE=-2,32`;
    const a = await get(wms(`${common}&CRS=CRS:84&BBOX=-180,-90,180,90`));
    const b = await get(wms(`${common}&CRS=EPSG:4326&BBOX=-90,-180,90,180`));
    t.equal(a.status, 200);
    t.equal(a.type, 'image/png');
    t.same(a.body, b.body, 'EPSG:4326 takes latitude first');
    const img = decodePng(a.body);
    t.equal(img.width, 360);
    // One-degree pixels: the pixel whose centre is half a degree east and south of the 2° cell centre.
    const [r, g, bl, alpha] = pixel(img, Math.floor(lon + 180), Math.floor(90 - lat));
    t.equal(alpha, 255, `painted at ${lon},${lat}`);
    t.same(
      [r, g, bl],
      expectedColour('thermal', ref.value as number, -2, 32),
      `colour of ${ref.value} at ${lon},${lat} ${time}`,
    );
  }
});

t.test('WMS GetMap draws land (missing values) transparent, and an opaque background on request', async (t) => {
  // Antarctica, 0..40E 80..70S: land, missing in COADS.
  const q = `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=0,-80,40,-70&WIDTH=20&HEIGHT=10&FORMAT=image/png`;
  const img = decodePng((await get(wms(q))).body);
  t.equal(pixel(img, 10, 5)[3], 0);
  const opaque = decodePng((await get(wms(`${q}&TRANSPARENT=FALSE&BGCOLOR=0x102030`))).body);
  t.same(pixel(opaque, 10, 5), [16, 32, 48, 255]);
});

t.test('WMS GetMap reprojects the polar stereographic sea ice grid to EPSG:3857', async (t) => {
  for (const ref of referenceEntries(`satellite/${SEAICE}.nc`)) {
    const lon = ref.coordinates!['lon'] as number;
    const lat = ref.coordinates!['lat'] as number;
    // A 5 km box around the cell centre (25 km cells): every pixel is that cell; Web Mercator stops at 85.05°.
    const d = 2500 / Math.cos((lat * Math.PI) / 180);
    const x = (lon * Math.PI * 6378137) / 180;
    const y = 6378137 * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
    const dLat = 2500 / 111_000;
    const dLon = dLat / Math.cos((lat * Math.PI) / 180);
    const views = [
      `CRS=CRS:84&BBOX=${lon - dLon},${lat - dLat},${lon + dLon},${lat + dLat}`,
      ...(lat < 85 ? [`CRS=EPSG:3857&BBOX=${x - d},${y - d},${x + d},${y + d}`] : []),
    ];
    for (const view of views) {
      const r = await get(
        wms(
          `REQUEST=GetMap&LAYERS=${SEAICE}/${ICE_FIELD}&STYLES=viridis&${view}&WIDTH=4&HEIGHT=4&FORMAT=image/png&COLORSCALERANGE=0,1`,
        ),
      );
      t.equal(r.status, 200);
      const [red, g, b, a] = pixel(decodePng(r.body), 2, 2);
      t.equal(a, 255);
      t.same(
        [red, g, b],
        expectedColour('viridis', ref.value as number, 0, 1),
        `sea ice ${ref.value} at ${lon},${lat} (${view.slice(0, 14)})`,
      );
    }
  }
  const globe = decodePng(
    (
      await get(
        wms(
          `REQUEST=GetMap&LAYERS=${SEAICE}/${ICE_FIELD}&STYLES=&CRS=EPSG:3857&BBOX=-20037508,-20037508,20037508,20037508&WIDTH=256&HEIGHT=256&FORMAT=image/png`,
        ),
      )
    ).body,
  );
  t.ok(
    pixel(globe, 128, 10)[3] === 255 && pixel(globe, 128, 250)[3] === 0,
    'the Arctic is painted, the southern hemisphere is not',
  );
});

t.test('WMS GetFeatureInfo gives the value with its units as text, JSON and HTML', async (t) => {
  const ref = referenceEntries('satellite/coads_sst.nc')[1]!;
  const lon = ref.coordinates!['lon'] as number;
  const lat = ref.coordinates!['lat'] as number;
  const q = (f: string) =>
    wms(
      `REQUEST=GetFeatureInfo&LAYERS=${COADS}/SST&QUERY_LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&I=${Math.floor(lon + 180)}&J=${Math.floor(90 - lat)}&INFO_FORMAT=${f}&TIME=${ref.coordinates!['time']}`,
    );
  const json = JSON.parse((await get(q('application/json'))).body.toString()) as {
    features: Array<{ properties: { value: number; units: string } }>;
  };
  t.ok(
    Math.abs(json.features[0]!.properties.value - (ref.value as number)) < 1e-4,
    `${json.features[0]!.properties.value} ≈ ${ref.value}`,
  );
  t.equal(json.features[0]!.properties.units, 'Deg C');
  const text = (await get(q('text/plain'))).body.toString();
  t.match(text, new RegExp(`Value: ${String(ref.value).slice(0, 5)}\\d* Deg C`));
  t.match((await get(q('text/html'))).body.toString(), /<td>16\.22\d* Deg C<\/td>/);
});

t.test('WMS GetLegendGraphic, NUMCOLORBANDS and LOGSCALE', async (t) => {
  const legend = await get(wms(`REQUEST=GetLegendGraphic&LAYER=${COADS}/SST&STYLE=viridis&COLORSCALERANGE=0,30`));
  t.equal(legend.status, 200);
  const img = decodePng(legend.body);
  t.equal(img.height, 264);
  const top = pixel(img, 10, 7);
  t.same(top.slice(0, 3), expectedColour('viridis', 30, 0, 30), 'the maximum is at the top');
  const banded = decodePng(
    (
      await get(
        wms(
          `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=viridis&CRS=CRS:84&BBOX=-180,-60,180,60&WIDTH=360&HEIGHT=120&FORMAT=image/png&NUMCOLORBANDS=4&COLORSCALERANGE=0,30`,
        ),
      )
    ).body,
  );
  const colours = new Set<string>();
  for (let p = 0; p < banded.width * banded.height; p++)
    if (banded.rgba[p * 4 + 3] === 255) colours.add(banded.rgba.subarray(p * 4, p * 4 + 3).join(','));
  t.equal(colours.size, 4, 'four bands, four colours');
  const log = await get(
    wms(
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=36&HEIGHT=18&FORMAT=image/png&LOGSCALE=true&COLORSCALERANGE=1,30`,
    ),
  );
  t.equal(log.status, 200);
});

t.test('WMS errors are ServiceExceptionReports with the WMS code, never 500', async (t) => {
  const cases: Array<[string, string]> = [
    [
      `REQUEST=GetMap&LAYERS=nope/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/png`,
      'LayerNotDefined',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/NOPE&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/png`,
      'LayerNotDefined',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=rainbow&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/png`,
      'StyleNotDefined',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=EPSG:32632&BBOX=0,0,1,1&WIDTH=10&HEIGHT=10&FORMAT=image/png`,
      'InvalidCRS',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=EPSG:4326&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/png`,
      'InvalidParameterValue',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=EPSG:3857&BBOX=0,0,3e7,1&WIDTH=10&HEIGHT=10&FORMAT=image/png`,
      'InvalidParameterValue',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=5000&HEIGHT=5000&FORMAT=image/png`,
      'InvalidParameterValue',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/gif`,
      'InvalidFormat',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/png&TIME=1990-01-01`,
      'InvalidDimensionValue',
    ],
    [
      `REQUEST=GetMap&LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&FORMAT=image/png&COLORSCALERANGE=5,1`,
      'InvalidParameterValue',
    ],
    [
      `REQUEST=GetFeatureInfo&QUERY_LAYERS=${COADS}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=10&HEIGHT=10&I=11&J=0&INFO_FORMAT=text/plain`,
      'InvalidPoint',
    ],
    ['REQUEST=DescribeLayer', 'OperationNotSupported'],
    [`REQUEST=GetMap&STYLES=&CRS=CRS:84`, 'MissingParameterValue'],
  ];
  for (const [q, code] of cases) {
    const r = await get(wms(q));
    t.equal(r.status, 400, q);
    t.match(r.type, /application\/vnd\.ogc\.se_xml/);
    t.match(r.body.toString(), new RegExp(`<ServiceException code="${code}">`), q);
  }
});

t.test('OGC API - Tiles: tile matrix sets, tilesets, tiles with datetime, cache and ETag', async (t) => {
  const tms = JSON.parse((await get('/tileMatrixSets/WorldCRS84Quad')).body.toString()) as {
    tileMatrices: Array<{ matrixWidth: number; matrixHeight: number }>;
  };
  t.same([tms.tileMatrices[0]!.matrixWidth, tms.tileMatrices[0]!.matrixHeight], [2, 1]);
  const sets = JSON.parse((await get(`/collections/${COADS}/map/tiles`)).body.toString()) as {
    tilesets: Array<{ tileMatrixSetURI: string }>;
  };
  t.equal(sets.tilesets.length, 2);
  const meta = JSON.parse((await get(`/collections/${COADS}/map/tiles/WebMercatorQuad`)).body.toString()) as {
    links: Array<{ rel: string; href: string }>;
  };
  t.ok(meta.links.some((l) => l.rel === 'item' && l.href.endsWith('/{tileMatrix}/{tileRow}/{tileCol}')));
  const ref = referenceEntries('satellite/coads_sst.nc')[1]!; // lon 71, lat -35, July
  // WorldCRS84Quad level 1: 4 × 2 tiles of 90°; lon 71 lat -35 lies in row 1, col 2, at pixel (71/90·256, 35/90·256).
  const path = `/collections/${COADS}/map/tiles/WorldCRS84Quad/1/1/2?datetime=${ref.coordinates!['time']}&range=-2,32&style=thermal&properties=SST`;
  const first = await get(path);
  t.equal(first.status, 200);
  t.equal(first.headers.get('x-odas-cache'), 'miss');
  const img = decodePng(first.body);
  t.same([img.width, img.height], [256, 256]);
  const px = pixel(img, Math.floor((72 / 90) * 256) - 1, Math.floor((35.5 / 90) * 256));
  t.same(px, [...expectedColour('thermal', ref.value as number, -2, 32), 255]);
  const again = await get(path);
  t.equal(again.headers.get('x-odas-cache'), 'hit');
  t.same(again.body, first.body);
  const etag = first.headers.get('etag')!;
  t.equal((await get(path, { 'if-none-match': etag })).status, 304);
  const mercator = await get(`/collections/${COADS}/map/tiles/WebMercatorQuad/0/0/0`);
  t.equal(mercator.status, 200);
  t.equal(decodePng(mercator.body).width, 256);
  for (const bad of [
    `/collections/${COADS}/map/tiles/WebMercatorQuad/1/2/0`,
    `/collections/${COADS}/map/tiles/WebMercatorQuad/x/0/0`,
    `/collections/${COADS}/map/tiles/WorldCRS84Quad/0/0/0?datetime=1900-01-01T00:00:00Z`,
  ]) {
    const r = await get(bad);
    t.equal(r.status, 400, bad);
    t.match(JSON.parse(r.body.toString()), { code: 'InvalidParameterValue' });
  }
  t.equal((await get(`/collections/${COADS}/map/tiles/NoSuchTms/0/0/0`)).status, 404);
});

t.test('OGC API - Maps: bbox, bbox-crs, crs, subset, width from the aspect; conformance and links', async (t) => {
  const r = await get(`/collections/${COADS}/map?bbox=-40,-180,40,180&bbox-crs=EPSG:4326&crs=EPSG:3857&width=512`);
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-crs'), '<http://www.opengis.net/def/crs/EPSG/0/3857>');
  const img = decodePng(r.body);
  t.equal(img.width, 512);
  t.ok(img.height > 100 && img.height < 512);
  const sub = await get(`/collections/${COADS}/map?subset=Lat(-10:10),Lon(0:40),time("2000-07-16T20:54:36Z")&width=40`);
  t.equal(sub.status, 200);
  t.same([decodePng(sub.body).width, decodePng(sub.body).height], [40, 20]);
  for (const [q, parameter] of [
    ['crs=EPSG:32632', 'crs'],
    ['bbox=0,-100,10,10', 'bbox'],
    ['width=9000', 'width'],
    ['style=rainbow', 'style'],
    ['properties=NOPE', 'properties'],
    ['foo=1', 'foo'],
  ] as Array<[string, string]>) {
    const e = await get(`/collections/${COADS}/map?${q}`);
    t.equal(e.status, 400, q);
    t.match(JSON.parse(e.body.toString()).description, parameter);
  }
  t.equal((await get('/collections/1900857_prof/map')).status, 404);
  const conf = JSON.parse((await get('/conformance')).body.toString()) as { conformsTo: string[] };
  t.ok(conf.conformsTo.includes('http://www.opengis.net/spec/ogcapi-maps-1/1.0/conf/core'));
  t.ok(conf.conformsTo.includes('http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset'));
  const doc = JSON.parse((await get(`/collections/${COADS}?f=json`)).body.toString()) as {
    links: Array<{ rel: string }>;
  };
  t.ok(doc.links.some((l) => l.rel === 'http://www.opengis.net/def/rel/ogc/1.0/tilesets-map'));
});
