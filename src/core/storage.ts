import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config, StorageConfig } from './config.js';

/**
 * Stored files (generated images, later exports): one interface over two stores, chosen by configuration — a
 * folder under DATA_DIR (`DATA_DIR/media`) by default, any S3-compatible bucket when S3_BUCKET is set. Callers
 * never know which: they `put` bytes under a key and get back what they stored; `urlFor` is where clients read
 * it (`/media/<key>`, served by core/media.ts from whichever store holds it).
 *
 * Keys are chosen by the caller (`newMediaKey()` makes unguessable ones) and checked here: letters, digits,
 * `_`, `-` and dots, in `/`-separated segments that never start with a dot, so no key can name a file outside
 * the store's folder (`..`, absolute paths and hidden files are refused before any file is touched).
 */

export interface StoredFile {
  body: Buffer;
  contentType: string;
  bytes: number;
}

export interface Storage {
  readonly kind: 'local' | 's3';
  /** Stores `bytes` under `key`, replacing what was there; whole or not at all (a reader never sees half a file). */
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The stored file, or null when there is none under `key` (or the key is malformed). */
  get(key: string): Promise<StoredFile | null>;
  /** Removes the file; a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Where clients read it: `${PUBLIC_URL}/media/<key>` (a path from the API's root when PUBLIC_URL is unset). */
  urlFor(key: string): string;
  /** Lets go of connections (the S3 client's sockets). */
  close(): void;
}

const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]*';
const KEY_PATTERN = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);
export const MAX_KEY_LENGTH = 200;

export function isValidKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH && KEY_PATTERN.test(key) && !key.split('/').includes('..');
}

function checkKey(key: string): void {
  // A programming error: callers make keys with newMediaKey() or validate what a client sent with isValidKey().
  if (!isValidKey(key)) throw new Error(`Invalid storage key "${key.slice(0, 80)}"`);
}

/** 32 random bytes (base64url) and the extension: nobody can guess another file's address. */
export function newMediaKey(extension: string): string {
  const ext = extension.replace(/^\./, '').toLowerCase();
  if (!/^[a-z0-9]{1,10}$/.test(ext)) throw new Error(`Invalid extension "${extension}"`);
  return `${randomBytes(32).toString('base64url')}.${ext}`;
}

export const MEDIA_PATH = '/media';

export function createStorage(config: StorageConfig, publicUrl: string): Storage {
  const urlFor = (key: string) => `${publicUrl}${MEDIA_PATH}/${key}`;
  return config.s3 ? s3Storage(config.s3, urlFor) : localStorage(config.dir, urlFor);
}

// ---------------------------------------------------------------------------------------------------------
// A folder: `<dir>/files/<key>` holds the bytes, `<dir>/types/<key>` the content type. Each is written to a
// temporary file beside it and renamed into place (a rename is atomic on one filesystem), the type first, so a
// file that can be read always has its type.

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

function localStorage(dir: string, urlFor: (key: string) => string): Storage {
  const root = resolve(dir);
  const filesRoot = join(root, 'files');
  const typesRoot = join(root, 'types');

  /** The key's path under one of the two folders; never outside it (checked again after resolving). */
  function pathIn(base: string, key: string): string {
    checkKey(key);
    const path = resolve(base, key);
    if (!path.startsWith(base + sep)) throw new Error(`Storage key "${key}" leaves the storage folder`);
    return path;
  }

  async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, data, { flag: 'wx' });
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  return {
    kind: 'local',
    urlFor,
    close() {},
    async put(key, bytes, contentType) {
      await writeAtomically(pathIn(typesRoot, key), contentType);
      await writeAtomically(pathIn(filesRoot, key), bytes);
    },
    async get(key) {
      if (!isValidKey(key)) return null;
      let body: Buffer;
      try {
        body = await readFile(pathIn(filesRoot, key));
      } catch (error) {
        if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EISDIR') return null;
        throw error;
      }
      const contentType = await readFile(pathIn(typesRoot, key), 'utf8').catch((error) => {
        if (isMissing(error)) return 'application/octet-stream';
        throw error;
      });
      return { body, contentType, bytes: body.length };
    },
    async delete(key) {
      await rm(pathIn(filesRoot, key), { force: true });
      await rm(pathIn(typesRoot, key), { force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// An S3-compatible bucket through the AWS SDK. Credentials and region are given explicitly, so the SDK takes
// nothing from AWS_* variables or ~/.aws. With an endpoint (not AWS itself), checksums are sent and checked only
// where an operation requires them: many S3-compatible servers refuse the SDK's default CRC32 headers.

function s3Storage(config: S3Config, urlFor: (key: string) => string): Storage {
  const thirdParty = config.endpoint !== null;
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    maxAttempts: 3,
    ...(thirdParty ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  });
  const Bucket = config.bucket;

  return {
    kind: 's3',
    urlFor,
    close: () => client.destroy(),
    async put(key, bytes, contentType) {
      checkKey(key);
      // One PUT of a known length: S3 stores an object whole or not at all.
      await client.send(
        new PutObjectCommand({ Bucket, Key: key, Body: bytes, ContentType: contentType, ContentLength: bytes.byteLength }),
      );
    },
    async get(key) {
      if (!isValidKey(key)) return null;
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        const body = Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array());
        return { body, contentType: answer.ContentType ?? 'application/octet-stream', bytes: body.length };
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
        throw error;
      }
    },
    async delete(key) {
      checkKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
  };
}
