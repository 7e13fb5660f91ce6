/**
 * Apache Arrow IPC stream (application/vnd.apache.arrow.stream): columns [id], time, lon, lat, [z],
 * then one float64 column per parameter; pandas (`pyarrow.ipc.open_stream`) and polars read it.
 *
 * `RecordBatchStreamWriter.throughNode()` ignores backpressure, so the stream is framed here: the
 * schema message once, then each batch's message, then the end-of-stream marker, each yielded as
 * the HTTP response asks for more. A batch is serialised by the library (one-batch stream) and its
 * schema message and end marker are cut off: IPC messages are self-delimiting (0xFFFFFFFF, int32
 * metadata length, metadata, body), so the cut is exact.
 */
import {
  Field,
  Float64,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  makeData,
  type Data,
} from 'apache-arrow';
import type { RowBatch, Table } from './rows.js';

/** End of stream: continuation marker and a zero metadata length. */
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function validity(values: Float64Array): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { nullBitmap: nullCount > 0 ? bitmap : undefined, nullCount };
}

function floats(values: Float64Array): Data<Float64> {
  const { nullBitmap, nullCount } = validity(values);
  return makeData({
    type: new Float64(),
    length: values.length,
    nullCount,
    data: values,
    ...(nullBitmap ? { nullBitmap } : {}),
  });
}

function times(ms: Float64Array): Data<TimestampMillisecond> {
  const { nullBitmap, nullCount } = validity(ms);
  const data = new BigInt64Array(ms.length);
  for (let i = 0; i < ms.length; i++) data[i] = Number.isFinite(ms[i]!) ? BigInt(Math.round(ms[i]!)) : 0n;
  // Timestamp data are int64 stored as pairs of int32 (the library's layout for 64-bit types).
  return makeData({
    type: new TimestampMillisecond('UTC'),
    length: ms.length,
    nullCount,
    data: new Int32Array(data.buffer),
    ...(nullBitmap ? { nullBitmap } : {}),
  });
}

function repeatedString(text: string, n: number): Data<Utf8> {
  const bytes = new TextEncoder().encode(text);
  const valueOffsets = new Int32Array(n + 1);
  const data = new Uint8Array(bytes.length * n);
  for (let i = 0; i < n; i++) {
    data.set(bytes, i * bytes.length);
    valueOffsets[i + 1] = (i + 1) * bytes.length;
  }
  return makeData({ type: new Utf8(), length: n, nullCount: 0, data, valueOffsets });
}

/** Length of the first IPC message (the schema), from its prefix. */
function firstMessageLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const continuation = view.getUint32(0, true) === 0xffffffff;
  const metaLength = view.getInt32(continuation ? 4 : 0, true);
  return (continuation ? 8 : 4) + metaLength;
}

export async function* arrowStream(p: Table): AsyncGenerator<Uint8Array> {
  const { withId, withZ } = p;
  const zName = p.vertical?.name ?? 'z';
  const meta = (units?: string) => (units ? new Map([['units', units]]) : null);
  const fields: Field[] = [
    ...(withId ? [new Field('id', new Utf8(), false)] : []),
    new Field('time', new TimestampMillisecond('UTC'), true),
    new Field('lon', new Float64(), true, meta('degrees_east')),
    new Field('lat', new Float64(), true, meta('degrees_north')),
    ...(withZ
      ? [
          new Field(
            zName === 'lon' || zName === 'lat' || zName === 'time' ? 'z' : zName,
            new Float64(),
            true,
            meta(p.vertical?.units),
          ),
        ]
      : []),
    ...p.parameters.map((q) => new Field(q.name, new Float64(), true, meta(q.units))),
  ];
  const schema = new Schema(
    fields,
    new Map([
      ['odas:collection', p.collectionId],
      ['odas:request', p.request],
    ]),
  );
  const encode = (b: RowBatch): Uint8Array => {
    const children: Data[] = [
      ...(withId ? [repeatedString(b.id ?? '', b.n)] : []),
      times(b.t),
      floats(b.x),
      floats(b.y),
      ...(withZ ? [floats(b.z ?? new Float64Array(b.n).fill(NaN))] : []),
      ...p.parameters.map((q) => floats(b.values[q.name] ?? new Float64Array(b.n).fill(NaN))),
    ];
    const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.n, nullCount: 0, children }));
    return RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  };
  let schemaSent = false;
  for await (const b of p.batches()) {
    const bytes = encode(b);
    const cut = firstMessageLength(bytes);
    if (!schemaSent) {
      yield bytes.subarray(0, cut);
      schemaSent = true;
    }
    yield bytes.subarray(cut, bytes.length - EOS.length);
  }
  if (!schemaSent) {
    // No rows: a stream with the schema only, so readers still learn the columns.
    const empty = RecordBatchStreamWriter.writeAll([
      new RecordBatch(
        schema,
        makeData({
          type: new Struct(fields),
          length: 0,
          nullCount: 0,
          children: fields.map((f) => makeData({ type: f.type, length: 0, nullCount: 0 })),
        }),
      ),
    ]).toUint8Array(true);
    yield empty.subarray(0, firstMessageLength(empty));
  }
  yield EOS;
}
