/**
 * The WMS 1.3.0 capabilities document: one layer per drawable field of every grid collection,
 * grouped by collection, with its CRS84/EPSG:4326/EPSG:3857 bounding boxes (EPSG:4326 latitude
 * first), TIME and ELEVATION dimensions, and one style per colour map with its legend URL.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { attrString } from '../../cf/read.js';
import { isoString } from '../../cf/time.js';
import { webMercator } from '../../core/grid/projection.js';
import type { GridAxis, GridModel } from '../../core/grid/types.js';
import { COLOUR_MAPS } from '../../encoders/render/colormaps.js';
import { defaultStyle, drawableFields, MAX_SIDE, styleNames } from '../maps/render.js';
import { WMS_CRS } from './params.js';
import { xmlEscape as x } from './xml.js';

const mercator = webMercator();
const DAY = 86_400_000;

function isoPeriod(ms: number): string {
  if (ms % DAY === 0) return `P${ms / DAY}D`;
  if (ms % 3_600_000 === 0) return `PT${ms / 3_600_000}H`;
  return `PT${ms / 1000}S`;
}

/** TIME: start/end/period for a regular axis, else the list of steps. */
function timeDimension(t: GridAxis): string {
  const v = Array.from(t.values).sort((a, b) => a - b);
  const step = v.length > 2 ? v[1]! - v[0]! : 0;
  const regular =
    step > 0 && v.every((s, i) => i === 0 || Math.abs(s - v[i - 1]! - step) < 1000) && Number.isInteger(step / 1000);
  if (regular) return `${isoString(v[0]!)}/${isoString(v[v.length - 1]!)}/${isoPeriod(step)}`;
  return v.map((s) => isoString(s)).join(',');
}

function num(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}

function layerXml(base: string, c: Collection, model: GridModel): string {
  const [w, s, e, n] = c.bbox ?? [-180, -90, 180, 90];
  const t = model.axes.find((a) => a.role === 't');
  const z = model.axes.find((a) => a.role === 'z');
  const [mx0, my0] = mercator.forward(w, Math.max(s, -85.0511));
  const [mx1, my1] = mercator.forward(e < w ? e + 360 : e, Math.min(n, 85.0511));
  const dims: string[] = [];
  if (t)
    dims.push(
      `<Dimension name="time" units="ISO8601" multipleValues="0" nearestValue="1" current="1" default="${isoString(Math.max(t.values[0]!, t.values[t.values.length - 1]!))}">${timeDimension(t)}</Dimension>`,
    );
  if (z) {
    const units = attrString(z.attrs, 'units') ?? 'unknown';
    dims.push(
      `<Dimension name="elevation" units="${x(units)}" unitSymbol="${x(units)}" multipleValues="0" nearestValue="1" default="${num(z.values[0]!)}">${Array.from(z.values, num).join(',')}</Dimension>`,
    );
  }
  const fields = drawableFields(model).map((f) => {
    const name = `${c.id}/${f.name}`;
    const units = attrString(f.attrs, 'units');
    const title = `${attrString(f.attrs, 'long_name') ?? attrString(f.attrs, 'standard_name') ?? f.name}${units ? ` (${units})` : ''}`;
    const def = defaultStyle(f);
    const styles = [def, ...styleNames().filter((s) => s !== def)].map((s) => {
      const legend = `${base}/wms?SERVICE=WMS&amp;VERSION=1.3.0&amp;REQUEST=GetLegendGraphic&amp;FORMAT=image/png&amp;LAYER=${encodeURIComponent(name)}&amp;STYLE=${s}`;
      return `<Style><Name>${s}</Name><Title>${x(COLOUR_MAPS.get(s)!.title)}</Title><LegendURL width="110" height="264"><Format>image/png</Format><OnlineResource xlink:type="simple" xlink:href="${legend}"/></LegendURL></Style>`;
    });
    return `<Layer queryable="1" opaque="0">
        <Name>${x(name)}</Name>
        <Title>${x(title)}</Title>
        <Abstract>${x(`${f.name} of ${c.title}`)}</Abstract>
        <EX_GeographicBoundingBox><westBoundLongitude>${num(w)}</westBoundLongitude><eastBoundLongitude>${num(e)}</eastBoundLongitude><southBoundLatitude>${num(s)}</southBoundLatitude><northBoundLatitude>${num(n)}</northBoundLatitude></EX_GeographicBoundingBox>
        <BoundingBox CRS="CRS:84" minx="${num(w)}" miny="${num(s)}" maxx="${num(e)}" maxy="${num(n)}"/>
        <BoundingBox CRS="EPSG:4326" minx="${num(s)}" miny="${num(w)}" maxx="${num(n)}" maxy="${num(e)}"/>
        <BoundingBox CRS="EPSG:3857" minx="${num(mx0)}" miny="${num(my0)}" maxx="${num(mx1)}" maxy="${num(my1)}"/>
        ${dims.join('\n        ')}
        ${styles.join('\n        ')}
      </Layer>`;
  });
  if (fields.length === 0) return '';
  return `<Layer>
      <Title>${x(c.title)}</Title>
      <Abstract>${x(c.description)}</Abstract>
      ${fields.join('\n      ')}
    </Layer>`;
}

export async function capabilities(
  base: string,
  title: string,
  description: string,
  collections: Collection[],
  log: FastifyBaseLogger,
): Promise<string> {
  const layers: string[] = [];
  for (const c of collections) {
    if (c.kind !== 'grid') continue;
    try {
      layers.push(layerXml(base, c, await collectionGrid(c, log)));
    } catch (err) {
      log.warn({ err, collection: c.id }, `WMS capabilities: collection '${c.id}' left out`);
    }
  }
  const op = (formats: string[]) =>
    `${formats.map((f) => `<Format>${f}</Format>`).join('')}<DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href="${base}/wms?"/></Get></HTTP></DCPType>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd">
  <Service>
    <Name>WMS</Name>
    <Title>${x(title)}</Title>
    <Abstract>${x(description)}</Abstract>
    <OnlineResource xlink:type="simple" xlink:href="${base}/"/>
    <Fees>none</Fees>
    <AccessConstraints>none</AccessConstraints>
    <LayerLimit>1</LayerLimit>
    <MaxWidth>${MAX_SIDE}</MaxWidth>
    <MaxHeight>${MAX_SIDE}</MaxHeight>
  </Service>
  <Capability>
    <Request>
      <GetCapabilities>${op(['text/xml'])}</GetCapabilities>
      <GetMap>${op(['image/png', 'image/jpeg', 'image/webp'])}</GetMap>
      <GetFeatureInfo>${op(['text/plain', 'application/json', 'text/html', 'text/xml'])}</GetFeatureInfo>
    </Request>
    <Exception><Format>XML</Format></Exception>
    <Layer>
      <Title>${x(title)}</Title>
      ${WMS_CRS.map((c) => `<CRS>${c}</CRS>`).join('')}
      <EX_GeographicBoundingBox><westBoundLongitude>-180</westBoundLongitude><eastBoundLongitude>180</eastBoundLongitude><southBoundLatitude>-90</southBoundLatitude><northBoundLatitude>90</northBoundLatitude></EX_GeographicBoundingBox>
      ${layers.filter((l) => l !== '').join('\n    ')}
    </Layer>
  </Capability>
</WMS_Capabilities>
`;
}
