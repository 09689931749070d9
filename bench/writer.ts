import { cpus } from 'node:os';
import { sql } from 'drizzle-orm';
import { startFakeOpenAI } from '../test/fake-openai.js';
import { fakeWriter } from '../test/fake-writer.js';
import { embeddedBenchApp } from './embedded-app.js';

/**
 * Article generation through the real app on PGlite (in memory, the API process working the jobs) with the
 * fake OpenAI-compatible server (test/fake-openai.ts + test/fake-writer.ts) answering at once:
 *
 * 1. BENCH_ARTICLES (100) writer tasks of BENCH_WORDS (1,200) target words in one `auto_generate_content/`
 *    request: the task's own time (its `started_at` to `finished_at`, so the queue's poll interval is not in
 *    it), and the server's work, which is that time less the time spent waiting for the fake's answers (every
 *    call's `latency_ms` as billing recorded it: the calls of one job run one after the other). The queue polls
 *    at its default (1 s) and this script reads the task every 250 ms, so neither competes much with the job
 *    for PGlite's one connection.
 * 2. One 3,000-word article, section by section: its word count against the target, its calls.
 *
 * `npm run bench:writer` (a few tens of seconds). One JSON summary line at the end.
 */

const ARTICLES = Number(process.env.BENCH_ARTICLES ?? 100);
const WORDS = Number(process.env.BENCH_WORDS ?? 1200);
const LONG = Number(process.env.BENCH_LONG_WORDS ?? 3000);

const fake = await startFakeOpenAI();
const writer = fakeWriter();
fake.respond = writer.respond;
const bench = await embeddedBenchApp('writer', {
  AI_BASE_URL: fake.url,
  AI_MAX_RETRIES: '0',
});
const { app, db, api, token, accountId } = bench;
await app.services.billing.grant({ accountId }, 100_000, `bench-grant:${accountId}`);
const site = await api('POST', '/api/v1/auth/sites/', token, { name: 'Bench site' });
const sector = await api('POST', '/api/v1/auth/sectors/', token, { site_id: site.id, name: 'Bench sector' });

async function tasks(count: number, words: number, label: string): Promise<number[]> {
  return db.transaction((tx) =>
    app.services.writer.queueTasks(
      tx,
      accountId,
      Array.from({ length: count }, (_, i) => ({
        site_id: site.id,
        sector_id: sector.id,
        title: `${label} ${i + 1}: choosing trail shoes`,
        keywords: ['trail shoes', 'trail running shoes'],
        word_count_target: words,
      })),
    ),
  );
}

async function generate(ids: number[]) {
  const accepted = await api('POST', '/api/v1/writer/tasks/auto_generate_content/', token, { ids });
  for (;;) {
    const task = await api('GET', `/api/v1/system/tasks/${accepted.task_id}/`, token);
    if (task.status === 'succeeded' || task.status === 'failed') {
      if (task.status !== 'succeeded') throw new Error(`generation failed: ${JSON.stringify(task.error)}`);
      return { task, seconds: (Date.parse(task.finished_at) - Date.parse(task.started_at)) / 1000 };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const scalar = async (query: ReturnType<typeof sql>) =>
  Number(((await db.execute(query)) as unknown as { rows: { v: number }[] }).rows[0]?.v ?? 0);

// Warm-up: one article, so the first request's compile and cache fills are not in the figure.
await generate(await tasks(1, WORDS, 'Warm-up'));

const usageBefore = await scalar(sql`select count(*)::int as v from billing_usage where account_id = ${accountId}`);
const latencyBefore = await scalar(
  sql`select coalesce(sum(latency_ms), 0)::int as v from billing_usage where account_id = ${accountId}`,
);
const many = await generate(await tasks(ARTICLES, WORDS, 'Article'));
const calls = (await scalar(sql`select count(*)::int as v from billing_usage where account_id = ${accountId}`)) - usageBefore;
const waitedSeconds =
  ((await scalar(sql`select coalesce(sum(latency_ms), 0)::int as v from billing_usage where account_id = ${accountId}`)) -
    latencyBefore) /
  1000;
const serverSeconds = many.seconds - waitedSeconds;
const words = await scalar(
  sql`select coalesce(sum(word_count), 0)::int as v from writer_content where account_id = ${accountId} and title like 'Article %'`,
);

const [longId] = await tasks(1, LONG, 'Long');
const longCallsBefore = { ...writer.calls };
const long = await generate([longId as number]);
const longRow = (
  (await db.execute(
    sql`select word_count, provenance from writer_content where account_id = ${accountId} and task_id = ${longId as number}`,
  )) as unknown as { rows: { word_count: number; provenance: { prompt: { function: string } } }[] }
).rows[0];
const longCalls = Object.fromEntries(
  Object.entries(writer.calls)
    .map(([fn, n]) => [fn, n - (longCallsBefore[fn] ?? 0)])
    .filter(([, n]) => Number(n) > 0),
);

const summary = {
  cpus: cpus().length,
  database: 'pglite (memory)',
  articles: many.task.result.generated,
  target_words: WORDS,
  words_written: words,
  ai_calls: calls,
  task_seconds: Number(many.seconds.toFixed(2)),
  waiting_for_provider_seconds: Number(waitedSeconds.toFixed(2)),
  server_seconds: Number(serverSeconds.toFixed(2)),
  articles_per_second_task: Number((ARTICLES / many.seconds).toFixed(1)),
  articles_per_second_server: Number((ARTICLES / serverSeconds).toFixed(1)),
  ms_per_article_server: Number(((serverSeconds * 1000) / ARTICLES).toFixed(1)),
  long_article: {
    target_words: LONG,
    word_count: longRow?.word_count,
    off_target_percent: Number(((100 * ((longRow?.word_count ?? 0) - LONG)) / LONG).toFixed(1)),
    written_by: longRow?.provenance.prompt.function,
    calls: longCalls,
    seconds: Number(long.seconds.toFixed(2)),
  },
};
console.log(JSON.stringify(summary));
await bench.close();
await fake.close();
