#!/usr/bin/python3
"""Adds an odas WMS layer to headless QGIS (python3-qgis, 'wms' provider), renders it to an image
and prints JSON: whether the layer is valid, the image's size and how many pixels are painted.
usage: wms_qgis.py BASE_URL LAYER CRS OUT.png"""
import json
import os
import sys
import tempfile

os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
os.environ.setdefault('XDG_RUNTIME_DIR', os.path.join(tempfile.gettempdir(), 'runtime-qgis-wms'))
os.makedirs(os.environ['XDG_RUNTIME_DIR'], mode=0o700, exist_ok=True)

from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererParallelJob,  # noqa: E402
                       QgsMapSettings, QgsRasterLayer)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

base, name, crs, out = sys.argv[1:5]
qgs = QgsApplication([], False)
qgs.initQgis()
uri = f'contextualWMSLegend=0&crs={crs}&dpiMode=7&featureCount=10&format=image/png&layers={name}&styles=&url={base}/wms'
layer = QgsRasterLayer(uri, name, 'wms')
result = {'valid': layer.isValid(), 'error': layer.error().message() if not layer.isValid() else ''}
if layer.isValid():
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(400, 200))
    settings.setBackgroundColor(QColor(255, 255, 255, 0))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    img.save(out, 'PNG')
    painted = 0
    colours = set()
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y)
            if c.alpha() > 0:
                painted += 1
                colours.add((c.red(), c.green(), c.blue()))
    result.update({'width': img.width(), 'height': img.height(), 'painted': painted, 'colours': len(colours),
                   'extent': [layer.extent().xMinimum(), layer.extent().yMinimum(), layer.extent().xMaximum(), layer.extent().yMaximum()],
                   'errors': [e.message for e in job.errors()]})
qgs.exitQgis()
print(json.dumps(result))
