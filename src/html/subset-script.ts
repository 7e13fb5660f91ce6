/**
 * The browser script of a collection page's subset form: reads the box (typed, the map's view, or
 * drawn on the map with the mouse), the time range and the field, and writes the Coverages (grids)
 * or Features (feature collections), EDR and STAC URLs of that subset with curl and Python
 * (xarray / requests) snippets and copy buttons. Every URL is also in a data-odas-url attribute.
 */
export const SUBSET_SCRIPT = String.raw`(function () {
  'use strict';
  var cfgEl = document.getElementById('odas-subset-config');
  var out = document.getElementById('odas-subset-out');
  if (!cfgEl || !out) return;
  var cfg = JSON.parse(cfgEl.textContent);
  function el(id) { return document.getElementById('odas-subset-' + id); }
  function num(id) { return Number(el(id).value); }
  // Readable URLs: , : and / need no escaping in a query string.
  function q(v) { return encodeURIComponent(v).replace(/'/g, '%27').replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%2F/g, '/'); }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; }); }
  function r4(v) { return Math.round(v * 1e4) / 1e4; }
  function wrapLon(x) { return ((x + 180) % 360 + 360) % 360 - 180; }

  // STAC wants RFC 3339 date-times: a date alone becomes its first (or last) second, a time without a zone UTC.
  function instant(text, last) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text + (last ? 'T23:59:59Z' : 'T00:00:00Z');
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text)) return text + ':00Z';
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(text)) return text + 'Z';
    return text;
  }
  function state() {
    var start = instant(el('start').value.trim(), false);
    var end = instant(el('end').value.trim(), true);
    var field = el('field') ? el('field').value : null;
    var format = el('format') ? el('format').value : null;
    return {
      bbox: [num('west'), num('south'), num('east'), num('north')].map(r4).join(','),
      datetime: start || end ? (start || '..') + '/' + (end || '..') : null,
      field: field,
      format: format,
    };
  }
  function collectionUrl() { return cfg.base + '/collections/' + q(cfg.id); }
  function params(pairs) {
    return pairs.filter(function (p) { return p[1] !== null && p[1] !== ''; }).map(function (p) { return p[0] + '=' + q(p[1]); }).join('&');
  }
  var EXT = { netcdf: 'nc', covjson: 'covjson', tif: 'tif' };
  function entries(s) {
    var list = [];
    if (cfg.kind === 'grid') {
      var cov = collectionUrl() + '/coverage?' + params([['bbox', s.bbox], ['datetime', s.datetime], ['properties', s.field], ['f', s.format]]);
      var file = cfg.id + '.' + EXT[s.format];
      var py = s.format === 'covjson'
        ? 'import requests\n\ncov = requests.get("' + cov + '", timeout=600).json()\nrange_ = cov["ranges"]["' + s.field + '"]\nprint(range_["axisNames"], range_["shape"], range_["values"][:10])'
        : s.format === 'tif'
          ? 'import requests\nfrom osgeo import gdal\n\nr = requests.get("' + cov + '", timeout=600)\nr.raise_for_status()\nopen("' + file + '", "wb").write(r.content)\nds = gdal.Open("' + file + '")\nprint(ds.RasterXSize, ds.RasterYSize, ds.RasterCount)'
          : 'import requests\nimport xarray as xr\n\nr = requests.get("' + cov + '", timeout=600)\nr.raise_for_status()\nopen("' + file + '", "wb").write(r.content)\nds = xr.open_dataset("' + file + '")\nprint(ds)';
      list.push({ key: 'coverages', title: 'OGC API - Coverages (' + s.format + ')', url: cov, curl: "curl -fo " + file + " '" + cov + "'", python: py });
    } else {
      var items = collectionUrl() + '/items?' + params([['bbox', s.bbox], ['datetime', s.datetime], ['limit', '1000'], ['f', 'json']]);
      list.push({
        key: 'features', title: 'OGC API - Features (GeoJSON)', url: items,
        curl: "curl -f '" + items + "'",
        python: 'import requests\n\nfc = requests.get("' + items + '", timeout=600).json()\nprint(fc["numberMatched"], "features")\nfor f in fc["features"][:5]:\n    print(f["id"], f["geometry"], f["properties"])',
      });
    }
    var edr = collectionUrl() + '/cube?' + params([['bbox', s.bbox], ['datetime', s.datetime], ['parameter-name', s.field], ['f', 'CoverageJSON']]);
    list.push({
      key: 'edr', title: 'OGC API - EDR (cube, CoverageJSON)', url: edr,
      curl: "curl -f '" + edr + "'",
      python: 'import requests\n\nr = requests.get("' + edr + '", timeout=600)\nr.raise_for_status()\ndoc = r.json() if r.status_code == 200 else None  # 204: nothing in the box\nprint(doc["type"] if doc else "no data", list(doc.get("parameters", {})) if doc else "")',
    });
    var stac = cfg.base + '/stac/search?' + params([['collections', cfg.id], ['bbox', s.bbox], ['datetime', s.datetime], ['limit', '100']]);
    list.push({
      key: 'stac', title: 'STAC API item search', url: stac,
      curl: "curl -f '" + stac + "'",
      python: 'import requests\n\nitems = requests.get("' + stac + '", timeout=600).json()["features"]\nfor item in items:\n    print(item["id"], item["properties"].get("datetime"), [a["href"] for a in item["assets"].values()])',
    });
    return list;
  }
  function snippet(kind, key, text, url) {
    return '<div class="odas-snippet"><button type="button" class="odas-copy" data-copy="' + key + '-' + kind + '">Copy</button>'
      + '<pre id="odas-snippet-' + key + '-' + kind + '" data-odas-url="' + esc(url) + '"><code>' + esc(text) + '</code></pre></div>';
  }
  function render() {
    var s = state();
    out.innerHTML = entries(s).map(function (e) {
      return '<h3>' + esc(e.title) + '</h3><p><a class="odas-subset-url" data-key="' + e.key + '" href="' + esc(e.url) + '">' + esc(e.url) + '</a></p>'
        + '<p class="muted">curl</p>' + snippet('curl', e.key, e.curl, e.url)
        + '<p class="muted">Python</p>' + snippet('python', e.key, e.python, e.url);
    }).join('');
  }
  out.addEventListener('click', function (ev) {
    var b = ev.target;
    if (!b || !b.dataset || !b.dataset.copy) return;
    var text = document.getElementById('odas-snippet-' + b.dataset.copy).textContent;
    var done = function () { b.textContent = 'Copied'; setTimeout(function () { b.textContent = 'Copy'; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () { b.textContent = 'Select and copy'; });
    else b.textContent = 'Select and copy';
  });
  document.getElementById('odas-subset').addEventListener('input', render);
  document.getElementById('odas-subset').addEventListener('change', render);

  function setBox(w, s, e, n) {
    if (e - w >= 360) { w = -180; e = 180; } else { w = wrapLon(w); e = wrapLon(e); if (e === -180) e = 180; }
    el('west').value = r4(w); el('east').value = r4(e);
    el('south').value = r4(Math.max(-90, s)); el('north').value = r4(Math.min(90, n));
    render();
  }
  var odas = window.odas;
  var viewBtn = el('view');
  var drawBtn = el('draw');
  if (!odas || !odas.map) { viewBtn.hidden = true; drawBtn.hidden = true; render(); return; }
  var map = odas.map;
  viewBtn.addEventListener('click', function () {
    var b = map.getBounds();
    setBox(b.getWest(), b.getSouth(), b.getEast(), b.getNorth());
  });
  var rect = null;
  var start = null;
  drawBtn.addEventListener('click', function () {
    odas.drawing = true;
    map.dragging.disable();
    map.getContainer().style.cursor = 'crosshair';
    drawBtn.textContent = 'Drag a box on the map…';
  });
  map.on('mousedown', function (e) {
    if (!odas.drawing) return;
    start = e.latlng;
    if (rect) map.removeLayer(rect);
    rect = L.rectangle(L.latLngBounds(start, start), { color: '#d9480f', weight: 2, fillOpacity: 0.1 }).addTo(map);
  });
  map.on('mousemove', function (e) {
    if (odas.drawing && start && rect) rect.setBounds(L.latLngBounds(start, e.latlng));
  });
  map.on('mouseup', function (e) {
    if (!odas.drawing || !start) return;
    var b = L.latLngBounds(start, e.latlng);
    start = null;
    map.dragging.enable();
    map.getContainer().style.cursor = '';
    drawBtn.textContent = 'Draw a box on the map';
    // The click that ends the drag is not a point query.
    setTimeout(function () { odas.drawing = false; }, 0);
    setBox(b.getWest(), b.getSouth(), b.getEast(), b.getNorth());
  });
  render();
})();
`;
