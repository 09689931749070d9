import { imageSize } from 'image-size';
import { AiError, type ImageAnswer } from '../../core/ai.provider.js';
import { AppError } from '../../core/errors.js';

/**
 * What the image model sent, as a file we are willing to store: decoded (base64) or fetched (a URL, read with a
 * size cap so a huge answer is refused before it is all in memory), then sniffed from its bytes with
 * `image-size` — never trusted from a header or a name — as one of the raster formats browsers show. Anything
 * else, or anything larger than the cap, is refused with an error saying which, and nothing is charged for it.
 */

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** Formats stored and served: what every browser shows (no SVG: it can carry scripts). */
const FORMATS: Record<string, { mime: string; extension: string }> = {
  png: { mime: 'image/png', extension: 'png' },
  jpg: { mime: 'image/jpeg', extension: 'jpg' },
  gif: { mime: 'image/gif', extension: 'gif' },
  webp: { mime: 'image/webp', extension: 'webp' },
};

export interface ImageFile {
  bytes: Buffer;
  mime: string;
  extension: string;
  width: number;
  height: number;
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

export const tooLarge = (bytes: number | null, max: number) =>
  new AppError(
    'payload_too_large',
    `The image model sent a file ${bytes === null ? 'larger than' : `of ${mib(bytes)}, over`} the ${mib(max)} limit; it was not stored and nothing was charged.`,
    { details: { max_bytes: max, ...(bytes === null ? {} : { bytes }) } },
  );

export const notAnImage = (why: string) =>
  new AppError(
    'unsupported_media_type',
    `The image model sent something that is not an image we store (${why}); it was not stored and nothing was charged. Accepted: PNG, JPEG, GIF, WebP.`,
  );

/** The bytes of a base64 answer, refused by its length before it is decoded when it cannot fit. */
function decodeBase64(b64: string, max: number): Buffer {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  const decodedLength = Math.floor((b64.length * 3) / 4) - padding;
  if (decodedLength > max) throw tooLarge(decodedLength, max);
  return Buffer.from(b64, 'base64');
}

/** A URL answer, read with the cap: a declared length over it stops at once, a body that grows past it too. */
async function download(url: string, max: number, signal: AbortSignal | undefined): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw notAnImage('its URL is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw notAnImage(`its URL is ${parsed.protocol} rather than https:`);
  let response: Response;
  try {
    response = await fetch(parsed, { signal, redirect: 'follow' });
  } catch {
    if (signal?.aborted) throw signal.reason;
    throw new AiError(
      'provider_error',
      `Could not download the image from the AI provider (${parsed.host}).`,
      {},
      { transient: true },
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel().catch(() => {});
    throw new AiError(
      'provider_error',
      `Downloading the image from the AI provider answered ${response.status}.`,
      { status: response.status },
      { transient: response.status >= 500 || response.status === 429 },
    );
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await response.body.cancel().catch(() => {});
    throw tooLarge(declared, max);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(null, max);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Sniffs the bytes: a format we store, with its width and height, or a clear refusal. */
export function sniffImage(bytes: Buffer): Omit<ImageFile, 'bytes'> {
  if (bytes.length === 0) throw notAnImage('it is empty');
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    throw notAnImage('its bytes are no known image format');
  }
  const format = size.type ? FORMATS[size.type] : undefined;
  if (!format) throw notAnImage(`it is ${size.type ? size.type.toUpperCase() : 'an unknown format'}`);
  if (!(size.width > 0 && size.height > 0)) throw notAnImage('it has no width or height');
  return { ...format, width: size.width, height: size.height };
}

/** The answer's file, checked: decoded or downloaded within `max` bytes, then sniffed. */
export async function readImage(
  answer: Pick<ImageAnswer, 'b64' | 'url'>,
  options: { maxBytes?: number; signal?: AbortSignal } = {},
): Promise<ImageFile> {
  const max = options.maxBytes ?? MAX_IMAGE_BYTES;
  const bytes = answer.b64 ? decodeBase64(answer.b64, max) : await download(answer.url ?? '', max, options.signal);
  if (bytes.length > max) throw tooLarge(bytes.length, max);
  return { bytes, ...sniffImage(bytes) };
}
