import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createApiKey, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { stepsJob } from '../../../test/job-types.js';
import { expectSecured } from '../../../test/security.js';

/** The tasks API as a client sees it, with this process working the jobs. */

let t: TestApp;
let owner: SignedUp;
beforeAll(async () => {
  t = await buildTestApp({ WORKER: 'true', JOBS_POLL_MS: '50', SHUTDOWN_GRACE_SECONDS: '1' }, { jobs: [stepsJob] });
  owner = await signUp(t);
});
afterAll(() => t?.close());

async function startTask(who: SignedUp, payload: { steps: number; delay_ms: number }, siteId: number | null = null) {
  const task = await t.database.db.transaction((tx) =>
    t.app.services.jobs.startTask(tx, { accountId: who.accountId, actorId: who.userId, siteId }, 'test.steps', {
      account_id: who.accountId,
      ...payload,
    }),
  );
  return task.id;
}

const detail = (who: SignedUp, id: number) =>
  t.request({ method: 'GET', url: `/api/v1/system/tasks/${id}/`, headers: who.headers });

/** A task's answer, as far as the waits and the checks on timestamps read it (the assertions check the rest). */
interface TaskView {
  status: string;
  progress: { current: number; total: number | null; message: string };
  started_at: string | null;
  finished_at: string | null;
}

async function until(id: number, done: (task: TaskView) => boolean, who = owner): Promise<TaskView> {
  const started = Date.now();
  for (;;) {
    const value: TaskView = (await detail(who, id)).json().data;
    if (done(value)) return value;
    if (Date.now() - started > 20_000) throw new Error(`timed out: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('GET /api/v1/system/tasks/<id>/', () => {
  it('shows a task going queued → running → succeeded with its progress', async () => {
    const id = await startTask(owner, { steps: 3, delay_ms: 200 });
    const running = await until(id, (task) => task.status === 'running' && task.progress.current >= 1);
    expect(running).toMatchObject({
      id,
      type: 'test.steps',
      progress: { total: 3 },
      result: null,
      error: null,
      finished_at: null,
    });
    expect(running.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const done = await until(id, (task) => task.status === 'succeeded');
    expect(done).toMatchObject({ progress: { current: 3, total: 3, message: 'step 3 of 3' }, result: { steps: 3 }, attempts: 1 });
    expect(Object.keys(done).sort()).toEqual(
      [
        'attempts',
        'cancel_requested',
        'created_at',
        'error',
        'finished_at',
        'id',
        'progress',
        'result',
        'site_id',
        'started_at',
        'status',
        'type',
        'updated_at',
      ].sort(),
    );
  });

  it('is secured: 401 without a credential, 404 for another account', async () => {
    const id = await startTask(owner, { steps: 1, delay_ms: 0 });
    await expectSecured(t, { method: 'GET', url: `/api/v1/system/tasks/${id}/`, owner, objectScoped: true });
  });

  it('answers 404 for an id that is not a task', async () => {
    expect((await detail(owner, 2147483647)).statusCode).toBe(404);
    expect((await detail(owner, 0)).statusCode).toBe(404);
  });
});

describe('GET /api/v1/system/tasks/<id>/events/', () => {
  it('streams the task as server-sent events until it ends', async () => {
    const id = await startTask(owner, { steps: 4, delay_ms: 150 });
    const res = await t.request({ method: 'GET', url: `/api/v1/system/tasks/${id}/events/`, headers: owner.headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['x-request-id']).toBeTruthy();
    const events = res.body
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => ({
        event: /^event: (.+)$/m.exec(block)?.[1],
        data: JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? 'null'),
      }));
    const last = events.at(-1);
    expect(last?.event).toBe('end');
    expect(last?.data).toMatchObject({ id, status: 'succeeded', result: { steps: 4 } });
    const progress = events.filter((e) => e.event === 'task').map((e) => e.data.progress.current);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events.some((e) => e.data.status === 'running')).toBe(true);
  });

  it('is 404 for another account, before any stream starts', async () => {
    const id = await startTask(owner, { steps: 1, delay_ms: 0 });
    const stranger = await signUp(t);
    const res = await t.request({ method: 'GET', url: `/api/v1/system/tasks/${id}/events/`, headers: stranger.headers });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });
});

describe('POST /api/v1/system/tasks/<id>/cancel/', () => {
  it('stops a running task between units (202, then cancelled)', async () => {
    const id = await startTask(owner, { steps: 40, delay_ms: 100 });
    await until(id, (task) => task.progress.current >= 2);
    const res = await t.request({ method: 'POST', url: `/api/v1/system/tasks/${id}/cancel/`, headers: owner.headers });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`http://localhost:80/api/v1/system/tasks/${id}/`);
    expect(res.json().data.cancel_requested).toBe(true);
    const done = await until(id, (task) => task.status === 'cancelled');
    expect(done.progress.current).toBeLessThan(40);
    expect(done.finished_at).not.toBeNull();
    const again = await t.request({ method: 'POST', url: `/api/v1/system/tasks/${id}/cancel/`, headers: owner.headers });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict', details: { current_status: 'cancelled' } });
  });

  it('needs write access, and another account gets 404', async () => {
    const id = await startTask(owner, { steps: 30, delay_ms: 100 });
    const viewer = await addMember(t, owner, 'viewer');
    const denied = await t.request({ method: 'POST', url: `/api/v1/system/tasks/${id}/cancel/`, headers: viewer.headers });
    expect(denied.statusCode).toBe(403);
    const stranger = await signUp(t);
    const hidden = await t.request({ method: 'POST', url: `/api/v1/system/tasks/${id}/cancel/`, headers: stranger.headers });
    expect(hidden.statusCode).toBe(404);
    const none = await t.request({ method: 'POST', url: `/api/v1/system/tasks/${id}/cancel/` });
    expect(none.statusCode).toBe(401);
  });
});

