"""The tabledap URLs argopy's ERDDAP fetcher builds, replayed against a listening odas, with the answers checked value by
value against the Argo file read by netCDF4.

argopy and erddapy are not packaged by Debian: this follows argopy/data_fetchers/erddap_data.py (get_url): the 'phy'
variable list (_minimal_vlist), the float constraint `platform_number=~"WMO"` (Fetch_wmo) or the box constraints
longitude/latitude/pres/time (Fetch_box, time as epoch seconds as erddapy's parse_dates gives it), then `&distinct()`
and `&orderBy("time,pres")`, the response type `.nc` opened with xarray (dimension `row`), as argopy's post_process
does. Also: each text format read by pandas and .ncCF opened by xarray.
Input (stdin, JSON): {"base": tabledap URL prefix, "dataset": id, "source": Argo file}. Output: one JSON line per check.
"""
import io
import json
import sys
import urllib.parse
import urllib.request

import netCDF4
import numpy as np
import pandas as pd
import xarray as xr

PHY = ['data_mode', 'latitude', 'longitude', 'position_qc', 'time', 'time_qc', 'direction', 'platform_number',
       'cycle_number', 'config_mission_number', 'vertical_sampling_scheme']
PARAMS = ['pres', 'temp', 'psal']
LEVEL = [p + s for s in ['', '_qc', '_adjusted', '_adjusted_qc', '_adjusted_error'] for p in PARAMS]


def fetch(url):
    with urllib.request.urlopen(url) as r:
        return r.read()


def argopy_url(base, dataset, constraints):
    # erddapy quotes string constraints; the URL is then percent-encoded as an HTTP client sends it.
    url = f'{base}/{dataset}.nc?' + ','.join(PHY + LEVEL)
    url += ''.join(f'&{k}{v}' for k, v in constraints)
    url += '&distinct()' + '&orderBy("time,pres")'
    return urllib.parse.quote(url, safe=':/?&=,')


def chars(a):
    return np.array([b''.join(x).decode().strip() if isinstance(x, np.ndarray) else str(x).strip() for x in a])


def expected(source, keep_profile, keep_row):
    """Rows of the Argo file (one per level with any value), as a DataFrame with the ERDDAP names."""
    rows = []
    with netCDF4.Dataset(source) as nc:
        nc.set_auto_mask(True)
        n_prof = nc.dimensions['N_PROF'].size
        juld = netCDF4.num2date(nc['JULD'][:], nc['JULD'].units, only_use_cftime_datetimes=False)
        per_profile = {
            'platform_number': [s.strip() for s in netCDF4.chartostring(nc['PLATFORM_NUMBER'][:])],
            'cycle_number': np.ma.filled(nc['CYCLE_NUMBER'][:].astype('f8'), np.nan),
            'direction': [x.decode().strip() for x in nc['DIRECTION'][:].filled(b' ')],
            'data_mode': [x.decode().strip() for x in nc['DATA_MODE'][:].filled(b' ')],
            'latitude': np.ma.filled(nc['LATITUDE'][:], np.nan),
            'longitude': np.ma.filled(nc['LONGITUDE'][:], np.nan),
            'position_qc': [x.decode().strip() for x in nc['POSITION_QC'][:].filled(b' ')],
            'time_qc': [x.decode().strip() for x in nc['JULD_QC'][:].filled(b' ')],
            'config_mission_number': np.ma.filled(nc['CONFIG_MISSION_NUMBER'][:].astype('f8'), np.nan),
            'vertical_sampling_scheme': [s.strip() for s in netCDF4.chartostring(nc['VERTICAL_SAMPLING_SCHEME'][:])],
        }
        level = {}
        for name in LEVEL:
            v = nc[name.upper()]
            if v.dtype.kind == 'S':
                level[name] = np.vectorize(lambda b: b.decode().strip())(v[:].filled(b' '))
            else:
                level[name] = np.ma.filled(v[:].astype('f8'), np.nan)
        for p in range(n_prof):
            t = pd.Timestamp(juld[p]).tz_localize(None) if juld[p] is not np.ma.masked else pd.NaT
            feat = {k: v[p] for k, v in per_profile.items()}
            feat['time'] = t
            if not keep_profile(feat):
                continue
            for lev in range(level['pres'].shape[1]):
                row = dict(feat)
                for name in LEVEL:
                    row[name] = level[name][p, lev]
                present = any((isinstance(row[n], str) and row[n] != '') or (not isinstance(row[n], str) and not np.isnan(row[n])) for n in LEVEL)
                if present and keep_row(row):
                    rows.append(row)
    return pd.DataFrame(rows)


