"""What erddapy does with a griddap dataset, step by step, against a listening odas; values checked against the source file.

erddapy is not packaged by Debian: this follows its griddap_initialize (erddapy/core/griddap.py): the DDS is split on
"GRID" for dimension and variable names, each dimension's values come from `.csvp?dim`, the default constraints are
the last time step and every step-th cell of the other axes, the URL is `var[(start):step:(stop)]…`, and the CSV is
read with pandas (units row skipped). Then xarray opens the griddap URL as OPeNDAP, as erddapy's to_xarray does.
Input (stdin, JSON): [{"url": dataset URL, "source", "variable", "step"}]. Output: one JSON line per check.
"""
import json
import sys
import urllib.request

import netCDF4
import numpy as np
import pandas as pd
import xarray as xr


def check(case):
    url, var, step = case['url'], case['variable'], case['step']
    dds = urllib.request.urlopen(f'{url}.dds').read().decode('utf-8')
    dims, *variables = dds.split('GRID')
    dim_names = [d.split(' ')[-1] for d in dims.split('[')[:-1]]
    var_names = [v.split('[')[0].split(' ')[-1] for v in variables]
    yield 'dds', var in var_names and len(dim_names) == 3, f'dims {dim_names} vars {var_names}'
    bounds = {}
    for d in dim_names:
        values = pd.read_csv(f'{url}.csvp?{d}').to_numpy()
        bounds[d] = (values[-1][0] if d.lower() == 'time' else values[0][0], values[-1][0])
    query = ''.join(f'[({lo}):{step}:({hi})]' for lo, hi in (bounds[d] for d in dim_names))
    table = pd.read_csv(f'{url}.csv?{var}{query}', skiprows=[1])
    with netCDF4.Dataset(case['source']) as src:
        v = src[var]
        t_index = v.shape[0] - 1
        want = np.ma.masked_invalid(np.ma.asarray(v[t_index:t_index + 1, ::step, ::step], dtype='f8')).ravel()
    got = np.ma.masked_invalid(table[var].to_numpy(dtype='f8'))
    same_mask = want.shape == got.shape and np.array_equal(np.ma.getmaskarray(want), np.ma.getmaskarray(got))
    close = same_mask and np.allclose(want.filled(0), got.filled(0), rtol=1e-6, atol=1e-5)
    yield 'csv', bool(close), f'{len(table)} rows, {int(np.ma.count_masked(got))} missing'
    ds = xr.open_dataset(url)
    part = ds[var][-1, :20, :30].values
    with xr.open_dataset(case['source']) as src:
        ref = src[var][-1, :20, :30].values
    ok = part.shape == ref.shape and np.allclose(np.nan_to_num(part, nan=-9e9), np.nan_to_num(ref, nan=-9e9), rtol=1e-6)
    yield 'xarray', bool(ok), f'shape {part.shape}'


for case in json.load(sys.stdin):
    try:
        for name, ok, why in check(case):
            print(json.dumps({'check': name, 'url': case['url'], 'ok': ok, 'why': why}), flush=True)
    except Exception as e:  # noqa: BLE001 - reported to the test
        print(json.dumps({'check': 'error', 'url': case['url'], 'ok': False, 'why': repr(e)}), flush=True)
