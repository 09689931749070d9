import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask } from '../../../test/wait.js';

/** The linker through the API: process (dry run and applied), links, apply/reject, 409s, the report, tenancy. */

let t: TestApp;
let owner: SignedUp;
let stranger: SignedUp;
let site: { id: number };
let sector: { id: number };

const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i % 13}`).join(' ');
/** An article long enough for links (340 words a sentence: one link each at the default 3 per 1,000). */
const body = (sentences: string[]) =>
  `<p>${filler(40)}.</p>${sentences.map((s) => `<p>${filler(170)}. ${s} ${filler(170)}.</p>`).join('')}`;

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Record<string, unknown>, who: SignedUp = owner) {
  return t.request({ method, url, headers: who.headers, ...(payload === undefined ? {} : { payload }) });
}

async function article(title: string, html: string, extra: Record<string, unknown> = {}) {
  const res = await call('POST', '/api/v1/writer/content/', { site_id: site.id, sector_id: sector.id, title, html, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: number; html: string; slug: string; version: number };
}

const settle = (taskId: number, who: SignedUp = owner) => finishedTask(t, who.headers, taskId);

async function process(payload: Record<string, unknown>) {
  const res = await call('POST', '/api/v1/linker/process/', payload);
  expect(res.statusCode, res.body).toBe(202);
  return settle(res.json().data.task_id);
}

let shoes: { id: number; slug: string };
let jackets: { id: number; slug: string };
let source: { id: number; html: string; version: number };

beforeAll(async () => {
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50' });
  owner = await signUp(t);
  stranger = await signUp(t);
  const made = await call('POST', '/api/v1/auth/sites/', { name: 'Shop', url: 'https://shop.example/' });
  site = made.json().data;
  sector = await createSector(t, owner, site.id);
  shoes = await article('Trail shoes guide', '<p>All about shoes.</p>', { primary_keyword: 'trail shoes' });
  jackets = await article('Rain jackets', '<p>All about jackets.</p>', { secondary_keywords: ['waterproof jacket'] });
  source = await article(
    'Hiking',
    body(['Good trail shoes matter.', 'A waterproof jacket (c++ free) helps.', '<h2>Trail shoes</h2>']),
  );
});
afterAll(() => t?.close());

describe('linker/process/', () => {
  it('suggests links on a dry run, leaving the article as it was', async () => {
    const task = await process({ content_ids: [source.id, 999_999], dry_run: true });
    expect(task.status).toBe('succeeded');
    expect(task.result).toMatchObject({ dry_run: true, articles: 1, suggested: 2, applied: 0 });
    const links = (await call('GET', `/api/v1/linker/links/?source_id=${source.id}&ordering=anchor_offset`)).json().data;
    expect(links.count).toBe(2);
    const [first, second] = links.results;
    expect(first).toMatchObject({
      source_id: source.id,
      target_id: shoes.id,
      anchor: 'trail shoes',
      status: 'suggested',
      target_url: `https://shop.example/${shoes.slug}/`,
      source_version: source.version,
      account_id: owner.accountId,
    });
    expect(first.context).toContain('Good trail shoes matter.');
    expect(second).toMatchObject({ target_id: jackets.id, anchor: 'waterproof jacket' });
    const now = (await call('GET', `/api/v1/writer/content/${source.id}/`)).json().data;
    expect(now.html).toBe(source.html);
    expect(now.version).toBe(source.version);
  });

  it('applies one suggestion: only the anchor is inserted, a new version, the other suggestion still applies', async () => {
    const links = (await call('GET', `/api/v1/linker/links/?source_id=${source.id}&ordering=anchor_offset`)).json().data.results;
    const res = await call('POST', `/api/v1/linker/links/${links[0].id}/apply/`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ status: 'applied', applied_version: source.version + 1 });
    const open = `<a href="https://shop.example/${shoes.slug}/">`;
    const now = (await call('GET', `/api/v1/writer/content/${source.id}/`)).json().data;
    expect(now.html).toBe(source.html.replace('Good trail shoes', `Good ${open}trail shoes</a>`));
    const versions = (await call('GET', `/api/v1/writer/content/${source.id}/versions/`)).json().data.results;
    expect(versions[0]).toMatchObject({ reason: 'links', number: source.version });
    // The second one moved with the insertion and still lands on its text.
    const again = await call('POST', `/api/v1/linker/links/${links[1].id}/apply/`);
    expect(again.statusCode, again.body).toBe(200);
    const after = (await call('GET', `/api/v1/writer/content/${source.id}/`)).json().data;
    expect(after.html).toContain(`A <a href="https://shop.example/${jackets.slug}/">waterproof jacket</a> (c++ free)`);
    // Twice is a 409 naming the state.
    const twice = await call('POST', `/api/v1/linker/links/${links[1].id}/apply/`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('conflict');
  });

  it('applies at once without dry_run, once per target: a second run finds nothing new', async () => {
    const other = await article('Camping', body(['Pack trail shoes.', 'And rain jackets too.']));
    const task = await process({ content_ids: [other.id] });
    expect(task.result).toMatchObject({ dry_run: false, suggested: 0, applied: 2 });
    const now = (await call('GET', `/api/v1/writer/content/${other.id}/`)).json().data;
    const stripped = now.html.replace(/<a href="[^"]*">([^<]*)<\/a>/g, '$1');
    expect(stripped).toBe(other.html);
    expect(now.version).toBe(other.version + 1);
    const second = await process({ content_ids: [other.id] });
    expect(second.result).toMatchObject({ suggested: 0, applied: 0 });
  });

  it('answers 409 when the anchor text moved, and rejects a suggestion', async () => {
    const moved = await article('Moved', body(['Fine trail shoes here.']));
    await process({ content_ids: [moved.id], dry_run: true });
    const [link] = (await call('GET', `/api/v1/linker/links/?source_id=${moved.id}`)).json().data.results;
    const edit = await call('PATCH', `/api/v1/writer/content/${moved.id}/`, { html: `<p>New start.</p>${moved.html}` });
    expect(edit.statusCode, edit.body).toBe(200);
    const res = await call('POST', `/api/v1/linker/links/${link.id}/apply/`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatch(/no longer where it was/);
    const rejected = await call('POST', `/api/v1/linker/links/${link.id}/reject/`);
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json().data.status).toBe('rejected');
    expect((await call('POST', `/api/v1/linker/links/${link.id}/reject/`)).statusCode).toBe(409);
    // A rejected target is not suggested again.
    const again = await process({ content_ids: [moved.id], dry_run: true });
    expect(again.result).toMatchObject({ suggested: 0 });
  });

  it('validates the body: the cap of 10 per 1,000 words, unknown keys, none of yours', async () => {
    const over = await call('POST', '/api/v1/linker/process/', { content_ids: [source.id], max_links_per_1000_words: 11 });
    expect(over.statusCode).toBe(400);
    expect(over.json().errors.max_links_per_1000_words).toBeDefined();
    expect((await call('POST', '/api/v1/linker/process/', { content_ids: [source.id], x: 1 })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/linker/process/', { content_ids: [source.id] }, stranger)).statusCode).toBe(404);
  });
});

