import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * The wire contract (shared/API-CONTRACT.md), tried the way a new client would: through app.inject() on the
 * real app. The few routes defined here exist only in this test app, to reach paths no production route takes
 * yet (a thrown bug, a strict body).
 */

const ORIGIN = 'https://app.example.com';
const EchoBody = Type.Object(
  {
    account_name: Type.String({ minLength: 1 }),
    page_size: Type.Integer({ minimum: 1 }),
    metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
    outline: Type.Optional(Type.Object({ sections: Type.Array(Type.Object({ title: Type.String() })) })),
  },
  { additionalProperties: false },
);
// The same shape, but without `additionalProperties: false` written out: bodies must stay strict anyway.
const LooseBody = Type.Object({ name: Type.String(), nested: Type.Optional(Type.Object({ a: Type.Integer() })) });

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp(
    { CORS_ORIGINS: ORIGIN },
    {
      routes: (app) => {
        app.get('/test/boom', { schema: { hide: true }, config: { access: 'public' } }, async () => {
          throw new Error('secret detail: password=hunter2 at /srv/app/core.ts:42');
        });
        app.post('/test/echo', { schema: { hide: true, body: EchoBody }, config: { access: 'public' } }, async (request) => ({
          success: true,
          data: request.body,
          request_id: request.id,
        }));
        app.post('/test/loose', { schema: { hide: true, body: LooseBody }, config: { access: 'public' } }, async (request) => ({
          success: true,
          data: request.body,
          request_id: request.id,
        }));
      },
    },
  );
});
afterAll(() => t.close());

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
type Res = Awaited<ReturnType<TestApp['request']>>;

/** Every JSON answer is the envelope, with the same request id in the header and the body. */
function expectEnvelope(res: Res, success: boolean) {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(body.success).toBe(success);
  expect(body.request_id).toBe(res.headers['x-request-id']);
  if (!success) {
    expect(typeof body.error).toBe('string');
    expect(typeof body.code).toBe('string');
    expect(JSON.stringify(body)).not.toMatch(/\bat \/|\.ts:\d+|stack/);
  }
  return body;
}

