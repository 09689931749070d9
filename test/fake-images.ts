import { deflateSync } from 'node:zlib';
import type { FakeAnswer, FakeRequest } from './fake-openai.js';

/**
 * The image side of the fake OpenAI server (test/fake-openai.ts): real PNGs of a known size, and a `respond`
 * that answers the `image_prompts` chat calls and `/images/generations` the way a provider would, with the
 * faults a test asks for (not an image, an oversized file, a 5xx, malformed prompts JSON, a slow answer).
 *
 *   fake.respond = imageResponder({ width: 64, height: 48 });
 *   fake.respond = imageResponder({ image: 'not_an_image' });
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid RGB PNG of `width` × `height`, a gradient so each size has its own bytes. */
export function pngOf(width: number, height: number, seed = 0): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = (x * 4 + seed) & 0xff;
      row[2 + x * 3] = (y * 4 + seed) & 0xff;
      row[3 + x * 3] = (x + y + seed * 7) & 0xff;
    }
    rows.push(row);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Bytes that are no image format at all. */
export const NOT_AN_IMAGE = Buffer.from('<html><body>This is a web page, not an image.</body></html>');

/**
 * A file that sniffs as a PNG but is larger than `bytes`: a real PNG header and padding after its end (how a
 * provider's answer could be too big without decoding it).
 */
export function oversizedPng(bytes: number): Buffer {
  const png = pngOf(8, 8);
  return Buffer.concat([png, Buffer.alloc(Math.max(0, bytes - png.length + 1))]);
}

export interface ImagePromptsAnswer {
  featured: { prompt: string; alt_text: string; caption?: string };
  in_article: { prompt: string; alt_text: string; caption?: string }[];
}

/** An `image_prompts` answer with `count` in-article prompts, each naming its place so tests can follow it. */
export function promptsAnswer(count: number, label = 'Article'): ImagePromptsAnswer {
  return {
    featured: { prompt: `A wide hero photo for ${label}`, alt_text: `${label}: hero image`, caption: `${label} at a glance` },
    in_article: Array.from({ length: count }, (_, i) => ({
      prompt: `Illustration ${i + 1} for ${label}`,
      alt_text: `${label}: illustration ${i + 1}`,
      caption: `Figure ${i + 1}`,
    })),
  };
}

/** How many in-article prompts the call asked for, read from the rendered prompt (`… and 3 in-article …`). */
export function askedCount(request: FakeRequest): number {
  const user = (request.body?.messages ?? []).find((m: { role: string }) => m.role === 'user')?.content ?? '';
  return Number(/(\d+) in-article image prompts?/.exec(String(user))?.[1] ?? 0);
}

export type ImageFault = 'not_an_image' | 'oversized' | 'server_error' | 'url';

export interface ImageResponderOptions {
  width?: number;
  height?: number;
  /** What `/images/generations` answers: a PNG (default) or a fault. */
  image?: ImageFault | ((index: number) => ImageFault | 'png');
  /** `malformed`: the prompts call answers JSON of the wrong shape (twice, so the engine gives up). */
  prompts?: 'ok' | 'malformed';
  /** Milliseconds before each answer (a slow provider). */
  delayMs?: number;
  /** Bytes of the oversized answer (default 21 MiB). */
  oversizedBytes?: number;
  /** For `url` answers: where the image is served (a test server's URL). */
  imageUrl?: string;
}

/** A `respond` for the fake OpenAI server: image prompts for chat calls, images for image calls. */
export function imageResponder(options: ImageResponderOptions = {}): (request: FakeRequest) => FakeAnswer {
  let images = 0;
  return (request) => {
    const delay = options.delayMs ? { delayMs: options.delayMs } : {};
    if (request.path.endsWith('/chat/completions')) {
      if (options.prompts === 'malformed') return { ...delay, json: { featured: 'a photo', in_article: 'none' } };
      return { ...delay, json: promptsAnswer(askedCount(request)), usage: { prompt_tokens: 300, completion_tokens: 120 } };
    }
    const index = images++;
    const kind = typeof options.image === 'function' ? options.image(index) : (options.image ?? 'png');
    switch (kind) {
      case 'not_an_image':
        return { ...delay, image: { b64: NOT_AN_IMAGE.toString('base64') } };
      case 'oversized':
        return { ...delay, image: { b64: oversizedPng(options.oversizedBytes ?? 21 * 1024 * 1024).toString('base64') } };
      case 'server_error':
        return { ...delay, status: 500, message: 'fake-openai: the image model is down' };
      case 'url':
        return { ...delay, image: { url: options.imageUrl ?? 'http://127.0.0.1:9/missing.png' } };
      default:
        return {
          ...delay,
          image: { b64: pngOf(options.width ?? 64, options.height ?? 48, index).toString('base64'), revised_prompt: 'revised' },
        };
    }
  };
}
