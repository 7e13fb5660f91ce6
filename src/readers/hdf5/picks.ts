/**
 * Decimated reads of chunked HDF5 data: copying the picked cells of one decoded chunk to their
 * places in the output. Shared by the main thread and the chunk-decoding workers (./picks-worker.ts).
 */

/** A range of positions in one dimension's pick list (the picks falling in one chunk). */
export interface PickRange {
  from: number;
  to: number;
}

export function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= shape[d]!;
  }
  return strides;
}

/**
 * Copies the picked cells of one chunk (`ranges[d]`: the positions in `picks[d]` that fall in it)
 * to their output places. A shuffled chunk holds byte b of element e at b·n + e.
 */
export function copyPicked(
  src: Uint8Array,
  shuffled: boolean,
  chunkStrides: number[],
  origin: number[],
  picks: Int32Array[],
  ranges: PickRange[],
  out: Uint8Array,
  outStrides: number[],
  item: number,
): void {
  const rank = picks.length;
  const last = rank - 1;
  // Source and output element offsets along the last dimension, computed once.
  const lastRange = ranges[last]!;
  const runs = lastRange.to - lastRange.from;
  const srcLast = new Int32Array(runs);
  const outLast = new Int32Array(runs);
  for (let k = 0; k < runs; k++) {
    srcLast[k] = picks[last]![lastRange.from + k]! - origin[last]!;
    outLast[k] = lastRange.from + k;
  }
  const n = Math.floor(src.length / item);
  const aligned16 = item === 2 && !shuffled && src.byteOffset % 2 === 0 && out.byteOffset % 2 === 0;
  const src16 = aligned16 ? new Uint16Array(src.buffer, src.byteOffset, n) : undefined;
  const out16 = aligned16 ? new Uint16Array(out.buffer, out.byteOffset, out.length >> 1) : undefined;
  const idx = ranges.map((r) => r.from);
  for (;;) {
    let s = 0;
    let o = 0;
    for (let d = 0; d < last; d++) {
      s += (picks[d]![idx[d]!]! - origin[d]!) * chunkStrides[d]!;
      o += idx[d]! * outStrides[d]!;
    }
    if (src16 && out16) {
      for (let k = 0; k < runs; k++) out16[o + outLast[k]!] = src16[s + srcLast[k]!]!;
    } else if (shuffled) {
      for (let k = 0; k < runs; k++) {
        const e = s + srcLast[k]!;
        const to = (o + outLast[k]!) * item;
        for (let b = 0; b < item; b++) out[to + b] = src[b * n + e]!;
      }
    } else {
      for (let k = 0; k < runs; k++) {
        const from = (s + srcLast[k]!) * item;
        const to = (o + outLast[k]!) * item;
        for (let b = 0; b < item; b++) out[to + b] = src[from + b]!;
      }
    }
    let d = last - 1;
    while (d >= 0 && ++idx[d]! === ranges[d]!.to) {
      idx[d] = ranges[d]!.from;
      d--;
    }
    if (d < 0) return;
  }
}

/** The picked cells of a block read whole (`shape` at `origin`, bytes), row-major into `out`. */
export function pickFromBlock(
  block: Uint8Array,
  shape: number[],
  origin: number[],
  picks: Int32Array[],
  out: Uint8Array,
  item: number,
): void {
  copyPicked(
    block,
    false,
    stridesOf(shape),
    origin,
    picks,
    picks.map((p) => ({ from: 0, to: p.length })),
    out,
    stridesOf(picks.map((p) => p.length)),
    item,
  );
}
