import { cpus } from 'node:os';
import { insertContent } from '../src/modules/writer/writer.repository.js';
import { embeddedBenchApp } from './embedded-app.js';

/**
 * `linker/process/` over BENCH_ARTICLES (1,000) articles of one site, through the real app on PGlite (in
 * memory, the API process working the job): each article ~BENCH_WORDS (800) words of paragraphs from a shared
 * vocabulary, with its own primary keyword and two secondary keywords, so every article has candidates among
 * the others. One dry-run request asks for suggestions for all of them; the figure is the task's own time
 * (`started_at` → `finished_at`). Then the same with the links applied (`dry_run: false`) on fresh articles.
 *
 * `npm run bench:linker`. One JSON summary line at the end.
 */

const ARTICLES = Number(process.env.BENCH_ARTICLES ?? 1000);
const WORDS = Number(process.env.BENCH_WORDS ?? 800);

const bench = await embeddedBenchApp('linker', { JOBS_POLL_MS: '200' });
const { db, api, token, accountId } = bench;

// A deterministic vocabulary: topic words make keywords; common words fill the text.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)] as T;
const TOPICS = Array.from({ length: 300 }, (_, i) => `topic${i.toString(36)}`);
const COMMON =
  'the a of and to in trail running shoes grip mud fit size pace race road rock wet dry light heavy long short'.split(' ');

function articleHtml(): string {
  const paragraphs: string[] = [`<p>${Array.from({ length: 40 }, () => pick(COMMON)).join(' ')}.</p>`];
  let words = 40;
  while (words < WORDS) {
    const sentences = Array.from({ length: 4 }, () => {
      const parts = Array.from({ length: 14 }, () => (random() < 0.12 ? `${pick(TOPICS)} ${pick(TOPICS)}` : pick(COMMON)));
      return `${parts.join(' ')}.`;
    });
    if (words % 300 < 60) paragraphs.push(`<h2>${pick(TOPICS)} ${pick(TOPICS)}</h2>`);
    paragraphs.push(`<p>${sentences.join(' ')}</p>`);
    words += 60;
  }
  return paragraphs.join('\n');
}

async function siteWithArticles(name: string): Promise<number[]> {
  const site = await api('POST', '/api/v1/auth/sites/', token, { name, url: `https://${name.toLowerCase()}.example` });
  const sector = await api('POST', '/api/v1/auth/sectors/', token, { site_id: site.id, name: 'Sector' });
  const ids: number[] = [];
  for (let i = 0; i < ARTICLES; i++) {
    const row = await insertContent(db, accountId, {
      site_id: site.id,
      sector_id: sector.id,
      title: `${pick(TOPICS)} ${pick(TOPICS)} guide ${i}`,
      html: articleHtml(),
      primary_keyword: `${pick(TOPICS)} ${pick(TOPICS)}`,
      secondary_keywords: [pick(TOPICS), `${pick(TOPICS)} ${pick(TOPICS)}`],
      source: 'imported',
    });
    ids.push(row.id);
  }
  return ids;
}

async function run(ids: number[], dryRun: boolean) {
  const accepted = await api('POST', '/api/v1/linker/process/', token, { content_ids: ids, dry_run: dryRun });
  for (;;) {
    const task = await api('GET', `/api/v1/system/tasks/${accepted.task_id}/`, token);
    if (task.status === 'succeeded' || task.status === 'failed') {
      if (task.status !== 'succeeded') throw new Error(`linking failed: ${JSON.stringify(task.error)}`);
      return { result: task.result, seconds: (Date.parse(task.finished_at) - Date.parse(task.started_at)) / 1000 };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const suggestIds = await siteWithArticles('Suggest');
const suggested = await run(suggestIds, true);
const applyIds = await siteWithArticles('Apply');
const applied = await run(applyIds, false);

const summary = {
  bench: 'linker',
  cpus: cpus().length,
  articles: ARTICLES,
  words_per_article: WORDS,
  dry_run: { seconds: suggested.seconds, suggested: suggested.result.suggested },
  applied: { seconds: applied.seconds, applied: applied.result.applied },
};
console.log(
  `linker: ${ARTICLES} articles of one site — suggestions in ${suggested.seconds.toFixed(1)} s (${suggested.result.suggested} links), applied in ${applied.seconds.toFixed(1)} s (${applied.result.applied} links)`,
);
console.log(JSON.stringify(summary));
await bench.close();
