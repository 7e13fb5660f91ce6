// Grows a SQLite catalog built by `odas index` to about TARGET features without reading more files:
// every item is copied COPIES times with a new id (`<id>~<k>`) and its longitude turned by k × 51.43°
// (same latitude, time, properties and levels), items, R*-tree and levels alike. For query benchmarks
// at a scale the machine cannot index in the time at hand; the figures say when a catalog was grown.
// `tsx bench/replicate-catalog.ts CATALOG.sqlite TARGET`
import Database from 'better-sqlite3';

const DAY = 86_400_000;
const TURN = 51.43;

export function replicateCatalog(file: string, target: number, log: (line: string) => void): number {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    const { n: base, m: top } = db.prepare('SELECT count(*) AS n, max(rowid) AS m FROM items').get() as {
      n: number;
      m: number;
    };
    const copies = Math.max(0, Math.ceil(target / base) - 1);
    for (let k = 1; k <= copies; k++) {
      const last = k === copies ? target - base * copies : base;
      const d = k * TURN;
      db.transaction(() => {
        db.prepare(
          `INSERT INTO items (rowid, cid, sid, id, sk, s, e, minx, miny, maxx, maxy, gtype, geom, props, doc, fidx)
           SELECT rowid + @off, cid, sid, id || '~' || @k, sk, s, e,
                  minx + @d - (CASE WHEN minx + @d > 180 THEN 360 ELSE 0 END), miny,
                  maxx + @d - (CASE WHEN minx + @d > 180 THEN 360 ELSE 0 END), maxy, gtype, geom, props, doc, fidx
           FROM items WHERE rowid <= @top ORDER BY rowid LIMIT @last`,
        ).run({ off: k * top, k, d, top, last });
        db.prepare(
          `INSERT INTO items_rtree SELECT rowid, coalesce(minx, 1e7), coalesce(maxx, 1e7), coalesce(miny, 1e7), coalesce(maxy, 1e7),
                  coalesce(s / ${DAY}.0, 1e7), coalesce(e / ${DAY}.0, 1e7)
           FROM items WHERE rowid > @lo AND rowid <= @hi`,
        ).run({ lo: k * top, hi: (k + 1) * top });
        db.prepare(
          'INSERT INTO feature_levels (rowid, data) SELECT l.rowid + @off, l.data FROM feature_levels l JOIN items i ON i.rowid = l.rowid + @off',
        ).run({ off: k * top });
      })();
      log(`copy ${k}/${copies}: ${last} items`);
    }
    const total = (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
    // Unfiltered numberMatched comes from the collection's stats: they count the copies too.
    for (const r of db.prepare('SELECT cid, stats FROM collections WHERE stats IS NOT NULL').all() as Array<{
      cid: number;
      stats: string;
    }>) {
      const s = JSON.parse(r.stats) as { count?: number; timed?: number };
      const n = (db.prepare('SELECT count(*) AS n FROM items WHERE cid = ?').get(r.cid) as { n: number }).n;
      const timed = (
        db.prepare('SELECT count(*) AS n FROM items WHERE cid = ? AND s IS NOT NULL').get(r.cid) as { n: number }
      ).n;
      s.count = n;
      if (s.timed !== undefined) s.timed = timed;
      db.prepare('UPDATE collections SET stats = ? WHERE cid = ?').run(JSON.stringify(s), r.cid);
    }
    db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version'").run();
    return total;
  } finally {
    db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, target] = process.argv.slice(2);
  if (!file || !target) throw new Error('usage: tsx bench/replicate-catalog.ts CATALOG.sqlite TARGET');
  const t0 = performance.now();
  const n = replicateCatalog(file, Number(target), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${n} items in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
