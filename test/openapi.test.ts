import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createSector, createSite, type SignedUp, signUp } from './factories.js';
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
  operationId?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
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
      .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, operation })),
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

describe('what the document promises', () => {
  it("passes Redocly's recommended lint with no problem at all", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document), absoluteRef: '/api/schema', config });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
    expect(document).toMatchObject({ servers: [{ url: '/' }], info: { license: { name: expect.any(String) } } });
  });

  it('names every operation uniquely and readably, from its method and path', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    expect(new Set(ids).size).toBe(ids.length);
    const idOf = (method: string, path: string) => document.paths[path]?.[method]?.operationId;
    expect(idOf('get', '/api/v1/planner/keywords')).toBe('planner_keywords_list');
    expect(idOf('post', '/api/v1/planner/keywords')).toBe('planner_keywords_create');
    expect(idOf('get', '/api/v1/planner/keywords/{id}')).toBe('planner_keywords_retrieve');
    expect(idOf('patch', '/api/v1/planner/keywords/{id}')).toBe('planner_keywords_partial_update');
    expect(idOf('delete', '/api/v1/planner/keywords/{id}')).toBe('planner_keywords_destroy');
    expect(idOf('post', '/api/v1/planner/keywords/auto_cluster')).toBe('planner_keywords_auto_cluster');
    expect(idOf('get', '/api/v1/events')).toBe('events_list');
    expect(idOf('get', '/api/v1/auth/me')).toBe('auth_me');
  });

  it('describes every answer, and lists the error statuses a route can give with the one error envelope', () => {
    for (const { name, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${name} ${status}`).not.toBe('Default Response');
        expect(response.description.length, `${name} ${status}`).toBeGreaterThan(3);
        if (/^[45]/.test(status)) {
          expect(response.content?.['application/json']?.schema, `${name} ${status}`).toEqual({
            $ref: '#/components/schemas/ErrorEnvelope',
          });
        }
      }
    }
    const statuses = (method: string, path: string) => Object.keys(document.paths[path]?.[method]?.responses ?? {});
    expect(statuses('get', '/api/v1/auth/sites/{id}')).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '429']),
    );
    expect(statuses('patch', '/api/v1/auth/sites/{id}')).toEqual(expect.arrayContaining(['412', '413', '415']));
    expect(statuses('post', '/api/v1/planner/keywords/auto_cluster')).toEqual(
      expect.arrayContaining(['202', '402', '409', '422', '503']),
    );
    expect(statuses('patch', '/api/v1/planner/keywords/{id}')).toContain('409');
    expect(statuses('patch', '/api/v1/auth/sites/{id}')).not.toContain('409');
    expect(statuses('post', '/api/v1/auth/register')).not.toContain('401');
    expect(statuses('get', '/api/v1/auth/me')).not.toContain('404');
  });

  it('shows request bodies as strict as they are validated', () => {
    let checked = 0;
    for (const { name, operation } of operations()) {
      const schema = operation.requestBody?.content['application/json']?.schema as
        | { type?: string; properties?: object; additionalProperties?: unknown }
        | undefined;
      if (schema?.type !== 'object' || !schema.properties || Object.keys(schema.properties).length === 0) continue;
      expect(schema.additionalProperties, name).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("documents the keyword import's multipart upload beside its JSON body", () => {
    const content = document.paths['/api/v1/planner/keywords/import']?.post?.requestBody?.content ?? {};
    expect(Object.keys(content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(content['multipart/form-data']?.schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['file', 'site_id', 'sector_id']),
      properties: { file: { type: 'string', format: 'binary' }, site_id: { type: 'integer' }, sector_id: { type: 'integer' } },
    });
  });

  it('lists for the keyword export only the parameters it takes, and refuses the paging ones', async () => {
    const names = document.paths['/api/v1/planner/keywords/export']?.get?.parameters?.map((p) => p.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['search', 'status', 'site_id', 'sector_id']));
    for (const paging of ['page', 'page_size', 'limit', 'offset', 'ordering']) expect(names).not.toContain(paging);
  });

  it('serves the same document as YAML, built once', async () => {
    const first = await t.request({ method: 'GET', url: '/api/schema?format=yaml' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/yaml/);
    expect(parseYaml(first.body)).toEqual(document);
    const second = await t.request({ method: 'GET', url: '/api/schema?format=yaml' });
    expect(second.body).toBe(first.body);
  });

  it("shows the product's name in Swagger UI, not the plugin's logo", async () => {
    const page = await t.request({ method: 'GET', url: '/api/docs/' });
    expect(page.body).toContain('ContentFlow API');
    const init = await t.request({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    expect(
      Buffer.from(/data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(init.body)?.[1] ?? '', 'base64').toString(),
    ).toContain('ContentFlow API');
  });
});

/**
 * Real answers of representative operations validate against the schemas the document gives for them (ajv,
 * JSON Schema 2020-12 as OpenAPI 3.1 uses), so the document cannot drift from what the API sends.
 */
describe('answers match the documented schemas', () => {
  let owner: SignedUp;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('binary', true);

  beforeAll(async () => {
    ajv.addSchema(document as object, 'doc');
    owner = await signUp(t);
  });

  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  function expectDocumented(method: string, path: string, res: { statusCode: number; body: string }) {
    const responses = document.paths[path]?.[method]?.responses ?? {};
    const status = String(res.statusCode);
    expect(Object.keys(responses), `${method} ${path} documents ${status}`).toContain(status);
    const validate = ajv.compile({
      $ref: `doc#/${pointer('paths', path, method, 'responses', status, 'content', 'application/json', 'schema')}`,
    });
    const valid = validate(JSON.parse(res.body));
    expect(validate.errors ?? [], `${method.toUpperCase()} ${path} ${status}: ${res.body.slice(0, 300)}`).toEqual([]);
    expect(valid).toBe(true);
  }

  it('registration, me, sites, keywords, tasks and errors', async () => {
    const register = await t.request({
      method: 'POST',
      url: '/api/v1/auth/register/',
      payload: { email: `doc-${Date.now()}@example.com`, password: 'a long passphrase here', account_name: 'Docs' },
    });
    expectDocumented('post', '/api/v1/auth/register', register);
    const headers = owner.headers;
    const get = (url: string) => t.request({ method: 'GET', url, headers });
    const post = (url: string, payload: object) => t.request({ method: 'POST', url, headers, payload });
    expectDocumented('get', '/api/v1/auth/me', await get('/api/v1/auth/me/'));
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    expectDocumented('get', '/api/v1/auth/sites/{id}', await get(`/api/v1/auth/sites/${site.id}/`));
    expectDocumented('get', '/api/v1/auth/sites', await get('/api/v1/auth/sites/?page_size=1'));
    const scope = { site_id: site.id, sector_id: sector.id };
    const keyword = await post('/api/v1/planner/keywords/', { ...scope, keyword: 'trail shoes', volume: 1300 });
    expectDocumented('post', '/api/v1/planner/keywords', keyword);
    expectDocumented('get', '/api/v1/planner/keywords', await get('/api/v1/planner/keywords/'));
    const cluster = await post('/api/v1/planner/keywords/auto_cluster/', scope);
    expectDocumented('post', '/api/v1/planner/keywords/auto_cluster', cluster);
    const taskId = cluster.json().data.task_id;
    expectDocumented('get', '/api/v1/system/tasks/{id}', await get(`/api/v1/system/tasks/${taskId}/`));
    expectDocumented('get', '/api/v1/account/team', await get('/api/v1/account/team/?limit=5'));
    expectDocumented('get', '/api/v1/events', await get('/api/v1/events/'));
    // Errors, in the shared envelope
    expectDocumented('get', '/api/v1/auth/sites/{id}', await get('/api/v1/auth/sites/999999/'));
    expectDocumented('post', '/api/v1/auth/sites', await post('/api/v1/auth/sites/', { name: '' }));
    expectDocumented('get', '/api/v1/auth/me', await t.request({ method: 'GET', url: '/api/v1/auth/me/' }));
  });
});
