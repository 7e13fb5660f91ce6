/**
 * What EDR adds to a collection description: `data_queries` (link templates with their variables),
 * `parameter_names` (label, unit, observedProperty from CF attributes), `output_formats`, the
 * vertical extent, and rel=data links to each query endpoint.
 */
import type { Collection } from '../../catalog/collection.js';
import { LENGTH_UNIT_NAMES } from '../../core/query/geodesic.js';
import { observedPropertyId } from '../../encoders/edr/coverage-json.js';
import type { CollectionDoc } from '../common/collection-doc.js';
import { CRS84 } from '../../core/grid/crs.js';
import { edrParameters } from './parameters.js';
import type { QueryType } from './query.js';

/** Output format names as EDR lists them, with their `f` values. */
const OUTPUT_FORMATS = [
  { name: 'CoverageJSON', f: 'covjson', type: 'application/vnd.cov+json' },
  { name: 'GeoJSON', f: 'geojson', type: 'application/geo+json' },
  { name: 'CSV', f: 'csv', type: 'text/csv' },
  { name: 'NetCDF', f: 'netcdf', type: 'application/x-netcdf' },
  { name: 'ArrowIPC', f: 'arrow', type: 'application/vnd.apache.arrow.stream' },
] as const;

export const GRID_QUERIES: QueryType[] = ['position', 'radius', 'area', 'cube', 'trajectory', 'corridor'];
export const INSITU_QUERIES: QueryType[] = [
  'position',
  'radius',
  'area',
  'cube',
  'trajectory',
  'corridor',
  'locations',
];

/** The vertical extent a describer can know without reading data (set by the grid or in-situ modules). */
export type VerticalExtent = { interval: [number, number]; values?: number[]; vrs: string; name?: string };

const TEMPLATES: Record<QueryType, { query: string; title: string; vars: Record<string, unknown> }> = {
  position: {
    query: 'position?coords={coords}',
    title: 'Position query',
    vars: { coords: 'Well Known Text POINT or MULTIPOINT, e.g. POINT(15.5 38.1)' },
  },
  radius: {
    query: 'radius?coords={coords}&within={within}&within-units={within-units}',
    title: 'Radius query',
    vars: { coords: 'Well Known Text POINT of the circle centre', within_units: [...LENGTH_UNIT_NAMES] },
  },
  area: {
    query: 'area?coords={coords}',
    title: 'Area query',
    vars: { coords: 'Well Known Text POLYGON or MULTIPOLYGON' },
  },
  cube: { query: 'cube?bbox={bbox}', title: 'Cube query', vars: { bbox: 'minLon,minLat,maxLon,maxLat' } },
  trajectory: {
    query: 'trajectory?coords={coords}',
    title: 'Trajectory query',
    vars: { coords: 'Well Known Text LINESTRING (Z, M or ZM: M is the time in epoch seconds)' },
  },
  corridor: {
    query: 'corridor?coords={coords}&corridor-width={corridor-width}&width-units={width-units}',
    title: 'Corridor query',
    vars: {
      coords: 'Well Known Text LINESTRING (Z, M or ZM)',
      width_units: [...LENGTH_UNIT_NAMES],
      height_units: ['m', 'dbar'],
    },
  },
  locations: { query: 'locations', title: 'Locations query (platforms and stations)', vars: {} },
};

export function describeEdr(c: Collection, doc: CollectionDoc, base: string, vertical?: VerticalExtent): void {
  const href = `${base}/collections/${encodeURIComponent(c.id)}`;
  const queries = c.kind === 'grid' ? GRID_QUERIES : INSITU_QUERIES;
  const formats = OUTPUT_FORMATS.map((f) => f.name);
  const dq: Record<string, unknown> = {};
  for (const q of queries) {
    const t = TEMPLATES[q];
    dq[q] = {
      link: {
        href: `${href}/${t.query}`,
        rel: 'data',
        templated: t.query.includes('{'),
        variables: {
          title: t.title,
          query_type: q,
          ...t.vars,
          output_formats: formats,
          default_output_format: 'CoverageJSON',
          crs_details: [
            {
              crs: 'OGC:CRS84',
              wkt: 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]',
            },
          ],
        },
      },
    };
    doc.links.push({ href: `${href}/${q}`, rel: 'data', type: 'application/vnd.cov+json', title: t.title });
  }
  if (c.kind !== 'grid') {
    dq['items'] = {
      link: {
        href: `${href}/items`,
        rel: 'data',
        templated: false,
        variables: {
          title: 'Items query (single profiles, stations, trajectories)',
          query_type: 'items',
          output_formats: ['GeoJSON', 'CSV'],
          default_output_format: 'GeoJSON',
        },
      },
    };
  }
  doc['data_queries'] = dq;
  doc['output_formats'] = formats;
  const names: Record<string, unknown> = {};
  for (const p of edrParameters(
    c,
    c.parameters.map((x) => x.name),
  )) {
    names[p.name] = {
      type: 'Parameter',
      id: p.name,
      label: p.label,
      description: p.label,
      ...(p.units
        ? { unit: { label: p.units, symbol: { value: p.units, type: 'http://www.opengis.net/def/uom/UCUM/' } } }
        : {}),
      observedProperty: {
        ...(p.standardName ? { id: observedPropertyId(p.standardName) } : { id: p.name }),
        label: p.label,
      },
    };
  }
  doc['parameter_names'] = names;
  if (!doc.crs.includes(CRS84)) doc.crs.push(CRS84);
  if (vertical) {
    // EDR 1.1 extent.vertical.interval is an array of intervals, each an array of strings (null for an open end).
    const { interval, values, ...rest } = vertical;
    Object.assign(doc.extent, {
      vertical: {
        interval: [interval.map((v) => String(v))],
        ...(values ? { values: values.map((v) => String(v)) } : {}),
        ...rest,
      },
    });
  }
}
