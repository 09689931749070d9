import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * The console's serving (src/core/console.ts) on a small build made here, so these checks need no Vite build:
 * cache headers, the history fallback and where it must never answer, the CSP, and the page shown when the
 * console was not built.
 */

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script></head><body><div id="root"></div></body></html>';
const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

let built: TestApp;
let unbuilt: TestApp;

beforeAll(async () => {
  const dist = mkdtempSync(join(tmpdir(), 'cf-console-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-AbC123.js'), 'console.log("console");');
  writeFileSync(join(dist, 'assets', 'index-Def456.css'), 'body{margin:0}');
  built = await buildTestApp({}, { consoleDist: dist });
  unbuilt = await buildTestApp({}, { consoleDist: mkdtempSync(join(tmpdir(), 'cf-console-empty-')), database: built.database });
});
afterAll(async () => {
  await unbuilt?.close();
  await built?.close();
});

describe('the console at /', () => {
  it('serves index.html without a credential, revalidated on every load, with the CSP', async () => {
    const res = await built.request({ method: 'GET', url: '/', headers: html });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(INDEX);
    const csp = String(res.headers['content-security-policy']);
    // Nothing from the network: scripts, styles and API calls come from this origin only.
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves hashed assets cached for a year, with their types', async () => {
    const js = await built.request({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toBe('console.log("console");');
    const css = await built.request({ method: 'GET', url: '/assets/index-Def456.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers an asset that is not in the build with the JSON 404, never index.html', async () => {
    for (const url of ['/assets/index-Old999.js', '/assets/..%2findex.html', '/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const res = await built.request({ method: 'GET', url, headers: html });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code, url).toBe('not_found');
    }
  });

  it('answers a page a browser navigates to with index.html (the history fallback)', async () => {
    for (const url of ['/keywords', '/content/7', '/clusters?open=3', '/a/b/c/']) {
      const res = await built.request({ method: 'GET', url, headers: html });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(INDEX);
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
  });

  it('never falls back for the API, media, static sites or metrics, nor for clients that do not ask for HTML', async () => {
    for (const url of ['/api/v1/nope/', '/api/nope', '/media/abc', '/sites/blog/', '/metricsx', '/metrics/x']) {
      const res = await built.request({ method: 'GET', url, headers: html });
      expect(res.body, url).not.toBe(INDEX);
      expect(res.headers['content-type'], url).toMatch(/json|text\/plain/);
    }
    const script = await built.request({ method: 'GET', url: '/keywords', headers: { accept: 'application/json' } });
    expect(script.statusCode).toBe(404);
    expect(script.json()).toMatchObject({ success: false, code: 'not_found' });
    const post = await built.request({ method: 'POST', url: '/keywords', headers: html, payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.json().code).toBe('not_found');
  });

  it('leaves the API as it was: unknown methods on known paths are still 405', async () => {
    const res = await built.request({ method: 'DELETE', url: '/', headers: html });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET');
    const api = await built.request({ method: 'GET', url: '/api/v1/auth/me/' });
    expect(api.statusCode).toBe(401);
  });
});

describe('when web/dist was not built', () => {
  it('answers / and the console pages with a page saying how to build it, never a bare 404', async () => {
    for (const url of ['/', '/keywords']) {
      const res = await unbuilt.request({ method: 'GET', url, headers: html });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('npm run web:build');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect((await unbuilt.request({ method: 'GET', url: '/api/v1/system/health/' })).statusCode).toBe(200);
  });
});
