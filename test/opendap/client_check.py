"""Reads OPeNDAP URLs with Debian's netCDF-C (python3-netCDF4 and xarray) and compares them with the source files.

Input (stdin, JSON): [{"url", "sources": [files in time order, concatenated along their first dimension],
"variable", "slices": [[[start, stop, step] per dimension], ...], "dap4_ce": optional}]. Output: one JSON
line per check. With "dap4_ce", each slice is also read through its own DAP4 constraint
(url?dap4.ce=/var[start:step:stop-1]…): netCDF-C 4.9 reads a whole dataset when it opens it, so a
constraint in the URL is how a script reads a slice of a large one.
"""
import json
import sys

import netCDF4
import numpy as np
import xarray as xr

from dap_compare import report, same_numbers


def source_values(sources, variable, sl):
    """netCDF4's reading of the source files, concatenated along the first dimension (time) for a folder."""
    parts = []
    for f in sources:
        with netCDF4.Dataset(f) as s:
            parts.append(s[variable][:])
    return np.ma.concatenate(parts, axis=0)[sl]


def source_values_xr(sources, variable, sl):
    """The same through xarray (which applies _FillValue but not valid_range, unlike netCDF4)."""
    parts = []
    for f in sources:
        with xr.open_dataset(f) as s:
            parts.append(s[variable].values)
    return np.concatenate(parts, axis=0)[sl]


def dap4_slab(s):
    """[start, stop(, step)] (Python, stop exclusive) as a DAP4 slab [start:step:last]."""
    start, stop, step = (s + [1])[:3]
    last = start + (stop - 1 - start) // step * step
    return f'[{start}:{step}:{last}]'


def same(a, b):
    return same_numbers(a, b, close=True)


def main():
    cases = json.load(sys.stdin)
    for case in cases:
        url, var = case['url'], case['variable']
        try:
            remote = netCDF4.Dataset(url)
            v = remote[var]
            with netCDF4.Dataset(case['sources'][0]) as first:
                dims = first[var].dimensions
            for slices in case['slices']:
                sl = tuple(slice(*s) for s in slices)
                ok, why = same(v[sl], source_values(case['sources'], var, sl))
                report('netCDF4', url, var, slices, ok, why)
            # Coordinates of every dimension that has one.
            for d in dims:
                if d in remote.variables:
                    # The time coordinate runs over every file, the others are each file's.
                    files = case['sources'] if d == dims[0] else case['sources'][:1]
                    ok, why = same(remote[d][:], source_values(files, d, slice(None)))
                    report('netCDF4', url, d, [], ok, why)
            remote.close()
            if case.get('dap4_ce'):
                for slices in case['slices']:
                    sl = tuple(slice(*s) for s in slices)
                    ce = ''.join(dap4_slab(s) for s in slices)
                    with netCDF4.Dataset(f'{url}?dap4.ce=/{var}{ce}') as part:
                        ok, why = same(part[var][:], source_values(case['sources'], var, sl))
                    report('netCDF4-ce', url, var, slices, ok, why)
            ds = xr.open_dataset(url, decode_times=True)
            for slices in case['slices']:
                sl = tuple(slice(*s) for s in slices)
                got = ds[var][sl].values
                want = source_values_xr(case['sources'], var, sl)
                ok, why = same(got, want)
                report('xarray', url, var, slices, ok, why)
            ds.close()
        except Exception as e:  # noqa: BLE001 - reported to the test
            report('error', url, var, [], False, repr(e))


main()
