import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage, isValidKey, newMediaKey, type Storage } from '../src/core/storage.js';
import { pngOf } from './fake-images.js';
import { buildTestApp, type TestApp } from './harness.js';
import { startS3, type TestS3 } from './s3-server.js';

/**
 * core/storage.ts: the same cases on both stores — a folder under DATA_DIR and an S3-compatible server (s3rver,
 * started here) through the AWS SDK — and the media route serving a stored file from S3.
 */

let s3: TestS3;
let folder: string;
const stores: Record<'local' | 's3', Storage> = {} as never;

beforeAll(async () => {
  s3 = await startS3();
  folder = mkdtempSync(join(tmpdir(), 'cf-storage-'));
  stores.local = createStorage({ dir: folder, s3: null }, 'https://cdn.example.com');
  stores.s3 = createStorage({ dir: '', s3: s3.config }, 'https://cdn.example.com');
});
afterAll(async () => {
  stores.s3?.close();
  await s3?.close();
});

describe.each(['local', 's3'] as const)('the %s store', (kind) => {
  const store = () => stores[kind];

  it('stores bytes and gives them back with their content type', async () => {
    const key = newMediaKey('png');
    const png = pngOf(3, 2);
    await store().put(key, png, 'image/png');
    const file = await store().get(key);
    expect(file).toEqual({ body: png, contentType: 'image/png', bytes: png.length });
    expect(store().kind).toBe(kind);
  });

  it('keeps binary bytes exactly (every byte value, no text decoding)', async () => {
    const key = `bin/${newMediaKey('bin')}`;
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    await store().put(key, bytes, 'application/octet-stream');
    expect((await store().get(key))?.body.equals(bytes)).toBe(true);
  });

  it('replaces what a key held', async () => {
    const key = newMediaKey('txt');
    await store().put(key, Buffer.from('first'), 'text/plain');
    await store().put(key, Buffer.from('second, longer'), 'text/markdown');
    expect(await store().get(key)).toEqual({ body: Buffer.from('second, longer'), contentType: 'text/markdown', bytes: 14 });
  });

  it('answers null for a key it does not hold, and deletes twice without complaint', async () => {
    const key = newMediaKey('png');
    expect(await store().get(key)).toBeNull();
    await store().put(key, Buffer.from('x'), 'image/png');
    await store().delete(key);
    await store().delete(key);
    expect(await store().get(key)).toBeNull();
  });

  it('refuses keys that could leave its folder, before touching anything', async () => {
    for (const key of ['../secret', 'a/../../b', '/etc/passwd', '.hidden', 'a//b', 'a/./b', '', 'a\\b', `x${'y'.repeat(200)}`]) {
      expect(isValidKey(key), key).toBe(false);
      expect(await store().get(key), key).toBeNull();
      await expect(store().put(key, Buffer.from('x'), 'text/plain'), key).rejects.toThrow(/Invalid storage key/);
      await expect(store().delete(key), key).rejects.toThrow(/Invalid storage key/);
    }
  });

  it('says where clients read a file', () => {
    expect(store().urlFor('abc.png')).toBe('https://cdn.example.com/media/abc.png');
  });
});

describe('keys and the folder store', () => {
  it('makes unguessable keys: 32 random bytes, base64url, with the extension', () => {
    const keys = new Set(Array.from({ length: 200 }, () => newMediaKey('.PNG')));
    expect(keys.size).toBe(200);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}\.png$/);
      expect(isValidKey(key)).toBe(true);
    }
    expect(() => newMediaKey('p/ng')).toThrow();
  });

  it('writes through a temporary file and leaves none behind', async () => {
    const key = newMediaKey('png');
    await Promise.all(Array.from({ length: 5 }, (_, i) => stores.local.put(key, pngOf(2 + i, 2), 'image/png')));
    const files = readdirSync(join(folder, 'files'));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Whichever write renamed last, the file is one whole PNG of the five.
    const stored = readFileSync(join(folder, 'files', key));
    expect([2, 3, 4, 5, 6].some((w) => stored.equals(pngOf(w, 2)))).toBe(true);
  });

  it('uses a relative /media path when PUBLIC_URL is unset', () => {
    expect(createStorage({ dir: folder, s3: null }, '').urlFor('k.png')).toBe('/media/k.png');
  });
});

describe('the media route on S3', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(s3.env);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves a stored file with its type, a long cache and an ETag; 304 on a match', async () => {
    const { storage } = t.app.services;
    expect(storage.kind).toBe('s3');
    const key = newMediaKey('png');
    const png = pngOf(5, 4);
    await storage.put(key, png, 'image/png');
    const res = await t.request({ method: 'GET', url: `/media/${key}` });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(png)).toBe(true);
    expect(res.headers).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(png.length),
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'cross-origin',
    });
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await t.request({ method: 'GET', url: `/media/${key}`, headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const head = await t.request({ method: 'HEAD', url: `/media/${key}` });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(png.length));
  });

  it('answers 404 in the contract shape for an unknown or malformed key', async () => {
    for (const url of [
      `/media/${newMediaKey('png')}`,
      '/media/..%2F..%2Fetc%2Fpasswd',
      '/media/.env',
      `/media/${'a'.repeat(300)}`,
    ]) {
      const res = await t.request({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ success: false, code: 'not_found', request_id: expect.any(String) });
    }
  });
});
