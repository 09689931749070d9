import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertContent } from '../src/modules/writer/writer.repository.js';
import { createApiKey, createSector, createSite, makeStaff, PASSWORD, type SignedUp, signUp, uniqueEmail } from './factories.js';
import { pngOf, promptsAnswer } from './fake-images.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js';
import { connectWordPress, type FakeWordPress, fakeSite, startFakeWordPress } from './fake-wordpress.js';
import { fakeWriter } from './fake-writer.js';
import { buildTestApp, type TestApp } from './harness.js';
import { stepsJob } from './job-types.js';
import { found } from './wait.js';

/**
 * DOMAIN.md: "Every action that changes something records an event". Every mutating operation of
 * `/api/schema` is driven here once with a request that succeeds, and the events feed must have gained an
 * event naming its object. An operation is either driven below or on one of the two commented lists, so a new
 * route with neither fails the first test, and one that records nothing fails the second.
 */

/**
 * Operations that change nothing the account owns, reviewed one by one. Each says why; adding to this list
 * needs the same.
 */
const NO_DURABLE_CHANGE: Record<string, string> = {
  'POST /api/v1/auth/login': "the caller's own sign-in (a session row, listed at auth/sessions/), not account data",
  'POST /api/v1/auth/refresh': "rotates the caller's own refresh token; nothing of the account changes",
  'POST /api/v1/auth/password-reset':
    'mails a one-time token and must answer the same for an unknown email; the change is the confirm, which records',
  'POST /api/v1/system/ai/check': 'one tiny provider call; nothing is stored or charged',
  'POST /api/v1/optimizer/analyze': 'a synchronous, free analysis (no AI, no credits); nothing is stored',
  'POST /api/v1/billing/session':
    "opens a checkout at the payment provider (keeping the provider's customer id); the plan or credits change only " +
    'when its webhook is applied, which records webhook.ingested and credits.* (driven below)',
};

/**
 * The platform's billing catalogue, edited by staff: these rows belong to no account, so there is no account
 * feed to record into. They are listed here, not silently skipped, until a platform-level log exists.
 */
const OUTSIDE_ACCOUNTS = ['plans', 'credit-packs', 'credit-costs'].flatMap((kind) => [
  `POST /api/v1/admin/${kind}`,
  `PATCH /api/v1/admin/${kind}/{id}`,
  `PUT /api/v1/admin/${kind}/{id}`,
  `DELETE /api/v1/admin/${kind}/{id}`,
]);

interface FeedEvent {
  id: number;
  type: string;
  source_agent: string;
  actor_id: number | null;
  object_type: string | null;
  object_id: number | null;
  payload: Record<string, unknown>;
}

const WEBHOOK_SECRET = 'whsec_events_coverage';
let t: TestApp;
let fake: FakeOpenAI;
let owner: SignedUp;
let staff: SignedUp;
let wordpress: FakeWordPress | undefined;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp(
    {
      WORKER: 'true',
      JOBS_POLL_MS: '50',
      AI_BASE_URL: fake.url,
      AI_MAX_RETRIES: '0',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    { jobs: [stepsJob] },
  );
  owner = await signUp(t);
  staff = await signUp(t);
  await makeStaff(t, staff);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
  await wordpress?.close();
});

async function call(method: string, url: string, payload?: unknown, who: { headers: Record<string, string> } = owner) {
  const res = await t.request({ method: method as 'POST', url, headers: who.headers, ...(payload ? { payload } : {}) });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return res.statusCode === 204 ? null : res.json().data;
}

