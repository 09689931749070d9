import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createSite, type SignedUp, signUp } from '../../../test/factories.js';
import { buildTestApp, type TestApp } from '../../../test/harness.js';
import { connect, type Database } from '../../core/db.js';
import { type EventInput, record } from '../../core/events.js';

const STREAM = '/api/v1/events/stream';
const HEARTBEAT_MS = 150;

let t: TestApp;
let base: string;
let owner: SignedUp;
let stranger: SignedUp;

beforeAll(async () => {
  t = await buildTestApp({ EVENTS_STREAM_HEARTBEAT_MS: String(HEARTBEAT_MS) });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  owner = await signUp(t);
  stranger = await signUp(t);
});
afterAll(() => t?.close());

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A minimal server-sent events client over a real connection: what EventSource would parse. */
function openStream(url: string, headers: Record<string, string>) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let status = 0;
  let buffer = '';
  const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } });
  const opened = new Promise<void>((resolve, reject) => {
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { id: undefined, event: undefined, data: '' };
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) {
              event.data += line.slice(6);
              isEvent = true;
            }
          }
          if (isEvent) events.push(event);
        }
      });
      resolve();
    });
    request.on('error', reject);
  });
  const until = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
    const started = Date.now();
    while (!done()) {
      if (Date.now() - started > timeoutMs) throw new Error(`stream: timed out waiting for ${what} (${JSON.stringify(events)})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return {
    events,
    comments,
    opened,
    get status() {
      return status;
    },
    /** The parsed `data` of the events received. */
    data: () => events.map((e) => JSON.parse(e.data) as { id: number; type: string; site_id: number | null }),
    waitForEvents: (count: number) => until(`${count} events`, () => events.length >= count),
    waitForComment: (text: string) => until(`a comment "${text}"`, () => comments.some((c) => c.startsWith(text))),
    close: () => request.destroy(),
  };
}

function emit(db: TestApp['database']['db'], who: SignedUp, ...events: Partial<EventInput>[]) {
  return db.transaction((tx) =>
    record(tx, ...events.map((e) => ({ account_id: who.accountId, type: 'test.happened', source_agent: 'api' as const, ...e }))),
  );
}

describe('GET /api/v1/events/stream/', () => {
  it("sends the account's events as they commit, in order, with their ids, and heartbeats", async () => {
    const stream = openStream(`${base}${STREAM}/`, owner.headers);
    await stream.opened;
    expect(stream.status).toBe(200);
    // The stream is open once its first heartbeat comes: events from here on are live ones.
    await stream.waitForComment('heartbeat');
    const ids = await emit(t.database.db, owner, { type: 'test.one' }, { type: 'test.two' });
    await emit(t.database.db, stranger, { type: 'test.theirs' });
    const [third] = await emit(t.database.db, owner, { type: 'test.three' });
    await stream.waitForEvents(3);
    expect(stream.data().map((e) => e.type)).toEqual(['test.one', 'test.two', 'test.three']);
    expect(stream.events.map((e) => e.id)).toEqual([...ids, third].map(String));
    expect(stream.data()[0]).toMatchObject({ id: ids[0], type: 'test.one', source_agent: 'api', payload: {} });
    const beats = stream.comments.length;
    await stream.waitForComment('heartbeat');
    await new Promise<void>((resolve) => {
      const check = () => (stream.comments.length > beats ? resolve() : setTimeout(check, 10));
      check();
    });
    stream.close();
  });

  it('a client reconnecting with Last-Event-ID misses nothing and gets nothing twice', async () => {
    const first = openStream(`${base}${STREAM}/`, owner.headers);
    await first.opened;
    await first.waitForComment('heartbeat');
    await emit(t.database.db, owner, { type: 'test.a' }, { type: 'test.b' });
    await first.waitForEvents(2);
    first.close();
    const lastId = first.events.at(-1)?.id as string;
    // Written while nobody listens.
    const missed = await emit(t.database.db, owner, { type: 'test.c' }, { type: 'test.d' });
    const second = openStream(`${base}${STREAM}/`, { ...owner.headers, 'last-event-id': lastId });
    await second.waitForEvents(2);
    const [live] = await emit(t.database.db, owner, { type: 'test.e' });
    await second.waitForEvents(3);
    expect(second.data().map((e) => e.id)).toEqual([...missed, live]);
    // The same through the query parameter, for clients that cannot set the header.
    const third = openStream(`${base}${STREAM}/?last_event_id=${lastId}`, owner.headers);
    await third.waitForEvents(3);
    expect(third.data().map((e) => e.id)).toEqual([...missed, live]);
    second.close();
    third.close();
  });

  it('filters as the feed does', async () => {
    const [before] = await emit(t.database.db, owner, { type: 'filter.before' });
    const stream = openStream(`${base}${STREAM}/?type__in=filter.x,filter.z&last_event_id=${before}`, owner.headers);
    const ids = await emit(t.database.db, owner, { type: 'filter.x' }, { type: 'filter.y' }, { type: 'filter.z' });
    await stream.waitForEvents(2);
    expect(stream.data().map((e) => e.id)).toEqual([ids[0], ids[2]]);
    const bySource = openStream(
      `${base}${STREAM}/?source_agent=worker&object_type=content&last_event_id=${before}`,
      owner.headers,
    );
    const [match] = await emit(
      t.database.db,
      owner,
      { type: 'filter.w', source_agent: 'worker', object_type: 'content', object_id: 1 },
      { type: 'filter.w', source_agent: 'api', object_type: 'content', object_id: 1 },
    );
    await bySource.waitForEvents(1);
    expect(bySource.data().map((e) => e.id)).toEqual([match]);
    stream.close();
    bySource.close();
  });

  it("shows a site-bound key only its site's events", async () => {
    const mine = await createSite(t, owner);
    const theirs = await createSite(t, owner);
    const key = await createApiKey(t, owner, { scopes: ['read'], site_id: mine.id });
    const [start] = await emit(t.database.db, owner, {});
    const stream = openStream(`${base}${STREAM}/?last_event_id=${start}`, key.headers);
    const ids = await emit(t.database.db, owner, { site_id: theirs.id }, { site_id: null }, { site_id: mine.id });
    await stream.waitForEvents(1);
    await stream.waitForComment('heartbeat');
    expect(stream.data().map((e) => e.id)).toEqual([ids[2]]);
    stream.close();
  });

  it('answers errors in the envelope before the stream starts', async () => {
    const anonymous = await t.request({ method: 'GET', url: `${STREAM}/` });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('not_authenticated');
    const badHeader = await t.request({ method: 'GET', url: `${STREAM}/`, headers: { ...owner.headers, 'last-event-id': 'x' } });
    expect(badHeader.statusCode).toBe(400);
    expect(badHeader.json().errors['Last-Event-ID']).toHaveLength(1);
    for (const query of ['colour=red', 'object_id=abc', 'cursor=', 'page=2', 'last_event_id=-1']) {
      const res = await t.request({ method: 'GET', url: `${STREAM}/?${query}`, headers: owner.headers });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code, query).toBe('validation_error');
    }
  });
});

/**
 * Two server processes on one Postgres database: a second app with its own connections (its own pool and its own
 * LISTEN connection), as a second `npm start` would have. The stream on one hears what the other writes.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)('across processes (Postgres)', () => {
  let other: TestApp;
  let otherDatabase: Database;
  beforeAll(async () => {
    const options = (t.database.pool as pg.Pool).options as pg.ClientConfig;
    otherDatabase = await connect({ databaseUrl: String(options.connectionString), poolSize: 2, pgliteDir: 'memory://' });
    other = await buildTestApp({}, { database: otherDatabase });
  });
  afterAll(async () => {
    await other?.close();
    await otherDatabase?.close();
  });

  it('a stream on one process hears events committed through another, in order, concurrent writers included', async () => {
    const [start] = await emit(t.database.db, owner, {});
    const stream = openStream(`${base}${STREAM}/?last_event_id=${start}`, owner.headers);
    await stream.opened;
    // Writers on both processes at once: ids are taken at insert and may commit out of order.
    const written = (
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => emit(other.database.db, owner, { type: 'cross.other', payload: { i } })),
        ...Array.from({ length: 10 }, (_, i) => emit(t.database.db, owner, { type: 'cross.here', payload: { i } })),
      ])
    ).flat();
    await stream.waitForEvents(20);
    const received = stream.data().map((e) => e.id);
    expect(received).toEqual([...written].sort((a, b) => a - b));
    stream.close();
  });

  it('holds back an event until a transaction holding a lower id has ended, so the lower one is not skipped', async () => {
    const [start] = await emit(t.database.db, owner, {});
    const stream = openStream(`${base}${STREAM}/?last_event_id=${start}`, owner.headers);
    await stream.opened;
    const options = (t.database.pool as pg.Pool).options as pg.ClientConfig;
    const slow = new pg.Client({ connectionString: String(options.connectionString) });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      const { rows } = await slow.query(
        `INSERT INTO events_events (account_id, type, source_agent) VALUES ($1, 'cross.slow', 'api') RETURNING id`,
        [owner.accountId],
      );
      const lower = Number(rows[0].id);
      const [higher] = await emit(other.database.db, owner, { type: 'cross.quick' });
      expect(higher).toBeGreaterThan(lower);
      // Two heartbeats later the committed, higher id has still not been sent: a lower one may yet commit.
      const beats = stream.comments.length;
      await new Promise<void>((resolve) => {
        const check = () => (stream.comments.length >= beats + 2 ? resolve() : setTimeout(check, 10));
        check();
      });
      expect(stream.events).toEqual([]);
      await slow.query('COMMIT');
      await stream.waitForEvents(2);
      expect(stream.data().map((e) => e.id)).toEqual([lower, higher]);
    } finally {
      await slow.end();
      stream.close();
    }
  });
});
