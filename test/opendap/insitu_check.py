"""Reads in-situ OPeNDAP datasets (CF DSG arrays) with Debian's netCDF-C (python3-netCDF4 and xarray)
and compares them with the source files read directly by netCDF4.

Input (stdin, JSON): [{"url", "sources": [files, in catalog order], "instance": the files' instance
dimension (N_PROF, station) or null when each file is one instance, "checks": [{"variable", "slices":
[[[start, stop, step] per served dimension], ...]}]}]. The expected array is the sources' variable stacked along the
instance dimension (a per-file variable repeated once per file) and padded with missing values to the
served element dimension, then sliced. Character variables compare as stripped strings. Output: one
JSON line per check.
"""
import json
import sys

import netCDF4
import numpy as np
import xarray as xr

from dap_compare import report as dap_report, same_numbers


def strings(a):
    """Rows of characters (any trailing dimension) as stripped strings."""
    a = np.ma.filled(np.ma.asarray(a), b' ') if np.ma.isMaskedArray(a) else np.asarray(a)
    if a.dtype.kind == 'S' and a.dtype.itemsize == 1 and a.ndim >= 1:
        a = netCDF4.chartostring(a)
    return np.vectorize(lambda s: (s.decode('latin1') if isinstance(s, bytes) else str(s)).replace('\0', '').strip(), otypes=[object])(a)


def stacked(case, shape, read):
    """The sources' values in the served layout: instance rows, element padding (masked)."""
    var, inst = case['variable'], case['instance']
    parts = []
    for f in case['sources']:
        with netCDF4.Dataset(f) as s:
            rows = len(s.dimensions[inst]) if inst else 1
            if var not in s.variables:
                parts.append(np.ma.masked_all((rows,) + tuple(shape[1:])))
                continue
            v = s[var]
            a = read(f, v)
            if not inst or inst not in v.dimensions:
                a = np.ma.asarray(a)[np.newaxis, ...].repeat(rows, axis=0)
            a = np.ma.asarray(a)
            pad = [(0, 0)] + [(0, shape[k] - a.shape[k]) for k in range(1, len(shape))]
            if any(p[1] for p in pad):
                full = np.ma.masked_all((a.shape[0],) + tuple(shape[1:]), dtype=a.dtype)
                full[tuple(slice(0, n) for n in a.shape)] = a
                a = full
            parts.append(a)
    return np.ma.concatenate(parts, axis=0)


def same(a, b):
    if a.dtype == object or b.dtype == object:
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        if a.shape != b.shape:
            return False, f'shape {a.shape} != {b.shape}'
        ok = bool(np.all(a == b))
        return ok, '' if ok else f'strings differ: {a.ravel()[:3]} vs {b.ravel()[:3]}'
    return same_numbers(a, b, close=False)


def report(client, case, slices, ok, why):
    dap_report(client, case['url'], case['variable'], slices, ok, why)


def main():
    for group in json.load(sys.stdin):
        # Each URL is opened once per client (netCDF-C's DAP4 client reads a whole dataset when it opens it).
        url = group['url']
        try:
            with netCDF4.Dataset(url) as remote, xr.open_dataset(url, decode_times=False, mask_and_scale=True) as ds:
                for check in group['checks']:
                    case = {**group, **check}
                    compare(case, remote, ds)
        except Exception as e:  # noqa: BLE001 - reported to the test
            report('error', {'url': url, 'variable': ''}, [], False, repr(e))


def compare(case, remote, ds):
    var = case['variable']
    v = remote[var]
    char = v.dtype.kind == 'S'
    if char:
        v.set_auto_mask(False)
    shape = v.shape[:-1] if char else v.shape

    def source(f, sv):
        if char:
            sv.set_auto_mask(False)
            return strings(sv[:])
        return sv[:]

    want = stacked(case, shape, source)
    for slices in case['slices']:
        sl = tuple(slice(*s) for s in slices)
        got = strings(v[sl]) if char else v[sl]
        ok, why = same(got, np.asarray(want, dtype=object)[sl] if char else want[sl])
        report('netCDF4', case, slices, ok, why)

    def source_xr(f, sv):
        with xr.open_dataset(f, decode_times=False) as s:
            a = s[var].values
        return strings(a) if char else np.ma.masked_invalid(a)

    want = stacked(case, shape, source_xr)
    for slices in case['slices']:
        sl = tuple(slice(*s) for s in slices)
        got = ds[var].values[sl]
        got = strings(got) if char else got
        ok, why = same(got, np.asarray(want, dtype=object)[sl] if char else want[sl])
        report('xarray', case, slices, ok, why)


main()
