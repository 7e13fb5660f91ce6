"""What the OPeNDAP client checks share: comparing a served array with the source's, one JSON line a check.

client_check.py (grids) and insitu_check.py (DSG arrays) import it from this folder (python3 puts a
script's own folder first on its path).
"""
import json

import numpy as np


def same_numbers(a, b, close):
    """Shapes, masks (missing values) and values equal; `close`: within 1e-6 (floats decoded on either side), else exactly."""
    a = np.ma.masked_invalid(np.ma.asarray(a, dtype='f8'))
    b = np.ma.masked_invalid(np.ma.asarray(b, dtype='f8'))
    if a.shape != b.shape:
        return False, f'shape {a.shape} != {b.shape}'
    if not np.array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b)):
        return False, f'masks differ: {int(np.ma.count_masked(a))} vs {int(np.ma.count_masked(b))} masked'
    if close:
        ok = np.allclose(a.filled(0), b.filled(0), rtol=1e-6, atol=1e-6)
    else:
        ok = np.array_equal(a.filled(0), b.filled(0))
    return bool(ok), '' if ok else f'max diff {float(np.max(np.abs(a.filled(0) - b.filled(0))))}'


def report(client, url, variable, slices, ok, why):
    """One check's result, the line the test parses."""
    print(json.dumps({'client': client, 'url': url, 'variable': variable, 'slices': slices, 'ok': ok, 'why': why}), flush=True)
