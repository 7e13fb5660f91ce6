/**
 * Streaming a field of a planned coverage: stored (raw) values in output row-major order, in
 * blocks of bounded size, whatever the subset's size. Each block is one or a few reader windows
 * (several when a longitude selection wraps around, or when picks skip cells), gathered into
 * output order. Memory is O(block), independent of the response size.
 */
import type { DType, NumericArray, Reader, Window } from '../../readers/types.js';
import { DTYPE_BYTES } from '../../readers/dtype.js';
import type { GridPlan } from './plan.js';
import type { GridField, GridFileSlot } from './types.js';

export type OpenReader = (path: string) => Promise<Reader>;

export interface FieldBlock {
  dtype: DType;
  /** Stored values of the next output cells, in output order. */
  data: NumericArray;
}

export interface ReadFieldOptions {
  signal?: AbortSignal;
  /** Upper bound of the source bytes one block reads (default 4 MiB). */
  blockBytes?: number;
  /** Readers kept open at once while walking an aggregated time axis (default 4). */
  maxOpenReaders?: number;
}

const DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * A maximal stretch of output positions whose picks run monotonically (up, or down for a flipped
 * axis) within one file; lo/hi are the smallest and largest pick.
 */
interface Segment {
  from: number;
  to: number;
  lo: number;
  hi: number;
  slot: number;
}

type TypedArrayConstructor = new (length: number) => NumericArray;

