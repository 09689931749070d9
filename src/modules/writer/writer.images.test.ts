import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { imageSize } from 'image-size';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSector, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { imageResponder, pngOf, promptsAnswer } from '../../../test/fake-images.js';
import { type FakeOpenAI, startFakeOpenAI } from '../../../test/fake-openai.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { expectSecured } from '../../../test/security.js';
import { finishedTask, until } from '../../../test/wait.js';
import { queryRows } from '../../core/db.js';
import { removeImage } from './writer.images.html.js';
import type { ImageWire } from './writer.images.schemas.js';
import { type ContentRow, insertContent } from './writer.repository.js';

/**
 * Images of an article, end to end through the API, the real queue and the fake OpenAI server: prompts (AI, 1
 * credit), images (AI, 5 credits each, stored by core/storage.ts in DATA_DIR/media and served at /media), the
 * featured image linked, in-article images placed after their section's heading, and the faults: a file that
 * is not an image, one over 20 MiB, a 5xx, a malformed prompts answer — refused clearly and not charged.
 */

let t: TestApp;
let fake: FakeOpenAI;
let imageHost: Server;
let imageHostUrl = '';

/** An image as the API answers it (its file's address set once generated). */
type Image = Omit<ImageWire, 'url'> & { url: string };
interface ContentState {
  html: string;
  featured_image_id: number | null;
  version: number;
}

interface Owner extends SignedUp {
  siteId: number;
  sectorId: number;
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.respond = imageResponder();
  // An image host for the providers that answer with a URL rather than the bytes.
  imageHost = createServer((req, res) => {
    if (req.url === '/hero.png') {
      const png = pngOf(30, 20);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      return res.end(png);
    }
    if (req.url === '/huge.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 25 * 1024 * 1024 });
      return res.end(pngOf(2, 2));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
  imageHostUrl = `http://127.0.0.1:${(imageHost.address() as AddressInfo).port}`;
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', AI_BASE_URL: fake.url, AI_MAX_RETRIES: '0' });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
  await new Promise((resolve) => imageHost?.close(resolve));
});

async function newOwner(): Promise<Owner> {
  const who = await signUp(t);
  const siteId = (await createSite(t, who)).id;
  const sectorId = (await createSector(t, who, siteId)).id;
  return { ...who, siteId, sectorId };
}

const FOUR_SECTIONS =
  '<p>Trail shoes keep you upright.</p><h2>Grip</h2><p>Lugs bite into mud.</p><h2>Fit</h2><p>Try them late.</p>' +
  '<h2>Weight</h2><p>Lighter is faster.</p><h2>Care</h2><p>Rinse after runs.</p>';

function article(who: Owner, html = FOUR_SECTIONS, title = 'Choosing trail shoes'): Promise<ContentRow> {
  return insertContent(t.database.db, who.accountId, { site_id: who.siteId, sector_id: who.sectorId, title, html });
}

async function call(who: SignedUp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  return t.request({ method, url, headers: who.headers, ...(payload ? { payload } : {}) });
}

const waitTask = (who: SignedUp, id: number) => finishedTask(t, who.headers, id);

async function prompts(who: Owner, contentId: number, body: object = {}) {
  const res = await call(who, 'POST', `/api/v1/writer/content/${contentId}/generate_image_prompts/`, body);
  expect(res.statusCode, res.body).toBe(202);
  return waitTask(who, res.json().data.task_id);
}

async function generate(who: Owner, ids: number[]) {
  const res = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids });
  expect(res.statusCode, res.body).toBe(202);
  return waitTask(who, res.json().data.task_id);
}

