#!/usr/bin/python3
"""Drives odas's /wms through OWSLib (Debian python3-owslib) and prints what it saw as JSON.
usage: wms_owslib.py BASE_URL LAYER TIME"""
import json
import sys

from owslib.wms import WebMapService

base, name, time = sys.argv[1], sys.argv[2], sys.argv[3]
wms = WebMapService(f'{base}/wms', version='1.3.0')
layer = wms[name]
img = wms.getmap(layers=[name], styles=['thermal'], srs='CRS:84', bbox=(-180, -90, 180, 90), size=(360, 180),
                 format='image/png', time=time, COLORSCALERANGE='-2,32')
png = img.read()
info = wms.getfeatureinfo(layers=[name], styles=[''], srs='CRS:84', bbox=(-180, -90, 180, 90), size=(360, 180),
                          format='image/png', query_layers=[name], info_format='application/json', xy=(181, 88), time=time)
print(json.dumps({
    'title': wms.identification.title,
    'operations': [op.name for op in wms.operations],
    'crs': sorted(layer.crsOptions),
    'bboxWGS84': list(layer.boundingBoxWGS84),
    'dimensions': {k: {'default': v.get('default'), 'values': v.get('values')[:3]} for k, v in layer.dimensions.items()},
    'styles': sorted(layer.styles.keys()),
    'legend': layer.styles.get('thermal', {}).get('legend'),
    'png_bytes': len(png),
    'png_signature_ok': png[:8] == b'\x89PNG\r\n\x1a\n',
    'featureinfo': json.loads(info.read()),
}))