describe('envelope and errors', () => {
  it('success answers are enveloped', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/auth/industries/' });
    expect(res.statusCode).toBe(200);
    const body = expectEnvelope(res, true);
    expect(body.data).toMatchObject({ count: 16, previous: null });
  });

  it('unknown routes are 404 in the envelope', async () => {
    for (const url of ['/api/v1/nothing-here/', '/api/v1/auth/industries/1/nope', '/nothing-here/?page=1']) {
      const res = await t.request({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(expectEnvelope(res, false).code).toBe('not_found');
    }
  });

  it('a known path with another method is 405 with Allow', async () => {
    const list = await t.request({ method: 'DELETE', url: '/api/v1/auth/industries/' });
    expect(list.statusCode).toBe(405);
    expect(expectEnvelope(list, false).code).toBe('method_not_allowed');
    expect(list.headers.allow).toBe('GET');
    const detail = await t.request({ method: 'PATCH', url: '/api/v1/auth/industries/3', ...json({}) });
    expect(detail.statusCode).toBe(405);
    expect(detail.headers.allow).toBe('GET');
    const health = await t.request({ method: 'POST', url: '/api/v1/system/health' });
    expect(health.statusCode).toBe(405);
    expect(health.headers.allow).toBe('GET');
  });

  it('a thrown bug is 500 internal_error with nothing of the bug in it', async () => {
    const res = await t.request({ method: 'GET', url: '/test/boom', headers: { 'x-request-id': 'trace-500' } });
    expect(res.statusCode).toBe(500);
    const body = expectEnvelope(res, false);
    expect(body.code).toBe('internal_error');
    expect(body.request_id).toBe('trace-500');
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('core.ts');
    expect(Object.keys(body).sort()).toEqual(['code', 'error', 'request_id', 'success']);
  });

  it('malformed JSON is 400 parse_error', async () => {
    for (const payload of ['{"account_name": ', '{bad json}', '{"__proto__": {"x": 1}}']) {
      const res = await t.request({
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(expectEnvelope(res, false).code).toBe('parse_error');
    }
  });

  it('a body over 1 MiB is 413 payload_too_large', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      ...json({ account_name: 'x'.repeat(1024 * 1024), page_size: 1 }),
    });
    expect(res.statusCode).toBe(413);
    expect(expectEnvelope(res, false).code).toBe('payload_too_large');
  });

  it('a body in another media type is 415 unsupported_media_type', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode).toBe(415);
    expect(expectEnvelope(res, false).code).toBe('unsupported_media_type');
  });

  it('unknown query parameters are 400, naming the parameter', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/auth/industries/?colour=red' });
    expect(res.statusCode).toBe(400);
    const body = expectEnvelope(res, false);
    expect(body.code).toBe('validation_error');
    expect(body.errors.colour).toEqual(['This field is not allowed.']);
  });

  it('the trailing slash is optional', async () => {
    for (const url of [
      '/api/v1/auth/industries',
      '/api/v1/auth/industries/',
      '/api/v1/auth/industries/1',
      '/api/v1/auth/industries/1/',
      '/api/v1/system/health',
    ]) {
      const res = await t.request({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('an id that is not a positive integer below 2^31 is 404', async () => {
    for (const id of ['0', '-1', 'abc', '1.5', '2147483648', '99999999999999999999', '1e3']) {
      const res = await t.request({ method: 'GET', url: `/api/v1/auth/industries/${id}/` });
      expect(res.statusCode, id).toBe(404);
      expect(expectEnvelope(res, false).code).toBe('not_found');
    }
    const missing = await t.request({ method: 'GET', url: '/api/v1/auth/industries/2147483647/' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('Industry not found.');
  });
});

describe('request ids', () => {
  it('a valid client id is reused in the header and the body', async () => {
    const id = 'client-Trace_1.2';
    const res = await t.request({ method: 'GET', url: '/api/v1/system/health/', headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).toBe(id);
    expect(res.json().request_id).toBe(id);
    const longest = 'a'.repeat(128);
    const kept = await t.request({ method: 'GET', url: '/nope', headers: { 'x-request-id': longest } });
    expect(kept.headers['x-request-id']).toBe(longest);
    expect(kept.json().request_id).toBe(longest);
  });

  it('an invalid or missing id is replaced by a fresh one', async () => {
    const seen = new Set<string>();
    for (const given of ['has space', 'a'.repeat(129), 'semi;colon', '', undefined]) {
      const res = await t.request({
        method: 'GET',
        url: '/api/v1/system/health/',
        headers: given === undefined ? {} : { 'x-request-id': given },
      });
      const id = res.headers['x-request-id'] as string;
      expect(id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
      expect(id).not.toBe(given);
      expect(res.json().request_id).toBe(id);
      seen.add(id);
    }
    expect(seen.size).toBe(5);
  });

  it('error answers carry the id too', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json', 'x-request-id': 'err-1' },
      payload: '{',
    });
    expect(res.headers['x-request-id']).toBe('err-1');
    expect(res.json().request_id).toBe('err-1');
  });
});

describe('bodies', () => {
  it('accepts camelCase top-level keys and leaves free-form contents alone', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      ...json({ accountName: 'Acme', pageSize: 5, metadata: { someKey: 1 } }),
    });
    expect(res.statusCode).toBe(200);
    expect(expectEnvelope(res, true).data).toEqual({ account_name: 'Acme', page_size: 5, metadata: { someKey: 1 } });
  });

  it('both spellings of one key are a 400', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      ...json({ account_name: 'a', accountName: 'b', page_size: 1 }),
    });
    expect(res.statusCode).toBe(400);
    const body = expectEnvelope(res, false);
    expect(body.code).toBe('validation_error');
    expect(body.errors.account_name[0]).toMatch(/twice/);
  });

  it('unknown keys are field errors', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      ...json({ account_name: 'a', page_size: 1, colour: 'red' }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.colour).toEqual(['This field is not allowed.']);
  });

  it('unknown keys are field errors even when a schema does not say additionalProperties: false', async () => {
    const res = await t.request({ method: 'POST', url: '/test/loose', ...json({ name: 'a', extra: 1, nested: { a: 1, b: 2 } }) });
    expect(res.statusCode).toBe(400);
    const errors = res.json().errors;
    expect(errors.extra).toEqual(['This field is not allowed.']);
    expect(errors['nested.b']).toEqual(['This field is not allowed.']);
  });

  it('types are not coerced: "5" is not a number', async () => {
    const res = await t.request({ method: 'POST', url: '/test/echo', ...json({ account_name: 'a', page_size: '5' }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.page_size).toEqual(['Must be an integer.']);
    const bool = await t.request({ method: 'POST', url: '/test/echo', ...json({ account_name: 1, page_size: 1 }) });
    expect(bool.json().errors.account_name).toEqual(['Must be a string.']);
  });

  it('every error is reported at once, nested ones by dotted path', async () => {
    const res = await t.request({
      method: 'POST',
      url: '/test/echo',
      ...json({ page_size: 'x', outline: { sections: [{ title: 'ok' }, { title: 7 }, {}] }, colour: 1 }),
    });
    expect(res.statusCode).toBe(400);
    const body = expectEnvelope(res, false);
    expect(body.errors).toEqual({
      account_name: ['This field is required.'],
      page_size: ['Must be an integer.'],
      'outline.sections.1.title': ['Must be a string.'],
      'outline.sections.2.title': ['This field is required.'],
      colour: ['This field is not allowed.'],
      non_field_errors: [],
    });
    expect(body.error).toMatch(/and 4 more fields/);
  });

  it('a body that is not a JSON object is a 400', async () => {
    const res = await t.request({ method: 'POST', url: '/test/echo', ...json([1, 2]) });
    expect(res.statusCode).toBe(400);
    expect(expectEnvelope(res, false).code).toBe('validation_error');
  });
});

