#!/usr/bin/python3
"""STAC API conformance check against a listening server: what stac-api-validator checks for the
core, collections, features (/collections/{id}/items), item-search, fields, sort and filter
classes, written from the STAC API 1.0 spec and its extensions (the validator itself needs PyPI).

usage: stac-api-check.py STAC_ROOT_URL --collection ID [--geometry GEOJSON]
Prints one PASS/FAIL line per check, then 'N passed, M failed'; exits 1 on any failure.
Needs only Debian's python3-requests and python3-shapely.
"""
import argparse
import json
import re
import sys

import requests
from shapely.geometry import box, shape

GEOJSON = 'application/geo+json'
QUERYABLES = 'http://www.opengis.net/def/rel/ogc/1.0/queryables'

# STAC API item search: datetime is RFC 3339 (section 5.6), an instant or an interval with '..' or
# an empty side for an open end. stac-api-validator sends these.
VALID_DATETIMES = [
    '1985-04-12T23:20:50.52Z', '1996-12-19T16:39:57-00:00', '1996-12-19T16:39:57+00:00', '1996-12-19T16:39:57-08:00',
    '1996-12-19T16:39:57+08:00', '../1985-04-12T23:20:50.52Z', '1985-04-12T23:20:50.52Z/..', '/1985-04-12T23:20:50.52Z',
    '1985-04-12T23:20:50.52Z/', '1985-04-12T23:20:50.52Z/1986-04-12T23:20:50.52Z',
    '1985-04-12T23:20:50.52+01:00/1986-04-12T23:20:50.52+01:00', '1985-04-12T23:20:50.52-01:00/1986-04-12T23:20:50.52-01:00',
    '1937-01-01T12:00:27.87+01:00', '1937-01-01T12:00:27.8710+01:00', '1937-01-01T12:00:27.8Z', '2020-07-23T00:00:00.000+03:00',
    '1985-04-12t23:20:50.000z', '2020-07-23T00:00:00Z', '2020-07-23T00:00:00.0Z', '2020-07-23T00:00:00.012345678Z',
]
INVALID_DATETIMES = [
    '/', '../..', '/..', '../', '/1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z', '1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z/',
    '1985-04-12', '1937-01-01T12:00:27.87+0100', '37-01-01T12:00:27.87Z', '1985-12-12T23:20:50.52', '21985-12-12T23:20:50.52Z',
    '1985-13-12T23:20:50.52Z', '1985-12-32T23:20:50.52Z', '1985-12-01T25:20:50.52Z', '1985-12-01T00:60:50.52Z',
    '1985-12-01T00:06:61.52Z', '1985-04-12T23:20:50.Z', '1985-04-12T23:20:50,Z', '1990-12-31T23:59:61Z',
    '1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z', '1985-04-12T23:20:50,52Z',
]
GEOMETRIES = [
    {'type': 'Point', 'coordinates': [100.0, 0.0]},
    {'type': 'LineString', 'coordinates': [[100.0, 0.0], [101.0, 1.0]]},
    {'type': 'Polygon', 'coordinates': [[[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]]]},
    {'type': 'Polygon', 'coordinates': [[[100.0, 0.0], [101.0, 0.0], [101.0, 1.0], [100.0, 1.0], [100.0, 0.0]],
                                        [[100.8, 0.8], [100.8, 0.2], [100.2, 0.2], [100.2, 0.8], [100.8, 0.8]]]},
    {'type': 'MultiPoint', 'coordinates': [[100.0, 0.0], [101.0, 1.0]]},
    {'type': 'MultiLineString', 'coordinates': [[[100.0, 0.0], [101.0, 1.0]], [[102.0, 2.0], [103.0, 3.0]]]},
    {'type': 'MultiPolygon', 'coordinates': [[[[102.0, 2.0], [103.0, 2.0], [103.0, 3.0], [102.0, 3.0], [102.0, 2.0]]]]},
    {'type': 'GeometryCollection', 'geometries': [{'type': 'Point', 'coordinates': [100.0, 0.0]},
                                                  {'type': 'LineString', 'coordinates': [[101.0, 0.0], [102.0, 1.0]]}]},
]


class Check:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, ok, detail=''):
        if ok:
            self.passed += 1
            print(f'PASS {name}')
        else:
            self.failed += 1
            print(f'FAIL {name}' + (f': {str(detail)[:300]}' if detail else ''))
        return bool(ok)


