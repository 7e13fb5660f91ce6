#!/usr/bin/python3
"""Writes the large NetCDF-4 benchmark grid: 0.05° global daily SST, int16 + scale_factor,
chunks 1×512×512, zlib. usage: make-big-grid.py OUT.nc [DAYS]

Values are a smooth climatology plus day-to-day noise, so zlib compresses them about as well as
real L4 SST (the file must stay ≥ 4 GB on disk). Debian's python3-netcdf4 writes it.
"""
import sys

import netCDF4
import numpy as np

out = sys.argv[1]
days = int(sys.argv[2]) if len(sys.argv) > 2 else 100
nlat, nlon = 3600, 7200
lat = -89.975 + 0.05 * np.arange(nlat)
lon = -179.975 + 0.05 * np.arange(nlon)
ds = netCDF4.Dataset(out + '.tmp', 'w', format='NETCDF4')
ds.title = 'odas benchmark grid: synthetic 0.05 degree global daily SST'
ds.Conventions = 'CF-1.8'
ds.createDimension('time', days)
ds.createDimension('lat', nlat)
ds.createDimension('lon', nlon)
t = ds.createVariable('time', 'f8', ('time',))
t.units = 'days since 2020-01-01 00:00:00'
t.standard_name = 'time'
t.axis = 'T'
t[:] = np.arange(days, dtype='f8')
la = ds.createVariable('lat', 'f4', ('lat',))
la.units = 'degrees_north'
la.standard_name = 'latitude'
la[:] = lat
lo = ds.createVariable('lon', 'f4', ('lon',))
lo.units = 'degrees_east'
lo.standard_name = 'longitude'
lo[:] = lon
sst = ds.createVariable('sst', 'i2', ('time', 'lat', 'lon'), zlib=True, complevel=1,
                        chunksizes=(1, 512, 512), fill_value=np.int16(-32768))
sst.units = 'degree_Celsius'
sst.standard_name = 'sea_surface_temperature'
sst.scale_factor = 0.01
sst.add_offset = 0.0
base = (28.0 * np.cos(np.deg2rad(lat))[:, None] - 2.0 + 0.5 * np.sin(np.deg2rad(lon))[None, :]).astype('f4')
rng = np.random.default_rng(42)
for d in range(days):
    field = base + 0.3 * np.sin(2 * np.pi * d / 365.0) + rng.normal(0, 0.8, size=base.shape).astype('f4')
    sst[d, :, :] = np.round(field / 0.01).astype('i2')
    if d % 10 == 0:
        print(f'day {d}/{days}', flush=True)
ds.close()
import os
os.replace(out + '.tmp', out)
print(f'{out}: {os.path.getsize(out) / 1e9:.2f} GB')
