/**
 * The browser script of a grid collection page's time-series chart: a click on the map asks the
 * EDR position query for the field's values at that point over all time steps (CoverageJSON) and
 * draws them with uPlot (served by odas from its npm package), the units on the value axis and
 * dates on the time axis. It reaches the map through window.odas (set by the map script).
 */
export const CHART_SCRIPT = String.raw`(function () {
  'use strict';
  var odas = window.odas;
  var box = document.getElementById('odas-chart');
  if (!odas || !odas.cfg.grid || !box || typeof uPlot === 'undefined') return;
  var title = document.getElementById('odas-chart-title');
  var link = document.getElementById('odas-chart-link');
  var plot = null;
  var asked = 0;
  function wrapLon(x) { return ((x + 180) % 360 + 360) % 360 - 180; }
  function round(x) { return Math.round(x * 1e4) / 1e4; }
  function positionUrl(lon, lat, field) {
    return odas.cfg.base + '/collections/' + encodeURIComponent(odas.cfg.id) + '/position?coords='
      + encodeURIComponent('POINT(' + round(lon) + ' ' + round(lat) + ')')
      + '&parameter-name=' + encodeURIComponent(field) + '&f=CoverageJSON';
  }
  /** Values along t of a CoverageJSON range, the first step of any other axis (e.g. the top level). */
  function series(cov, field) {
    var range = cov.ranges && cov.ranges[field];
    var t = cov.domain.axes.t ? cov.domain.axes.t.values : [];
    if (!range) return { times: [], values: [] };
    var names = range.axisNames || [];
    var shape = range.shape || [];
    var ti = names.indexOf('t');
    var stride = 1;
    for (var d = ti + 1; d < names.length; d++) stride *= shape[d];
    var times = [];
    var values = [];
    for (var i = 0; i < t.length; i++) {
      times.push(Date.parse(t[i]) / 1000);
      var v = range.values[ti < 0 ? 0 : i * stride];
      values.push(v === null || v === undefined ? null : v);
    }
    return { times: times, values: values };
  }
  function draw(lon, lat, field) {
    var ask = ++asked;
    var url = positionUrl(lon, lat, field);
    if (link) { link.href = url; link.hidden = false; }
    if (title) title.textContent = 'Loading ' + field + ' at ' + lat.toFixed(3) + '°, ' + lon.toFixed(3) + '°…';
    fetch(url, { headers: { accept: 'application/prs.coverage+json, application/json' } }).then(function (r) {
      if (r.status === 204) return null;
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.description || r.statusText); });
      return r.json();
    }).then(function (cov) {
      if (ask !== asked) return;
      var s = cov ? series(cov, field) : { times: [], values: [] };
      var p = cov && cov.parameters ? cov.parameters[field] : null;
      var units = p && p.unit ? (p.unit.symbol && (p.unit.symbol.value || p.unit.symbol)) || (p.unit.label && p.unit.label.en) || '' : '';
      var label = (p && p.observedProperty && p.observedProperty.label && p.observedProperty.label.en) || field;
      var where = lat.toFixed(3) + '°, ' + lon.toFixed(3) + '°';
      var cell = cov ? ' (nearest cell ' + cov.domain.axes.y.values[0] + '°, ' + cov.domain.axes.x.values[0] + '°)' : '';
      var shown = s.values.filter(function (v) { return v !== null; }).length;
      if (title) title.textContent = shown === 0 ? 'No value of ' + field + ' at ' + where : label + ' at ' + where + cell + ': ' + shown + ' of ' + s.values.length + ' steps';
      if (plot) { plot.destroy(); plot = null; }
      box.dataset.points = String(shown);
      if (shown === 0) return;
      plot = new uPlot({
        width: Math.max(300, box.clientWidth || 800),
        height: 260,
        scales: { x: { time: true } },
        series: [
          { label: 'time (UTC)', value: '{YYYY}-{MM}-{DD} {HH}:{mm}' },
          { label: field + (units ? ' (' + units + ')' : ''), stroke: '#0b4f7c', width: 2, points: { show: true, size: 5 }, spanGaps: false },
        ],
        axes: [
          { label: 'time (UTC)' },
          { label: units ? field + ' (' + units + ')' : field, size: 60 },
        ],
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); },
      }, [s.times, s.values], box);
      odas.chart = plot;
      document.body.dataset.chartDrawn = String(Number(document.body.dataset.chartDrawn || 0) + 1);
    }).catch(function (err) {
      if (ask !== asked) return;
      if (title) title.textContent = 'No time series here: ' + err.message;
    });
  }
  odas.map.on('click', function (e) { if (!odas.drawing) draw(wrapLon(e.latlng.lng), e.latlng.lat, odas.field()); });
  odas.plotPoint = draw;
})();
`;
