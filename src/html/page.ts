import type { MapShape } from './shapes.js';

/** Small HTML helpers: every page is a plain document with a header, breadcrumbs and a JSON link. */

export function esc(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export interface Crumb {
  href: string;
  label: string;
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b2733;background:#f6f8fa}
header{background:#0b3d5c;color:#fff;padding:.8rem 1.5rem}header a{color:#fff;text-decoration:none;font-weight:600}
nav{padding:.5rem 1.5rem;font-size:.9rem;background:#e3edf3}nav a{color:#0b3d5c}
main{padding:1rem 1.5rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#eef2f5}code{background:#eef2f5;padding:0 .2rem}
.formats a{margin-right:.8rem}.muted{color:#57606a}svg{background:#dbe9f4;border:1px solid #9fb6c7}
`;

export function page(
  title: string,
  crumbs: Crumb[],
  body: string,
  formats: Array<{ href: string; label: string }> = [],
): string {
  const nav = crumbs.map((c) => `<a href="${esc(c.href)}">${esc(c.label)}</a>`).join(' / ');
  const alt = formats.length
    ? `<p class="formats">Also as: ${formats.map((f) => `<a href="${esc(f.href)}">${esc(f.label)}</a>`).join('')}</p>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} — odas</title><link rel="icon" href="data:,"><style>${STYLE}</style></head><body>
<header><a href="${esc(crumbs[0]?.href ?? '/')}">odas — Ocean Data Access Server</a></header>
<nav>${nav}</nav><main><h1>${esc(title)}</h1>${alt}${body}</main></body></html>`;
}

export function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Key/value table; values are already HTML. */
export function definitionTable(entries: Array<[string, string]>): string {
  return `<table><tbody>${entries.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

/**
 * An equirectangular sketch of positions and lines inside `bbox`, with no external map library:
 * pages must work offline on a ship or behind a firewall.
 */
export function svgMap(bbox: [number, number, number, number] | undefined, shapes: MapShape[]): string {
  if (!bbox || shapes.length === 0) return '';
  const pad = Math.max(1, (bbox[2] - bbox[0]) * 0.05, (bbox[3] - bbox[1]) * 0.05);
  const [w, s, e, n] = [bbox[0] - pad, bbox[1] - pad, bbox[2] + pad, bbox[3] + pad];
  const width = 640;
  const height = Math.max(160, Math.min(480, Math.round((width * (n - s)) / Math.max(e - w, 1e-9))));
  const px = (x: number) => (((x - w) / (e - w)) * width).toFixed(1);
  const py = (y: number) => (((n - y) / (n - s)) * height).toFixed(1);
  const body = shapes
    .map((sh) => {
      const colour = sh.muted ? '#9fb6c7' : '#d9480f';
      const el =
        sh.points.length === 1
          ? `<circle cx="${px(sh.points[0]![0])}" cy="${py(sh.points[0]![1])}" r="${sh.muted ? 2 : 4.5}" fill="${colour}" stroke="#fff" stroke-width="${sh.muted ? 0 : 1}"><title>${esc(sh.title)}</title></circle>`
          : `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${sh.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"><title>${esc(sh.title)}</title></polyline>`;
      return sh.href ? `<a href="${esc(sh.href)}">${el}</a>` : el;
    })
    .join('');
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="map of features">${body}</svg>
<p class="muted">Lon ${w.toFixed(2)}…${e.toFixed(2)}, lat ${s.toFixed(2)}…${n.toFixed(2)} (plate carrée sketch)</p>`;
}