describe('GET /api/v1/system/tasks/', () => {
  it("is a cursor feed of the account's own tasks, filtered by status", async () => {
    const who = await signUp(t);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startTask(who, { steps: 1, delay_ms: 0 }));
    for (const id of ids) await until(id, (task) => task.status === 'succeeded', who);
    const first = await t.request({ method: 'GET', url: '/api/v1/system/tasks/?page_size=2&cursor=', headers: who.headers });
    expect(first.statusCode).toBe(200);
    const page = first.json().data;
    expect(page.count).toBeNull();
    expect(page.results.map((r: { id: number }) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await t.request({ method: 'GET', url: page.next.replace(/^https?:\/\/[^/]+/, ''), headers: who.headers });
    expect(second.json().data.results.map((r: { id: number }) => r.id)).toEqual([ids[0]]);
    const byDefault = await t.request({ method: 'GET', url: '/api/v1/system/tasks/', headers: who.headers });
    expect(byDefault.json().data).toMatchObject({ count: null });
    const succeeded = await t.request({ method: 'GET', url: '/api/v1/system/tasks/?status=succeeded', headers: who.headers });
    expect(succeeded.json().data.results).toHaveLength(3);
    const queued = await t.request({
      method: 'GET',
      url: '/api/v1/system/tasks/?status__in=queued,running',
      headers: who.headers,
    });
    expect(queued.json().data.results).toHaveLength(0);
    const bad = await t.request({ method: 'GET', url: '/api/v1/system/tasks/?status=done', headers: who.headers });
    expect(bad.statusCode).toBe(400);
    const unknown = await t.request({ method: 'GET', url: '/api/v1/system/tasks/?colour=red', headers: who.headers });
    expect(unknown.statusCode).toBe(400);
  });

  it("is secured, and never lists another account's tasks", async () => {
    await startTask(owner, { steps: 1, delay_ms: 0 });
    await expectSecured(t, { method: 'GET', url: '/api/v1/system/tasks/', owner });
    const stranger = await signUp(t);
    const res = await t.request({ method: 'GET', url: '/api/v1/system/tasks/', headers: stranger.headers });
    expect(res.json().data.results).toEqual([]);
  });
});

describe('site limits', () => {
  it("keeps a site-limited member and a site-bound key to their sites' tasks and task events", async () => {
    const boss = await signUp(t);
    const mine = await createSite(t, boss, 'Reachable');
    const theirs = await createSite(t, boss, 'Out of reach');
    const member = await addMember(t, boss, 'editor', [mine.id]);
    const key = await createApiKey(t, boss, { scopes: ['read', 'write'], site_id: mine.id });
    const ownTask = await startTask(boss, { steps: 1, delay_ms: 0 }, mine.id);
    const accountWide = await startTask(boss, { steps: 1, delay_ms: 0 });
    // Long enough to still be running when the limited callers try to cancel it.
    const otherTask = await startTask(boss, { steps: 40, delay_ms: 100 }, theirs.id);
    await until(ownTask, (task) => task.status === 'succeeded', boss);
    await until(accountWide, (task) => task.status === 'succeeded', boss);
    await until(otherTask, (task) => task.status === 'running', boss);

    for (const who of [member, { headers: key.headers } as SignedUp]) {
      const list = await t.request({ method: 'GET', url: '/api/v1/system/tasks/?page_size=100', headers: who.headers });
      expect(list.statusCode, list.body).toBe(200);
      expect(list.json().data.results.map((task: { id: number }) => task.id)).toEqual([ownTask]);
      expect((await detail(who, ownTask)).json().data.site_id).toBe(mine.id);
      expect((await detail(who, otherTask)).statusCode).toBe(404);
      expect((await detail(who, accountWide)).statusCode).toBe(404);
      const cancel = await t.request({ method: 'POST', url: `/api/v1/system/tasks/${otherTask}/cancel/`, headers: who.headers });
      expect(cancel.statusCode).toBe(404);
      const stream = await t.request({ method: 'GET', url: `/api/v1/system/tasks/${otherTask}/events/`, headers: who.headers });
      expect(stream.statusCode).toBe(404);
      // The task's own events carry its site, so the feed shows the reachable one only.
      const events = await t.request({
        method: 'GET',
        url: '/api/v1/events/?type__in=task.succeeded,task.cancelled',
        headers: who.headers,
      });
      expect(events.json().data.results.map((e: { object_id: number; site_id: number }) => [e.object_id, e.site_id])).toEqual([
        [ownTask, mine.id],
      ]);
    }
    const untouched = (await detail(boss, otherTask)).json().data;
    expect(untouched.cancel_requested).toBe(false);
    expect(untouched.site_id).toBe(theirs.id);
    const all = await t.request({ method: 'GET', url: '/api/v1/system/tasks/?page_size=100', headers: boss.headers });
    expect(all.json().data.results.map((task: { id: number }) => task.id)).toEqual([otherTask, accountWide, ownTask]);
    expect(
      (await t.request({ method: 'POST', url: `/api/v1/system/tasks/${otherTask}/cancel/`, headers: boss.headers })).statusCode,
    ).toBe(202);
    await until(otherTask, (task) => task.status === 'cancelled', boss);
  });
});