def compare(got, want, columns):
    """Same rows (as sets: sorted on every column), numbers to float precision, strings equal."""
    if len(got) != len(want):
        return False, f'{len(got)} rows, file has {len(want)}'
    key = ['time', 'pres', 'cycle_number', 'temp', 'psal']
    g = got.sort_values(key, kind='stable').reset_index(drop=True)
    w = want.sort_values(key, kind='stable').reset_index(drop=True)
    for c in columns:
        a, b = g[c].to_numpy(), w[c].to_numpy()
        if c == 'time':
            ok = np.array_equal(a.astype('datetime64[s]'), b.astype('datetime64[s]'))
        elif a.dtype.kind in 'fi' or b.dtype.kind in 'fi':
            ok = np.allclose(a.astype('f8'), b.astype('f8'), rtol=1e-6, atol=1e-6, equal_nan=True)
        else:
            ok = np.array_equal(a.astype(str), b.astype(str))
        if not ok:
            return False, f'column {c} differs'
    return True, f'{len(got)} rows equal'


def from_nc(content):
    ds = xr.open_dataset(io.BytesIO(content))
    if 'row' not in ds.dims:
        raise ValueError(f'no row dimension: {ds.dims}')
    df = ds.to_dataframe().reset_index(drop=True)
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].map(lambda x: x.decode() if isinstance(x, bytes) else x)
    return df


