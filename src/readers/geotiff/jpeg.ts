/**
 * JPEG-in-TIFF (compression 7) decoded by libjpeg-turbo (WebAssembly), the library GDAL, QGIS and
 * rasterio decode it with: JPEG is lossy, and decoders differ in their inverse DCT, chroma
 * upsampling and YCbCr→RGB rounding (geotiff.js's own decoder is off by up to ±13 on a YCbCr COG),
 * so only the same library gives a client the values it reads from the file itself. libjpeg-turbo
 * converts YCbCr to RGB as GDAL asks it to (JPEGCOLORMODE=RGB): tiles of YCbCr images come out as
 * RGB samples, read like any pixel-interleaved image.
 *
 * Images whose JPEG data are not YCbCr or grey (RGB or CMYK components, rare) keep geotiff.js's
 * decoder: libjpeg-turbo would take three components for YCbCr without the colour-space setting
 * this build does not expose.
 */
import { createRequire } from 'node:module';
import { addDecoder, BaseDecoder, getDecoder } from 'geotiff';

export const JPEG_COMPRESSION = 7;
const PHOTOMETRIC_YCBCR = 6;
const PHOTOMETRIC_GREY = new Set([0, 1]);

interface FrameInfo {
  width: number;
  height: number;
  componentCount: number;
}

interface LibJpegDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  delete(): void;
}

interface LibJpegModule {
  JPEGDecoder: new () => LibJpegDecoder;
}

type DecoderParameters = ConstructorParameters<typeof BaseDecoder>[0] & {
  JPEGTables?: Uint8Array;
  photometric?: number;
};

let codec: Promise<LibJpegModule> | undefined;

function libjpeg(): Promise<LibJpegModule> {
  codec ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs') as () => Promise<LibJpegModule>;
    return factory();
  })();
  return codec;
}

/** An abbreviated TIFF tile joined to the file's JPEGTables: tables without their EOI, then the tile without its SOI. */
function withTables(tables: Uint8Array | undefined, tile: Uint8Array): Uint8Array {
  if (!tables || tables.length < 4) return tile;
  const out = new Uint8Array(tables.length - 2 + tile.length - 2);
  out.set(tables.subarray(0, tables.length - 2));
  out.set(tile.subarray(2), tables.length - 2);
  return out;
}

/** Decodes one JPEG stream to interleaved 8-bit samples (RGB for YCbCr data, grey as is). */
async function decodeJpeg(stream: Uint8Array): Promise<{ frame: FrameInfo; samples: Uint8Array }> {
  const { JPEGDecoder } = await libjpeg();
  const decoder = new JPEGDecoder();
  try {
    decoder.getEncodedBuffer(stream.length).set(stream);
    decoder.decode();
    const frame = decoder.getFrameInfo();
    return {
      frame: { width: frame.width, height: frame.height, componentCount: frame.componentCount },
      samples: decoder.getDecodedBuffer().slice(),
    };
  } finally {
    decoder.delete();
  }
}

class LibJpegTiffDecoder extends BaseDecoder {
  private fallback: Promise<BaseDecoder> | undefined;

  constructor(private readonly options: DecoderParameters) {
    super(options);
  }

  override async decodeBlock(buffer: ArrayBufferLike): Promise<ArrayBufferLike> {
    const photometric = this.options.photometric;
    if (photometric !== PHOTOMETRIC_YCBCR && !PHOTOMETRIC_GREY.has(photometric ?? -1)) {
      this.fallback ??= geotiffJpeg!.then((Decoder) => new Decoder(this.options));
      return (await this.fallback).decodeBlock(buffer);
    }
    const { samples } = await decodeJpeg(withTables(this.options.JPEGTables, new Uint8Array(buffer)));
    return samples.buffer;
  }
}

let registered = false;
/** geotiff.js's own JPEG decoder class, taken from its registry before ours replaces it. */
let geotiffJpeg: Promise<new (p: DecoderParameters) => BaseDecoder> | undefined;

/** Makes geotiff.js decode JPEG tiles and strips with libjpeg-turbo (idempotent). */
export function useLibjpegForTiff(): void {
  if (registered) return;
  registered = true;
  const probe = { tileWidth: 1, tileHeight: 1, planarConfiguration: 1, bitsPerSample: 8, predictor: 1 };
  geotiffJpeg = getDecoder(JPEG_COMPRESSION, probe).then(
    (d) => d.constructor as new (p: DecoderParameters) => BaseDecoder,
  );
  geotiffJpeg.catch(() => undefined);
  addDecoder(
    JPEG_COMPRESSION,
    () => Promise.resolve(LibJpegTiffDecoder as unknown as typeof BaseDecoder),
    async (fileDirectory) => {
      const isTiled = !fileDirectory.hasTag('StripOffsets');
      return {
        tileWidth: isTiled ? await fileDirectory.loadValue('TileWidth') : await fileDirectory.loadValue('ImageWidth'),
        tileHeight: isTiled
          ? await fileDirectory.loadValue('TileLength')
          : (await fileDirectory.loadValue('RowsPerStrip')) || (await fileDirectory.loadValue('ImageLength')),
        planarConfiguration: await fileDirectory.loadValue('PlanarConfiguration'),
        bitsPerSample: await fileDirectory.loadValue('BitsPerSample'),
        predictor: (await fileDirectory.loadValue('Predictor')) || 1,
        JPEGTables: await fileDirectory.loadValue('JPEGTables'),
        photometric: await fileDirectory.loadValue('PhotometricInterpretation'),
      } as DecoderParameters;
    },
    false,
  );
}