def link(doc, rel, method=None):
    for lk in (doc or {}).get('links', []) or []:
        if lk.get('rel') == rel and (method is None or lk.get('method', 'GET') == method):
            return lk
    return None


def media(r):
    return r.headers.get('content-type', '').split(';')[0].strip()


def body(r):
    try:
        return r.json()
    except ValueError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('url')
    ap.add_argument('--collection', required=True, help='a collection with at least 2 items and a numeric queryable')
    ap.add_argument('--geometry', help='GeoJSON geometry that intersects some items of the collection (default: their first item bbox)')
    a = ap.parse_args()
    c = Check()
    s = requests.Session()
    root_url = a.url.rstrip('/')

    def get(url, params=None, headers=None):
        return s.get(url, params=params, headers=headers, timeout=120)

    def post(url, payload):
        return s.post(url, json=payload, timeout=120)

    # ---- core ----------------------------------------------------------------------------------
    r = get(root_url)
    root = body(r) or {}
    c('core: landing page 200 application/json', r.status_code == 200 and media(r) == 'application/json', r.status_code)
    c('core: landing is a Catalog with id, description, stac_version', root.get('type') == 'Catalog' and root.get('id') and root.get('description') and root.get('stac_version'))
    conforms = root.get('conformsTo') or []
    has = lambda pattern: any(re.fullmatch(rf'https://api\.stacspec\.org/v1\.[^/]+/{pattern}', x) for x in conforms)
    c('core: conformsTo names STAC API core', has('core'), conforms)
    for rel in ('root', 'self'):
        lk = link(root, rel)
        c(f'core: link rel={rel} of type application/json', lk and lk.get('type') == 'application/json', lk)
    sd = link(root, 'service-desc')
    if c('core: link rel=service-desc with a type', sd and sd.get('type'), sd):
        r = get(sd['href'], headers={'Accept': sd['type']})
        c('core: service-desc answers 200 in the media type it names', r.status_code == 200 and media(r) == sd['type'].split(';')[0], f'{r.status_code} {media(r)}')
    doc = link(root, 'service-doc')
    if c('core: link rel=service-doc of type text/html', doc and doc.get('type') == 'text/html', doc):
        r = get(doc['href'])
        c('core: service-doc answers 200 text/html', r.status_code == 200 and media(r) == 'text/html', f'{r.status_code} {media(r)}')
    conf = link(root, 'conformance')
    if c('core: link rel=conformance to /conformance', conf and conf['href'].rstrip('/').endswith('/conformance'), conf):
        r = get(conf['href'])
        c('core: /conformance has the landing page\'s conformsTo', r.status_code == 200 and set((body(r) or {}).get('conformsTo', [])) == set(conforms))
    for child in [lk for lk in root.get('links', []) if lk.get('rel') == 'child'][:5]:
        r = get(child['href'])
        c(f'core: child {child["href"].rsplit("/", 1)[-1]} answers 200', r.status_code == 200, r.status_code)

    # ---- collections ---------------------------------------------------------------------------
    data = link(root, 'data')
    colls_url = data['href'] if c('collections: link rel=data', data and has('collections'), data) else f'{root_url}/collections'
    r = get(colls_url)
    colls = body(r) or {}
    c('collections: /collections 200 application/json', r.status_code == 200 and media(r) == 'application/json', r.status_code)
    c('collections: /collections self link is its URL', (link(colls, 'self') or {}).get('href') == colls_url, link(colls, 'self'))
    c('collections: /collections has a root link', link(colls, 'root'))
    listed = colls.get('collections') or []
    c('collections: a non-empty collections array', listed)
    bad = [x.get('id') for x in listed if not (x.get('type') == 'Collection' and x.get('id') and x.get('description') and x.get('license') and x.get('extent') and x.get('stac_version') and link(x, 'self'))]
    c('collections: every collection has type, id, description, license, extent, stac_version, self link', not bad, bad[:5])
    coll_url = f'{colls_url}/{a.collection}'
    r = get(coll_url)
    coll = body(r) or {}
    c(f'collections: /collections/{a.collection} 200 application/json', r.status_code == 200 and media(r) == 'application/json', r.status_code)
    c('collections: collection self link is its URL', (link(coll, 'self') or {}).get('href') == coll_url, link(coll, 'self'))
    c('collections: collection has root and parent links', link(coll, 'root') and link(coll, 'parent'))
    c('collections: an unknown collection is 404', get(f'{colls_url}/non-existent-collection').status_code == 404)

    # ---- features ------------------------------------------------------------------------------
    c('features: conformsTo names ogcapi-features and OGC API Features core/geojson', has('ogcapi-features') and 'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core' in conforms and 'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson' in conforms)
    items_link = link(coll, 'items')
    items_url = items_link['href'] if c('features: collection has a link rel=items', items_link) else f'{coll_url}/items'
    r = get(items_url)
    fc = body(r) or {}
    c('features: items 200 application/geo+json FeatureCollection', r.status_code == 200 and media(r) == GEOJSON and fc.get('type') == 'FeatureCollection', f'{r.status_code} {media(r)}')
    c('features: items self link is its URL, with a root link', (link(fc, 'self') or {}).get('href') == items_url and link(fc, 'root'), link(fc, 'self'))
    feats = fc.get('features') or []
    first = feats[0] if feats else {}
    c('features: items of the collection, all with collection set', feats and all(f.get('collection') == a.collection for f in feats))
    item_self = (link(first, 'self') or {}).get('href')
    if c('features: first item has a self link', item_self):
        r = get(item_self)
        it = body(r) or {}
        c('features: item 200 application/geo+json', r.status_code == 200 and media(r) == GEOJSON, f'{r.status_code} {media(r)}')
        c('features: item self link is its URL; root, parent and collection links', (link(it, 'self') or {}).get('href') == item_self and link(it, 'root') and link(it, 'parent') and link(it, 'collection'))
        c('features: item is a STAC Item (type, stac_version, id, geometry, properties.datetime or start/end, assets, links)',
          it.get('type') == 'Feature' and it.get('stac_version') and it.get('id') == first.get('id') and 'geometry' in it and isinstance(it.get('assets'), dict)
          and ('datetime' in it.get('properties', {})) and (it['properties']['datetime'] is not None or ('start_datetime' in it['properties'] and 'end_datetime' in it['properties'])))
    c('features: an unknown item is 404', get(f'{items_url}/non-existent-item').status_code == 404)
    r = get(items_url, {'limit': 1})
    page = body(r) or {}
    nxt = link(page, 'next')
    if c('features: limit=1 gives one item and a next link (GET)', len(page.get('features', [])) == 1 and nxt and nxt.get('method', 'GET') == 'GET', nxt):
        r2 = get(nxt['href'])
        page2 = body(r2) or {}
        c('features: the next page is another item', r2.status_code == 200 and page2.get('features') and page2['features'][0]['id'] != page['features'][0]['id'])
    if first.get('bbox'):
        bb = first['bbox']
        q = ','.join(str(v) for v in (bb[:2] + bb[2:4] if len(bb) == 4 else [bb[0], bb[1], bb[3], bb[4]]))
        r = get(items_url, {'bbox': q, 'limit': 100})
        got = (body(r) or {}).get('features', [])
        c('features: items bbox= finds the first item and only intersecting ones',
          r.status_code == 200 and any(f['id'] == first['id'] for f in got) and all(f.get('geometry') is None or shape(f['geometry']).intersects(box(*[float(v) for v in q.split(',')]).buffer(1e-9)) for f in got))
    dt = first.get('properties', {}).get('datetime')
    if dt:
        r = get(items_url, {'datetime': dt, 'limit': 100})
        c('features: items datetime=<an item\'s datetime> finds it', r.status_code == 200 and any(f['id'] == first['id'] for f in (body(r) or {}).get('features', [])))

    # ---- item search ---------------------------------------------------------------------------
    c('item-search: conformsTo names item-search', has('item-search'))
    searches = [lk for lk in root.get('links', []) if lk.get('rel') == 'search']
    c('item-search: one GET and at most one POST rel=search link, same href', searches and len(searches) <= 2 and len({lk['href'] for lk in searches}) == 1 and sum(1 for lk in searches if lk.get('method', 'GET') == 'GET') == 1)
    search_url = searches[0]['href'] if searches else f'{root_url}/search'
    can_post = any(lk.get('method') == 'POST' for lk in searches)
    r = get(search_url)
    c('item-search: GET /search 200 application/geo+json FeatureCollection', r.status_code == 200 and media(r) == GEOJSON and (body(r) or {}).get('type') == 'FeatureCollection', f'{r.status_code} {media(r)}')
    for limit in (1, 2, 10, 10000, 100000):
        r = get(search_url, {'limit': limit})
        n = len((body(r) or {}).get('features', []))
        c(f'item-search: limit={limit} answers at most that many', r.status_code == 200 and 0 < n <= limit, f'{r.status_code} {n}')
        if can_post:
            r = post(search_url, {'limit': limit})
            c(f'item-search: POST limit={limit}', r.status_code == 200 and len((body(r) or {}).get('features', [])) <= limit, r.status_code)
    for limit in (-1, 0):
        c(f'item-search: limit={limit} is 400', get(search_url, {'limit': limit}).status_code == 400)
        if can_post:
            c(f'item-search: POST limit={limit} is 400', post(search_url, {'limit': limit}).status_code == 400)
    for bb in ('100.0,0.0,105.0,1.0', '100.0,0.0,0.0,105.0,1.0,1.0'):
        c(f'item-search: bbox={bb}', get(search_url, {'bbox': bb}).status_code == 200)
        if can_post:
            c(f'item-search: POST bbox {bb}', post(search_url, {'bbox': [float(v) for v in bb.split(',')]}).status_code == 200)
    for bb in ('[100.0, 0.0, 105.0, 1.0]', '100.0,1.0,105.0,0.0', '0', '0,0', '0,0,0', '0,0,0,1,1', '0,0,0,1,1,1,1'):
        c(f'item-search: bbox={bb} is 400', get(search_url, {'bbox': bb}).status_code == 400)
    if can_post:
        for bb in ('100.0, 0.0, 105.0, 1.0', [100.0, 1.0, 105.0, 0.0], [0], [0, 0, 0, 1, 1]):
            c(f'item-search: POST bbox {bb} is 400', post(search_url, {'bbox': bb}).status_code == 400)
    poly = GEOMETRIES[2]
    c('item-search: bbox and intersects together are 400', get(search_url, {'bbox': '0,0,1,1', 'intersects': json.dumps(poly)}).status_code == 400)
    if can_post:
        c('item-search: POST bbox and intersects together are 400', post(search_url, {'bbox': [0, 0, 1, 1], 'intersects': poly}).status_code == 400)
    for g in GEOMETRIES:
        c(f'item-search: intersects {g["type"]}', get(search_url, {'intersects': json.dumps(g)}).status_code == 200)
        if can_post:
            c(f'item-search: POST intersects {g["type"]}', post(search_url, {'intersects': g}).status_code == 200)
    geom = json.loads(a.geometry) if a.geometry else (first.get('geometry') or None)
    if geom:
        gs = shape(geom)
        r = get(search_url, {'collections': a.collection, 'intersects': json.dumps(geom), 'limit': 100})
        got = (body(r) or {}).get('features', [])
        c('item-search: intersects results are not empty and all intersect', got and all(shape(f['geometry']).intersects(gs.buffer(1e-9)) for f in got if f.get('geometry')), len(got))
    # datetime: an item's own instant finds it; the RFC 3339 forms are 200, the others 400.
    r = get(search_url, {'collections': a.collection, 'limit': 1})
    probe = ((body(r) or {}).get('features') or [{}])[0]
    pdt = probe.get('properties', {}).get('datetime')
    if pdt:
        r = get(search_url, {'datetime': pdt, 'collections': a.collection, 'limit': 10000})
        c(f'item-search: datetime={pdt} (an item\'s own) finds it', r.status_code == 200 and any(f['id'] == probe['id'] for f in (body(r) or {}).get('features', [])))
    bad_valid = [d for d in VALID_DATETIMES if get(search_url, {'datetime': d, 'limit': 1}).status_code != 200]
    c(f'item-search: {len(VALID_DATETIMES)} RFC 3339 datetimes answer 200', not bad_valid, bad_valid)
    for d in INVALID_DATETIMES:
        code = get(search_url, {'datetime': d, 'limit': 1}).status_code
        c(f'item-search: datetime={d} is 400', code == 400, code)
    if can_post:
        c('item-search: POST datetime=1985-04-12 is 400', post(search_url, {'datetime': '1985-04-12'}).status_code == 400)
    # ids and collections
    r = get(search_url, {'limit': 2, 'collections': a.collection})
    two = (body(r) or {}).get('features', [])
    if c('item-search: two items to search by id', len(two) == 2):
        ids = [f['id'] for f in two]
        for wanted in ([ids[0]], ids):
            r = get(search_url, {'ids': ','.join(wanted), 'collections': a.collection})
            got = [f['id'] for f in (body(r) or {}).get('features', [])]
            c(f'item-search: ids={",".join(wanted)} gives those items only', r.status_code == 200 and set(got) == set(wanted), got)
            if can_post:
                r = post(search_url, {'ids': wanted, 'collections': [a.collection]})
                c(f'item-search: POST ids {wanted} gives those items only', set(f['id'] for f in (body(r) or {}).get('features', [])) == set(wanted))
        bb = two[0].get('bbox')
        if bb:
            far = f'{bb[-2] + 1},{min(bb[-1] + 1, 89)},{bb[-2] + 2},{min(bb[-1] + 2, 90)}'
            r = get(search_url, {'ids': ids[0], 'collections': a.collection, 'bbox': far})
            c('item-search: ids does not override bbox (a far bbox finds nothing)', r.status_code == 200 and not (body(r) or {}).get('features'), r.text[:200])
    some = [x['id'] for x in listed[:3]]
    for ids in ([i] for i in some):
        r = get(search_url, {'collections': ','.join(ids), 'limit': 20})
        c(f'item-search: collections={",".join(ids)} gives items of it only', r.status_code == 200 and all(f.get('collection') in ids for f in (body(r) or {}).get('features', [])))
    r = get(search_url, {'collections': ','.join(some), 'limit': 50})
    c('item-search: collections=<three> gives items of those only', r.status_code == 200 and all(f.get('collection') in some for f in (body(r) or {}).get('features', [])))
    # paging: GET next links by GET, POST next links by POST, no duplicates over 100 items
    seen, page, n = [], body(get(search_url, {'collections': a.collection, 'limit': 5})) or {}, 0
    while True:
        seen += [f['id'] for f in page.get('features', [])]
        nx = link(page, 'next')
        if not nx or len(seen) >= 100:
            break
        n += 1
        if nx.get('method', 'GET') != 'GET':
            c('item-search: GET paging next link is GET', False, nx)
            break
        page = body(get(nx['href'])) or {}
    c(f'item-search: GET paging, {len(seen)} items in {n + 1} pages without duplicates', seen and len(seen) == len(set(seen)))
    if can_post:
        first_body = {'collections': [a.collection], 'limit': 1}
        page = body(post(search_url, first_body)) or {}
        nx = link(page, 'next')
        if c('item-search: POST paging next link has method POST', nx and nx.get('method') == 'POST', nx):
            nb = {**first_body, **nx.get('body', {})} if nx.get('merge') else nx.get('body', {})
            r = post(nx['href'], nb)
            p2 = body(r) or {}
            c('item-search: POST next page is another item', r.status_code == 200 and p2.get('features') and p2['features'][0]['id'] != page['features'][0]['id'])

    # ---- fields --------------------------------------------------------------------------------
    for binding, url, extra in (('item-search#fields', search_url, {'collections': a.collection}), ('ogcapi-features#fields', items_url, {})):
        if not c(f'fields: conformsTo names {binding}', has(re.escape(binding)), ''):
            continue
        prop = next((k for k, v in first.get('properties', {}).items() if k != 'datetime' and isinstance(v, (int, float, str))), None)
        r = get(url, {**extra, 'limit': 2, 'fields': '-geometry,-assets'})
        fs = (body(r) or {}).get('features', [])
        c(f'fields ({binding}): -geometry,-assets drops them', r.status_code == 200 and fs and all('geometry' not in f and 'assets' not in f and 'id' in f for f in fs))
        if prop:
            r = get(url, {**extra, 'limit': 2, 'fields': f'id,properties.{prop}'})
            fs = (body(r) or {}).get('features', [])
            c(f'fields ({binding}): include properties.{prop}', r.status_code == 200 and fs and all(prop in f.get('properties', {}) for f in fs))
            r = get(url, {**extra, 'limit': 2, 'fields': f'-properties,+properties.{prop}'})
            fs = (body(r) or {}).get('features', [])
            c(f'fields ({binding}): -properties,+properties.{prop} keeps only that property', r.status_code == 200 and fs and all(list(f.get('properties', {})) == [prop] for f in fs), fs[:1])
            r = get(url, {**extra, 'limit': 2, 'fields': f'properties,-properties.{prop}'})
            fs = (body(r) or {}).get('features', [])
            c(f'fields ({binding}): properties,-properties.{prop} drops only that property', r.status_code == 200 and fs and all(prop not in f['properties'] and 'datetime' in f['properties'] for f in fs))
    if has(re.escape('item-search#fields')) and can_post:
        for fields in ({'include': None, 'exclude': None}, {}, {'include': ['id'], 'exclude': None}):
            r = post(search_url, {'collections': [a.collection], 'limit': 1, 'fields': fields})
            c(f'fields: POST fields={json.dumps(fields)} accepted', r.status_code == 200, r.text[:200])
        r = post(search_url, {'collections': [a.collection], 'limit': 1, 'fields': {'exclude': ['assets']}})
        c('fields: POST exclude assets drops them', r.status_code == 200 and all('assets' not in f for f in (body(r) or {}).get('features', [])))

    # ---- sort ----------------------------------------------------------------------------------
    def times(fs):
        return [f['properties'].get('datetime') or f['properties'].get('start_datetime') for f in fs]
    for binding, url, extra in (('item-search#sort', search_url, {'collections': a.collection}), ('ogcapi-features#sort', items_url, {})):
        if not c(f'sort: conformsTo names {binding}', has(re.escape(binding)), ''):
            continue
        for sortby, rev in (('+properties.datetime', False), ('-properties.datetime', True), ('properties.datetime', False)):
            r = get(url, {**extra, 'limit': 20, 'sortby': sortby})
            ts = times((body(r) or {}).get('features', []))
            c(f'sort ({binding}): sortby={sortby} orders by datetime', r.status_code == 200 and len(ts) > 1 and ts == sorted(ts, reverse=rev), ts[:5])
        r = get(url, {**extra, 'limit': 20, 'sortby': '-id'})
        ids = [f['id'] for f in (body(r) or {}).get('features', [])]
        c(f'sort ({binding}): sortby=-id orders ids descending', r.status_code == 200 and len(ids) > 1 and ids == sorted(ids, reverse=True), ids[:5])
    if has(re.escape('item-search#sort')) and can_post:
        r = post(search_url, {'collections': [a.collection], 'limit': 20, 'sortby': [{'field': 'properties.datetime', 'direction': 'asc'}]})
        ts = times((body(r) or {}).get('features', []))
        c('sort: POST sortby datetime asc', r.status_code == 200 and len(ts) > 1 and ts == sorted(ts), ts[:5])
        c('sort: POST sortby with a bad direction is 400', post(search_url, {'sortby': [{'field': 'id', 'direction': 'sideways'}]}).status_code == 400)

    # ---- filter --------------------------------------------------------------------------------
    def queryables_ok(url, what):
        r = get(url, headers={'Accept': 'application/schema+json'})
        q = body(r) or {}
        c(f'filter: {what} queryables 200 application/schema+json', r.status_code == 200 and media(r) == 'application/schema+json', f'{r.status_code} {media(r)}')
        c(f'filter: {what} queryables $schema, $id (its URL), type object', q.get('$schema') in ('https://json-schema.org/draft/2019-09/schema', 'http://json-schema.org/draft-07/schema#') and q.get('$id') == url and q.get('type') == 'object', {k: q.get(k) for k in ('$schema', '$id', 'type')})
        return q
    if c('filter: conformsTo names item-search#filter, cql2-text, cql2-json, basic-cql2', has('item-search#filter') and all(f'http://www.opengis.net/spec/cql2/1.0/conf/{x}' in conforms for x in ('cql2-text', 'cql2-json', 'basic-cql2'))):
        ql = link(root, QUERYABLES)
        c('filter: landing links its queryables', ql)
        queryables_ok(ql['href'] if ql else f'{root_url}/queryables', 'landing')
        cql = link(coll, QUERYABLES)
        cq = queryables_ok(cql['href'] if cql else f'{coll_url}/queryables', 'collection')
        num = next((k for k, v in (cq.get('properties') or {}).items() if v.get('type') in ('integer', 'number')), None)
        iid = first.get('id', '')
        cases = [
            (f"id = '{iid}'", {'op': '=', 'args': [{'property': 'id'}, iid]}, lambda f: f['id'] == iid, True),
            (f"collection = '{a.collection}' AND id = '{iid}'", {'op': 'and', 'args': [{'op': '=', 'args': [{'property': 'collection'}, a.collection]}, {'op': '=', 'args': [{'property': 'id'}, iid]}]}, lambda f: f['id'] == iid, True),
            (f"id = '{iid}' OR id = 'none-such'", {'op': 'or', 'args': [{'op': '=', 'args': [{'property': 'id'}, iid]}, {'op': '=', 'args': [{'property': 'id'}, 'none-such']}]}, lambda f: f['id'] == iid, True),
            (f"NOT (id = '{iid}')", {'op': 'not', 'args': [{'op': '=', 'args': [{'property': 'id'}, iid]}]}, lambda f: f['id'] != iid, True),
            ("datetime >= TIMESTAMP('1900-01-01T00:00:00Z')", {'op': '>=', 'args': [{'property': 'datetime'}, {'timestamp': '1900-01-01T00:00:00Z'}]}, lambda f: True, True),
            (f"id LIKE '{iid[:3]}%'", {'op': 'like', 'args': [{'property': 'id'}, f'{iid[:3]}%']}, lambda f: f['id'].startswith(iid[:3]), True),
            ("S_INTERSECTS(geometry, POLYGON((-180 -90, 180 -90, 180 90, -180 90, -180 -90)))", {'op': 's_intersects', 'args': [{'property': 'geometry'}, {'type': 'Polygon', 'coordinates': [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]}]}, lambda f: True, True),
            ("T_INTERSECTS(datetime, INTERVAL('1900-01-01T00:00:00Z', '2100-01-01T00:00:00Z'))", {'op': 't_intersects', 'args': [{'property': 'datetime'}, {'interval': ['1900-01-01T00:00:00Z', '2100-01-01T00:00:00Z']}]}, lambda f: True, True),
        ]
        if num:
            v = first.get('properties', {}).get(num)
            if isinstance(v, (int, float)):
                cases += [
                    (f'{num} < {v}', {'op': '<', 'args': [{'property': num}, v]}, lambda f, v=v: f['properties'][num] < v, False),
                    (f'{num} >= {v}', {'op': '>=', 'args': [{'property': num}, v]}, lambda f, v=v: f['properties'][num] >= v, True),
                    (f'{num} BETWEEN {v} AND {v + 1}', {'op': 'between', 'args': [{'property': num}, v, v + 1]}, lambda f, v=v: v <= f['properties'][num] <= v + 1, True),
                ]
        for text, js, holds, nonempty in cases:
            r = get(search_url, {'collections': a.collection, 'limit': 50, 'filter-lang': 'cql2-text', 'filter': text})
            fs = (body(r) or {}).get('features', [])
            c(f'filter: cql2-text {text}', r.status_code == 200 and (fs or not nonempty) and all(holds(f) for f in fs), f'{r.status_code} {len(fs)} {r.text[:150]}')
            if can_post:
                r = post(search_url, {'collections': [a.collection], 'limit': 50, 'filter-lang': 'cql2-json', 'filter': js})
                fs = (body(r) or {}).get('features', [])
                c(f'filter: POST cql2-json {js["op"]} ({text[:40]})', r.status_code == 200 and (fs or not nonempty) and all(holds(f) for f in fs), f'{r.status_code} {len(fs)} {r.text[:150]}')
        r = get(items_url, {'limit': 50, 'filter': f"id = '{iid}'"})
        c('filter: ogcapi-features#filter on the items endpoint', has('ogcapi-features#filter') and r.status_code == 200 and [f['id'] for f in (body(r) or {}).get('features', [])] == [iid])
        c('filter: filter-lang=cql3 is 400', get(search_url, {'filter': 'id = 1', 'filter-lang': 'cql3'}).status_code == 400)
        c('filter: a malformed cql2-text filter is 400', get(search_url, {'filter': 'id = '}).status_code == 400)

    print(f'{c.passed} passed, {c.failed} failed')
    sys.exit(1 if c.failed else 0)


if __name__ == '__main__':
    main()
