/**
 * What the Coverages API says about a grid collection: the collection description's grid extent,
 * CRS and coverage links (from discovery's summary, no file opened), and the domain set, range
 * type and schema documents (from the grid model).
 */
import type { Collection } from '../../catalog/collection.js';
import { attrNumber, attrString } from '../../cf/read.js';
import { isoString } from '../../cf/time.js';
import { CRS84 } from '../../core/grid/crs.js';
import type { GridAxisSummary, GridSummary } from '../../core/grid/summary.js';
import type { GridAxis, GridModel } from '../../core/grid/types.js';
import type { CollectionDoc } from '../common/collection-doc.js';
import type { Link } from '../link.js';
import { COVERAGE_FORMATS } from './formats.js';

const REL_COVERAGE = 'http://www.opengis.net/def/rel/ogc/1.0/coverage';
const REL_SCHEMA = 'http://www.opengis.net/def/rel/ogc/1.0/schema';
const REL_DOMAINSET = 'http://www.opengis.net/def/rel/ogc/1.0/coverage-domainset';
const REL_RANGETYPE = 'http://www.opengis.net/def/rel/ogc/1.0/coverage-rangetype';

const DAY = 86_400_000;

/** An ISO 8601 duration for a regular time step (P1D, PT6H, PT90S…). */
function isoDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs % DAY === 0) return `P${abs / DAY}D`;
  if (abs % 3_600_000 === 0) return `PT${abs / 3_600_000}H`;
  if (abs % 60_000 === 0) return `PT${abs / 60_000}M`;
  return `PT${abs / 1000}S`;
}

function summaryOf(c: Collection): GridSummary | undefined {
  return c.grid?.[0]?.summary;
}

function spatialGrid(axis: GridAxisSummary): Record<string, unknown> {
  return { cellsCount: axis.size, ...(axis.step !== undefined ? { resolution: Math.abs(axis.step) } : {}) };
}

/** Adds the Coverages API's members and links to a grid collection's description. */
export function describeGridCollection(c: Collection, doc: CollectionDoc, base: string): void {
  const summary = summaryOf(c);
  if (c.kind !== 'grid' || !summary) return;
  const href = `${base}/collections/${encodeURIComponent(c.id)}`;
  const links: Link[] = COVERAGE_FORMATS.map((f) => ({
    href: `${href}/coverage?f=${f.f}`,
    rel: REL_COVERAGE,
    type: f.mediaType,
    title: `The coverage as ${f.title}`,
  }));
  links.push(
    {
      href: `${href}/schema`,
      rel: REL_SCHEMA,
      type: 'application/schema+json',
      title: 'Fields of the coverage (JSON Schema)',
    },
    {
      href: `${href}/coverage/domainset`,
      rel: REL_DOMAINSET,
      type: 'application/json',
      title: 'Domain set of the coverage',
    },
    {
      href: `${href}/coverage/rangetype`,
      rel: REL_RANGETYPE,
      type: 'application/json',
      title: 'Range type of the coverage',
    },
  );
  doc.links.push(...links);
  const x = summary.axes.find((a) => a.role === 'x');
  const y = summary.axes.find((a) => a.role === 'y');
  const spatial = doc.extent.spatial as Record<string, unknown>;
  if (x && y) spatial['grid'] = [spatialGrid(x), spatialGrid(y)];
  if (summary.nativeBox && summary.crs) {
    spatial['storageCrsBbox'] = [summary.nativeBox];
  }
  const native = summary.crs ?? CRS84;
  if (summary.kind === 'projected') {
    doc.crs = [native];
    doc.storageCrs = native;
  }
  const files = c.grid ?? [];
  const times = files.flatMap((f) => f.summary.time?.values ?? []).sort((a, b) => a - b);
  if (times.length > 0) {
    const temporal = doc.extent.temporal as Record<string, unknown>;
    const steps = new Set<number>();
    for (let i = 1; i < times.length && steps.size < 2; i++) steps.add(times[i]! - times[i - 1]!);
    const grid: Record<string, unknown> = { cellsCount: times.length };
    if (steps.size === 1) grid['resolution'] = isoDuration([...steps][0]!);
    else if (times.length <= 1000) grid['coordinates'] = times.map((t) => isoString(t));
    temporal['grid'] = grid;
    // The step a client that cannot choose time gets (GDAL and QGIS reading GeoTIFF): see defaultTime.
    temporal['default'] = isoString(times[times.length - 1]!);
  }
}

function axisUnits(a: GridAxis, model: GridModel): string {
  if (a.role === 't') return 's';
  const units = attrString(a.attrs, 'units');
  if (units) return units;
  return model.crs.kind === 'geographic' && (a.role === 'x' || a.role === 'y') ? 'deg' : '1';
}

/** CRS axis order: x (easting, longitude), y, z, then time, then any other axis. */
const AXIS_ORDER: Record<GridAxis['role'], number> = { x: 0, y: 1, z: 2, t: 3, other: 4 };

/** The grid's axes in the order of its CRS (x first): the order of the domain set's axisLabels. */
function crsOrderedAxes(model: GridModel): GridAxis[] {
  return [...model.axes].sort((a, b) => AXIS_ORDER[a.role] - AXIS_ORDER[b.role]);
}

