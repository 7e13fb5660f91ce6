/**
 * Variable and dataset attributes of a GeoTIFF, from GDAL's metadata items and nodata value, in the
 * CF vocabulary the rest of the server (src/cf/) understands.
 */
import type { AttrValue, Attrs } from '../types.js';
import { itemNumber, type GdalMetadataItem } from './gdal-metadata.js';

/** CF attributes the reader derives from GDAL's own fields; text copies of them are dropped. */
const DERIVED_ATTRS = new Set([
  '_FillValue',
  'missing_value',
  'scale_factor',
  'add_offset',
  '_Unsigned',
  'valid_range',
]);

/** Per-band attributes from the band's GDAL metadata items and the file's nodata value. */
export function bandAttrs(items: GdalMetadataItem[], nodata: number | undefined): Attrs {
  const attrs: Attrs = {};
  for (const item of items) {
    if (item.role !== undefined || DERIVED_ATTRS.has(item.name)) continue;
    let value: AttrValue = item.value;
    // Kept numeric so CF decoding applies them, as the NetCDF reader would for the source file.
    if (item.name === 'valid_min' || item.name === 'valid_max') {
      const n = itemNumber(item.value);
      if (n === undefined) continue;
      value = n;
    }
    attrs[item.name] = value;
  }
  const role = (name: string) => items.find((i) => i.role === name)?.value;
  const scale = itemNumber(role('scale'));
  const offset = itemNumber(role('offset'));
  if (scale !== undefined) attrs['scale_factor'] = scale;
  if (offset !== undefined) attrs['add_offset'] = offset;
  const units = role('unittype');
  if (units !== undefined && units !== '') attrs['units'] = units;
  if (nodata !== undefined) attrs['_FillValue'] = nodata;
  return attrs;
}

/** Attributes of the x / y coordinate variables. */
export function axisAttrs(axis: 'x' | 'y', geographic: boolean, georeferenced: boolean): Attrs {
  if (!georeferenced) return { long_name: axis === 'x' ? 'column' : 'row', units: '1' };
  if (geographic) {
    return axis === 'x'
      ? { standard_name: 'longitude', long_name: 'longitude', units: 'degrees_east', axis: 'X' }
      : { standard_name: 'latitude', long_name: 'latitude', units: 'degrees_north', axis: 'Y' };
  }
  return axis === 'x'
    ? { standard_name: 'projection_x_coordinate', long_name: 'x coordinate of projection', units: 'm', axis: 'X' }
    : { standard_name: 'projection_y_coordinate', long_name: 'y coordinate of projection', units: 'm', axis: 'Y' };
}

/** Dataset-level items of the default domain as global attributes. */
export function globalAttrs(items: GdalMetadataItem[]): Attrs {
  const attrs: Attrs = {};
  for (const item of items) {
    if (item.sample !== undefined || item.domain !== undefined) continue;
    // GDAL stores a NetCDF file's global attributes as NC_GLOBAL#name.
    attrs[item.name.startsWith('NC_GLOBAL#') ? item.name.slice('NC_GLOBAL#'.length) : item.name] = item.value;
  }
  return attrs;
}
