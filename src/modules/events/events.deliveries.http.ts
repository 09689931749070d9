import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, literalRefused, UnsafeAddressError } from '../../core/public-network.js';

/** One POST of one event to one receiver, signed the Standard Webhooks way. */

export const RESPONSE_BODY_LIMIT = 2048;

export interface SendOutcome {
  /** The receiver's status, or null when no answer came (refused, timed out, unsafe address). */
  status: number | null;
  body: string | null;
  latencyMs: number;
  error: string | null;
}

/**
 * `v1,<sig>` per secret, space-separated: during a rotation's 24 hours both the new and the old secret sign, so a
 * receiver still holding either verifies (standardwebhooks' verify accepts any one of the listed signatures).
 */
export function signatures(secrets: string[], messageId: string, at: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(messageId, at, body)).join(' ');
}

export async function postSigned(options: {
  url: string;
  messageId: string;
  body: string;
  secrets: string[];
  timeoutMs: number;
  allowPrivate: boolean;
  signal?: AbortSignal;
}): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const refused = literalRefused(options.url, options.allowPrivate);
  if (refused) return { status: null, body: null, latencyMs: 0, error: new UnsafeAddressError(refused).message };
  const at = new Date();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'ContentFlow-Webhooks/1',
    'webhook-id': options.messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures(options.secrets, options.messageId, at, options.body),
    'content-length': String(Buffer.byteLength(options.body)),
  };
  const url = new URL(options.url);
  const client = url.protocol === 'https:' ? https : http;
  const lookup = guardedLookup(options.allowPrivate);
  return new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<SendOutcome, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, latencyMs: elapsed() });
    };
    const request = client.request(url, {
      method: 'POST',
      headers,
      // No connection reuse: each attempt resolves (and checks) the host again, and a hung peer holds nothing.
      agent: false,
      ...(lookup ? { lookup: lookup as never } : {}),
      signal: options.signal,
    });
    // The whole attempt (resolve, connect, send, answer) within the limit, not only the socket's idle time.
    const timer = setTimeout(() => {
      request.destroy(new Error(`No answer within ${options.timeoutMs} ms.`));
    }, options.timeoutMs);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_BODY_LIMIT) chunks.push(chunk);
        size += chunk.length;
        // Enough kept: the rest of a large answer is not waited for.
        if (size >= RESPONSE_BODY_LIMIT) response.destroy();
      });
      const done = () =>
        finish({
          status: response.statusCode ?? null,
          body: Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'),
          error: null,
        });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.on('error', (error) => finish({ status: null, body: null, error: describe(error) }));
    request.end(options.body);
  });
}

function describe(error: Error & { code?: string; cause?: unknown }): string {
  const cause = error.cause instanceof UnsafeAddressError ? error.cause : error;
  const code = (cause as { code?: string }).code;
  const message = cause.message.slice(0, 400);
  return code && !message.includes(code) && !(cause instanceof UnsafeAddressError) ? `${code}: ${message}` : message;
}
