import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe('health', () => {
  it('answers without auth in the contract shape', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/system/health/' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.success).toBe(true);
    expect(body.data.status).toBe('ok');
    expect(body.data.database.status).toBe('ok');
    expect(body.request_id).toBe(res.headers['x-request-id']);
  });
});
