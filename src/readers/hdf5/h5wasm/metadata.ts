/**
 * The `info` answer: NetCDF-4 conventions (dimension scales, hidden attributes, char variables)
 * mapped to the shapes of src/readers/types.ts; raw attribute values, no CF decoding. Plain HDF5
 * files get netCDF-C style phony dimensions.
 */
import h5wasm, { type Dataset, type File as H5File, type Group, type Metadata } from 'h5wasm/node';
import type { AttrTypes } from '../../types.js';
import type { Hdf5InfoResult, Hdf5VariableMeta } from '../worker-protocol.js';
import { readAttrs, readStringAttr, toAttrValue } from './attributes.js';
import { dtypeOf, isUnlimited } from './dtype.js';
import { h5 } from './module.js';

const NETCDF_DIM_ONLY = 'This is a netCDF dimension but not a netCDF variable';
const NON_COORD_PREFIX = '_nc4_non_coord_';

interface DatasetRecord {
  h5path: string;
  /** Variable name: the path without its leading slash. */
  name: string;
  ds: Dataset;
  meta: Metadata;
  attrNames: string[];
  isScale: boolean;
  dimOnly: boolean;
  dimid?: number;
}

interface DimRecord {
  name: string;
  length: number;
  unlimited: boolean;
  dimid?: number;
  order: number;
}

function variableName(h5path: string): string {
  const rel = h5path.replace(/^\/+/, '');
  const slash = rel.lastIndexOf('/');
  const base = rel.slice(slash + 1);
  const stripped = base.startsWith(NON_COORD_PREFIX) ? base.slice(NON_COORD_PREFIX.length) : base;
  return rel.slice(0, slash + 1) + stripped;
}

function collectDatasets(file: H5File): DatasetRecord[] {
  const M = h5();
  const records: DatasetRecord[] = [];
  for (const rel of file.paths()) {
    const h5path = '/' + rel.replace(/^\/+/, '');
    if (M.get_type(file.file_id, h5path) !== M.H5G_DATASET) continue;
    const ds = new h5wasm.Dataset(file.file_id, h5path);
    const meta = ds.metadata;
    const attrNames = M.get_attribute_names(file.file_id, h5path);
    const isScale = attrNames.includes('CLASS') && readStringAttr(ds, 'CLASS') === 'DIMENSION_SCALE';
    const scaleName = isScale && attrNames.includes('NAME') ? readStringAttr(ds, 'NAME') : undefined;
    let dimid: number | undefined;
    if (attrNames.includes('_Netcdf4Dimid')) {
      const v = toAttrValue(ds.get_attribute('_Netcdf4Dimid', false));
      if (typeof v === 'number') dimid = v;
    }
    records.push({
      h5path,
      name: variableName(h5path),
      ds,
      meta,
      attrNames,
      isScale,
      dimOnly: isScale && (scaleName ?? '').startsWith(NETCDF_DIM_ONLY),
      dimid: isScale ? dimid : undefined,
    });
  }
  return records;
}

/**
 * An HDF5 object reference (hobj_ref_t, 8 bytes) is the object's header address: h5wasm has no
 * call that returns the address itself, but it creates references.
 */
function objectAddressOf(fileId: bigint, h5path: string): number | undefined {
  const M = h5();
  try {
    const ref = M.create_object_reference(fileId, h5path);
    if (ref.length !== 8) return undefined;
    let address = 0;
    for (let i = 7; i >= 0; i--) address = address * 256 + ref[i]!;
    return Number.isSafeInteger(address) ? address : undefined;
  } catch {
    return undefined; // no reference, no direct reads: h5wasm serves the variable
  }
}