function constructorOf(data: NumericArray): TypedArrayConstructor {
  return data.constructor as TypedArrayConstructor;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function segmentsOf(picks: Int32Array, slotOf: ((i: number) => number) | undefined): Segment[] {
  const out: Segment[] = [];
  let seg: Segment | undefined;
  let direction = 0;
  for (let j = 0; j < picks.length; j++) {
    const p = picks[j]!;
    const slot = slotOf ? slotOf(p) : 0;
    const prev = j > 0 ? picks[j - 1]! : p;
    const step = Math.sign(p - prev);
    if (seg && slot === seg.slot && step !== 0 && (direction === 0 || step === direction)) {
      direction = step;
      seg.lo = Math.min(seg.lo, p);
      seg.hi = Math.max(seg.hi, p);
      seg.to = j + 1;
    } else {
      seg = { from: j, to: j + 1, lo: p, hi: p, slot };
      direction = 0;
      out.push(seg);
    }
  }
  return out;
}

/** Copies a chunk (its own absolute window) into `target` (holding `window`), both row-major over `dims`. */
function place(
  target: NumericArray,
  window: Array<[number, number]>,
  chunkData: NumericArray,
  chunkWindow: Array<[number, number]>,
): void {
  const rank = window.length;
  const tShape = window.map(([a, b]) => b - a);
  const cShape = chunkWindow.map(([a, b]) => b - a);
  const tStrides = new Array<number>(rank);
  const cStrides = new Array<number>(rank);
  let ts = 1;
  let cs = 1;
  for (let d = rank - 1; d >= 0; d--) {
    tStrides[d] = ts;
    cStrides[d] = cs;
    ts *= tShape[d]!;
    cs *= cShape[d]!;
  }
  const rowLength = cShape[rank - 1]!;
  const index = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (;;) {
    let t = chunkWindow[rank - 1]![0] - window[rank - 1]![0];
    let c = 0;
    for (let d = 0; d < rank - 1; d++) {
      t += (index[d]! + chunkWindow[d]![0] - window[d]![0]) * tStrides[d]!;
      c += index[d]! * cStrides[d]!;
    }
    (target as Float64Array).set((chunkData as Float64Array).subarray(c, c + rowLength), t);
    let d = rank - 2;
    while (d >= 0 && ++index[d]! === cShape[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

/**
 * Keeps a few readers open, closing the least recently used; all are closed by `close()`. Readers
 * are kept as promises: two blocks of one file asked at once share one opening.
 */
class ReaderCache {
  private readonly open = new Map<number, Promise<Reader>>();

  constructor(
    private readonly files: GridFileSlot[],
    private readonly opener: OpenReader,
    private readonly max: number,
  ) {}

  get(slot: number): Promise<Reader> {
    let r = this.open.get(slot);
    if (r) {
      this.open.delete(slot);
      this.open.set(slot, r);
      return r;
    }
    if (this.open.size >= this.max) {
      const [oldest, reader] = this.open.entries().next().value as [number, Promise<Reader>];
      this.open.delete(oldest);
      void reader.then((x) => x.close()).catch(() => undefined);
    }
    r = this.opener(this.files[slot]!.path);
    r.catch(() => {
      if (this.open.get(slot) === r) this.open.delete(slot);
    });
    this.open.set(slot, r);
    return r;
  }

  async close(): Promise<void> {
    const readers = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(readers.map(async (r) => (await r).close()));
  }
}

/** Stored values of `window` of a field, as one array (the reader may answer in several chunks). */
async function readWindow(
  reader: Reader,
  field: GridField,
  window: Array<[number, number]>,
  signal: AbortSignal | undefined,
): Promise<NumericArray> {
  const w: Window = {};
  field.dims.forEach((d, i) => {
    w[d] = window[i]!;
  });
  let target: NumericArray | undefined;
  const total = window.reduce((p, [a, b]) => p * (b - a), 1);
  for await (const chunk of reader.read({ variables: [field.name], window: w, signal })) {
    if (Array.isArray(chunk.data)) throw new Error(`${field.name}: text values cannot be served as a coverage`);
    const data = chunk.data as NumericArray;
    const cw = field.dims.map((d) => chunk.window[d] ?? [0, 1]) as Array<[number, number]>;
    if (data.length === total && cw.every(([a, b], i) => a === window[i]![0] && b === window[i]![1])) return data;
    target ??= new (constructorOf(data))(total);
    place(target, window, data, cw);
  }
  if (!target) throw new Error(`${field.name}: the reader returned no values for window ${JSON.stringify(w)}`);
  return target;
}

/** Blocks read at once when a field spans several files. */
const MULTI_FILE_READ_AHEAD = 4;

/**
 * The stored values of one field over the plan, in output row-major order, block by block.
 * Readers are opened through `open` and closed when the generator ends, however it ends.
 */
export async function* readField(
  plan: GridPlan,
  field: GridField,
  open: OpenReader,
  options: ReadFieldOptions = {},
): AsyncGenerator<FieldBlock> {
  const { signal } = options;
  const budget = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  const item = DTYPE_BYTES[field.dtype];
  const rank = plan.axes.length;
  const files = plan.model.files;
  const ti = plan.axes.findIndex((a) => a.axis.role === 't');
  const slotOf = (i: number): number => {
    // Files are in time order; a binary search over their first steps.
    let lo = 0;
    let hi = files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (files[mid]!.timeStart <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const segments = plan.axes.map((a, d) => segmentsOf(a.picks, d === ti && files.length > 1 ? slotOf : undefined));
  const spans = segments.map((segs) => segs.reduce((n, s) => n + s.hi - s.lo + 1, 0));
  // outer positions first, then the group along s, then every inner dimension — inner is built below.
  const outShape = plan.shape;
  // A reader that reads picked cells (readPicks) is given the picks of a read that skips cells: it
  // holds only the picked cells, so a block is bounded by them rather than by the span they cover.
  const readers = new ReaderCache(
    files,
    open,
    Math.max(options.maxOpenReaders ?? 4, (files.length > 1 ? MULTI_FILE_READ_AHEAD : 1) + 2),
  );
  const skips = spans.some((n, d) => n > outShape[d]!);
  const picked =
    skips && outShape.every((n) => n > 0)
      ? typeof (await readers.get(segments[ti]?.[0]?.slot ?? 0).catch(() => undefined))?.readPicks === 'function'
      : false;
  const extent = picked ? outShape : spans;
  // inner[d]: bytes of one index of dimension d with every inner dimension's full extent.
  const inner = new Array<number>(rank);
  let acc = item;
  for (let d = rank - 1; d >= 0; d--) {
    inner[d] = acc;
    acc *= extent[d]!;
  }
  let s = 0;
  while (s < rank - 1 && inner[s]! > budget) s++;
  // A time series over many files (a year of daily files) is one small read per file: several files
  // are read at once, so their chunks are inflated on every core; one file is read block after block
  // (its reader already keeps several chunks in flight).
  const ahead = files.length > 1 ? MULTI_FILE_READ_AHEAD : 1;
  /** The blocks in output order: outer positions (dims < s) by odometer, then groups along s. */
  function* blocks(): Generator<{ outer: number[]; group: Segment }> {
    // Odometer over the output positions of the dimensions outside s.
    const outer = new Array<number>(s).fill(0);
    if (outShape.some((n) => n === 0)) return;
    for (;;) {
      for (const seg of segments[s]!) {
        // Groups of consecutive positions of dimension s whose span fits the budget.
        for (let g0 = seg.from; g0 < seg.to;) {
          let g1 = g0 + 1;
          const picks = plan.axes[s]!.picks;
          const length = (g: number) => (picked ? g - g0 + 1 : Math.abs(picks[g]! - picks[g0]!) + 1);
          while (g1 < seg.to && length(g1) * inner[s]! <= budget) g1++;
          const lo = Math.min(picks[g0]!, picks[g1 - 1]!);
          const hi = Math.max(picks[g0]!, picks[g1 - 1]!);
          yield { outer: [...outer], group: { ...seg, from: g0, to: g1, lo, hi } };
          g0 = g1;
        }
      }
      let d = s - 1;
      while (d >= 0 && ++outer[d]! === outShape[d]) outer[d--] = 0;
      if (d < 0) return;
    }
  }
  const pending: Array<Promise<FieldBlock>> = [];
  const next = blocks();
  const fill = () => {
    while (pending.length < ahead) {
      const b = next.next();
      if (b.done) return;
      const read = readBlock(plan, field, readers, segments, s, b.value.outer, b.value.group, ti, picked, signal);
      read.catch(() => undefined);
      pending.push(read);
    }
  };
  try {
    throwIfAborted(signal);
    fill();
    while (pending.length > 0) {
      throwIfAborted(signal);
      const block = await pending.shift()!;
      fill();
      yield block;
    }
  } finally {
    await Promise.allSettled(pending);
    await readers.close();
  }
}

/** One block: output positions `outer` for dims < s, `group` along s, everything along dims > s. */
async function readBlock(
  plan: GridPlan,
  field: GridField,
  readers: ReaderCache,
  segments: Segment[][],
  s: number,
  outer: number[],
  group: Segment,
  ti: number,
  picked: boolean,
  signal: AbortSignal | undefined,
): Promise<FieldBlock> {
  const rank = plan.axes.length;
  const files = plan.model.files;
  const blockShape = plan.shape.map((n, d) => (d < s ? 1 : d === s ? group.to - group.from : n));
  const blockStrides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    blockStrides[d] = acc;
    acc *= blockShape[d]!;
  }
  const total = acc;
  // Segment choices per dimension: fixed below s, the group at s, every segment above s.
  const choices: Segment[][] = plan.axes.map((a, d) => {
    if (d < s) {
      const p = a.picks[outer[d]!]!;
      const seg = segments[d]!.find((x) => outer[d]! >= x.from && outer[d]! < x.to)!;
      return [{ from: outer[d]!, to: outer[d]! + 1, lo: p, hi: p, slot: seg.slot }];
    }
    return d === s ? [group] : segments[d]!;
  });
  const combos = choices.reduce((n, c) => n * c.length, 1);
  const plans = plan.axes;
  // Ascending and without gaps: the window's values are the block's, in order.
  const contiguous = (seg: Segment, d: number) =>
    seg.hi - seg.lo + 1 === seg.to - seg.from && plans[d]!.picks[seg.from] === seg.lo;
  let out: NumericArray | undefined;
  const pick = new Array<number>(rank).fill(0);
  for (let c = 0; c < combos; c++) {
    let rest = c;
    for (let d = rank - 1; d >= 0; d--) {
      pick[d] = rest % choices[d]!.length;
      rest = Math.floor(rest / choices[d]!.length);
    }
    const segs = choices.map((ch, d) => ch[pick[d]!]!);
    const slot = ti >= 0 ? segs[ti]!.slot : 0;
    const offset = ti >= 0 ? files[slot]!.timeStart : 0;
    const window = segs.map(
      (seg, d) => (d === ti ? [seg.lo - offset, seg.hi + 1 - offset] : [seg.lo, seg.hi + 1]) as [number, number],
    );
    const reader = await readers.get(slot);
    if (picked && reader.readPicks) {
      // Per dimension, the segment's picks ascending (in the file's own time indices), and where
      // each output position of the segment sits among them.
      const lists = segs.map((seg, d) => {
        const n = seg.to - seg.from;
        const sub = plans[d]!.picks.subarray(seg.from, seg.to);
        const down = n > 1 && sub[0]! > sub[n - 1]!;
        const list = new Int32Array(n);
        const at = new Int32Array(n);
        const shift = d === ti ? offset : 0;
        for (let k = 0; k < n; k++) {
          list[down ? n - 1 - k : k] = sub[k]! - shift;
          at[k] = down ? n - 1 - k : k;
        }
        return { list, at };
      });
      const raw = await reader.readPicks(
        field.name,
        lists.map((l) => l.list),
        signal,
      );
      if (Array.isArray(raw.data)) throw new Error(`${field.name}: text values cannot be served as a coverage`);
      const data = raw.data as NumericArray;
      if (combos === 1 && lists.every((l, d) => l.at[0] === 0 && segs[d]!.to - segs[d]!.from === blockShape[d]))
        return { dtype: field.dtype, data };
      out ??= new (constructorOf(data))(total);
      gather(
        out,
        blockStrides,
        data,
        lists.map((l) => l.list.length),
        segs,
        s,
        (d, k) => lists[d]!.at[k]!,
      );
      continue;
    }
    const data = await readWindow(reader, field, window, signal);
    if (combos === 1 && segs.every((seg, d) => contiguous(seg, d) && seg.to - seg.from === blockShape[d])) {
      return { dtype: field.dtype, data };
    }
    out ??= new (constructorOf(data))(total);
    gather(
      out,
      blockStrides,
      data,
      window.map(([a, b]) => b - a),
      segs,
      s,
      (d, k) => plans[d]!.picks[segs[d]!.from + k]! - segs[d]!.lo,
    );
  }
  return { dtype: field.dtype, data: out! };
}

/**
 * Copies the cells of one read (`data`, row-major over `dataShape`) into their places in the block:
 * output position k of dimension d's segment is at `position(d, k)` along d in the read.
 */
function gather(
  out: NumericArray,
  blockStrides: number[],
  data: NumericArray,
  dataShape: number[],
  segs: Segment[],
  s: number,
  position: (d: number, k: number) => number,
): void {
  const rank = dataShape.length;
  const wStrides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    wStrides[d] = acc;
    acc *= dataShape[d]!;
  }
  // Per dimension: (offset in block, offset in the read) of each picked position of this segment.
  const maps = segs.map((seg, d) => {
    const base = d < s ? seg.from : d === s ? segs[s]!.from : 0;
    const n = seg.to - seg.from;
    const blockOff = new Int32Array(n);
    const winOff = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      blockOff[k] = (seg.from + k - base) * blockStrides[d]!;
      winOff[k] = position(d, k) * wStrides[d]!;
    }
    return { blockOff, winOff };
  });
  const index = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const lastMap = maps[last]!;
  // Typed as float64 for indexing only: the copy is element for element, bigint arrays included.
  const dst = out as Float64Array;
  const src = data as Float64Array;
  for (;;) {
    let b = 0;
    let w = 0;
    for (let d = 0; d < last; d++) {
      b += maps[d]!.blockOff[index[d]!]!;
      w += maps[d]!.winOff[index[d]!]!;
    }
    for (let k = 0; k < lastMap.blockOff.length; k++) dst[b + lastMap.blockOff[k]!] = src[w + lastMap.winOff[k]!]!;
    let d = last - 1;
    while (d >= 0 && ++index[d]! === maps[d]!.blockOff.length) index[d--] = 0;
    if (d < 0) return;
  }
}
