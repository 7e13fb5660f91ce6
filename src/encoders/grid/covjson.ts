/**
 * A coverage as CoverageJSON (a Coverage with a Grid domain), written as text incrementally so a
 * large answer never sits in memory: the domain and parameters first, then each range's values
 * block by block as the readers produce them.
 *
 * Axes are named x, y, z, t as the Grid domain type requires (not after the file's dimensions);
 * times are ISO 8601 strings; `axisNames` follow the file's dimension order and the values are
 * row-major in that order; missing values are null. Values are the source's, CF-decoded once
 * (src/cf/decode.ts) and printed without float noise: float32 values with the fewest digits that
 * read back to the same float32, packed values to the precision their scale_factor gives.
 * Cells outside the plan's mask (EDR area, radius, corridor) are null.
 */
import { attrNumber, attrString } from '../../cf/read.js';
import { numberText } from '../../core/number-text.js';
import { isoString } from '../../cf/time.js';
import { InvalidParameterValue } from '../../core/errors.js';
import type { AxisSelection, GridPlan } from '../../core/grid/plan.js';
import { CRS84 } from '../../core/grid/crs.js';
import type { GridField } from '../../core/grid/types.js';
import type { DType } from '../../readers/types.js';
import { decodedField, type GridPayload } from './payload.js';

const AXIS_KEY = { x: 'x', y: 'y', z: 'z', t: 't' } as const;
const INTEGER_TYPES = new Set<DType>(['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8']);

/** Values per text piece of a range: bounded strings whatever the block size. */
const PIECE_VALUES = 65_536;

/** How one field's decoded values are printed. */
function valueFormatter(
  dtype: DType,
  attrs: GridField['attrs'],
): { dataType: 'float' | 'integer'; format: (v: number) => string } {
  const scale = attrNumber(attrs, 'scale_factor');
  const offset = attrNumber(attrs, 'add_offset');
  const packed = scale !== undefined || offset !== undefined;
  if (packed) {
    // Decimals the packing resolves, one more for safety: 0.01 → 3, 0.0001 → 5.
    const digits = Math.max(0, Math.ceil(-Math.log10(Math.abs(scale ?? 1)) - 1e-9)) + 1;
    const f = 10 ** digits;
    return { dataType: 'float', format: (v) => String(Math.round(v * f) / f) };
  }
  if (INTEGER_TYPES.has(dtype)) return { dataType: 'integer', format: (v) => String(v) };
  if (dtype === 'f4') return { dataType: 'float', format: numberText };
  return { dataType: 'float', format: (v) => String(v) };
}

function axisValues(sel: AxisSelection): string {
  if (sel.axis.role === 't')
    return sel.values.length ? `"${Array.from(sel.values, (ms) => isoString(ms)).join('","')}"` : '';
  const format =
    sel.axis.dtype === 'f4' && sel.values.every((v, i) => v === sel.axis.values[sel.picks[i]!])
      ? numberText
      : (v: number) => String(v);
  return Array.from(sel.values, format).join(',');
}

/** Axes a CoverageJSON Grid can carry; any other axis must be sliced to one cell (checked before streaming). */
export function checkCovJsonAxes(plan: GridPlan): void {
  for (const sel of plan.axes) {
    if (sel.axis.role === 'other' && sel.picks.length > 1) {
      throw new InvalidParameterValue(
        'f',
        `CoverageJSON grids have only x, y, z and t axes; slice axis '${sel.axis.label}' to one cell (subset=${sel.axis.label}(value)) or ask for f=netcdf`,
      );
    }
  }
}

function referencing(plan: GridPlan): object[] {
  const crs = plan.model.crs;
  const refs: object[] = [
    {
      coordinates: ['x', 'y'],
      system:
        crs.kind === 'geographic'
          ? { type: 'GeographicCRS', id: CRS84 }
          : { type: 'ProjectedCRS', ...(crs.uri ? { id: crs.uri } : {}), ...(crs.wkt ? { wkt: crs.wkt } : {}) },
    },
  ];
  const z = plan.axes.find((s) => s.axis.role === 'z');
  if (z) {
    const units = attrString(z.axis.attrs, 'units');
    const down = attrString(z.axis.attrs, 'positive') === 'down';
    refs.push({
      coordinates: ['z'],
      system: {
        type: 'VerticalCRS',
        cs: {
          csAxes: [
            {
              name: { en: z.axis.variable ?? z.axis.dim },
              direction: down ? 'down' : 'up',
              ...(units ? { unit: { symbol: units } } : {}),
            },
          ],
        },
      },
    });
  }
  if (plan.axes.some((s) => s.axis.role === 't'))
    refs.push({ coordinates: ['t'], system: { type: 'TemporalRS', calendar: 'Gregorian' } });
  return refs;
}

function parameter(f: GridField): object {
  const units = attrString(f.attrs, 'units');
  const std = attrString(f.attrs, 'standard_name');
  const long = attrString(f.attrs, 'long_name');
  const label = long ?? std ?? f.name;
  return {
    type: 'Parameter',
    ...(long ? { description: { en: long } } : {}),
    ...(units ? { unit: { symbol: units } } : {}),
    observedProperty: {
      ...(std ? { id: `http://vocab.nerc.ac.uk/standard_name/${std}/` } : {}),
      label: { en: label },
    },
  };
}

/** The CoverageJSON document as a stream of text pieces. */
export async function* encodeCovJson(payload: GridPayload): AsyncGenerator<string> {
  const { plan } = payload;
  checkCovJsonAxes(plan);
  const shown = plan.axes.filter((s) => s.axis.role !== 'other');
  const axes = shown
    .map((s) => `"${AXIS_KEY[s.axis.role as keyof typeof AXIS_KEY]}":{"values":[${axisValues(s)}]}`)
    .join(',');
  const parameters = Object.fromEntries(plan.fields.map((f) => [f.name, parameter(f)]));
  const axisNames = JSON.stringify(shown.map((s) => AXIS_KEY[s.axis.role as keyof typeof AXIS_KEY]));
  const shape = JSON.stringify(shown.map((s) => s.picks.length));
  yield (
    `{"type":"Coverage","domain":{"type":"Domain","domainType":"Grid","axes":{${axes}},"referencing":${JSON.stringify(referencing(plan))}},` +
    `"parameters":${JSON.stringify(parameters)},"ranges":{`
  );
  for (let i = 0; i < plan.fields.length; i++) {
    const f = plan.fields[i]!;
    const { dataType, format } = valueFormatter(f.dtype, f.attrs);
    yield `${i > 0 ? ',' : ''}${JSON.stringify(f.name)}:{"type":"NdArray","dataType":"${dataType}","axisNames":${axisNames},"shape":${shape},"values":[`;
    let first = true;
    for await (const decoded of decodedField(payload, f)) {
      for (let start = 0; start < decoded.length; start += PIECE_VALUES) {
        const end = Math.min(decoded.length, start + PIECE_VALUES);
        let text = first ? '' : ',';
        for (let k = start; k < end; k++) {
          const v = decoded[k]!;
          text +=
            k > start ? (Number.isFinite(v) ? `,${format(v)}` : ',null') : Number.isFinite(v) ? format(v) : 'null';
        }
        first = false;
        yield text;
      }
    }
    yield ']}';
  }
  yield '}}';
}

/** A size estimate (bytes) before reading: about 9 characters per value plus the axes. */
export function covJsonEstimate(plan: GridPlan): number {
  const axisChars = plan.axes.reduce((n, s) => n + s.picks.length * (s.axis.role === 't' ? 23 : 12), 0);
  return 2048 + axisChars + plan.cells * plan.fields.length * 9;
}
