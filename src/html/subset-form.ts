/**
 * A collection page's subset form: a box (typed, taken from the map view or drawn on the map), a
 * time range and a field → the Coverages (or Features), EDR and STAC URLs of that subset, with
 * copyable curl and Python snippets. The page script (odas-subset.js) builds them in the browser.
 */
import { esc } from './page.js';

export interface SubsetFormOptions {
  base: string;
  id: string;
  kind: 'grid' | 'features';
  bbox?: [number, number, number, number];
  /** ISO instants of the collection's time span. */
  start?: string;
  end?: string;
  fields: Array<{ name: string; title: string }>;
}

/** JSON inside a script element: '<' escaped so no value can close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const round = (v: number) => String(Math.round(v * 1e4) / 1e4);

export function subsetForm(o: SubsetFormOptions): string {
  const [w, s, e, n] = o.bbox ?? [-180, -90, 180, 90];
  const box = (id: string, label: string, value: number) =>
    `<label>${label} <input id="odas-subset-${id}" type="number" step="any" value="${round(value)}" style="width:7em"></label>`;
  const fieldSelect =
    o.fields.length > 0
      ? `<label>Field <select id="odas-subset-field">${o.fields.map((f) => `<option value="${esc(f.name)}">${esc(f.title)}</option>`).join('')}</select></label>`
      : '';
  const formats =
    o.kind === 'grid'
      ? `<label>Coverage format <select id="odas-subset-format"><option value="netcdf">NetCDF</option><option value="covjson">CoverageJSON</option><option value="tif">GeoTIFF</option></select></label>`
      : '';
  return `<h2 id="subset">Get a subset</h2>
<form id="odas-subset" onsubmit="return false" class="odas-subset">
<p>${box('west', 'West', w)} ${box('south', 'South', s)} ${box('east', 'East', e)} ${box('north', 'North', n)}
<button type="button" id="odas-subset-view">Use the map view</button> <button type="button" id="odas-subset-draw">Draw a box on the map</button></p>
<p><label>From <input id="odas-subset-start" type="text" value="${esc(o.start ?? '')}" placeholder=".. (open)" style="width:14em"></label>
<label>to <input id="odas-subset-end" type="text" value="${esc(o.end ?? '')}" placeholder=".. (open)" style="width:14em"></label>
${fieldSelect} ${formats}</p>
</form>
<div id="odas-subset-out"><noscript>The URLs and snippets are built by the page's script.</noscript></div>
<script type="application/json" id="odas-subset-config">${scriptJson({ base: o.base, id: o.id, kind: o.kind })}</script>`;
}