async function imagesOf(who: SignedUp, contentId: number) {
  const res = await call(who, 'GET', `/api/v1/writer/images/?content_id=${contentId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data.results as Image[];
}

const balance = async (who: SignedUp) =>
  (await call(who, 'GET', '/api/v1/billing/credits/balance/')).json().data.balance as number;

async function usageLedger(who: SignedUp) {
  const res = await call(who, 'GET', '/api/v1/billing/credits/transactions/?type=usage&page_size=200');
  return (res.json().data.results as { amount: number; operation: string; object_type: string; object_id: number }[]).map((r) => [
    r.operation,
    r.amount,
    r.object_type,
    r.object_id,
  ]);
}

async function events(who: SignedUp, type: string) {
  const res = await call(who, 'GET', `/api/v1/events/?type=${type}&page_size=200`);
  return res.json().data.results as {
    type: string;
    source_agent: string;
    object_type: string;
    object_id: number;
    payload: Record<string, unknown>;
  }[];
}

const storedFiles = () => {
  try {
    return readdirSync(join(t.config.storage.dir, 'files')).length;
  } catch {
    return 0;
  }
};

async function contentRow(id: number): Promise<ContentState> {
  const [row] = await queryRows<ContentState>(t.database.db, sql`select * from writer_content where id = ${id}`);
  return row as ContentState;
}

const versionsOf = (id: number) =>
  queryRows<{ number: number; reason: string; html: string }>(
    t.database.db,
    sql`select number, reason, html from writer_content_versions where content_id = ${id} order by number`,
  );

describe('prompts → images → the article', () => {
  let who: Owner;
  let content: ContentRow;
  let start: number;
  let list: Image[];

  beforeAll(async () => {
    who = await newOwner();
    content = await article(who);
    start = await balance(who);
  });

  it('writes one featured and one in-article prompt every two sections, charged 1 credit with the rows', async () => {
    const task = await prompts(who, content.id);
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    list = await imagesOf(who, content.id);
    const [featured, first, second] = list;
    expect(list).toHaveLength(3);
    const answer = promptsAnswer(2);
    expect(featured).toMatchObject({
      content_id: content.id,
      site_id: who.siteId,
      sector_id: who.sectorId,
      image_type: 'featured',
      position: 0,
      section_heading: null,
      prompt: answer.featured.prompt,
      alt_text: answer.featured.alt_text,
      caption: answer.featured.caption,
      status: 'pending',
      url: null,
    });
    // Sections 1 and 3 of four, at their section's position.
    expect(first).toMatchObject({
      image_type: 'in_article',
      position: 1,
      section_heading: 'Grip',
      alt_text: answer.in_article[0]?.alt_text,
    });
    expect(second).toMatchObject({ image_type: 'in_article', position: 3, section_heading: 'Weight' });
    expect(featured?.provenance).toMatchObject({
      model: 'gpt-4o-mini',
      prompt: { function: 'image_prompts', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      tokens_in: 300,
      tokens_out: 120,
      credits: 1,
      task_id: task.id,
    });
    // What the model was told: the sections it illustrates, in order.
    const user = fake.chatRequests().at(-1)?.body.messages[1].content as string;
    expect(user).toContain('2 in-article image prompts');
    expect(user).toContain('Grip\nWeight');
    expect(await balance(who)).toBe(start - 1);
    expect(await usageLedger(who)).toEqual([['image_prompts', -1, 'content', content.id]]);
    const [prompted] = await events(who, 'images.prompted');
    expect(prompted).toMatchObject({ source_agent: 'worker', object_type: 'content', object_id: content.id });
    expect(prompted?.payload.image_ids).toEqual(list.map((i) => i.id));
  });

  it('draws, stores and serves each image; links the featured one and places the others after their heading', async () => {
    const files = storedFiles();
    const res = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids: [...list.map((i) => i.id), 999_999] });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.headers.location).toMatch(/\/api\/v1\/system\/tasks\/\d+\/$/);
    expect(res.json().data).toMatchObject({ status: 'queued', skipped: [999_999] });
    const taskId = res.json().data.task_id;
    // Followed over SSE until the task ends.
    const stream = await call(who, 'GET', `/api/v1/system/tasks/${taskId}/events/`);
    expect(stream.body).toMatch(/event: end\ndata: .*"progress":\{"total":3,"current":3,"message":"3 of 3 images generated"\}/);
    const task = await waitTask(who, taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    expect(task.result).toMatchObject({ generated: 3, credits: 15, failed: [] });
    expect(task.progress).toMatchObject({ current: 3, total: 3 });

    const images = await imagesOf(who, content.id);
    for (const [index, image] of images.entries()) {
      expect(image).toMatchObject({ status: 'generated', mime_type: 'image/png', width: 64, height: 48, error: null });
      expect(image.url).toMatch(/^http:\/\/localhost(:80)?\/media\/[A-Za-z0-9_-]{43}\.png$/);
      expect(image.provenance).toMatchObject({ prompt: { function: 'image_generation' }, credits: 5, task_id: taskId });
      // Served at its URL: the very bytes the model sent, typed, cached for a year.
      const served = await t.request({ method: 'GET', url: new URL(image.url).pathname });
      expect(served.statusCode).toBe(200);
      expect(served.rawPayload.equals(pngOf(64, 48, index))).toBe(true);
      expect(served.headers).toMatchObject({
        'content-type': 'image/png',
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
      });
      expect(imageSize(served.rawPayload)).toMatchObject({ width: 64, height: 48, type: 'png' });
      expect(image.bytes).toBe(served.rawPayload.length);
    }
    expect(storedFiles()).toBe(files + 3);

    const [featured, grip, weight] = images;
    const after = await contentRow(content.id);
    expect(after.featured_image_id).toBe(featured?.id);
    const figure = (image: Image | undefined) =>
      `<figure><img src="${image?.url}" alt="${image?.alt_text}" width="64" height="48" /><figcaption>${image?.caption}</figcaption></figure>`;
    expect(after.html).toBe(
      FOUR_SECTIONS.replace('<h2>Grip</h2>', `<h2>Grip</h2>${figure(grip)}`).replace(
        '<h2>Weight</h2>',
        `<h2>Weight</h2>${figure(weight)}`,
      ),
    );
    // The text before the figures is kept as a version.
    expect((await versionsOf(content.id)).map((v) => [v.number, v.reason, v.html])).toEqual([[1, 'images', FOUR_SECTIONS]]);
    expect(after.version).toBe(2);

    // The ledger to the credit: 1 for the prompts, 5 for each stored image.
    expect(await balance(who)).toBe(start - 16);
    expect((await usageLedger(who)).filter(([op]) => op === 'image_generation')).toHaveLength(3);
    const generated = await events(who, 'images.generated');
    expect(generated.map((e) => [e.object_id, e.source_agent])).toEqual([...images].reverse().map((i) => [i.id, 'worker']));
    expect((await events(who, 'credits.debited')).length).toBe(4);
  });

  it('refuses to draw an image again (409 naming it), and writes no new prompts where images already are', async () => {
    const res = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids: [list[0]?.id] });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'conflict',
      details: { ids: [list[0]?.id], current_status: { [String(list[0]?.id)]: 'generated' } },
    });
    const before = await balance(who);
    const task = await prompts(who, content.id);
    expect(task.result).toMatchObject({ image_ids: [], credits: 0 });
    expect(await balance(who)).toBe(before);
    expect(await imagesOf(who, content.id)).toHaveLength(3);
  });

  it('edits a placed image: its figure follows the alt text; a stale If-Match is a 412 and changes nothing', async () => {
    const grip = list[1] as Image;
    const detail = await call(who, 'GET', `/api/v1/writer/images/${grip.id}/`);
    const etag = detail.headers.etag as string;
    const res = await t.request({
      method: 'PATCH',
      url: `/api/v1/writer/images/${grip.id}/`,
      headers: { ...who.headers, 'if-match': etag },
      payload: { alt_text: 'Deep lugs in wet mud', caption: 'Lugs & mud' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ alt_text: 'Deep lugs in wet mud', caption: 'Lugs & mud', status: 'generated' });
    const html = (await contentRow(content.id)).html as string;
    expect(html).toContain(
      `<img src="${res.json().data.url}" alt="Deep lugs in wet mud" width="64" height="48" /><figcaption>Lugs &amp; mud</figcaption>`,
    );
    expect((await versionsOf(content.id)).map((v) => v.reason)).toEqual(['images', 'images']);
    const stale = await t.request({
      method: 'PATCH',
      url: `/api/v1/writer/images/${grip.id}/`,
      headers: { ...who.headers, 'if-match': etag },
      payload: { alt_text: 'Lost update' },
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    expect((await call(who, 'GET', `/api/v1/writer/images/${grip.id}/`)).json().data.alt_text).toBe('Deep lugs in wet mud');
    const bad = await call(who, 'PATCH', `/api/v1/writer/images/${grip.id}/`, { prompt: '', status: 'generated', position: -1 });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().errors).sort()).toEqual(['non_field_errors', 'position', 'prompt', 'status']);
  });

  it('deletes an image with its file and takes it out of the article; a deleted featured image unlinks', async () => {
    const weight = (await imagesOf(who, content.id))[2] as Image;
    const before = (await contentRow(content.id)).html as string;
    const files = storedFiles();
    expect((await call(who, 'DELETE', `/api/v1/writer/images/${weight.id}/`)).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: new URL(weight.url).pathname })).statusCode).toBe(404);
    expect(storedFiles()).toBe(files - 1);
    expect((await contentRow(content.id)).html).toBe(removeImage(before, weight.url));
    expect((await contentRow(content.id)).html).not.toContain(weight.url);
    expect((await call(who, 'GET', `/api/v1/writer/images/${weight.id}/`)).statusCode).toBe(404);

    const featured = list[0] as Image;
    expect((await call(who, 'DELETE', `/api/v1/writer/images/${featured.id}/`)).statusCode).toBe(204);
    expect((await contentRow(content.id)).featured_image_id).toBeNull();
    expect((await events(who, 'image.deleted')).map((e) => e.object_id)).toEqual([featured.id, weight.id]);
  });
});

describe('files of images gone by cascade', () => {
  it('releases the files of a deleted article and purges them from storage; a second purge finds nothing', async () => {
    const who = await newOwner();
    const content = await article(who);
    await prompts(who, content.id);
    const drawn = (await imagesOf(who, content.id)).map((i) => i.id);
    await generate(who, drawn);
    const urls = (await imagesOf(who, content.id)).map((i) => new URL(i.url as string).pathname);
    expect(urls).toHaveLength(drawn.length);
    const files = storedFiles();
    // The article's own route deletes it; its images go by cascade, with no image code running.
    expect((await call(who, 'DELETE', `/api/v1/writer/content/${content.id}/`)).statusCode).toBe(204);
    for (const url of urls) expect((await t.request({ method: 'GET', url })).statusCode).toBe(200);
    const { jobs } = t.app.services;
    const first = await jobs.runHandler('system.purge_released_files', {}, { jobId: crypto.randomUUID(), accountId: null });
    expect(first).toMatchObject({ purged: expect.any(Number) });
    expect(storedFiles()).toBe(files - urls.length);
    for (const url of urls) expect((await t.request({ method: 'GET', url })).statusCode).toBe(404);
    expect(await jobs.runHandler('system.purge_released_files', {}, { jobId: crypto.randomUUID(), accountId: null })).toEqual({
      purged: 0,
    });
  });
});

describe('prompts: counts and reruns', () => {
  let who: Owner;
  beforeAll(async () => {
    who = await newOwner();
  });

  it('caps the in-article count at the sections there are, and writes only a featured prompt without any', async () => {
    const one = await article(who, '<p>Intro</p><h2>Only</h2><p>Body</p>', 'One section');
    await prompts(who, one.id, { in_article_count: 3 });
    expect((await imagesOf(who, one.id)).map((i) => [i.image_type, i.section_heading])).toEqual([
      ['featured', null],
      ['in_article', 'Only'],
    ]);
    const none = await article(who, '<p>No headings at all.</p>', 'No sections');
    await prompts(who, none.id);
    expect((await imagesOf(who, none.id)).map((i) => i.image_type)).toEqual(['featured']);
    const zero = await article(who, FOUR_SECTIONS, 'Zero asked');
    await prompts(who, zero.id, { in_article_count: 0 });
    expect((await imagesOf(who, zero.id)).map((i) => i.image_type)).toEqual(['featured']);
  });

  it('replaces pending prompts when run again (charged again), and refuses a bad count', async () => {
    const content = await article(who, FOUR_SECTIONS, 'Rerun');
    await prompts(who, content.id, { in_article_count: 4 });
    const first = (await imagesOf(who, content.id)).map((i) => i.id);
    expect(first).toHaveLength(5);
    const before = await balance(who);
    const task = await prompts(who, content.id, { in_article_count: 1 });
    const second = await imagesOf(who, content.id);
    expect(second.map((i) => i.section_heading)).toEqual([null, 'Grip']);
    expect(second.some((i) => first.includes(i.id))).toBe(false);
    expect(task.result.replaced_image_ids).toEqual(first);
    expect(await balance(who)).toBe(before - 1);
    const bad = await call(who, 'POST', `/api/v1/writer/content/${content.id}/generate_image_prompts/`, {
      in_article_count: 21,
      x: 1,
    });
    expect(bad.statusCode).toBe(400);
    expect(Object.keys(bad.json().errors).sort()).toEqual(['in_article_count', 'non_field_errors', 'x']);
  });

  it('fails a malformed prompts answer clearly, charging nothing and storing nothing', async () => {
    const content = await article(who, FOUR_SECTIONS, 'Malformed');
    const before = await balance(who);
    fake.respond = imageResponder({ prompts: 'malformed' });
    try {
      const task = await prompts(who, content.id);
      expect(task.status).toBe('failed');
      expect(task.error).toMatchObject({ code: 'malformed_output', message: expect.stringContaining('nothing was charged') });
    } finally {
      fake.respond = imageResponder();
    }
    expect(await imagesOf(who, content.id)).toEqual([]);
    expect(await balance(who)).toBe(before);
  });

  it('answers 402 with what is needed before starting, when the balance is short', async () => {
    const poor = await newOwner();
    const content = await article(poor);
    await t.database.db.execute(sql`update auth_accounts set credits = 0 where id = ${poor.accountId}`);
    const res = await call(poor, 'POST', `/api/v1/writer/content/${content.id}/generate_image_prompts/`, {});
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ code: 'insufficient_credits', details: { required: 1, balance: 0 } });
  });
});

describe('refused files and provider faults', () => {
  let who: Owner;
  let pending: Image[];

  beforeAll(async () => {
    who = await newOwner();
    const content = await article(who, FOUR_SECTIONS, 'Faults');
    await prompts(who, content.id, { in_article_count: 4 });
    pending = await imagesOf(who, content.id);
  });

  async function drawWith(responder: Parameters<typeof imageResponder>[0], ids: number[]) {
    fake.respond = imageResponder(responder);
    try {
      return await generate(who, ids);
    } finally {
      fake.respond = imageResponder();
    }
  }

  it('refuses a file that is not an image: the image fails saying why, nothing stored or charged', async () => {
    const before = await balance(who);
    const files = storedFiles();
    const id = pending[0]?.id as number;
    const task = await drawWith({ image: 'not_an_image' }, [id]);
    expect(task.status).toBe('failed');
    expect(task.error).toEqual({
      code: 'unsupported_media_type',
      message: expect.stringMatching(
        /^The image model sent something that is not an image we store \(its bytes are no known image format\); it was not stored and nothing was charged/,
      ),
    });
    const row = (await call(who, 'GET', `/api/v1/writer/images/${id}/`)).json().data;
    expect(row).toMatchObject({ status: 'failed', url: null, error: task.error.message });
    expect(await balance(who)).toBe(before);
    expect(storedFiles()).toBe(files);
  });

  it('refuses a file over 20 MiB the same way', async () => {
    const before = await balance(who);
    const id = pending[1]?.id as number;
    const task = await drawWith({ image: 'oversized' }, [id]);
    expect(task.error).toEqual({
      code: 'payload_too_large',
      message: expect.stringMatching(
        /^The image model sent a file of 21\.0 MiB, over the 20\.0 MiB limit; it was not stored and nothing was charged\.$/,
      ),
    });
    expect((await call(who, 'GET', `/api/v1/writer/images/${id}/`)).json().data.status).toBe('failed');
    expect(await balance(who)).toBe(before);
  });

  it('charges only the images stored when one of them meets a 5xx, and reports that one', async () => {
    const before = await balance(who);
    const ids = [pending[0]?.id, pending[2]?.id] as number[];
    const task = await drawWith({ image: (i) => (i === 0 ? 'server_error' : 'png') }, ids);
    expect(task.status).toBe('succeeded');
    expect(task.result.generated).toBe(1);
    expect(task.result.failed).toEqual([
      {
        image_id: ids[0],
        code: 'provider_error',
        message: 'The AI provider answered 500: the provider failed; try again later.',
      },
    ]);
    expect(await balance(who)).toBe(before - 5);
    // A failed image can be tried again.
    const again = await generate(who, [ids[0] as number]);
    expect(again.status).toBe('succeeded');
    expect(await balance(who)).toBe(before - 10);
  });

  it('reads an answer given as a URL, with the size cap applied to what it declares', async () => {
    const id = pending[3]?.id as number;
    const task = await drawWith({ image: 'url', imageUrl: `${imageHostUrl}/huge.png` }, [id]);
    expect(task.error?.code).toBe('payload_too_large');
    const ok = await drawWith({ image: 'url', imageUrl: `${imageHostUrl}/hero.png` }, [id]);
    expect(ok.status).toBe('succeeded');
    expect((await call(who, 'GET', `/api/v1/writer/images/${id}/`)).json().data).toMatchObject({ width: 30, height: 20 });
  });

  it('shows images generating while a slow provider draws them', async () => {
    const content = await article(who, '<h2>Slow</h2><p>x</p>', 'Slow');
    await prompts(who, content.id, { in_article_count: 1 });
    const ids = (await imagesOf(who, content.id)).map((i) => i.id);
    fake.respond = imageResponder({ delayMs: 500 });
    try {
      const res = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids });
      expect((await imagesOf(who, content.id)).map((i) => i.status)).toEqual(['generating', 'generating']);
      const second = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids });
      expect(second.statusCode).toBe(409);
      // Progress per image, seen over SSE while it runs: "1/2: <the image's alt text>", then "2/2: ...".
      const stream = await call(who, 'GET', `/api/v1/system/tasks/${res.json().data.task_id}/events/`);
      expect(stream.body).toMatch(/"current":1,"message":"2\/2: Article: illustration 1"/);
      expect(stream.body).toMatch(/event: end\ndata: .*"status":"succeeded"/);
      const task = await waitTask(who, res.json().data.task_id);
      expect(task.status).toBe('succeeded');
    } finally {
      fake.respond = imageResponder();
    }
  });
});

describe('a cancelled drawing', () => {
  it('stops between images; what it did not draw goes back to pending, uncharged', async () => {
    const who = await newOwner();
    const content = await article(who, FOUR_SECTIONS, 'Cancelled');
    await prompts(who, content.id, { in_article_count: 2 });
    const ids = (await imagesOf(who, content.id)).map((i) => i.id);
    const before = await balance(who);
    fake.respond = imageResponder({ delayMs: 400 });
    try {
      const res = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids });
      const taskId = res.json().data.task_id;
      const started = Date.now();
      while ((await call(who, 'GET', `/api/v1/system/tasks/${taskId}/`)).json().data.status !== 'running') {
        if (Date.now() - started > 10_000) throw new Error('the task never ran');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await call(who, 'POST', `/api/v1/system/tasks/${taskId}/cancel/`)).statusCode).toBe(202);
      const task = await waitTask(who, taskId);
      expect(task.status).toBe('cancelled');
    } finally {
      fake.respond = imageResponder();
    }
    const after = await imagesOf(who, content.id);
    const drawn = after.filter((i) => i.status === 'generated').length;
    expect(drawn).toBeLessThan(3);
    expect(after.filter((i) => i.status !== 'generated').map((i) => i.status)).toEqual(Array(3 - drawn).fill('pending'));
    expect(await balance(who)).toBe(before - 5 * drawn);
  });

  it('cancelled while queued: its images are pending again at once, and nothing is charged', async () => {
    const who = await newOwner();
    const drawing = async (title: string) => {
      const content = await article(who, FOUR_SECTIONS, title);
      await prompts(who, content.id, { in_article_count: 2 });
      return { content, ids: (await imagesOf(who, content.id)).map((i) => i.id) };
    };
    const [busy1, busy2, waiting] = [await drawing('Busy 1'), await drawing('Busy 2'), await drawing('Waiting')];
    const taskStatus = async (id: number) => (await call(who, 'GET', `/api/v1/system/tasks/${id}/`)).json().data.status;
    const before = await balance(who);
    fake.respond = imageResponder({ delayMs: 300 });
    try {
      // The worker draws two at a time (the job's concurrency): with two drawings running, a third waits queued.
      const busy = [];
      for (const { ids } of [busy1, busy2]) {
        const id = (await call(who, 'POST', '/api/v1/writer/images/generate/', { ids })).json().data.task_id as number;
        await until(
          `task ${id} running`,
          () => taskStatus(id),
          (status) => status === 'running',
        );
        busy.push(id);
      }
      const queued = (await call(who, 'POST', '/api/v1/writer/images/generate/', { ids: waiting.ids })).json().data.task_id;
      const cancel = await call(who, 'POST', `/api/v1/system/tasks/${queued}/cancel/`);
      // Queued: cancelled at once (200), not flagged for a running handler (202).
      expect(cancel.statusCode, cancel.body).toBe(200);
      expect(cancel.json().data).toMatchObject({ status: 'cancelled' });
      expect((await imagesOf(who, waiting.content.id)).map((i) => i.status)).toEqual(['pending', 'pending', 'pending']);
      // The same images can be drawn again at once, not after the 10 minutes an abandoned one waits.
      const again = await call(who, 'POST', '/api/v1/writer/images/generate/', { ids: waiting.ids });
      expect(again.statusCode, again.body).toBe(202);
      for (const id of [...busy, again.json().data.task_id]) expect((await waitTask(who, id)).status).toBe('succeeded');
    } finally {
      fake.respond = imageResponder();
    }
    // Nine images drawn once each: the cancelled task charged nothing.
    expect(await balance(who)).toBe(before - 5 * 9);
  });
});

describe('lists, tenancy and access', () => {
  let who: Owner;
  let stranger: Owner;
  let content: ContentRow;
  let images: Image[];

  beforeAll(async () => {
    who = await newOwner();
    stranger = await newOwner();
    content = await article(who);
    await prompts(who, content.id);
    images = await imagesOf(who, content.id);
    await generate(who, [images[0]?.id as number]);
  });

  it('filters by content, status, type and site, and orders', async () => {
    const get = async (query: string) => {
      const res = await call(who, 'GET', `/api/v1/writer/images/?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json().data.results.map((i: { id: number }) => i.id);
    };
    expect(await get(`content_id=${content.id}&status=generated`)).toEqual([images[0]?.id]);
    expect(await get(`content_id=${content.id}&image_type=in_article`)).toEqual([images[1]?.id, images[2]?.id]);
    expect(await get(`site_id=${who.siteId}&ordering=-position`)).toEqual([images[2]?.id, images[1]?.id, images[0]?.id]);
    expect(await get(`status__in=pending,failed&content_id=${content.id}`)).toEqual([images[1]?.id, images[2]?.id]);
    expect((await call(who, 'GET', '/api/v1/writer/images/?status=drawn')).statusCode).toBe(400);
    expect((await call(who, 'GET', '/api/v1/writer/images/?colour=red')).statusCode).toBe(400);
    // The key stays inside: only the address is on the wire.
    expect(images[0]).not.toHaveProperty('storage_key');
  });

  it("keeps another account's images and articles out of reach: 404 everywhere", async () => {
    const id = images[1]?.id as number;
    expect((await imagesOf(stranger, content.id)).length).toBe(0);
    for (const [method, url, payload] of [
      ['GET', `/api/v1/writer/images/${id}/`],
      ['PATCH', `/api/v1/writer/images/${id}/`, { caption: 'mine now' }],
      ['DELETE', `/api/v1/writer/images/${id}/`],
      ['POST', '/api/v1/writer/images/generate/', { ids: [id] }],
      ['POST', `/api/v1/writer/content/${content.id}/generate_image_prompts/`, {}],
    ] as const) {
      const res = await call(stranger, method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    expect((await call(who, 'GET', `/api/v1/writer/images/${id}/`)).json().data.caption).not.toBe('mine now');
  });

  it('secures every route', async () => {
    const id = images[2]?.id as number;
    await expectSecured(t, { method: 'GET', url: '/api/v1/writer/images/', owner: who });
    await expectSecured(t, { method: 'GET', url: `/api/v1/writer/images/${id}/`, owner: who, objectScoped: true });
    await expectSecured(t, {
      method: 'PATCH',
      url: `/api/v1/writer/images/${id}/`,
      payload: { caption: 'x' },
      owner: who,
      objectScoped: true,
    });
    await expectSecured(t, {
      method: 'POST',
      url: '/api/v1/writer/images/generate/',
      payload: { ids: [id] },
      owner: who,
      objectScoped: true,
    });
    await expectSecured(t, {
      method: 'POST',
      url: `/api/v1/writer/content/${content.id}/generate_image_prompts/`,
      payload: {},
      owner: who,
      objectScoped: true,
    });
    await expectSecured(t, { method: 'DELETE', url: `/api/v1/writer/images/${id}/`, owner: who, objectScoped: true });
  });

  it('answers 404 for an id that is no id, and for unknown media', async () => {
    expect((await call(who, 'GET', '/api/v1/writer/images/abc/')).statusCode).toBe(404);
    expect((await call(who, 'GET', '/api/v1/writer/images/2147483648/')).statusCode).toBe(404);
    const media = await t.request({ method: 'GET', url: '/media/nothing-here.png' });
    expect(media.statusCode).toBe(404);
    expect(media.json()).toMatchObject({ success: false, code: 'not_found' });
  });
});
