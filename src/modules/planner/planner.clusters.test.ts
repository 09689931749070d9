import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask } from '../../../test/wait.js';
import { lexicalClusters, stemsOf } from './planner.lexical.js';

const KW = '/api/v1/planner/keywords/';
const CLUSTERS = '/api/v1/planner/clusters/';
const IDEAS = '/api/v1/planner/content-ideas/';
let t: TestApp;
let fake: FakeOpenAI;
let owner: SignedUp;
let siteId: number;

/** A fixed keyword set: two obvious families, their shared word "running", and loners. */
const FAMILY = [
  ['trail running shoes', 9000],
  ['best trail running shoes', 4000],
  ['trail shoes for running', 1200],
  ['running watch', 8000],
  ['gps running watch', 2000],
  ['best running watch for marathon', 900],
  ['chocolate cake recipe', 50],
  ['running shoes', 7000],
] as const;

const post = (url: string, payload: unknown) =>
  t.request({ method: 'POST', url, headers: owner.headers, payload: payload as object });
const get = (url: string) => t.request({ method: 'GET', url, headers: owner.headers });

const finished = (location: string) => finishedTask(t, owner.headers, location);

async function sectorWith(keywords: readonly (readonly [string, number])[]) {
  const sector = await createSector(t, owner, siteId);
  const res = await post(`${KW}import/`, {
    site_id: siteId,
    sector_id: sector.id,
    rows: keywords.map(([keyword, volume], i) => ({ keyword, volume, difficulty: 10 + i })),
  });
  expect(res.json().data.created).toBe(keywords.length);
  return sector.id;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' });
  owner = await signUp(t);
  siteId = (await createSite(t, owner)).id;
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe('lexical clustering', () => {
  const items = FAMILY.map(([keyword, volume]) => ({ keyword: keyword as string, volume: volume as number }));
  const groups = () => lexicalClusters(items).map((g) => g.map((i) => items[i]?.keyword));
  const groupOf = (keyword: string) => groups().find((g) => g.includes(keyword)) ?? [keyword];

  it('stems meaning-bearing words and drops stop words and SEO qualifiers', () => {
    expect(stemsOf('The Best Trail-Running Shoes, for runners!')).toEqual(['trail', 'run', 'shoe', 'runner']);
  });

  it('groups obvious families and keeps unrelated keywords apart', () => {
    const trail = groupOf('trail running shoes');
    expect(trail).toEqual(expect.arrayContaining(['trail running shoes', 'best trail running shoes', 'trail shoes for running']));
    expect(groupOf('running shoes')).not.toContain('running watch');
    expect(groupOf('running watch')).toEqual(expect.arrayContaining(['running watch', 'gps running watch']));
    expect(groupOf('running watch')).not.toContain('trail running shoes');
    // A keyword with no partner is in no cluster; every cluster has at least two keywords.
    expect(groups().flat()).not.toContain('chocolate cake recipe');
    for (const group of groups()) expect(group.length).toBeGreaterThanOrEqual(2);
  });

  it('leads each cluster with its highest-volume keyword and respects the size cap and threshold', () => {
    for (const group of lexicalClusters(items)) {
      const volumes = group.map((i) => items[i]?.volume ?? 0);
      expect(volumes[0]).toBe(Math.max(...volumes));
    }
    const many = Array.from({ length: 30 }, (_, i) => ({ keyword: `trail running shoes size ${i}`, volume: 100 - i }));
    expect(lexicalClusters(many, { maxSize: 10 }).every((g) => g.length <= 10)).toBe(true);
    // At a threshold of 0.99 only keywords with the very same stems stay together ("best" is a qualifier).
    expect(lexicalClusters(items, { threshold: 0.99 })).toEqual([[0, 1]]);
  });

  // Its speed is measured by `npm run bench:planner` (10,000 and 100,000 keywords), not asserted here.
  it('clusters 10,000 keywords into families', () => {
    const heads = ['shoe', 'jacket', 'tent', 'watch', 'backpack', 'sock', 'glove', 'lamp', 'stove', 'pole'];
    const mods = [
      'trail',
      'road',
      'waterproof',
      'light',
      'winter',
      'women',
      'men',
      'kids',
      'cheap',
      'best',
      'review',
      'sale',
      'ultra',
      'hiking',
      'running',
    ];
    const extra = [
      '2026',
      'uk',
      'online',
      'size',
      'guide',
      'vs',
      'brand',
      'black',
      'blue',
      'red',
      'used',
      'repair',
      'care',
      'wash',
      'fit',
    ];
    const many: { keyword: string; volume: number }[] = [];
    for (let i = 0; many.length < 10_000; i++) {
      many.push({
        keyword: `${mods[i % 15]} ${heads[Math.floor(i / 15) % 10]} ${extra[Math.floor(i / 150) % 15]} ${Math.floor(i / 2250)}`,
        volume: (i * 7919) % 10_000,
      });
    }
    const result = lexicalClusters(many);
    expect(result.length).toBeGreaterThan(100);
    // Each keyword in one family at most.
    const members = result.flat();
    expect(new Set(members).size).toBe(members.length);
  });
});

describe('clustering and ideas through the API', () => {
  it("auto_cluster reports given ids that are not the caller's keywords of that site and sector", async () => {
    const sectorId = await sectorWith(FAMILY);
    const otherSectorId = await sectorWith([['road running shoes', 500]]);
    const own = (await get(`${KW}?sector_id=${sectorId}`)).json().data.results.map((k: { id: number }) => k.id);
    const [elsewhere] = (await get(`${KW}?sector_id=${otherSectorId}`)).json().data.results.map((k: { id: number }) => k.id);
    const res = await post(`${KW}auto_cluster/`, { site_id: siteId, sector_id: sectorId, ids: [...own, elsewhere, 999997] });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().data.skipped).toEqual([elsewhere, 999997]);
    await finished(res.headers.location as string);
  });

  it('auto-clusters lexically as a task, creates clusters with totals and maps keywords', async () => {
    const sectorId = await sectorWith(FAMILY);
    const res = await post(`${KW}auto_cluster/`, { site_id: siteId, sector_id: sectorId });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().data.status).toBe('queued');
    const task = await finished(res.headers.location as string);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(task.result.method).toBe('lexical');

    const clusters = (await get(`${CLUSTERS}?sector_id=${sectorId}&ordering=-volume`)).json().data.results;
    expect(clusters.length).toBe(task.result.clusters_created);
    const first = clusters[0];
    const members = (await get(`${CLUSTERS}${first.id}/keywords/`)).json().data.results;
    expect(first.keywords_count).toBe(members.length);
    expect(first.volume).toBe(members.reduce((s: number, k: { volume: number }) => s + k.volume, 0));
    expect(first.name).toBe(members[0].keyword);
    expect(members.every((k: { status: string }) => k.status === 'mapped')).toBe(true);
    const loner = (await get(`${KW}?sector_id=${sectorId}&search=chocolate`)).json().data.results[0];
    expect(loner).toMatchObject({ status: 'new', cluster_id: null });

    const events = (await get('/api/v1/events/?type=keywords.clustered')).json().data.results;
    expect(events[0].payload).toMatchObject({ method: 'lexical', sector_id: sectorId });

    // Clustering again finds only the loners: nothing more to group.
    const again = await finished(
      (await post(`${KW}auto_cluster/`, { site_id: siteId, sector_id: sectorId })).headers.location as string,
    );
    expect(again.result.clusters_created).toBe(0);
  });

  it('clusters with AI, keeping only given keywords once each, and charges per batch', async () => {
    const sectorId = await sectorWith([
      ['rain jacket', 500],
      ['waterproof rain jacket', 300],
      ['rain coat', 200],
      ['tent', 100],
    ]);
    const before = (await get('/api/v1/billing/credits/balance/')).json().data.balance;
    fake.queue({
      json: {
        clusters: [
          {
            name: 'Rain jackets',
            description: 'Jackets for rain.',
            keywords: ['Rain Jacket', 'waterproof rain jacket', 'rain jacket', 'invented keyword'],
          },
          { name: 'Lonely', keywords: ['rain coat'] },
        ],
      },
    });
    const res = await post(`${KW}auto_cluster/`, { site_id: siteId, sector_id: sectorId, method: 'ai' });
    expect(res.statusCode, res.body).toBe(202);
    const task = await finished(res.headers.location as string);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(task.result).toMatchObject({ method: 'ai', clusters_created: 1, keywords_clustered: 2, batches: 1 });
    const prompt = fake
      .chatRequests()[0]
      ?.body.messages.map((m: { content: string }) => m.content)
      .join('\n');
    expect(prompt).toContain('waterproof rain jacket');
    const [cluster] = (await get(`${CLUSTERS}?sector_id=${sectorId}`)).json().data.results;
    expect(cluster).toMatchObject({ name: 'Rain jackets', description: 'Jackets for rain.', keywords_count: 2, volume: 800 });
    const after = (await get('/api/v1/billing/credits/balance/')).json().data.balance;
    expect(before - after).toBe(1); // 4 keywords at 1 credit per 20, rounded up
  });

  it('generates ideas per cluster with AI and queues them to the writer', async () => {
    const sectorId = await sectorWith([
      ['hiking boots', 900],
      ['best hiking boots', 400],
    ]);
    const cluster = (await post(CLUSTERS, { site_id: siteId, sector_id: sectorId, name: 'Hiking boots' })).json().data;
    await post(`${KW}bulk_update/`, {
      ids: (await get(`${KW}?sector_id=${sectorId}`)).json().data.results.map((k: { id: number }) => k.id),
      cluster_id: cluster.id,
    });
    const idea = (n: number) => ({
      title: `Hiking boots guide ${n}`,
      description: 'How to choose.',
      content_type: 'post',
      content_structure: 'guide',
      target_keywords: ['Hiking Boots', 'best hiking boots'],
      estimated_word_count: 1800,
      outline: { sections: [{ heading: 'Fit', level: 2, points: ['Try them late in the day'] }] },
    });
    fake.queue({ json: { ideas: [idea(1), idea(2)] } });
    const res = await post(`${CLUSTERS}auto_generate_ideas/`, { ids: [cluster.id, 999999], ideas_per_cluster: 2 });
    expect(res.statusCode, res.body).toBe(202);
    // The unknown id is reported, not silently dropped.
    expect(res.json().data.skipped).toEqual([999999]);
    const task = await finished(res.headers.location as string);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(task.result).toMatchObject({ ideas_created: 2, clusters_done: 1 });
    expect((await get(`${CLUSTERS}${cluster.id}/`)).json().data.status).toBe('ideas_generated');
    const ideas = (await get(`${IDEAS}?cluster_id=${cluster.id}&ordering=title`)).json().data.results;
    expect(ideas).toHaveLength(2);
    expect(ideas[0]).toMatchObject({
      status: 'new',
      target_keywords: ['hiking boots', 'best hiking boots'],
      estimated_word_count: 1800,
      site_id: siteId,
      sector_id: sectorId,
    });
    expect(ideas[0].outline.sections[0].heading).toBe('Fit');

    const queued = await post(`${IDEAS}bulk_queue_to_writer/`, { ids: [...ideas.map((i: { id: number }) => i.id), 999998] });
    expect(queued.statusCode, queued.body).toBe(200);
    expect(queued.json().data.queued).toBe(2);
    expect(queued.json().data.skipped).toEqual([999998]);
    expect(queued.json().data.writer_task_ids).toHaveLength(2);
    expect((await get(`${IDEAS}${ideas[0].id}/`)).json().data.status).toBe('queued');
    const twice = await post(`${IDEAS}bulk_queue_to_writer/`, { ids: [ideas[0].id] });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().details.ids).toEqual([ideas[0].id]);
    const types = (await get('/api/v1/events/?type__in=ideas.generated,ideas.queued'))
      .json()
      .data.results.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['ideas.generated', 'ideas.queued']));
  });

  it('reports an AI unit whose answer stays malformed, charging nothing for it', async () => {
    const sectorId = await sectorWith([
      ['tent pegs', 300],
      ['titanium tent pegs', 100],
    ]);
    const good = (await post(CLUSTERS, { site_id: siteId, sector_id: sectorId, name: 'Tent pegs' })).json().data;
    const bad = (await post(CLUSTERS, { site_id: siteId, sector_id: sectorId, name: 'Tent poles' })).json().data;
    const before = (await get('/api/v1/billing/credits/balance/')).json().data.balance;
    const idea = {
      title: 'Choosing tent pegs',
      description: 'Soil by soil.',
      content_type: 'post',
      content_structure: 'guide',
      target_keywords: ['tent pegs'],
      estimated_word_count: 900,
      outline: { sections: [] },
    };
    fake.queue({ json: { ideas: [idea] } }, { text: 'Here are some ideas: none' }, { text: '{"ideas": "not a list"}' });
    const res = await post(`${CLUSTERS}auto_generate_ideas/`, { ids: [good.id, bad.id], ideas_per_cluster: 1 });
    const task = await finished(res.headers.location as string);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(task.result).toMatchObject({ ideas_created: 1, clusters_done: 1 });
    expect(task.result.failed).toEqual([
      { unit: `cluster:${bad.id}`, code: 'malformed_output', message: expect.stringMatching(/did not match its schema/) },
    ]);
    // 2 credits for the cluster that got ideas, none for the one that did not.
    expect((await get('/api/v1/billing/credits/balance/')).json().data.balance).toBe(before - 2);
    expect((await get(`${IDEAS}?cluster_id=${bad.id}`)).json().data.count).toBe(0);
    expect((await get(`${CLUSTERS}${bad.id}/`)).json().data.status).toBe('new');
  });

  it('fails a one-unit task whose answer stays malformed the same way, at once (no retry)', async () => {
    const sectorId = await sectorWith([['tent stakes', 200]]);
    const only = (await post(CLUSTERS, { site_id: siteId, sector_id: sectorId, name: 'Tent stakes' })).json().data;
    fake.queue({ text: 'no JSON here' }, { text: '{"ideas": "not a list"}' });
    const res = await post(`${CLUSTERS}auto_generate_ideas/`, { ids: [only.id], ideas_per_cluster: 1 });
    const task = await finished(res.headers.location as string);
    expect(task.status, JSON.stringify(task)).toBe('failed');
    expect(task.attempts).toBe(1);
    expect(task.error).toEqual({ code: 'malformed_output', message: expect.stringMatching(/did not match its schema/) });
  });

  it('answers 503 for AI work without a provider, while lexical clustering still runs', async () => {
    const plain = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50' }, { database: t.database });
    try {
      const who = await signUp(plain);
      const site = await createSite(plain, who);
      const sector = await createSector(plain, who, site.id);
      const call = (url: string, payload: object) => plain.request({ method: 'POST', url, headers: who.headers, payload });
      await call(`${KW}import/`, {
        site_id: site.id,
        sector_id: sector.id,
        rows: [{ keyword: 'trail shoes' }, { keyword: 'best trail shoes' }],
      });
      const ai = await call(`${KW}auto_cluster/`, { site_id: site.id, sector_id: sector.id, method: 'ai' });
      expect(ai.statusCode).toBe(503);
      expect(ai.json().code).toBe('service_unavailable');
      const cluster = (await call(CLUSTERS, { site_id: site.id, sector_id: sector.id, name: 'Trail' })).json().data;
      expect((await call(`${CLUSTERS}auto_generate_ideas/`, { ids: [cluster.id] })).statusCode).toBe(503);
      expect((await call(`${KW}auto_cluster/`, { site_id: site.id, sector_id: sector.id })).statusCode).toBe(202);
    } finally {
      await plain.close();
    }
  });

  it('answers 402 before starting when the balance cannot cover the AI work', async () => {
    const poor = await signUp(t);
    const site = await createSite(t, poor);
    const sector = await createSector(t, poor, site.id);
    const rows = Array.from({ length: 5000 }, (_, i) => ({ keyword: `keyword number ${i}` }));
    await t.request({
      method: 'POST',
      url: `${KW}import/`,
      headers: poor.headers,
      payload: { site_id: site.id, sector_id: sector.id, rows },
    });
    const res = await t.request({
      method: 'POST',
      url: `${KW}auto_cluster/`,
      headers: poor.headers,
      payload: { site_id: site.id, sector_id: sector.id, method: 'ai' },
    });
    expect(res.statusCode).toBe(402);
    expect(res.json().details).toMatchObject({ required: 250 });
  });

  it('validates cluster status moves and content ideas', async () => {
    const sectorId = (await createSector(t, owner, siteId)).id;
    const cluster = (await post(CLUSTERS, { site_id: siteId, sector_id: sectorId, name: ' Boots ' })).json().data;
    expect(cluster).toMatchObject({ name: 'Boots', status: 'new', keywords_count: 0 });
    const skip = await t.request({
      method: 'PATCH',
      url: `${CLUSTERS}${cluster.id}/`,
      headers: owner.headers,
      payload: { status: 'archived' },
    });
    expect(skip.statusCode).toBe(409);
    const bad = await post(IDEAS, {
      site_id: siteId,
      sector_id: sectorId,
      title: 'x',
      outline: { sections: [{ heading: 'h', level: 9, points: [] }] },
      content_type: 'poem',
    });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().errors)).toEqual(expect.arrayContaining(['outline.sections.0.level', 'content_type']));
    const idea = (await post(IDEAS, { site_id: siteId, sector_id: sectorId, title: 'Boot care', cluster_id: cluster.id })).json()
      .data;
    expect(idea).toMatchObject({ status: 'new', content_type: 'post', content_structure: 'article', outline: { sections: [] } });
    const queuedByHand = await t.request({
      method: 'PATCH',
      url: `${IDEAS}${idea.id}/`,
      headers: owner.headers,
      payload: { status: 'queued' },
    });
    expect(queuedByHand.statusCode).toBe(409);
    // Without an estimate, the writer task takes the account's default word count.
    const queued = (await post(`${IDEAS}bulk_queue_to_writer/`, { ids: [idea.id] })).json().data;
    expect(queued.queued).toBe(1);
  });

  it('secures cluster and idea routes', async () => {
    const sectorId = (await createSector(t, owner, siteId)).id;
    const cluster = (await post(CLUSTERS, { site_id: siteId, sector_id: sectorId, name: 'Secured' })).json().data;
    const idea = (await post(IDEAS, { site_id: siteId, sector_id: sectorId, title: 'Secured idea' })).json().data;
    await expectSecured(t, { method: 'GET', url: CLUSTERS, owner });
    await expectSecured(t, {
      method: 'POST',
      url: CLUSTERS,
      payload: { site_id: siteId, sector_id: sectorId, name: 'n' },
      owner,
      siteScopedBody: true,
    });
    await expectSecured(t, { method: 'GET', url: `${CLUSTERS}${cluster.id}/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'GET', url: `${CLUSTERS}${cluster.id}/keywords/`, owner, objectScoped: true });
    await expectSecured(t, {
      method: 'PATCH',
      url: `${CLUSTERS}${cluster.id}/`,
      payload: { description: 'd' },
      owner,
      objectScoped: true,
    });
    await expectSecured(t, {
      method: 'POST',
      url: `${CLUSTERS}auto_generate_ideas/`,
      payload: { ids: [cluster.id] },
      owner,
      objectScoped: true,
    });
    await expectSecured(t, { method: 'GET', url: IDEAS, owner });
    await expectSecured(t, {
      method: 'POST',
      url: IDEAS,
      payload: { site_id: siteId, sector_id: sectorId, title: 't' },
      owner,
      siteScopedBody: true,
    });
    await expectSecured(t, { method: 'GET', url: `${IDEAS}${idea.id}/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'PATCH', url: `${IDEAS}${idea.id}/`, payload: { title: 'u' }, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `${IDEAS}bulk_queue_to_writer/`, payload: { ids: [idea.id] }, owner });
    await expectSecured(t, { method: 'DELETE', url: `${IDEAS}${idea.id}/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'DELETE', url: `${CLUSTERS}${cluster.id}/`, owner, objectScoped: true });
  });
});