describe('linker/report/', () => {
  it('counts inbound and outbound links from the html, existing ones by slug, orphans first', async () => {
    const other = await createSite(t, owner);
    const otherSector = await createSector(t, owner, other.id);
    const made = async (title: string, html: string) =>
      (await call('POST', '/api/v1/writer/content/', { site_id: other.id, sector_id: otherSector.id, title, html })).json().data;
    const a = await made('Alpha', '<p>x</p>');
    const b = await made('Beta', `<p>See <a href="/blog/${a.slug}">alpha</a>.</p>`);
    const c = await made('Gamma', `<p><a href="https://elsewhere.example/${a.slug}/">x</a> <a href="/${b.slug}/">b</a></p>`);
    const res = await call('GET', `/api/v1/linker/report/?site_id=${other.id}`);
    expect(res.statusCode, res.body).toBe(200);
    const rows = res
      .json()
      .data.results.map((r: { content_id: number; inbound: number; outbound: number; orphan: boolean }) => [
        r.content_id,
        r.inbound,
        r.outbound,
        r.orphan,
      ]);
    expect(rows).toEqual([
      [c.id, 0, 1, true],
      [a.id, 1, 0, false],
      [b.id, 1, 1, false],
    ]);
    expect((await call('GET', `/api/v1/linker/report/?site_id=${other.id}`, undefined, stranger)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/linker/report/')).statusCode).toBe(400);
  });
});

describe('tenancy and security', () => {
  it('never shows another account its links', async () => {
    const list = (await call('GET', '/api/v1/linker/links/', undefined, stranger)).json().data;
    expect(list.count).toBe(0);
    const [link] = (await call('GET', '/api/v1/linker/links/')).json().data.results;
    expect((await call('GET', `/api/v1/linker/links/${link.id}/`, undefined, stranger)).statusCode).toBe(404);
    expect((await call('POST', `/api/v1/linker/links/${link.id}/apply/`, undefined, stranger)).statusCode).toBe(404);
  });

  it('secures every route', async () => {
    const [link] = (await call('GET', '/api/v1/linker/links/?status=suggested')).json().data.results;
    const fresh = await article('Secured', body(['Some trail shoes.']));
    await process({ content_ids: [fresh.id], dry_run: true });
    const [pending] = (await call('GET', `/api/v1/linker/links/?source_id=${fresh.id}`)).json().data.results;
    await expectSecured(t, {
      method: 'POST',
      url: '/api/v1/linker/process/',
      payload: { content_ids: [source.id], dry_run: true },
      owner,
    });
    await expectSecured(t, { method: 'GET', url: '/api/v1/linker/links/', owner });
    await expectSecured(t, { method: 'GET', url: `/api/v1/linker/links/${pending.id}/`, owner, objectScoped: true });
    await expectSecured(t, { method: 'POST', url: `/api/v1/linker/links/${pending.id}/reject/`, owner, objectScoped: true });
    await expectSecured(t, {
      method: 'POST',
      url: `/api/v1/linker/links/${link?.id ?? pending.id}/apply/`,
      owner,
      objectScoped: true,
    });
    await expectSecured(t, { method: 'GET', url: `/api/v1/linker/report/?site_id=${site.id}`, owner, objectScoped: true });
  });
});
