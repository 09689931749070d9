import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './harness.js';

/**
 * The OpenAPI document served at /api/schema is valid OpenAPI 3.1 (checked by a real validator), and every
 * operation in it has a tag, a summary, and the error envelope for its 4xx and 5xx answers.
 */

let t: TestApp;
let document: {
  openapi: string;
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
interface Operation {
  tags?: string[];
  summary?: string;
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

beforeAll(async () => {
  t = await buildTestApp();
  document = (await t.request({ method: 'GET', url: '/api/schema' })).json();
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
  );

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('documents the public routes a client starts with', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/v1/system/health', '/api/v1/auth/industries', '/api/v1/auth/industries/{id}']),
    );
    // Test-only and docs plumbing stay out of it.
    expect(
      Object.keys(document.paths).filter((p) => p.startsWith('/api/docs') || p === '/metrics' || p === '/api/schema'),
    ).toEqual([]);
  });

  it('gives every operation a declared tag and a summary', () => {
    const declared = new Set(document.tags.map((tag) => tag.name));
    for (const { name, operation } of operations()) {
      expect(operation.tags?.length, name).toBeGreaterThan(0);
      for (const tag of operation.tags ?? []) expect(declared.has(tag), `${name}: tag ${tag}`).toBe(true);
      expect(operation.summary?.trim(), name).toBeTruthy();
    }
  });

  it('documents the error envelope on every operation, and the success envelope on its 2xx', () => {
    const envelope = Object.values(document.components.schemas).find((s) => (s as { title?: string }).title === 'Error') as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(envelope.required).toEqual(expect.arrayContaining(['success', 'error', 'code', 'request_id']));
    for (const { name, operation } of operations()) {
      for (const status of ['4XX', '5XX']) {
        const schema = operation.responses[status]?.content?.['application/json']?.schema;
        expect(schema, `${name} ${status}`).toBeDefined();
        expect(JSON.stringify(schema), `${name} ${status}`).toMatch(/ErrorEnvelope|"title":"Error"/);
      }
      const success = Object.entries(operation.responses).filter(([status]) => /^2\d\d$/.test(status));
      expect(success.length, name).toBeGreaterThan(0);
      // Not enveloped by the contract: server-sent event streams and CSV downloads.
      const json = success.filter(
        ([status, response]) => status !== '204' && (!response.content || response.content['application/json']),
      );
      for (const [status, response] of json) {
        const schema = response.content?.['application/json']?.schema as { properties?: Record<string, unknown> } | undefined;
        expect(Object.keys(schema?.properties ?? {}), `${name} ${status}`).toEqual(
          expect.arrayContaining(['success', 'data', 'request_id']),
        );
      }
    }
  });

  it('refuses at start a route without a tag or summary', async () => {
    const { buildApp } = await import('../src/app.js');
    const app = await buildApp({ config: t.config, database: t.database, logger: false });
    expect(() => app.get('/undocumented', async () => ({}))).toThrow(/needs schema\.tags and schema\.summary/);
    await app.close();
  });
});
