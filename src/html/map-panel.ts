/**
 * The interactive map of a collection page: a Leaflet map (served by odas, no CDN) showing a grid's
 * map tiles with a field selector, a time slider and the legend, or a feature collection's points
 * and tracks with popups. Settings go to the browser script as JSON.
 */
import { esc } from './page.js';

export interface MapPanelOptions {
  base: string;
  id: string;
  bbox?: [number, number, number, number];
  /** A grid: its drawable fields and time steps (ISO). */
  grid?: { fields: Array<{ name: string; title: string }>; times: string[] };
  /** Feature collections: the GeoJSON items URL to show. */
  items?: string;
}

/** JSON inside a script element: '<' escaped so no value can close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function mapPanel(o: MapPanelOptions): string {
  const controls: string[] = [];
  if (o.grid) {
    if (o.grid.fields.length > 1) {
      controls.push(
        `<label>Field <select id="odas-field">${o.grid.fields.map((f) => `<option value="${esc(f.name)}">${esc(f.title)}</option>`).join('')}</select></label>`,
      );
    } else if (o.grid.fields[0]) {
      controls.push(
        `<span>Field: ${esc(o.grid.fields[0].title)}</span><input type="hidden" id="odas-field" value="${esc(o.grid.fields[0].name)}">`,
      );
    }
    if (o.grid.times.length > 0) {
      const last = o.grid.times.length - 1;
      controls.push(
        `<label>Time <input type="range" id="odas-time" min="0" max="${last}" value="${last}" step="1" style="width:20em"></label> <output id="odas-time-label">${esc(o.grid.times[last]!)}</output>`,
      );
    }
  }
  const legend = o.grid
    ? '<img id="odas-legend" alt="legend" style="position:absolute;right:10px;top:10px;z-index:500;background:#fff;border:1px solid #ccc">'
    : '';
  const chart = o.grid
    ? `<h2>Time series</h2><p class="muted" id="odas-chart-title">Click the map to plot the field's values at that point over time (an EDR position query).</p>
<div id="odas-chart" style="max-width:1100px"></div><p><a id="odas-chart-link" hidden>The CoverageJSON of this series</a></p>`
    : '';
  const chartScripts = o.grid
    ? `\n<script src="${esc(o.base)}/assets/uplot/uPlot.iife.min.js"></script>\n<script src="${esc(o.base)}/assets/odas-chart.js"></script>`
    : '';
  return `<link rel="stylesheet" href="${esc(o.base)}/assets/leaflet/leaflet.css">${o.grid ? `<link rel="stylesheet" href="${esc(o.base)}/assets/uplot/uPlot.min.css">` : ''}
<div class="odas-map-controls">${controls.join(' ')} <small id="odas-map-status"></small></div>
<div style="position:relative"><div id="odas-map" style="height:420px;background:#dfe9f2;border:1px solid #bbb"></div>${legend}</div>
${chart}
<script type="application/json" id="odas-map-config">${scriptJson({ base: o.base, id: o.id, bbox: o.bbox ?? null, grid: o.grid ?? null, items: o.items ?? null })}</script>
<script src="${esc(o.base)}/assets/leaflet/leaflet.js"></script>
<script src="${esc(o.base)}/assets/odas-map.js"></script>${chartScripts}`;
}
