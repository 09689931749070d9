import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderClient, SCHEMA_FILE } from '../web/scripts/render-client.js';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * The console's typed client cannot drift from the API: web/src/api/schema.d.ts must be exactly what
 * `npm run web:client` writes from the OpenAPI document the app serves now.
 */

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t?.close());

describe('the console client (web/src/api/schema.d.ts)', () => {
  it('is what `npm run web:client` generates from /api/schema', async () => {
    const document = (await t.request({ method: 'GET', url: '/api/schema' })).json();
    const expected = await renderClient(document);
    const checkedIn = await readFile(SCHEMA_FILE, 'utf8');
    // A plain boolean first: a diff of two 20,000-line files is no help; the message says what to do.
    expect(checkedIn === expected, 'web/src/api/schema.d.ts is out of date: run `npm run web:client` and commit it').toBe(true);
  });

  it('names the operations the console calls', async () => {
    const checkedIn = await readFile(SCHEMA_FILE, 'utf8');
    for (const path of ['/api/v1/auth/login', '/api/v1/planner/keywords/import', '/api/v1/writer/approvals/{id}/approve']) {
      expect(checkedIn).toContain(`"${path}"`);
    }
  });
});
