#!/usr/bin/python3
"""Writes a folder of daily NetCDF-4 SST files laid out like NOAA OISST v2.1 (one file per day):
usage: make-daily-folder.py OUT_DIR [DAYS] [FIRST_DAY]

Each file `oisst-avhrr-v02r01.YYYYMMDD.nc` holds one day: dims time=1 (unlimited, as in OISST),
lat=720, lon=1440 (0.25°, longitude 0..360 as in OISST), an int16 `sst` with scale_factor 0.01,
add_offset 0, _FillValue -999 on land, zlib level 4 with shuffle, one 1×720×1440 chunk per day, and its
own CF time ('days since 1978-01-01 12:00:00', the OISST units; noon of the day). Values are
deterministic: a smooth climatology with a seasonal cycle plus seeded day-to-day noise, and a fixed
synthetic land mask. The folder is written as OUT_DIR.tmp and renamed when complete, so a cached
folder is always whole. Debian's python3-netcdf4 writes it.
"""
import datetime as dt
import os
import shutil
import sys

import netCDF4
import numpy as np

out = sys.argv[1].rstrip('/')
days = int(sys.argv[2]) if len(sys.argv) > 2 else 365
first = dt.date.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else dt.date(2021, 1, 1)
nlat, nlon = 720, 1440
lat = (-89.875 + 0.25 * np.arange(nlat)).astype('f4')
lon = (0.125 + 0.25 * np.arange(nlon)).astype('f4')
epoch = dt.date(1978, 1, 1)

rlat = np.deg2rad(lat)[:, None]
rlon = np.deg2rad(lon)[None, :]
base = (28.0 * np.cos(rlat) - 2.0 + 0.5 * np.sin(rlon)).astype('f4')
# A fixed synthetic land mask (about a quarter of the cells): smooth blobs plus Antarctica.
blobs = np.sin(2 * rlon + 0.5) * np.cos(3 * rlat) + 0.5 * np.sin(5 * rlon) * np.sin(4 * rlat + 1.0)
land = (blobs > 0.75) | (lat[:, None] < -70.0)

tmp = out + '.tmp'
shutil.rmtree(tmp, ignore_errors=True)
os.makedirs(tmp)
for d in range(days):
    day = first + dt.timedelta(days=d)
    path = os.path.join(tmp, f'oisst-avhrr-v02r01.{day:%Y%m%d}.nc')
    ds = netCDF4.Dataset(path, 'w', format='NETCDF4')
    ds.title = 'odas benchmark: synthetic daily 0.25 degree SST in the NOAA OISST v2.1 layout'
    ds.Conventions = 'CF-1.6, ACDD-1.3'
    ds.time_coverage_start = f'{day:%Y-%m-%d}T00:00:00Z'
    ds.time_coverage_end = f'{day:%Y-%m-%d}T23:59:59Z'
    ds.createDimension('time', None)
    ds.createDimension('lat', nlat)
    ds.createDimension('lon', nlon)
    t = ds.createVariable('time', 'f4', ('time',))
    t.long_name = 'Center time of the day'
    t.units = 'days since 1978-01-01 12:00:00'
    t.standard_name = 'time'
    t.axis = 'T'
    t[:] = np.array([(day - epoch).days], dtype='f4')
    la = ds.createVariable('lat', 'f4', ('lat',))
    la.long_name = 'Latitude'
    la.units = 'degrees_north'
    la.standard_name = 'latitude'
    la.axis = 'Y'
    la[:] = lat
    lo = ds.createVariable('lon', 'f4', ('lon',))
    lo.long_name = 'Longitude'
    lo.units = 'degrees_east'
    lo.standard_name = 'longitude'
    lo.axis = 'X'
    lo[:] = lon
    sst = ds.createVariable('sst', 'i2', ('time', 'lat', 'lon'), zlib=True, complevel=4, shuffle=True,
                            chunksizes=(1, nlat, nlon), fill_value=np.int16(-999))
    sst.long_name = 'Daily sea surface temperature'
    sst.units = 'Celsius'
    sst.standard_name = 'sea_surface_temperature'
    sst.scale_factor = np.float32(0.01)
    sst.add_offset = np.float32(0.0)
    sst.valid_min = np.int16(-300)
    sst.valid_max = np.int16(4500)
    rng = np.random.default_rng(20210000 + d)
    season = 1.5 * np.sin(2 * np.pi * (d - 80) / 365.0) * np.sign(lat)[:, None]
    field = base + season + rng.normal(0, 0.15, size=base.shape).astype('f4')
    raw = np.clip(np.round(field / 0.01), -180, 4500).astype('i2')
    raw[land] = -999
    sst.set_auto_maskandscale(False)
    sst[0, :, :] = raw
    ds.close()
    if d % 30 == 0:
        print(f'day {d + 1}/{days}', flush=True)
shutil.rmtree(out, ignore_errors=True)
os.replace(tmp, out)
size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
print(f'{out}: {days} files, {size / 1e6:.0f} MB')