describe('headers', () => {
  it('security headers are on every answer, JSON or not', async () => {
    for (const url of ['/api/v1/system/health/', '/api/v1/nothing/', '/api/docs', '/api/redoc', '/api/schema']) {
      const res = await t.request({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('strict-origin-when-cross-origin');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['content-security-policy'], url).toContain("default-src 'self'");
    }
  });

  it('CORS: listed origins are allowed with credentials and the exposed headers; others are not', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/system/health/', headers: { origin: ORIGIN } });
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const exposed = String(res.headers['access-control-expose-headers']).split(/,\s*/);
    for (const header of [
      'X-Request-ID',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
      'ETag',
      'Location',
    ]) {
      expect(exposed).toContain(header);
    }
    const other = await t.request({
      method: 'GET',
      url: '/api/v1/system/health/',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS preflight allows every method the API uses, without credentials', async () => {
    const res = await t.request({
      method: 'OPTIONS',
      url: '/api/v1/auth/industries/1/',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    const methods = String(res.headers['access-control-allow-methods']).split(/,\s*/);
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) expect(methods).toContain(method);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('idempotency-key');
  });

  it('without CORS_ORIGINS no origin is allowed', async () => {
    const plain = await buildTestApp({}, { database: t.database });
    try {
      const res = await plain.request({ method: 'GET', url: '/api/v1/system/health/', headers: { origin: ORIGIN } });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});

describe('docs, served offline', () => {
  it('/api/schema is JSON, and YAML with ?format=yaml', async () => {
    const res = await t.request({ method: 'GET', url: '/api/schema' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const document = res.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.success).toBeUndefined();
    const yaml = await t.request({ method: 'GET', url: '/api/schema?format=yaml' });
    expect(yaml.statusCode).toBe(200);
    expect(yaml.headers['content-type']).toMatch(/^application\/yaml/);
    expect(parseYaml(yaml.body)).toEqual(document);
    const bad = await t.request({ method: 'GET', url: '/api/schema?format=xml' });
    expect(bad.statusCode).toBe(400);
  });

  for (const page of ['/api/docs', '/api/redoc']) {
    it(`${page} loads every asset it names from this server, and the CSP allows them`, async () => {
      const res = await t.request({ method: 'GET', url: page });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const assets = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        expect(asset, 'no other host').not.toMatch(/^(https?:)?\/\//);
        const url = new URL(asset, `http://localhost${page}`).pathname;
        const loaded = await t.request({ method: 'GET', url });
        expect(loaded.statusCode, url).toBe(200);
      }
      // No inline script: the CSP's script-src 'self' would block it.
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("worker-src 'self' blob:");
      expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/);
    });
  }

  it("Swagger UI's initializer loads the document from this server and calls no outside validator", async () => {
    const init = await t.request({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    // resolveUrl('./json') is relative to /api/docs/: the plugin's own copy of the document.
    expect(init.body).toContain("url: resolveUrl('./json')");
    expect(init.body).toContain('validatorUrl: null');
    const spec = await t.request({ method: 'GET', url: '/api/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe('3.1.0');
  });
});
