import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { queryRows } from '../../core/db.js';

/** system/settings/, system/prompts/, system/author-profiles/ and system/ai/check/, through the API. */

let fake: FakeOpenAI;
let t: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ AI_BASE_URL: fake.url, AI_MODEL: 'local-llama', AI_MAX_RETRIES: '0' });
  owner = await signUp(t);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

const api = (path: string) => `/api/v1/system/${path}`;

describe('system/settings/', () => {
  it('reads the defaults, then saves a validated change', async () => {
    const initial = await t.request({ method: 'GET', url: api('settings/'), headers: owner.headers });
    expect(initial.statusCode).toBe(200);
    expect(initial.json().data).toMatchObject({
      model: null,
      default_model: 'local-llama',
      temperature: null,
      language: 'English',
      default_word_count: 1500,
      image_size: '1024x1024',
      updated_at: null,
    });

    const changed = await t.request({
      method: 'PATCH',
      url: api('settings/'),
      headers: owner.headers,
      payload: {
        model: 'qwen2.5:7b',
        temperature: 0.5,
        language: 'German',
        defaultWordCount: 2000,
        brand_guidelines: 'Never say cheap.',
      },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().data).toMatchObject({
      model: 'qwen2.5:7b',
      temperature: 0.5,
      language: 'German',
      default_word_count: 2000,
      tone: 'professional',
    });
    const again = await t.request({ method: 'GET', url: api('settings/'), headers: owner.headers });
    expect(again.json().data.brand_guidelines).toBe('Never say cheap.');
  });

  it('refuses out-of-range values, all at once', async () => {
    const res = await t.request({
      method: 'PATCH',
      url: api('settings/'),
      headers: owner.headers,
      payload: { temperature: 2.5, default_word_count: 299, image_size: 'huge', language: '', colour: 'red' },
    });
    expect(res.statusCode).toBe(400);
    expect(Object.keys(res.json().errors).sort()).toEqual([
      'colour',
      'default_word_count',
      'image_size',
      'language',
      'non_field_errors',
      'temperature',
    ]);
  });

  it('is secured: members read, admins change', async () => {
    await expectSecured(t, { method: 'GET', url: api('settings/'), owner });
    await expectSecured(t, { method: 'PATCH', url: api('settings/'), owner, payload: { tone: 'friendly' }, needs: 'admin' });
  });
});

describe('system/prompts/', () => {
  it('lists one default prompt per AI function with its variables', async () => {
    const res = await t.request({ method: 'GET', url: api('prompts/'), headers: owner.headers });
    expect(res.statusCode).toBe(200);
    const results = res.json().data.results as { function: string; is_default: boolean; variables: string[] }[];
    expect(results.map((p) => p.function)).toEqual([
      'clustering',
      'ideas',
      'content',
      'outline',
      'section',
      'meta',
      'optimization',
      'image_prompts',
    ]);
    expect(results.every((p) => p.is_default)).toBe(true);
    expect(results[2]?.variables).toContain('word_count');
    expect((await t.request({ method: 'GET', url: api('prompts/?page=2'), headers: owner.headers })).statusCode).toBe(404);
    expect((await t.request({ method: 'GET', url: api('prompts/?colour=red'), headers: owner.headers })).statusCode).toBe(400);
  });

  it('refuses a template with a variable the function does not provide', async () => {
    const res = await t.request({
      method: 'PATCH',
      url: api('prompts/ideas/'),
      headers: owner.headers,
      payload: { user_template: 'Ideas for {{cluster_name}} in {{ city }} and {{weather}}' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.user_template[0]).toMatch(
      /Unknown variables \{\{city\}\}, \{\{weather\}\}; "ideas" provides: cluster_name/,
    );
  });

  it('an override is used by the engine, and reset goes back to the default', async () => {
    const saved = await t.request({
      method: 'PATCH',
      url: api('prompts/ideas/'),
      headers: owner.headers,
      payload: {
        systemTemplate: 'You plan articles for runners, in {{language}}.',
        user_template: 'Cluster {{cluster_name}}: {{ideas_count}} ideas.',
      },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().data).toMatchObject({
      function: 'ideas',
      is_default: false,
      user_template: 'Cluster {{cluster_name}}: {{ideas_count}} ideas.',
    });

    const ctx = { accountId: owner.accountId };
    await t.app.services.billing.grant(ctx, 100, `test-grant:prompts:${owner.accountId}`);
    fake.reset();
    fake.queue({
      json: {
        ideas: [
          {
            title: 'T',
            description: 'D',
            content_type: 'post',
            content_structure: 'faq',
            target_keywords: [],
            estimated_word_count: 900,
            outline: { sections: [] },
          },
        ],
      },
    });
    await t.app.services.ai.run(
      ctx,
      'ideas',
      { cluster_name: 'Trail shoes', ideas_count: 3 },
      { ref: `test:prompt-override:${owner.accountId}` },
    );
    const [request] = fake.chatRequests();
    // The account's settings (model, language) and its prompt: the settings test above set German and qwen.
    expect(request?.body.model).toBe('qwen2.5:7b');
    expect(request?.body.temperature).toBe(0.5);
    expect(request?.body.messages[0].content).toMatch(/^You plan articles for runners, in German\./);
    expect(request?.body.messages[1].content).toBe('Cluster Trail shoes: 3 ideas.');

    const reset = await t.request({ method: 'POST', url: api('prompts/ideas/reset/'), headers: owner.headers });
    expect(reset.statusCode).toBe(200);
    expect(reset.json().data.is_default).toBe(true);
    const detail = await t.request({ method: 'GET', url: api('prompts/ideas/'), headers: owner.headers });
    expect(detail.json().data.user_template).toContain('Propose {{ideas_count}} distinct content ideas');
  });

  it('an unknown function is 404', async () => {
    expect((await t.request({ method: 'GET', url: api('prompts/poetry/'), headers: owner.headers })).statusCode).toBe(404);
    const patch = await t.request({
      method: 'PATCH',
      url: api('prompts/poetry/'),
      headers: owner.headers,
      payload: { user_template: 'x' },
    });
    expect(patch.statusCode).toBe(404);
  });

  it('is secured: members read, admins change and reset', async () => {
    await expectSecured(t, { method: 'GET', url: api('prompts/'), owner });
    await expectSecured(t, { method: 'GET', url: api('prompts/content/'), owner });
    await expectSecured(t, {
      method: 'PATCH',
      url: api('prompts/content/'),
      owner,
      payload: { user_template: 'Write {{title}}' },
      needs: 'admin',
    });
    await expectSecured(t, { method: 'POST', url: api('prompts/content/reset/'), owner, needs: 'admin' });
  });
});

describe('system/author-profiles/', () => {
  it('creates, lists, updates and deletes, and is secured', async () => {
    const created = await t.request({
      method: 'POST',
      url: api('author-profiles/'),
      headers: owner.headers,
      payload: { name: 'Ana', tone: 'warm', persona: 'a trail runner of 20 years', guidelines: 'Short sentences.' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().data.id as number;
    expect(
      (await t.request({ method: 'POST', url: api('author-profiles/'), headers: owner.headers, payload: { tone: 'x' } })).json()
        .errors.name,
    ).toBeDefined();
    const list = await t.request({ method: 'GET', url: api('author-profiles/?search=an'), headers: owner.headers });
    expect(list.json().data.results.map((r: { name: string }) => r.name)).toEqual(['Ana']);
    const patched = await t.request({
      method: 'PATCH',
      url: api(`author-profiles/${id}/`),
      headers: owner.headers,
      payload: { tone: 'dry' },
    });
    expect(patched.json().data).toMatchObject({ name: 'Ana', tone: 'dry' });
    expect(await t.app.services.systemAi.authorProfile({ accountId: owner.accountId }, id)).toMatchObject({
      persona: 'a trail runner of 20 years',
    });

    await expectSecured(t, { method: 'GET', url: api('author-profiles/'), owner });
    await expectSecured(t, { method: 'GET', url: api(`author-profiles/${id}/`), owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: api('author-profiles/'), owner, payload: { name: 'Bo' } });
    await expectSecured(t, {
      method: 'PATCH',
      url: api(`author-profiles/${id}/`),
      owner,
      payload: { tone: 'x' },
      objectScoped: true,
    });
    await expectSecured(t, { method: 'DELETE', url: api(`author-profiles/${id}/`), owner, objectScoped: true });
    expect((await t.request({ method: 'DELETE', url: api(`author-profiles/${id}/`), headers: owner.headers })).statusCode).toBe(
      204,
    );
  });
});

describe('system/ai/check/', () => {
  it('answers the model, the latency and that JSON works; free', async () => {
    const admin = await addMember(t, owner, 'admin');
    fake.reset();
    fake.queue({ json: { ok: true, answer: 5 }, model: 'qwen2.5:7b-instruct' });
    const before = await t.app.services.billing.balance({ accountId: owner.accountId });
    const res = await t.request({ method: 'POST', url: api('ai/check/'), headers: admin.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      base_url: fake.url,
      model: 'qwen2.5:7b-instruct',
      json_ok: true,
      json_mode: 'json_schema',
    });
    expect(res.json().data.latency_ms).toBeGreaterThanOrEqual(0);
    expect(fake.chatRequests()[0]?.body.response_format.type).toBe('json_schema');
    // No AI_API_KEY (a local server): no Authorization header at all, not an empty or placeholder one.
    expect(fake.chatRequests()[0]?.headers.authorization).toBeUndefined();
    expect(await t.app.services.billing.balance({ accountId: owner.accountId })).toBe(before);
  });

  it('a server that refuses response_format: says AI_JSON_MODE=prompt works', async () => {
    fake.reset();
    fake.queue(
      { status: 400, message: 'Unrecognized request argument supplied: response_format' },
      { json: { ok: true, answer: 5 } },
    );
    const res = await t.request({ method: 'POST', url: api('ai/check/'), headers: owner.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ json_ok: false });
    expect(res.json().data.message).toContain('AI_JSON_MODE=prompt');
    expect(fake.chatRequests()[1]?.body.response_format).toBeUndefined();
  });

  it('a provider that does not answer is a 503 naming what to check', async () => {
    fake.reset();
    fake.queue({ status: 404, message: 'model not found' });
    const res = await t.request({ method: 'POST', url: api('ai/check/'), headers: owner.headers });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toContain('AI_MODEL');
  });

  it('is for admins', async () => {
    fake.reset();
    fake.respond = () => ({ json: { ok: true, answer: 5 } });
    await expectSecured(t, { method: 'POST', url: api('ai/check/'), owner, needs: 'admin' });
    fake.respond = null;
  });

  it('health shows the provider configured', async () => {
    const res = await t.request({ method: 'GET', url: api('health/') });
    expect(res.json().data.ai_provider).toEqual({ status: 'configured' });
  });
});

describe('with no provider configured', () => {
  let bare: TestApp;
  beforeAll(async () => {
    bare = await buildTestApp();
  });
  afterAll(async () => bare?.close());

  it('AI actions answer 503 naming what to set, before any credit check, and no ledger row appears', async () => {
    const who = await signUp(bare);
    const check = await bare.request({ method: 'POST', url: api('ai/check/'), headers: who.headers });
    expect(check.statusCode).toBe(503);
    expect(check.json()).toMatchObject({
      code: 'service_unavailable',
      details: { reason: 'not_configured', set: ['AI_BASE_URL', 'AI_API_KEY', 'AI_MODEL'] },
    });
    expect(check.json().error).toContain('AI_BASE_URL');

    const ctx = { accountId: who.accountId };
    const ai = bare.app.services.ai;
    // 503 comes before 402 (contract order) even for a request far beyond the balance.
    await expect(ai.ensure(ctx, [{ fn: 'content', units: 10_000_000 }])).rejects.toMatchObject({ code: 'service_unavailable' });
    await expect(ai.run(ctx, 'ideas', {}, { ref: 'test:bare' })).rejects.toMatchObject({ code: 'service_unavailable' });
    await expect(ai.image(ctx, { prompt: 'x' }, { ref: 'test:bare-image' })).rejects.toMatchObject({
      code: 'service_unavailable',
    });
    const usageRows = await queryRows<{ n: number }>(
      bare.database.db,
      sql`SELECT count(*)::int AS n FROM billing_credit_transactions WHERE type = 'usage'`,
    );
    expect(usageRows[0]?.n).toBe(0);
    const aiUsage = await queryRows<{ n: number }>(bare.database.db, sql`SELECT count(*)::int AS n FROM billing_usage`);
    expect(aiUsage[0]?.n).toBe(0);

    // Everything else works: settings and prompts are readable and writable.
    expect((await bare.request({ method: 'GET', url: api('prompts/content/'), headers: who.headers })).statusCode).toBe(200);
    const health = await bare.request({ method: 'GET', url: api('health/') });
    expect(health.json().data.ai_provider).toEqual({ status: 'not_configured' });
  });
});