def checks(case):
    base, dataset, source = case['base'], case['dataset'], case['source']
    # argopy: ArgoDataFetcher(src='erddap').float(WMO)
    url = argopy_url(base, dataset, [('platform_number=~', '"1900857"')])
    got = from_nc(fetch(url))
    want = expected(source, lambda f: True, lambda r: True)
    ok, why = compare(got, want, PHY + LEVEL)
    ordered = bool((got['time'].diff().dropna() >= pd.Timedelta(0)).all())
    yield 'argopy float (.nc)', ok and ordered, why + ('' if ordered else ', not ordered by time')
    # argopy: ArgoDataFetcher(src='erddap').region([lon0, lon1, lat0, lat1, p0, p1, t0, t1])
    box = [10, 30, -45, -35, 0, 100, '2008-03-01', '2009-01-01']
    t0, t1 = (pd.Timestamp(x).timestamp() for x in box[6:])
    url = argopy_url(base, dataset, [('longitude>=', box[0]), ('longitude<=', box[1]), ('latitude>=', box[2]),
                                      ('latitude<=', box[3]), ('pres>=', box[4]), ('pres<=', box[5]),
                                      ('time>=', t0), ('time<=', t1)])
    got = from_nc(fetch(url))
    want = expected(
        source,
        lambda f: box[0] <= f['longitude'] <= box[1] and box[2] <= f['latitude'] <= box[3]
        and pd.Timestamp(box[6]) <= f['time'] <= pd.Timestamp(box[7]),
        lambda r: box[4] <= r['pres'] <= box[5])
    ok, why = compare(got, want, PHY + LEVEL)
    yield 'argopy region (.nc)', ok and len(got) > 0, why
    # argopy: ArgoDataFetcher(src='erddap').profile(WMO, [CYC])
    url = argopy_url(base, dataset, [('platform_number=~', '"1900857"'), ('cycle_number=~', '"5|12"')])
    got = from_nc(fetch(url))
    want = expected(source, lambda f: f['cycle_number'] in (5, 12), lambda r: True)
    ok, why = compare(got, want, PHY + LEVEL)
    yield 'argopy profile (.nc)', ok, why

    # The text formats, read as pandas reads them.
    q = 'platform_number,cycle_number,time,latitude,longitude,pres,temp,psal,temp_qc&cycle_number<=3&pres<=50'
    want = expected(source, lambda f: f['cycle_number'] <= 3, lambda r: r['pres'] <= 50)
    cols = ['platform_number', 'cycle_number', 'time', 'latitude', 'longitude', 'pres', 'temp', 'psal', 'temp_qc']

    def norm(df):
        df = df.copy()
        df['time'] = pd.to_datetime(df['time']).dt.tz_localize(None)
        df['platform_number'] = df['platform_number'].astype(str)
        df['temp_qc'] = df['temp_qc'].astype(str)
        return df

    readers = {
        'csv': lambda b: pd.read_csv(io.BytesIO(b), skiprows=[1]),
        'csvp': lambda b: pd.read_csv(io.BytesIO(b)).rename(columns=lambda c: c.split(' (')[0]),
        'csv0': lambda b: pd.read_csv(io.BytesIO(b), header=None, names=cols),
        'tsv': lambda b: pd.read_csv(io.BytesIO(b), sep='\t', skiprows=[1]),
        'tsvp': lambda b: pd.read_csv(io.BytesIO(b), sep='\t').rename(columns=lambda c: c.split(' (')[0]),
        'json': lambda b: pd.DataFrame(json.loads(b)['table']['rows'], columns=json.loads(b)['table']['columnNames']),
        'jsonlCSV': lambda b: pd.DataFrame([json.loads(x) for x in b.decode().splitlines()], columns=cols),
        'jsonlKVP': lambda b: pd.DataFrame([json.loads(x) for x in b.decode().splitlines()]),
        'geoJson': lambda b: pd.DataFrame([{**f['properties'], 'longitude': f['geometry']['coordinates'][0],
                                            'latitude': f['geometry']['coordinates'][1]}
                                           for f in json.loads(b)['features']]),
        'nc': from_nc,
    }
    for ext, read in readers.items():
        try:
            df = read(fetch(f'{base}/{dataset}.{ext}?' + urllib.parse.quote(q, safe='&=,')))
            df = norm(df[cols]) if ext != 'nc' else df[cols]
            ok, why = compare(df, want, cols)
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            ok, why = False, f'{type(e).__name__}: {e}'
        yield f'.{ext} read by pandas', ok, why

    # .ncCF: a CF DSG (contiguous ragged array) xarray opens, with the featureType and the same values.
    content = fetch(f'{base}/{dataset}.ncCF?' + urllib.parse.quote('platform_number,cycle_number,temp&cycle_number<=3', safe='&=,'))
    ds = xr.open_dataset(io.BytesIO(content))
    sizes = ds['rowSize'].values
    ok = ds.attrs.get('featureType') == 'profile' and ds['profile_id'].attrs.get('cf_role') == 'profile_id' \
        and ds['rowSize'].attrs.get('sample_dimension') == 'obs' and int(sizes.sum()) == ds.sizes['obs']
    want = expected(source, lambda f: f['cycle_number'] <= 3, lambda r: True)
    # Each profile's temperatures, in file order, as the ragged array holds them.
    starts = np.concatenate([[0], np.cumsum(sizes)])
    with netCDF4.Dataset(source) as nc:
        file_cycles = nc['CYCLE_NUMBER'][:]
        ok_values = True
        for k in range(ds.sizes['profile']):
            cyc = ds['cycle_number'].values[k]
            t = ds['time'].values[k]
            idx = [p for p in range(len(file_cycles)) if file_cycles[p] == cyc]
            temps = ds['temp'].values[starts[k]:starts[k + 1]]
            pres = ds['pres'].values[starts[k]:starts[k + 1]]
            match = False
            for p in idx:
                fp = np.ma.filled(nc['PRES'][p, :].astype('f8'), np.nan)
                ft = np.ma.filled(nc['TEMP'][p, :].astype('f8'), np.nan)
                keep = ~(np.isnan(fp) & np.isnan(ft))
                if keep.sum() == len(temps) and np.allclose(ft[keep], temps, equal_nan=True) and np.allclose(fp[keep], pres, equal_nan=True):
                    match = True
            ok_values = ok_values and match and not np.isnat(t)
    yield '.ncCF opened by xarray', bool(ok and ok_values and len(want) == int(sizes.sum())), \
        f'featureType={ds.attrs.get("featureType")}, {ds.sizes["profile"]} profiles, {int(sizes.sum())} obs (file {len(want)})'


case = json.load(sys.stdin)
for name, ok, why in checks(case):
    print(json.dumps({'check': name, 'ok': bool(ok), 'why': why}), flush=True)