export function buildInfo(file: H5File): Hdf5InfoResult {
  const M = h5();
  const records = collectDatasets(file);
  let order = 0;

  // Dimensions declared by dimension scales, keyed by the scale's HDF5 path.
  const scaleDims = new Map<string, DimRecord>();
  const dimsById = new Map<number, DimRecord>();
  for (const r of records) {
    if (!r.isScale) continue;
    const shape = r.meta.shape ?? [];
    const dim: DimRecord = {
      name: r.h5path.replace(/^\/+/, ''),
      length: shape[0] ?? 0,
      unlimited: isUnlimited(r.meta.maxshape, 0),
      dimid: r.dimid,
      order: order++,
    };
    scaleDims.set(r.h5path, dim);
    if (r.dimid !== undefined) dimsById.set(r.dimid, dim);
  }

  // Plain HDF5 axes get netCDF-C style phony dimensions, shared by equal length across datasets.
  const phony: DimRecord[] = [];
  const phonyFor = (length: number, unlimited: boolean, taken: Set<DimRecord>): DimRecord => {
    let dim = phony.find((d) => d.length === length && d.unlimited === unlimited && !taken.has(d));
    if (!dim) {
      dim = { name: `phony_dim_${phony.length}`, length, unlimited, order: order++ };
      phony.push(dim);
    }
    return dim;
  };

  const variables: Hdf5VariableMeta[] = [];
  for (const r of records) {
    if (r.dimOnly) continue;
    const dtype = dtypeOf(r.meta);
    if (dtype === undefined) continue; // no DType for it (e.g. BAG's compound tracking_list)
    const shape = r.meta.shape ?? [];
    const coordinates = r.attrNames.includes('_Netcdf4Coordinates')
      ? toAttrValue(r.ds.get_attribute('_Netcdf4Coordinates', false))
      : undefined;
    const dimids = typeof coordinates === 'number' ? [coordinates] : Array.isArray(coordinates) ? coordinates : [];
    const hasDimList = r.attrNames.includes('DIMENSION_LIST');
    const taken = new Set<DimRecord>();
    const dims: DimRecord[] = shape.map((len, axis) => {
      let dim: DimRecord | undefined;
      if (hasDimList) {
        for (const scalePath of M.get_attached_scales(r.ds.file_id, r.h5path, axis)) {
          dim = scaleDims.get(scalePath);
          if (dim) break;
        }
      }
      if (!dim && r.isScale && axis === 0) dim = scaleDims.get(r.h5path);
      if (!dim && typeof dimids[axis] === 'number') dim = dimsById.get(dimids[axis] as number);
      if (!dim) dim = phonyFor(len, isUnlimited(r.meta.maxshape, axis), taken);
      taken.add(dim);
      // netCDF-C: an unlimited dimension is as long as its longest variable (the scale itself
      // may hold fewer records, even none, as in the NSIDC sea-ice file).
      dim.length = Math.max(dim.length, len);
      return dim;
    });
    const filters = r.meta.chunks ? r.ds.filters.map((f) => f.id) : [];
    const attrTypes: AttrTypes = {};
    const variable: Hdf5VariableMeta = {
      name: r.name,
      dtype,
      dims: dims.map((d) => d.name),
      shape: [...shape],
      attrs: readAttrs(r.ds, r.attrNames, r.isScale, attrTypes),
      attrTypes,
      h5path: r.h5path,
      filters,
    };
    if (r.meta.chunks) variable.chunks = [...r.meta.chunks];
    const objectAddress = objectAddressOf(r.ds.file_id, r.h5path);
    if (objectAddress !== undefined) variable.objectAddress = objectAddress;
    variables.push(variable);
  }

  const allDims = [...scaleDims.values(), ...phony].sort((a, b) => {
    if (a.dimid !== undefined && b.dimid !== undefined) return a.dimid - b.dimid;
    if (a.dimid !== undefined) return -1;
    if (b.dimid !== undefined) return 1;
    return a.order - b.order;
  });
  const dims: Record<string, number> = {};
  for (const d of allDims) dims[d.name] = d.length;
  const root = file as Group;
  const result: Hdf5InfoResult = {
    kind: 'info',
    format: 'hdf5',
    dims,
    variables,
    attrs: readAttrs(root, M.get_attribute_names(file.file_id, '/'), false),
  };
  const unlimited = allDims.find((d) => d.unlimited);
  if (unlimited) result.unlimited = unlimited.name;
  return result;
}
