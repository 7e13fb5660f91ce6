/**
 * Maps of a COG at a lower resolution than its own are drawn from its overviews: the view's
 * decimated read (Reader.readPicks) takes the reduced-resolution image whose cells fit the view,
 * observable through the per-image read counter, and the pixels are that image's values (read
 * here with geotiff.js, independently of the server) through the colour map.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { fromFile } from 'geotiff';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { COLOUR_MAPS } from '../../src/encoders/render/colormaps.js';
import { geotiffImageReads } from '../../src/readers/geotiff/reader.js';
import { discoverRoots } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';
import { decodePng, pixel } from './png.js';

const COG = 'ghrsst_blk_analysed_sst_20160707_cog';
const FILE = sharedData('geotiff/ghrsst_blk_analysed_sst_20160707_cog.tif');
// GDAL's geotransform of the file: 384 × 240 cells of 1/24°.
const WEST = 26.3749662180171;
const NORTH = 48.75003192215285;
const EAST = 42.37503187463427;
const SOUTH = 38.74996807784715;
const SCALE = 0.009999999776482582;
const OFFSET = 273.1499938964844;
const NODATA = -32768;
const RANGE: [number, number] = [280, 300];

let app: FastifyInstance;
let base: string;

t.before(async () => {
  app = await buildApp({ collections: await discoverRoots([sharedData('geotiff')]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(() => app?.close());

function expectedColour(v: number): [number, number, number] {
  const bands = 254;
  const b = Math.min(bands - 1, Math.max(0, Math.floor(((v - RANGE[0]) / (RANGE[1] - RANGE[0])) * bands)));
  const at = Math.round((b * 255) / (bands - 1));
  const lut = COLOUR_MAPS.get('thermal')!.lut;
  return [lut[at * 3]!, lut[at * 3 + 1]!, lut[at * 3 + 2]!];
}

/** A WMS GetMap of the whole COG at width × height, and the image reads it caused per IFD. */
async function mapOfWhole(width: number, height: number): Promise<{ png: Buffer; reads: number[] }> {
  const before = [...geotiffImageReads];
  const res = await fetch(
    `${base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${COG}/band1&STYLES=thermal&CRS=CRS:84` +
      `&BBOX=${WEST},${SOUTH},${EAST},${NORTH}&WIDTH=${width}&HEIGHT=${height}&FORMAT=image/png&COLORSCALERANGE=${RANGE.join(',')}`,
  );
  t.equal(res.status, 200, `${width}×${height} map answered`);
  const png = Buffer.from(await res.arrayBuffer());
  const reads = geotiffImageReads.map((n, i) => (n ?? 0) - (before[i] ?? 0));
  return { png, reads };
}

t.test('a quarter-resolution map reads the 1/4 overview (IFD 2) only; pixels are its cells', async (t) => {
  const tiff = await fromFile(FILE);
  t.teardown(() => tiff.close());
  const overview = await tiff.getImage(2);
  t.same([overview.getWidth(), overview.getHeight()], [96, 60], 'IFD 2 is the 96 × 60 overview');
  const cells = (await overview.readRasters({ samples: [0], interleave: false }))[0]!;
  const { png, reads } = await mapOfWhole(96, 60);
  t.ok((reads[2] ?? 0) > 0, `IFD 2 read (${reads[2] ?? 0} pieces)`);
  t.equal(reads[0] ?? 0, 0, 'full resolution not read');
  t.equal(reads[1] ?? 0, 0, 'the 1/2 overview not read');
  const img = decodePng(png);
  let checked = 0;
  for (let j = 0; j < 60; j += 7) {
    for (let i = 0; i < 96; i += 5) {
      const stored = Number(cells[j * 96 + i]);
      const [r, g, b, a] = pixel(img, i, j);
      if (stored === NODATA) {
        t.equal(a, 0, `nodata at ${i},${j} is transparent`);
        continue;
      }
      t.same([r, g, b, a], [...expectedColour(stored * SCALE + OFFSET), 255], `pixel ${i},${j} = overview cell`);
      checked++;
    }
  }
  t.ok(checked > 20, `${checked} sea pixels compared`);
});

t.test('a half-resolution map reads the 1/2 overview (IFD 1); full resolution reads IFD 0', async (t) => {
  const half = await mapOfWhole(192, 120);
  t.ok((half.reads[1] ?? 0) > 0, 'IFD 1 read');
  t.equal(half.reads[0] ?? 0, 0, 'full resolution not read');
  const full = await mapOfWhole(384, 240);
  t.ok((full.reads[0] ?? 0) > 0, 'full resolution read at full size');
  t.equal((full.reads[1] ?? 0) + (full.reads[2] ?? 0), 0, 'no overview at full size');
});