/**
 * The time step a client that cannot ask for one gets (GDAL's OGC API driver, QGIS: they send no
 * datetime and read GeoTIFF, one band per field): the latest, as WMS and OGC API - Maps default to.
 */
export function defaultTime(model: GridModel): number | undefined {
  const t = model.axes.find((a) => a.role === 't');
  if (!t || t.values.length === 0) return undefined;
  return Math.max(t.values[0]!, t.values[t.values.length - 1]!);
}

/**
 * CIS 1.1 JSON domain set of the coverage. Axes come in the CRS's order (x, y, then z and time),
 * whatever the files' dimension order, because clients take the first two labels as x and y.
 * A regular axis spans its cells' outer edges, lowerBound + n × |resolution| = upperBound (the
 * extent of area cells, as the Coverages draft describes it and GDAL sizes its raster from);
 * time and irregular axes list their coordinates (cell centres).
 */
export function domainSet(model: GridModel): object {
  const ordered = crsOrderedAxes(model);
  const axis = ordered.map((a) => {
    const n = a.values.length;
    const lo = Math.min(a.values[0]!, a.values[n - 1]!);
    const hi = Math.max(a.values[0]!, a.values[n - 1]!);
    if (a.role === 't') {
      return {
        type: 'IrregularAxisType',
        axisLabel: a.label,
        uomLabel: 's',
        coordinate: Array.from(a.values, (t) => isoString(t)),
      };
    }
    if (a.step !== undefined || n === 1) {
      const half = Math.abs(a.step ?? 0) / 2;
      return {
        type: 'RegularAxisType',
        axisLabel: a.label,
        lowerBound: lo - half,
        upperBound: hi + half,
        uomLabel: axisUnits(a, model),
        resolution: a.step ?? 0,
      };
    }
    return {
      type: 'IrregularAxisType',
      axisLabel: a.label,
      uomLabel: axisUnits(a, model),
      coordinate: Array.from(a.values),
    };
  });
  const indexLabels = ['i', 'j', 'k', 'l', 'm'].slice(0, ordered.length);
  return {
    type: 'DomainSetType',
    generalGrid: {
      type: 'GeneralGridCoverageType',
      srsName: model.crs.uri ?? model.crs.label,
      axisLabels: ordered.map((a) => a.label),
      axis,
      gridLimits: {
        type: 'GridLimitsType',
        srsName: `http://www.opengis.net/def/crs/OGC/0/Index${ordered.length}D`,
        axisLabels: indexLabels,
        axis: ordered.map((a, i) => ({
          type: 'IndexAxisType',
          axisLabel: indexLabels[i],
          lowerBound: 0,
          upperBound: a.values.length - 1,
        })),
      },
    },
  };
}

const DATA_TYPE: Record<string, string> = {
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f4: 'float32',
  f8: 'float64',
};

/** SWE Common DataRecord range type: one Quantity per field, with units, definition and nil values. */
export function rangeType(model: GridModel): object {
  return {
    type: 'DataRecordType',
    field: model.fields.map((f) => {
      const std = attrString(f.attrs, 'standard_name');
      const fill = attrNumber(f.attrs, '_FillValue') ?? attrNumber(f.attrs, 'missing_value');
      return {
        type: 'QuantityType',
        id: f.name,
        name: f.name,
        ...(std ? { definition: `http://vocab.nerc.ac.uk/standard_name/${std}/` } : {}),
        label: attrString(f.attrs, 'long_name') ?? std ?? f.name,
        ...(attrString(f.attrs, 'long_name') ? { description: attrString(f.attrs, 'long_name') } : {}),
        uom: { type: 'UnitReference', code: attrString(f.attrs, 'units') ?? '1' },
        encodingInfo: { dataType: `http://www.opengis.net/def/dataType/OGC/0/${DATA_TYPE[f.dtype] ?? f.dtype}` },
        ...(fill !== undefined && Number.isFinite(fill)
          ? { nilValues: [{ reason: 'http://www.opengis.net/def/nil/OGC/0/missing', value: fill }] }
          : {}),
      };
    }),
  };
}

/** JSON Schema of the coverage's fields (OGC API - Coverages /schema), one property per field. */
export function fieldSchema(model: GridModel, href: string, title: string): object {
  const properties: Record<string, object> = {};
  model.fields.forEach((f, i) => {
    const units = attrString(f.attrs, 'units');
    const std = attrString(f.attrs, 'standard_name');
    const scale = attrNumber(f.attrs, 'scale_factor');
    properties[f.name] = {
      title: attrString(f.attrs, 'long_name') ?? std ?? f.name,
      type: scale === undefined && /^[iu]\d$/.test(f.dtype) ? 'integer' : 'number',
      'x-ogc-propertySeq': i + 1,
      ...(units ? { 'x-ogc-unit': units } : {}),
      ...(std ? { 'x-ogc-definition': `http://vocab.nerc.ac.uk/standard_name/${std}/` } : {}),
    };
  });
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: href, title, type: 'object', properties };
}
