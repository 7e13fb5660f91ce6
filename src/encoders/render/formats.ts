/**
 * Map image formats besides PNG: JPEG (jpeg-js, no transparency: empty pixels take the background,
 * white by default) and WebP (libwebp as WebAssembly from @jsquash/webp, with alpha), both from
 * the indexed images the renderer draws.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import type { IndexedImage } from './png.js';

export type LossyFormat = 'jpeg' | 'webp';

const QUALITY = 90;

/** RGBA bytes of an indexed image; with a background, transparent pixels are painted with it. */
function rgbaOf(img: IndexedImage, background?: [number, number, number]): Uint8Array {
  const out = new Uint8Array(img.width * img.height * 4);
  const pal = img.palette;
  for (let p = 0; p < img.pixels.length; p++) {
    const k = img.pixels[p]! * 4;
    const a = pal[k + 3] ?? 0;
    if (background && a < 255) {
      const f = a / 255;
      out[p * 4] = Math.round(pal[k]! * f + background[0] * (1 - f));
      out[p * 4 + 1] = Math.round(pal[k + 1]! * f + background[1] * (1 - f));
      out[p * 4 + 2] = Math.round(pal[k + 2]! * f + background[2] * (1 - f));
      out[p * 4 + 3] = 255;
    } else out.set(pal.subarray(k, k + 4), p * 4);
  }
  return out;
}

interface WebpEncoder {
  (
    data: { width: number; height: number; data: Uint8ClampedArray; colorSpace: 'srgb' },
    options?: object,
  ): Promise<ArrayBuffer>;
}
let webpEncoder: Promise<WebpEncoder> | undefined;

/** The part of the WebAssembly global used here (the project's lib settings leave it undeclared). */
interface Wasm {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** The WebAssembly encoder, compiled on first use from the package's file (no fetch in Node). */
function webp(): Promise<WebpEncoder> {
  webpEncoder ??= (async () => {
    const mod = (await import('@jsquash/webp/encode.js')) as unknown as {
      default: WebpEncoder;
      init: (opts: object) => Promise<unknown>;
    };
    const dir = dirname(createRequire(import.meta.url).resolve('@jsquash/webp/package.json'));
    const wasm = await wasmApi.compile(await readFile(join(dir, 'codec', 'enc', 'webp_enc.wasm')));
    await mod.init({
      instantiateWasm: (imports: object, done: (instance: object) => void) => {
        void wasmApi.instantiate(wasm, imports).then(done);
        return {};
      },
    });
    return mod.default;
  })();
  webpEncoder.catch(() => (webpEncoder = undefined));
  return webpEncoder;
}

/** A JPEG or WebP of an indexed image. */
export async function encodeLossy(
  img: IndexedImage,
  format: LossyFormat,
  background?: [number, number, number],
): Promise<Buffer> {
  if (format === 'jpeg') {
    const data = Buffer.from(rgbaOf(img, background ?? [255, 255, 255]).buffer);
    return jpeg.encode({ data, width: img.width, height: img.height }, QUALITY).data;
  }
  const rgba = rgbaOf(img, background);
  const out = await (
    await webp()
  )(
    { width: img.width, height: img.height, data: new Uint8ClampedArray(rgba.buffer), colorSpace: 'srgb' },
    { quality: QUALITY },
  );
  return Buffer.from(out);
}