async function feed(who: SignedUp, query = ''): Promise<FeedEvent[]> {
  const res = await t.request({ method: 'GET', url: `/api/v1/events/?page_size=200${query}`, headers: who.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data.results;
}
const newest = async (who: SignedUp) => (await feed(who))[0]?.id ?? 0;

/** The events `who`'s account gained since `after` that name `objectType` (and `objectId`, when given). */
async function gained(who: SignedUp, after: number, objectType: string, objectId?: number | null): Promise<FeedEvent[]> {
  const events = (await feed(who, `&object_type=${objectType}`)).filter((e) => e.id > after);
  return objectId == null ? events : events.filter((e) => e.object_id === objectId);
}

/** Every mutating operation of the schema, as `METHOD /path/{param}`. */
async function mutatingOperations(): Promise<string[]> {
  const doc = (await t.request({ method: 'GET', url: '/api/schema' })).json();
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}

/**
 * One step per operation, run in this order (later ones use what earlier ones made). Each drives the
 * operation with a request that succeeds and checks the event it must have recorded.
 */
type Step = { op: string; run: () => Promise<void> };
const steps: Step[] = [];
const step = (op: string, run: () => Promise<void>) => steps.push({ op, run });

/**
 * Runs `act`, then expects a new event of `type` in `who`'s feed about the object `act` returned the id of (its
 * object type is the type's first part unless `object` says otherwise).
 */
async function expectEvent(
  type: string,
  act: () => Promise<unknown>,
  options: { who?: SignedUp; object?: string; actor?: number | null } = {},
): Promise<FeedEvent> {
  const who = options.who ?? owner;
  const before = await newest(who);
  const returned = await act();
  const objectId = typeof returned === 'number' ? returned : undefined;
  const objectType = options.object ?? type.split('.')[0] ?? '';
  const events = await gained(who, before, objectType, objectId ?? undefined);
  const event = events.find((e) => e.type === type);
  expect(event, `${type} about ${objectType} ${objectId ?? ''}; got ${JSON.stringify(events)}`).toBeDefined();
  expect(event?.source_agent).toBe('api');
  if (options.actor !== undefined) expect(event?.actor_id).toBe(options.actor);
  // Nothing secret in any event: no key (its short public prefix is fine), hash, password or token.
  expect(JSON.stringify(event?.payload)).not.toMatch(/ik_live_[\w-]{16,}|password|hash|token|\$argon2/i);
  return event as FeedEvent;
}

// The objects the steps make, filled in as they run.
const made: Record<string, number> = {};
const other: { member?: SignedUp; inviteToken?: string } = {};
const KW = '/api/v1/planner/keywords';
const CL = '/api/v1/planner/clusters';
const IDEAS = '/api/v1/planner/content-ideas';

// --- auth: registration, sites, sectors
step('POST /api/v1/auth/register', async () => {
  // A new account: its own feed starts with its creation (and the plan's first credits).
  const fresh = await signUp(t);
  const events = await gained(fresh, 0, 'account', fresh.accountId);
  expect(events.map((e) => [e.type, e.actor_id])).toContainEqual(['account.created', fresh.userId]);
});
step('POST /api/v1/auth/sites', async () => {
  await expectEvent(
    'site.created',
    async () => (made.site = (await call('POST', '/api/v1/auth/sites/', { name: 'Trail shop' })).id),
    { actor: owner.userId },
  );
});
step('PATCH /api/v1/auth/sites/{id}', async () => {
  const event = await expectEvent('site.updated', async () => {
    await call('PATCH', `/api/v1/auth/sites/${made.site}/`, { description: 'Shoes' });
    return made.site;
  });
  expect(event.payload).toMatchObject({ name: 'Trail shop', fields: ['description'] });
});
step('PUT /api/v1/auth/sites/{id}', async () => {
  await expectEvent('site.updated', async () => {
    await call('PUT', `/api/v1/auth/sites/${made.site}/`, { name: 'Trail shop' });
    return made.site;
  });
});
step('POST /api/v1/auth/sectors', async () => {
  await expectEvent(
    'sector.created',
    async () => (made.sector = (await call('POST', '/api/v1/auth/sectors/', { site_id: made.site, name: 'Trail' })).id),
  );
});
step('PATCH /api/v1/auth/sectors/{id}', async () => {
  await expectEvent('sector.updated', async () => {
    await call('PATCH', `/api/v1/auth/sectors/${made.sector}/`, { description: 'Off road' });
    return made.sector;
  });
});
step('PUT /api/v1/auth/sectors/{id}', async () => {
  await expectEvent('sector.updated', async () => {
    await call('PUT', `/api/v1/auth/sectors/${made.sector}/`, { name: 'Trail' });
    return made.sector;
  });
});

// --- planner
step('POST /api/v1/planner/keywords', async () => {
  await expectEvent(
    'keyword.created',
    async () =>
      (made.keyword = (await call('POST', `${KW}/`, { site_id: made.site, sector_id: made.sector, keyword: 'trail shoes' })).id),
  );
});
step('PATCH /api/v1/planner/keywords/{id}', async () => {
  await expectEvent('keyword.updated', async () => {
    await call('PATCH', `${KW}/${made.keyword}/`, { volume: 10 });
    return made.keyword;
  });
});
step('PUT /api/v1/planner/keywords/{id}', async () => {
  await expectEvent('keyword.updated', async () => {
    await call('PUT', `${KW}/${made.keyword}/`, {
      keyword: 'trail shoes',
      volume: 20,
      difficulty: 5,
      cpc: '1.50',
      intent: null,
      status: 'new',
      cluster_id: null,
    });
    return made.keyword;
  });
});
step('POST /api/v1/planner/keywords/import', async () => {
  await expectEvent(
    'keywords.imported',
    async () => {
      await call('POST', `${KW}/import/`, {
        site_id: made.site,
        sector_id: made.sector,
        rows: [
          { keyword: 'trail running shoes', volume: 500 },
          { keyword: 'best trail running shoes', volume: 300 },
          { keyword: 'road bike', volume: 50 },
        ],
      });
      return made.sector;
    },
    { object: 'sector' },
  );
});
step('POST /api/v1/planner/keywords/auto_cluster', async () => {
  // A task: the answer is 202 and the change (and its events) come from the job.
  const before = await newest(owner);
  const task = await call('POST', `${KW}/auto_cluster/`, { site_id: made.site, sector_id: made.sector });
  const done = await found('the clustering task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  expect(done.type).toBe('task.succeeded');
  expect((await gained(owner, before, 'sector')).map((e) => e.type)).toContain('keywords.clustered');
});
step('POST /api/v1/planner/clusters', async () => {
  await expectEvent(
    'cluster.created',
    async () => (made.cluster = (await call('POST', `${CL}/`, { site_id: made.site, sector_id: made.sector, name: 'Shoes' })).id),
  );
});
step('PATCH /api/v1/planner/clusters/{id}', async () => {
  await expectEvent('cluster.updated', async () => {
    await call('PATCH', `${CL}/${made.cluster}/`, { description: 'All shoes' });
    return made.cluster;
  });
});
step('PUT /api/v1/planner/clusters/{id}', async () => {
  await expectEvent('cluster.updated', async () => {
    await call('PUT', `${CL}/${made.cluster}/`, { name: 'Shoes', description: 'All shoes', status: 'new' });
    return made.cluster;
  });
});
step('POST /api/v1/planner/keywords/bulk_update', async () => {
  const event = await expectEvent(
    'keywords.updated',
    async () => {
      await call('POST', `${KW}/bulk_update/`, { ids: [made.keyword], cluster_id: made.cluster });
    },
    { object: 'keyword' },
  );
  expect(event.payload).toMatchObject({ count: 1, ids: [made.keyword] });
});
step('POST /api/v1/planner/clusters/auto_generate_ideas', async () => {
  fake.queue({
    json: {
      ideas: [
        {
          title: 'Choosing trail shoes',
          description: 'How to pick.',
          content_type: 'post',
          content_structure: 'guide',
          target_keywords: ['trail shoes'],
          estimated_word_count: 1200,
          outline: { sections: [{ heading: 'Fit', level: 2, points: ['Late in the day'] }] },
        },
      ],
    },
  });
  const before = await newest(owner);
  const task = await call('POST', `${CL}/auto_generate_ideas/`, { ids: [made.cluster], ideas_per_cluster: 1 });
  const done = await found('the ideas task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const all = (await feed(owner)).filter((e) => e.id > before);
  expect(all.map((e) => e.type)).toContain('ideas.generated');
});
step('POST /api/v1/planner/content-ideas', async () => {
  await expectEvent(
    'content_idea.created',
    async () =>
      (made.idea = (
        await call('POST', `${IDEAS}/`, { site_id: made.site, sector_id: made.sector, title: 'Trail shoes 101' })
      ).id),
  );
});
step('PATCH /api/v1/planner/content-ideas/{id}', async () => {
  await expectEvent('content_idea.updated', async () => {
    await call('PATCH', `${IDEAS}/${made.idea}/`, { description: 'A guide' });
    return made.idea;
  });
});
step('PUT /api/v1/planner/content-ideas/{id}', async () => {
  await expectEvent('content_idea.updated', async () => {
    await call('PUT', `${IDEAS}/${made.idea}/`, {
      title: 'Trail shoes 101',
      description: 'A guide',
      outline: { sections: [] },
      content_type: 'post',
      content_structure: 'guide',
      target_keywords: ['trail shoes'],
      estimated_word_count: null,
      cluster_id: null,
      status: 'new',
    });
    return made.idea;
  });
});
step('POST /api/v1/planner/content-ideas/bulk_queue_to_writer', async () => {
  await expectEvent(
    'ideas.queued',
    async () => {
      await call('POST', `${IDEAS}/bulk_queue_to_writer/`, { ids: [made.idea] });
    },
    { object: 'content_idea' },
  );
});
// --- writer: generation (the task queued just above)
step('POST /api/v1/writer/tasks/auto_generate_content', async () => {
  const queued = (await t.database.db.execute(
    sql`select id from writer_tasks where account_id = ${owner.accountId} and idea_id = ${made.idea ?? 0}`,
  )) as unknown as { rows: { id: number }[] };
  const ids = queued.rows.map((r) => r.id);
  expect(ids).toHaveLength(1);
  fake.respond = fakeWriter().respond;
  const before = await newest(owner);
  const task = await call('POST', '/api/v1/writer/tasks/auto_generate_content/', { ids });
  const done = await found('the writing task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  fake.respond = null;
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const all = (await feed(owner)).filter((e) => e.id > before);
  const generated = all.find((e) => e.type === 'content.generated');
  expect(generated, JSON.stringify(all)).toMatchObject({ source_agent: 'worker', object_type: 'content' });
  expect(all.find((e) => e.type === 'credits.debited')).toMatchObject({
    source_agent: 'worker',
    object_id: generated?.object_id,
  });
});
// --- optimizer: an AI rewrite of the article generated above (its event comes from the job)
step('POST /api/v1/optimizer/optimize', async () => {
  const articles = (await t.database.db.execute(
    sql`select id from writer_content where account_id = ${owner.accountId} order by id limit 1`,
  )) as unknown as { rows: { id: number }[] };
  const contentId = articles.rows[0]?.id ?? 0;
  fake.respond = () => ({ json: { html: '<p>Short.</p>', meta_title: 'x', meta_description: 'y', changes: [] } });
  const before = await newest(owner);
  const task = await call('POST', '/api/v1/optimizer/optimize/', { content_ids: [contentId] });
  const done = await found('the optimizing task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  fake.respond = null;
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const all = (await feed(owner)).filter((e) => e.id > before);
  expect(all.find((e) => e.type === 'content.optimized')).toMatchObject({ source_agent: 'worker', object_id: contentId });
});
// --- publisher: two static exports of the site (their completion comes from the job), the second rolled back
const DEPLOYMENTS = '/api/v1/publisher/deployments';
step('POST /api/v1/publisher/deployments', async () => {
  for (let i = 0; i < 2; i++) {
    const accepted = await call('POST', `${DEPLOYMENTS}/`, { site_id: made.site });
    made.deployment = accepted.deployment.id;
    const created = await gained(owner, 0, 'deployment', accepted.deployment.id);
    expect(created.map((e) => [e.type, e.source_agent])).toEqual([['deployment.created', 'api']]);
    const task = await found('the deployment task', async () => {
      const state = await call('GET', `/api/v1/system/tasks/${accepted.task_id}/`);
      return ['succeeded', 'failed'].includes(state.status) ? state : undefined;
    });
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    const events = await gained(owner, 0, 'deployment', accepted.deployment.id);
    expect(events.find((e) => e.type === 'deployment.completed')?.source_agent).toBe('worker');
  }
});
step('POST /api/v1/publisher/deployments/{id}/rollback', async () => {
  await expectEvent('deployment.rolled_back', async () => {
    await call('POST', `${DEPLOYMENTS}/${made.deployment}/rollback/`);
    return made.deployment;
  });
});
// --- writer: an article's images (prompts and drawing are tasks: their events come from the jobs)
const IMAGES = '/api/v1/writer/images';
step('POST /api/v1/writer/content/{id}/generate_image_prompts', async () => {
  const content = await insertContent(t.database.db, owner.accountId, {
    site_id: made.site as number,
    sector_id: made.sector as number,
    title: 'Trail shoes, a guide',
    html: '<h2>Grip</h2><p>Mud.</p>',
  });
  made.content = content.id;
  fake.queue({ json: promptsAnswer(1) });
  const before = await newest(owner);
  const task = await call('POST', `/api/v1/writer/content/${content.id}/generate_image_prompts/`, {});
  const done = await found('the image prompts task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const about = await gained(owner, before, 'content', content.id);
  expect(about.map((e) => [e.type, e.source_agent]).sort()).toEqual([
    ['credits.debited', 'worker'],
    ['images.prompted', 'worker'],
  ]);
});
step('POST /api/v1/writer/images/generate', async () => {
  const ids = (await call('GET', `${IMAGES}/?content_id=${made.content}`)).results.map((i: { id: number }) => i.id);
  expect(ids).toHaveLength(2);
  made.image = ids[1];
  fake.queue(...ids.map((_: number, i: number) => ({ image: { b64: pngOf(4, 3, i).toString('base64') } })));
  const before = await newest(owner);
  const task = await call('POST', `${IMAGES}/generate/`, { ids });
  const done = await found('the images task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const generated = (await gained(owner, before, 'image')).filter((e) => e.type === 'images.generated');
  expect(generated.map((e) => [e.object_id, e.source_agent]).sort()).toEqual(ids.map((id: number) => [id, 'worker']).sort());
});
step('PATCH /api/v1/writer/images/{id}', async () => {
  const event = await expectEvent('image.updated', async () => {
    await call('PATCH', `${IMAGES}/${made.image}/`, { alt_text: 'Lugs in mud' });
    return made.image;
  });
  expect(event.payload).toMatchObject({ content_id: made.content, fields: ['alt_text'] });
});
step('DELETE /api/v1/writer/images/{id}', async () => {
  await expectEvent('image.deleted', async () => {
    await call('DELETE', `${IMAGES}/${made.image}/`);
    return made.image;
  });
});
step('DELETE /api/v1/planner/content-ideas/{id}', async () => {
  await expectEvent('content_idea.deleted', async () => {
    await call('DELETE', `${IDEAS}/${made.idea}/`);
    return made.idea;
  });
});
step('DELETE /api/v1/planner/clusters/{id}', async () => {
  await expectEvent('cluster.deleted', async () => {
    await call('DELETE', `${CL}/${made.cluster}/`);
    return made.cluster;
  });
});
step('DELETE /api/v1/planner/keywords/{id}', async () => {
  await expectEvent('keyword.deleted', async () => {
    await call('DELETE', `${KW}/${made.keyword}/`);
    return made.keyword;
  });
});
step('POST /api/v1/planner/keywords/bulk_delete', async () => {
  const ids = (await call('GET', `${KW}/?sector_id=${made.sector}`)).results.map((k: { id: number }) => k.id);
  const event = await expectEvent(
    'keywords.deleted',
    async () => {
      await call('POST', `${KW}/bulk_delete/`, { ids });
    },
    { object: 'keyword' },
  );
  expect(event.payload).toMatchObject({ count: ids.length });
});

// --- linker: process (a task: its events come from the job), then one suggestion applied and one rejected
const LK = '/api/v1/linker';
step('POST /api/v1/linker/process', async () => {
  const filler = Array.from({ length: 400 }, (_, i) => `word${i % 11}`).join(' ');
  const article = async (title: string, html: string, extra: Record<string, unknown> = {}) =>
    (await call('POST', '/api/v1/writer/content/', { site_id: made.site, sector_id: made.sector, title, html, ...extra })).id;
  await article('Gaiters', '<p>x</p>', { primary_keyword: 'trail gaiters' });
  await article('Poles', '<p>x</p>', { primary_keyword: 'trekking poles' });
  made.linkSource = await article(
    'Hiking',
    `<p>Intro.</p><p>${filler}. Wear trail gaiters. ${filler}.</p><p>${filler}. Take trekking poles. ${filler}.</p>`,
  );
  const before = await newest(owner);
  const task = await call('POST', `${LK}/process/`, { content_ids: [made.linkSource], dry_run: true });
  const done = await found('the linking task', async () =>
    (await gained(owner, before, 'task', task.task_id)).find((e) => e.type.startsWith('task.')),
  );
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const about = await gained(owner, before, 'content', made.linkSource);
  expect(about.map((e) => [e.type, e.source_agent])).toEqual([['links.suggested', 'worker']]);
});
step('POST /api/v1/linker/links/{id}/apply', async () => {
  const [first] = (await call('GET', `${LK}/links/?source_id=${made.linkSource}&ordering=anchor_offset`)).results;
  await expectEvent('link.applied', async () => (await call('POST', `${LK}/links/${first.id}/apply/`)).id);
});
step('POST /api/v1/linker/links/{id}/reject', async () => {
  const [next] = (await call('GET', `${LK}/links/?source_id=${made.linkSource}&status=suggested`)).results;
  await expectEvent('link.rejected', async () => (await call('POST', `${LK}/links/${next.id}/reject/`)).id);
});

// --- writer: tasks, content, versions, the review queue
const WT = '/api/v1/writer/tasks';
const WC = '/api/v1/writer/content';
const WA = '/api/v1/writer/approvals';
const newTask = async () =>
  (await call('POST', `${WT}/`, { site_id: made.site, sector_id: made.sector, title: 'Trail shoes' })).id;
const newArticle = async (title: string) =>
  (await call('POST', `${WC}/`, { site_id: made.site, sector_id: made.sector, title, html: '<p>One.</p>' })).id;
step('POST /api/v1/writer/tasks', async () => {
  await expectEvent('writer_task.created', async () => (made.writerTask = await newTask()));
});
step('PATCH /api/v1/writer/tasks/{id}', async () => {
  const event = await expectEvent('writer_task.updated', async () => {
    await call('PATCH', `${WT}/${made.writerTask}/`, { word_count_target: 900 });
    return made.writerTask;
  });
  expect(event.payload).toMatchObject({ fields: ['word_count_target'] });
});
step('POST /api/v1/writer/tasks/{id}/retry', async () => {
  await t.database.db.execute(sql`update writer_tasks set status = 'failed', error = 'timeout' where id = ${made.writerTask}`);
  await expectEvent('writer_task.retried', async () => {
    await call('POST', `${WT}/${made.writerTask}/retry/`);
    return made.writerTask;
  });
});
step('POST /api/v1/writer/tasks/{id}/cancel', async () => {
  await expectEvent('writer_task.cancelled', async () => {
    await call('POST', `${WT}/${made.writerTask}/cancel/`);
    return made.writerTask;
  });
});
step('DELETE /api/v1/writer/tasks/{id}', async () => {
  await expectEvent('writer_task.deleted', async () => {
    await call('DELETE', `${WT}/${made.writerTask}/`);
    return made.writerTask;
  });
});
step('POST /api/v1/writer/tasks/bulk_delete', async () => {
  const ids = [await newTask(), await newTask()];
  const event = await expectEvent(
    'writer_tasks.deleted',
    async () => {
      await call('POST', `${WT}/bulk_delete/`, { ids });
    },
    { object: 'writer_task' },
  );
  expect(event.payload).toMatchObject({ count: 2, ids });
});
step('POST /api/v1/writer/content', async () => {
  await expectEvent('content.created', async () => (made.content = await newArticle('Trail shoes, a guide')));
});
step('PATCH /api/v1/writer/content/{id}', async () => {
  const event = await expectEvent('content.updated', async () => {
    await call('PATCH', `${WC}/${made.content}/`, { html: '<p>Two.</p>' });
    return made.content;
  });
  expect(event.payload).toMatchObject({ fields: ['html'], version: 2 });
});
step('POST /api/v1/writer/content/{id}/versions/{number}/restore', async () => {
  const event = await expectEvent('content.restored', async () => {
    await call('POST', `${WC}/${made.content}/versions/1/restore/`);
    return made.content;
  });
  expect(event.payload).toMatchObject({ restored_version: 1, version: 3 });
});
step('POST /api/v1/writer/content/{id}/submit_for_review', async () => {
  await expectEvent('content.submitted', async () => {
    await call('POST', `${WC}/${made.content}/submit_for_review/`);
    return made.content;
  });
});
step('POST /api/v1/writer/approvals/{id}/reject', async () => {
  const event = await expectEvent('content.rejected', async () => {
    await call('POST', `${WA}/${made.content}/reject/`, { note: 'Too short.' });
    return made.content;
  });
  expect(event.payload).toMatchObject({ note: 'Too short.', reviewer_id: owner.userId });
});
step('POST /api/v1/writer/content/{id}/reopen', async () => {
  await expectEvent('content.reopened', async () => {
    await call('POST', `${WC}/${made.content}/reopen/`);
    await call('POST', `${WC}/${made.content}/submit_for_review/`);
    return made.content;
  });
});
step('POST /api/v1/writer/approvals/{id}/approve', async () => {
  await expectEvent('content.approved', async () => {
    await call('POST', `${WA}/${made.content}/approve/`, { note: 'Fine.' });
    return made.content;
  });
});
// --- publisher: publish (a task: content.published comes from its job), unpublish, retry; to a WordPress of our own
const PB = '/api/v1/publisher';
step('POST /api/v1/publisher/publish', async () => {
  wordpress = await startFakeWordPress();
  await connectWordPress(t, { accountId: owner.accountId, siteId: made.site as number }, fakeSite(wordpress));
  made.published = await newArticle('Published');
  await call('POST', `${WC}/${made.published}/submit_for_review/`);
  await call('POST', `${WA}/${made.published}/approve/`, {});
  const before = await newest(owner);
  let taskId = 0;
  await expectEvent('publishing_record.queued', async () => {
    const accepted = await call('POST', `${PB}/publish/`, { content_ids: [made.published] });
    taskId = accepted.task_id;
    made.record = accepted.record_ids[0];
    return made.record;
  });
  const done = await found('the publishing task', async () =>
    (await gained(owner, before, 'task', taskId)).find((e) => e.type.startsWith('task.')),
  );
  expect(done.type, JSON.stringify(done)).toBe('task.succeeded');
  const about = await gained(owner, before, 'content', made.published);
  expect(about.find((e) => e.type === 'content.published')).toMatchObject({ source_agent: 'worker' });
});
step('POST /api/v1/publisher/publishing-records/{id}/unpublish', async () => {
  await expectEvent('content.unpublished', async () => {
    await call('POST', `${PB}/publishing-records/${made.record}/unpublish/`);
    return made.published;
  });
});
step('POST /api/v1/publisher/publishing-records/{id}/retry', async () => {
  await t.database.db.execute(sql`update publisher_records set status = 'failed', error = 'timeout' where id = ${made.record}`);
  await expectEvent('publishing_record.retried', async () => {
    await call('POST', `${PB}/publishing-records/${made.record}/retry/`);
    return made.record;
  });
});
step('POST /api/v1/writer/approvals/{id}/override', async () => {
  const id = await newArticle('Overridden');
  await call('POST', `${WC}/${id}/submit_for_review/`);
  const event = await expectEvent('content.approved', async () => {
    await call('POST', `${WA}/${id}/override/`, { html: '<p>Better.</p>', note: 'Fixed it.' });
    return id;
  });
  expect(event.payload).toMatchObject({ override: true, fields: ['html'] });
});
step('POST /api/v1/writer/content/{id}/archive', async () => {
  // Publishing is the publisher's; here the article is published directly.
  await t.database.db.execute(sql`update writer_content set status = 'published' where id = ${made.content}`);
  await expectEvent('content.archived', async () => {
    await call('POST', `${WC}/${made.content}/archive/`);
    return made.content;
  });
});
step('DELETE /api/v1/writer/content/{id}', async () => {
  await expectEvent('content.deleted', async () => {
    await call('DELETE', `${WC}/${made.content}/`);
    return made.content;
  });
});

// --- system: tasks, AI settings, prompts, author profiles
step('POST /api/v1/system/tasks/{id}/cancel', async () => {
  const task = await t.database.db.transaction((tx) =>
    t.app.services.jobs.startTask(tx, { accountId: owner.accountId, actorId: owner.userId }, 'test.steps', {
      account_id: owner.accountId,
      steps: 100,
      delay_ms: 50,
    }),
  );
  const before = await newest(owner);
  await call('POST', `/api/v1/system/tasks/${task.id}/cancel/`);
  // Queued: cancelled at once by the API; running: flagged, and the job records the end between units.
  const event = await found('the cancelled task', async () =>
    (await gained(owner, before, 'task', task.id)).find((e) => e.type === 'task.cancelled'),
  );
  expect(event.object_id).toBe(task.id);
});
step('PATCH /api/v1/system/settings', async () => {
  const event = await expectEvent(
    'settings.updated',
    async () => {
      await call('PATCH', '/api/v1/system/settings/', { tone: 'friendly', brand_guidelines: 'Say trail.' });
    },
    { actor: owner.userId },
  );
  expect(event.payload).toEqual({ section: 'ai', fields: ['brand_guidelines', 'tone'] });
});
step('PATCH /api/v1/system/prompts/{function}', async () => {
  await expectEvent('prompt.updated', async () => {
    await call('PATCH', '/api/v1/system/prompts/ideas/', { system_template: 'You plan articles.' });
  });
});
step('POST /api/v1/system/prompts/{function}/reset', async () => {
  const event = await expectEvent('prompt.reset', async () => {
    await call('POST', '/api/v1/system/prompts/ideas/reset/');
  });
  expect(event.payload).toEqual({ function: 'ideas' });
});
step('POST /api/v1/system/author-profiles', async () => {
  await expectEvent(
    'author_profile.created',
    async () => (made.profile = (await call('POST', '/api/v1/system/author-profiles/', { name: 'Ada' })).id),
  );
});
step('PATCH /api/v1/system/author-profiles/{id}', async () => {
  await expectEvent('author_profile.updated', async () => {
    await call('PATCH', `/api/v1/system/author-profiles/${made.profile}/`, { tone: 'warm' });
    return made.profile;
  });
});
step('PUT /api/v1/system/author-profiles/{id}', async () => {
  await expectEvent('author_profile.updated', async () => {
    await call('PUT', `/api/v1/system/author-profiles/${made.profile}/`, { name: 'Ada L.' });
    return made.profile;
  });
});
step('DELETE /api/v1/system/author-profiles/{id}', async () => {
  await expectEvent('author_profile.deleted', async () => {
    await call('DELETE', `/api/v1/system/author-profiles/${made.profile}/`);
    return made.profile;
  });
});

// --- automation: a site's config, and a run paused, resumed and cancelled while its ideas call is slow
const AUTO = '/api/v1/automation';
step('PATCH /api/v1/automation/configs/{site_id}', async () => {
  const site = await call('POST', '/api/v1/auth/sites/', { name: 'Automated' });
  const sector = await call('POST', '/api/v1/auth/sectors/', { site_id: site.id, name: 'Gear' });
  made.autoSite = site.id;
  for (const keyword of ['rain boots', 'best rain boots']) {
    await call('POST', `${KW}/`, { site_id: site.id, sector_id: sector.id, keyword });
  }
  await expectEvent(
    'automation_config.updated',
    async () => (await call('PATCH', `${AUTO}/configs/${site.id}/`, { ideas_per_cluster: 1 })).id,
    { object: 'automation_config' },
  );
});
step('POST /api/v1/automation/run_now', async () => {
  const idea = {
    title: 'Rain boots for every trail',
    description: 'Choosing.',
    content_type: 'post',
    content_structure: 'guide',
    target_keywords: ['rain boots'],
    estimated_word_count: 300,
    outline: { sections: [{ heading: 'Fit', level: 2, points: ['Dry feet'] }] },
  };
  fake.respond = () => ({ delayMs: 1500, json: { ideas: [idea] } });
  await expectEvent(
    'automation.run.queued',
    async () => {
      const accepted = await call('POST', `${AUTO}/run_now/`, { site_id: made.autoSite });
      made.run = accepted.run.id;
      return made.run;
    },
    { object: 'automation_run' },
  );
});
for (const [action, verb] of [
  ['pause', 'paused'],
  ['resume', 'resumed'],
  ['cancel', 'cancelled'],
] as const) {
  step(`POST /api/v1/automation/runs/{id}/${action}`, async () => {
    if (action === 'resume') {
      // A paused run resumes once its task has stopped after the unit in hand (the slow ideas call).
      const paused = await call('GET', `${AUTO}/runs/${made.run}/`);
      await found('the paused run’s task to stop', async () => {
        const task = await call('GET', `/api/v1/system/tasks/${paused.task_id}/`);
        return task.status === 'running' || task.status === 'queued' ? undefined : task;
      });
    }
    await expectEvent(`automation.run.${verb}`, async () => (await call('POST', `${AUTO}/runs/${made.run}/${action}/`)).id, {
      object: 'automation_run',
    });
    if (action === 'cancel') fake.respond = null;
  });
}
// --- account: settings, API keys
step('PATCH /api/v1/account/settings', async () => {
  await expectEvent('settings.updated', async () => {
    await call('PATCH', '/api/v1/account/settings/', { timezone: 'Europe/Paris' });
  });
});
step('POST /api/v1/account/api-keys', async () => {
  let key = '';
  const event = await expectEvent('api_key.created', async () => {
    const created = await createApiKey(t, owner, { name: 'ci' });
    key = created.key;
    made.key = created.id;
    return created.id;
  });
  expect(JSON.stringify(event)).not.toContain(key);
  expect(key.startsWith(event.payload.prefix as string)).toBe(true);
});
step('POST /api/v1/account/api-keys/{id}/rotate', async () => {
  const event = await expectEvent('api_key.rotated', async () => {
    made.rotated = (await call('POST', `/api/v1/account/api-keys/${made.key}/rotate/`)).id;
    return made.key;
  });
  expect(event.payload).toMatchObject({ name: 'ci', new_api_key_id: made.rotated });
});
step('DELETE /api/v1/account/api-keys/{id}', async () => {
  // Revoked by another key: the actor is no user, and the payload names the key that did it.
  const admin = await createApiKey(t, owner, { name: 'admin', scopes: ['read', 'write', 'admin'] });
  const event = await expectEvent('api_key.revoked', async () => {
    await call('DELETE', `/api/v1/account/api-keys/${made.rotated}/`, undefined, admin);
    return made.rotated;
  });
  expect(event.actor_id).toBeNull();
  expect(event.payload.api_key_id).toBe(admin.id);
});

// --- outgoing webhooks: a subscription (its own creation is its first delivery), changed, rotated, redelivered
const SUBS = '/api/v1/events/subscriptions';
step('POST /api/v1/events/subscriptions', async () => {
  let secret = '';
  const event = await expectEvent('subscription.created', async () => {
    // Nothing listens on the discard port: the delivery fails and waits for its retry, which is all this needs.
    const created = await call('POST', `${SUBS}/`, { url: 'http://127.0.0.1:9/hook', event_types: ['subscription.*'] });
    secret = created.secret;
    made.subscription = created.id;
    return created.id;
  });
  expect(JSON.stringify(event)).not.toContain(secret);
});
step('PATCH /api/v1/events/subscriptions/{id}', async () => {
  const event = await expectEvent('subscription.updated', async () => {
    await call('PATCH', `${SUBS}/${made.subscription}/`, { description: 'CRM' });
    return made.subscription;
  });
  expect(event.payload).toMatchObject({ fields: ['description'] });
});
step('PUT /api/v1/events/subscriptions/{id}', async () => {
  await expectEvent('subscription.updated', async () => {
    await call('PUT', `${SUBS}/${made.subscription}/`, { url: 'http://127.0.0.1:9/hook', event_types: ['subscription.*'] });
    return made.subscription;
  });
});
step('POST /api/v1/events/subscriptions/{id}/rotate_secret', async () => {
  let secret = '';
  const event = await expectEvent('subscription.secret_rotated', async () => {
    secret = (await call('POST', `${SUBS}/${made.subscription}/rotate_secret/`)).secret;
    return made.subscription;
  });
  expect(JSON.stringify(event)).not.toContain(secret);
});
step('POST /api/v1/events/deliveries/{id}/redeliver', async () => {
  const delivery = (await call('GET', `/api/v1/events/deliveries/?subscription_id=${made.subscription}`)).results.at(-1);
  await expectEvent('delivery.redelivered', async () => {
    await call('POST', `/api/v1/events/deliveries/${delivery.id}/redeliver/`);
    return delivery.id;
  });
});
step('DELETE /api/v1/events/subscriptions/{id}', async () => {
  await expectEvent('subscription.deleted', async () => {
    await call('DELETE', `${SUBS}/${made.subscription}/`);
    return made.subscription;
  });
});

// --- team: members made directly, invited, changed, removed
async function memberSignedIn(email: string): Promise<SignedUp> {
  const data = await call('POST', '/api/v1/auth/login/', { email, password: PASSWORD, account_id: owner.accountId });
  return {
    ...owner,
    userId: data.user.id,
    email,
    access: data.access,
    refresh: data.refresh,
    headers: { authorization: `Bearer ${data.access}` },
  };
}
step('POST /api/v1/auth/users', async () => {
  const email = uniqueEmail('editor');
  await expectEvent(
    'member.created',
    async () => (made.member = (await call('POST', '/api/v1/auth/users/', { email, password: PASSWORD, role: 'editor' })).id),
  );
  other.member = await memberSignedIn(email);
});
step('PATCH /api/v1/auth/users/{id}', async () => {
  const event = await expectEvent(
    'member.role_changed',
    async () => {
      await call('PATCH', `/api/v1/auth/users/${made.member}/`, { role: 'viewer' });
      return made.member;
    },
    { object: 'member' },
  );
  expect(event.payload).toMatchObject({ role: 'viewer', previous_role: 'editor' });
});
step('PATCH /api/v1/account/team/{id}', async () => {
  await expectEvent(
    'member.updated',
    async () => {
      await call('PATCH', `/api/v1/account/team/${made.member}/`, { first_name: 'Grace' });
      return made.member;
    },
    { object: 'member' },
  );
});
step('POST /api/v1/auth/change-password', async () => {
  const member = other.member as SignedUp;
  await expectEvent(
    'password.changed',
    async () => {
      await call(
        'POST',
        '/api/v1/auth/change-password/',
        { old_password: PASSWORD, new_password: 'a brand new passphrase' },
        member,
      );
      return member.userId;
    },
    { object: 'user', actor: member.userId },
  );
});
step('POST /api/v1/auth/password-reset/confirm', async () => {
  const member = other.member as SignedUp;
  await call('POST', '/api/v1/auth/password-reset/', { email: member.email });
  const outbox = (await call('GET', '/api/v1/admin/outbox/?page_size=200', undefined, staff)).results as Record<
    string,
    unknown
  >[];
  const token = outbox
    .filter((m) => JSON.stringify(m).includes(member.email))
    .flatMap((m) => Object.values(m).map((v) => (typeof v === 'string' ? v.match(/"token": "([^"]+)"/)?.[1] : undefined)))
    .find(Boolean);
  expect(token).toBeDefined();
  const event = await expectEvent(
    'password.changed',
    async () => {
      await call(
        'POST',
        '/api/v1/auth/password-reset/confirm/',
        { token, new_password: 'another new passphrase' },
        { headers: {} },
      );
      return member.userId;
    },
    { object: 'user', actor: member.userId },
  );
  expect(event.payload).toMatchObject({ how: 'reset' });
});
step('DELETE /api/v1/account/team/{id}', async () => {
  await expectEvent(
    'member.removed',
    async () => {
      await call('DELETE', `/api/v1/account/team/${made.member}/`);
      return made.member;
    },
    { object: 'member' },
  );
});
step('DELETE /api/v1/auth/users/{id}', async () => {
  const id = (await call('POST', '/api/v1/auth/users/', { email: uniqueEmail('viewer'), password: PASSWORD, role: 'viewer' })).id;
  await expectEvent(
    'member.removed',
    async () => {
      await call('DELETE', `/api/v1/auth/users/${id}/`);
      return id;
    },
    { object: 'member' },
  );
});
step('POST /api/v1/account/team/invite', async () => {
  const email = uniqueEmail('invited');
  let acceptUrl = '';
  const event = await expectEvent(
    'member.invited',
    async () => {
      acceptUrl = (await call('POST', '/api/v1/account/team/invite/', { email, role: 'editor' })).accept_url;
    },
    { object: 'member' },
  );
  expect(event.payload).toMatchObject({ email, role: 'editor' });
  other.inviteToken = new URL(acceptUrl).searchParams.get('token') ?? '';
});
step('POST /api/v1/account/team/accept', async () => {
  let userId = 0;
  const event = await expectEvent(
    'member.joined',
    async () => {
      const body = { token: other.inviteToken, password: PASSWORD };
      userId = (await call('POST', '/api/v1/account/team/accept/', body, { headers: {} })).user.id;
      return userId;
    },
    { object: 'member' },
  );
  expect(event.actor_id).toBe(userId);
});

// --- sessions
step('DELETE /api/v1/auth/sessions/{id}', async () => {
  const second = await memberSignedIn(owner.email);
  const sessions = (await call('GET', '/api/v1/auth/sessions/', undefined, second)).results as { id: number; current: boolean }[];
  // Another of the owner's sessions, revoked from this one.
  const target = sessions.find((s) => s.current);
  expect(target).toBeDefined();
  await expectEvent('session.revoked', async () => {
    await call('DELETE', `/api/v1/auth/sessions/${target?.id}/`);
    return target?.id;
  });
});
step('POST /api/v1/auth/logout', async () => {
  const session = await memberSignedIn(owner.email);
  await expectEvent('session.revoked', async () => {
    await call('POST', '/api/v1/auth/logout/', { refresh: session.refresh }, { headers: {} });
  });
});

// --- the rest of the site-scoped deletes, last: deleting a site deletes what it holds
// --- integration: a site's WordPress (a small stand-in: the steps must run without the peer)
const INT = '/api/v1/integration/integrations';
let wordpressSite: FakeWordPress | undefined;
let webhookSecret = '';
step('POST /api/v1/integration/integrations', async () => {
  // The publisher's steps connected this site to their own stand-in directly; the integration is made here
  // through its route (one WordPress integration per site).
  await t.database.db.execute(sql`delete from integration_integrations where site_id = ${made.site as number}`);
  wordpressSite = await startFakeWordPress({ username: 'editor', password: 'abcd abcd abcd abcd abcd abcd' });
  const base_url = wordpressSite.baseUrl;
  await expectEvent('integration.created', async () => {
    const row = await call('POST', `${INT}/`, {
      site_id: made.site,
      platform: 'wordpress',
      base_url,
      username: 'editor',
      credentials: 'abcd abcd abcd abcd abcd abcd',
    });
    webhookSecret = row.webhook_secret;
    made.integration = row.id;
    return row.id;
  });
});
step('PATCH /api/v1/integration/integrations/{id}', async () => {
  const event = await expectEvent('integration.updated', async () => {
    await call('PATCH', `${INT}/${made.integration}/`, { username: 'editor2' });
    return made.integration;
  });
  expect(event.payload).toMatchObject({ fields: ['username'] });
  await call('PATCH', `${INT}/${made.integration}/`, { username: 'editor' });
});
step('POST /api/v1/integration/integrations/{id}/test_connection', async () => {
  const event = await expectEvent('integration.tested', async () => {
    expect((await call('POST', `${INT}/${made.integration}/test_connection/`)).ok).toBe(true);
    return made.integration;
  });
  expect(event.payload).toMatchObject({ ok: true });
});
step('POST /api/v1/integration/integrations/{id}/sync', async () => {
  const before = await newest(owner);
  await expectEvent('integration.sync_started', async () => {
    await call('POST', `${INT}/${made.integration}/sync/`, { sector_id: made.sector });
    return made.integration;
  });
  await found('the synced event', async () =>
    (await gained(owner, before, 'integration', made.integration)).find((e) => e.type === 'integration.synced'),
  );
});
step('POST /api/v1/integration/integrations/{id}/rotate_secret', async () => {
  await expectEvent('integration.secret_rotated', async () => {
    webhookSecret = (await call('POST', `${INT}/${made.integration}/rotate_secret/`)).webhook_secret;
    return made.integration;
  });
});
step('POST /api/v1/integration/webhooks/{provider}', async () => {
  const { createHmac } = await import('node:crypto');
  const payload = JSON.stringify({ id: `coverage-${Date.now()}`, type: 'post.updated' });
  const before = await newest(owner);
  const res = await t.request({
    method: 'POST',
    url: '/api/v1/integration/webhooks/wordpress/',
    headers: {
      'content-type': 'application/json',
      'x-integration-id': String(made.integration),
      'x-signature': `sha256=${createHmac('sha256', webhookSecret).update(payload).digest('hex')}`,
    },
    payload,
  });
  expect(res.statusCode, res.body).toBe(200);
  const event = await found('the ingested webhook', async () =>
    (await gained(owner, before, 'integration_webhook_event')).find((e) => e.type === 'webhook.ingested'),
  );
  expect(event.source_agent).toBe('webhook:wordpress');
});
step('DELETE /api/v1/integration/integrations/{id}', async () => {
  await expectEvent('integration.deleted', async () => {
    await call('DELETE', `${INT}/${made.integration}/`);
    return made.integration;
  });
  await wordpressSite?.close();
});
step('DELETE /api/v1/auth/sectors/{id}', async () => {
  await expectEvent('sector.deleted', async () => {
    await call('DELETE', `/api/v1/auth/sectors/${made.sector}/`);
    return made.sector;
  });
});
step('DELETE /api/v1/auth/sites/{id}', async () => {
  await expectEvent('site.deleted', async () => {
    await call('DELETE', `/api/v1/auth/sites/${made.site}/`);
    return made.site;
  });
});

// --- staff acting on an account: recorded in that account's feed
step('POST /api/v1/admin/accounts/{id}/adjust_credits', async () => {
  // The ledger's own event, naming its transaction; the actor is the staff member.
  const event = await expectEvent(
    'credits.adjusted',
    async () => {
      await call('POST', `/api/v1/admin/accounts/${owner.accountId}/adjust_credits/`, { amount: 5, reason: 'goodwill' }, staff);
    },
    { object: 'credit_transaction', actor: staff.userId },
  );
  expect(event.payload).toMatchObject({ amount: 5 });
});

step('POST /api/v1/billing/webhooks/stripe', async () => {
  // Stored and handed to a job; the job applies it and records webhook.ingested in the account's feed.
  const payload = JSON.stringify({
    id: `evt_coverage_${Date.now()}`,
    object: 'event',
    type: 'customer.subscription.updated',
    created: Math.floor(Date.now() / 1000),
    api_version: Stripe.API_VERSION,
    data: {
      object: { id: 'sub_coverage', object: 'subscription', status: 'active', metadata: { account_id: String(owner.accountId) } },
    },
  });
  const before = await newest(owner);
  const res = await t.request({
    method: 'POST',
    url: '/api/v1/billing/webhooks/stripe/',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }),
    },
    payload,
  });
  expect(res.statusCode, res.body).toBe(200);
  const event = await found('the applied webhook', async () =>
    (await gained(owner, before, 'billing_webhook_event')).find((e) => e.type === 'webhook.ingested'),
  );
  expect(event.source_agent).toBe('webhook:stripe');
});

describe('every change is an event', () => {
  it('drives or lists (with a reason) every mutating operation of /api/schema, and nothing else', async () => {
    const operations = await mutatingOperations();
    const driven = steps.map((s) => s.op);
    const listed = [...Object.keys(NO_DURABLE_CHANGE), ...OUTSIDE_ACCOUNTS];
    const unaccounted = operations.filter((op) => !driven.includes(op) && !listed.includes(op));
    expect(unaccounted, 'operations with no step recording their event').toEqual([]);
    const stale = [...driven, ...listed].filter((op) => !operations.includes(op));
    expect(stale, 'steps or list entries for operations that no longer exist').toEqual([]);
    expect(new Set(driven).size, 'an operation driven twice').toBe(driven.length);
    expect(
      driven.filter((op) => listed.includes(op)),
      'both driven and listed',
    ).toEqual([]);
  });

  it('records an event for each mutating operation', async () => {
    for (const { op, run } of steps) {
      try {
        await run();
      } catch (error) {
        throw new Error(`${op}: ${(error as Error).message}`);
      }
    }
  }, 60_000);
});

describe('no change, no event', () => {
  it('records nothing for an update that changes nothing, and nothing when the change rolls back', async () => {
    const site = await createSite(t, owner);
    const sector = await createSector(t, owner, site.id);
    const article = await call('POST', '/api/v1/writer/content/', { site_id: site.id, sector_id: sector.id, title: 'Same' });
    const task = await call('POST', '/api/v1/writer/tasks/', { site_id: site.id, sector_id: sector.id, title: 'Same' });
    const before = await newest(owner);
    await call('PATCH', `/api/v1/writer/content/${article.id}/`, { title: 'Same', html: '' });
    await call('PATCH', `/api/v1/writer/tasks/${task.id}/`, { title: 'Same' });
    await call('PATCH', `/api/v1/auth/sectors/${sector.id}/`, {});
    await call('PATCH', '/api/v1/account/settings/', {});
    await call('PATCH', '/api/v1/system/settings/', {});
    await call('PATCH', `/api/v1/auth/users/${owner.userId}/`, {});
    await call('POST', '/api/v1/system/prompts/content/reset/');
    const refused = await t.request({
      method: 'POST',
      url: '/api/v1/auth/sectors/',
      headers: owner.headers,
      payload: { site_id: site.id, name: 'Dup', slug: (await call('GET', `/api/v1/auth/sectors/${sector.id}/`)).slug },
    });
    expect(refused.statusCode).toBe(400);
    expect((await feed(owner)).filter((e) => e.id > before)).toEqual([]);
  });
});
