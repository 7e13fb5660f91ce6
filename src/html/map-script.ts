/**
 * The browser script of the collection pages' interactive map (Leaflet, served by odas): grids as
 * map tiles with a field selector, a time slider and the legend; features as points and tracks
 * with popups. It reads its settings from the page's #odas-map-config JSON.
 */
export const MAP_SCRIPT = String.raw`(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('odas-map-config').textContent);
  var map = L.map('odas-map', { worldCopyJump: true, minZoom: 0, maxZoom: 12 });
  var b = cfg.bbox || [-180, -85, 180, 85];
  map.fitBounds([[Math.max(b[1], -85), b[0]], [Math.min(b[3], 85), b[2] < b[0] ? b[2] + 360 : b[2]]]);
  L.control.scale().addTo(map);
  var status = document.getElementById('odas-map-status');
  function say(text) { if (status) status.textContent = text; }
  // The page's other scripts (time-series chart, subset form) reach the map through window.odas.
  var odas = { map: map, cfg: cfg, say: say, field: function () { return null; }, time: function () { return null; } };
  window.odas = odas;
  if (cfg.grid) {
    var g = cfg.grid;
    var field = document.getElementById('odas-field');
    var slider = document.getElementById('odas-time');
    var label = document.getElementById('odas-time-label');
    var legend = document.getElementById('odas-legend');
    var layer = null;
    var loaded = 0;
    odas.field = function () { return field ? field.value : g.fields[0].name; };
    odas.time = function () { return g.times.length > 0 ? g.times[Number(slider.value)] : null; };
    function url() {
      var f = field ? field.value : g.fields[0].name;
      var q = 'properties=' + encodeURIComponent(f);
      if (g.times.length > 0) q += '&datetime=' + encodeURIComponent(g.times[Number(slider.value)]);
      return cfg.base + '/collections/' + encodeURIComponent(cfg.id) + '/map/tiles/WebMercatorQuad/{z}/{y}/{x}?' + q;
    }
    function draw() {
      var f = field ? field.value : g.fields[0].name;
      if (label && g.times.length > 0) label.textContent = g.times[Number(slider.value)];
      if (legend) legend.src = cfg.base + '/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER=' + encodeURIComponent(cfg.id + '/' + f);
      if (layer) map.removeLayer(layer);
      layer = L.tileLayer(url(), { tileSize: 256, opacity: 0.9, attribution: 'odas' });
      layer.on('tileload', function () { loaded++; document.body.dataset.tilesLoaded = String(loaded); say(loaded + ' tiles loaded'); });
      layer.on('tileerror', function () { say('a tile failed to load'); });
      layer.addTo(map);
    }
    if (field) field.addEventListener('change', draw);
    if (slider) slider.addEventListener('input', draw);
    draw();
    map.on('click', function (e) {
      if (odas.drawing) return;
      var f = field ? field.value : g.fields[0].name;
      // A 3 × 3 pixel box around the click, its longitude wrapped: the view may show several worlds.
      var lon = ((e.latlng.lng + 180) % 360 + 360) % 360 - 180;
      var lat = e.latlng.lat;
      var d = 1e-4;
      var q = 'SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&INFO_FORMAT=application/json&CRS=CRS:84&QUERY_LAYERS=' + encodeURIComponent(cfg.id + '/' + f)
        + '&BBOX=' + [lon - d, lat - d, lon + d, lat + d].join(',') + '&WIDTH=3&HEIGHT=3&I=1&J=1'
        + (g.times.length > 0 ? '&TIME=' + encodeURIComponent(g.times[Number(slider.value)]) : '');
      fetch(cfg.base + '/wms?' + q).then(function (r) { return r.json(); }).then(function (doc) {
        var pr = doc.features[0].properties;
        var v = pr.value === null ? 'no value' : (Math.round(pr.value * 1000) / 1000) + (pr.units ? ' ' + pr.units : '');
        L.popup().setLatLng(e.latlng).setContent('<b>' + f + '</b>: ' + v + '<br>' + e.latlng.lat.toFixed(3) + ', ' + e.latlng.lng.toFixed(3)).openOn(map);
      }).catch(function () { say('no value here'); });
    });
  }
  if (cfg.items) {
    fetch(cfg.items).then(function (r) { return r.json(); }).then(function (fc) {
      var n = 0;
      var layer = L.geoJSON(fc, {
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 4, color: '#0b4f7c', weight: 1, fillOpacity: 0.7 }); },
        style: function () { return { color: '#0b4f7c', weight: 2 }; },
        onEachFeature: function (f, l) {
          n++;
          var rows = Object.keys(f.properties || {}).slice(0, 8).map(function (k) { return '<tr><th>' + k + '</th><td>' + String(f.properties[k]).slice(0, 60) + '</td></tr>'; }).join('');
          l.bindPopup('<a href="' + cfg.base + '/collections/' + encodeURIComponent(cfg.id) + '/items/' + encodeURIComponent(f.id) + '?f=html">' + f.id + '</a><table>' + rows + '</table>');
        },
      }).addTo(map);
      document.body.dataset.featuresLoaded = String(n);
      say(n + ' features shown' + (fc.numberMatched > n ? ' of ' + fc.numberMatched : ''));
      if (n > 0 && !cfg.bbox) map.fitBounds(layer.getBounds());
    }).catch(function () { say('features could not be loaded'); });
  }
})();
`;
