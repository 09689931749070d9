import type { Db } from '../../core/db.js';
import { AppError, notFound } from '../../core/errors.js';
import { record } from '../../core/events.js';
import { type JobContext, TransientError } from '../../core/jobs.js';
import type { SecretBox } from '../../core/secrets.js';
import { articleText } from '../writer/writer.service.js';
import type { ImportedArticleInput, IntegrationContent } from './integration.deps.js';
import * as repo from './integration.repository.js';
import { ConnectionUnavailable, connectionOf } from './integration.service.js';
import { type WordPressClient, WordPressError, type WordPressRequest, type WordPressTransport } from './integration.wordpress.js';

/**
 * Reading a WordPress site for a sync: its categories and tags (by id, to name them on the content) and its
 * published posts and pages, page by page through `X-WP-TotalPages`.
 */

interface WpTerm {
  id: number;
  name: string;
}
interface WpRendered {
  raw?: string;
  rendered?: string;
}
export interface WpPost {
  id: number;
  slug: string;
  link: string;
  title: WpRendered;
  content: WpRendered;
  excerpt?: WpRendered;
  categories?: number[];
  tags?: number[];
}

type ImportOutcome = Awaited<ReturnType<IntegrationContent['upsert']>>['outcome'];

export interface SyncCounts {
  categories: number;
  tags: number;
  posts: Record<'created' | 'updated' | 'unchanged' | 'skipped', number>;
  pages: Record<'created' | 'updated' | 'unchanged' | 'skipped', number>;
}

export const emptyCounts = (): SyncCounts => ({
  categories: 0,
  tags: 0,
  posts: { created: 0, updated: 0, unchanged: 0, skipped: 0 },
  pages: { created: 0, updated: 0, unchanged: 0, skipped: 0 },
});

/**
 * A GET, asked again at once (twice at most) when the connection failed: a kept-alive socket the server closed
 * while a page was being stored (its keep-alive timeout ran out) is reset on reuse, and a GET is safe to repeat.
 * Anything longer-lived is the job's retry, with its backoff.
 */
async function read<T>(client: WordPressClient, route: string, query: WordPressRequest['query']) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.request<T>('GET', route, { query });
    } catch (error) {
      if (!(error instanceof WordPressError) || error.failure !== 'network' || attempt === 3) throw error;
    }
  }
}

/** Every item of a collection, page by page until `X-WP-TotalPages`, each page read with `read`. */
export async function* pagesOf<T>(client: WordPressClient, route: string, query: WordPressRequest['query']) {
  for (let page = 1, totalPages = 1; page <= totalPages; page++) {
    const answer = await read<T[]>(client, route, { ...query, page });
    totalPages = Number(answer.headers.get('x-wp-totalpages') ?? '1') || 1;
    if (!Array.isArray(answer.data)) throw new WordPressError('invalid_response', `${route}: a list was expected`, answer.status);
    yield answer.data;
  }
}

/** Term names come HTML-escaped (`A &amp; B`); content stores them as text. */
export async function termNames(client: WordPressClient, taxonomy: 'categories' | 'tags', pageSize: number) {
  const names = new Map<number, string>();
  for await (const page of pagesOf<WpTerm>(client, `wp/v2/${taxonomy}`, { per_page: pageSize, hide_empty: false })) {
    for (const term of page) names.set(term.id, articleText(term.name));
  }
  return names;
}

/** WordPress keeps non-ASCII slugs percent-encoded (`%d0%bf…`). */
function decodedSlug(slug: string): string {
  try {
    return decodeURIComponent(slug);
  } catch {
    return slug;
  }
}

export function importedArticle(
  post: WpPost,
  target: { site_id: number; sector_id: number },
  terms: { categories: Map<number, string>; tags: Map<number, string> },
): ImportedArticleInput {
  const named = (ids: number[] | undefined, map: Map<number, string>) => [
    ...new Set((ids ?? []).map((id) => map.get(id)).filter((name): name is string => !!name)),
  ];
  const title = post.title.raw ?? articleText(post.title.rendered ?? '');
  return {
    ...target,
    external_id: String(post.id),
    external_url: post.link,
    title: title.trim() || `Untitled ${post.id}`,
    // The rendered HTML is what visitors read (blocks and shortcodes expanded); the writer sanitises it.
    html: post.content.rendered ?? post.content.raw ?? '',
    slug: decodedSlug(post.slug),
    meta_description: articleText(post.excerpt?.raw ?? ''),
    categories: named(post.categories, terms.categories),
    tags: named(post.tags, terms.tags),
  };
}

/** WordPress's largest page: the fewest round trips. */
const PAGE_SIZE = 100;

/** A remote failure as a job sees it: 5xx, timeouts and dropped connections retry; WordPress's 4xx is final. */
function remoteFailure(error: unknown): unknown {
  if (!(error instanceof WordPressError)) return error;
  if (error.retryable) return new TransientError(error.message);
  if (error.status === 401 || error.status === 403) {
    return new AppError(
      'authentication_failed',
      `WordPress refused the integration's credentials: ${error.message}. Run test_connection/.`,
    );
  }
  return new AppError('validation_error', `WordPress refused the sync: ${error.message}`);
}

/**
 * The `integration.sync` job: categories and tags first (posts name them by id), then published posts and
 * pages, each stored (or updated in place, by its remote id) through the writer in its own transaction, so a
 * retry after a failure only redoes what had not committed and changes nothing twice.
 */
export function createSyncRunner(deps: {
  db: Db;
  secrets: SecretBox;
  content: IntegrationContent;
  transport: WordPressTransport;
}) {
  const { db } = deps;

  async function clientOf(row: repo.IntegrationRow): Promise<WordPressClient> {
    try {
      return (await connectionOf(row, deps.secrets, deps.transport)).client;
    } catch (error) {
      if (error instanceof ConnectionUnavailable)
        throw new AppError('conflict', `The integration cannot be used: ${error.message}.`);
      throw remoteFailure(error);
    }
  }

  async function importAll(
    job: JobContext<unknown>,
    client: WordPressClient,
    target: { accountId: number; site_id: number; sector_id: number },
  ): Promise<SyncCounts> {
    const counts = emptyCounts();
    await job.progress(0, null, 'Reading categories and tags');
    const terms = {
      categories: await termNames(client, 'categories', PAGE_SIZE),
      tags: await termNames(client, 'tags', PAGE_SIZE),
    };
    counts.categories = terms.categories.size;
    counts.tags = terms.tags.size;
    let done = 0;
    for (const kind of ['posts', 'pages'] as const) {
      const query = { per_page: PAGE_SIZE, status: 'publish', context: 'edit' };
      for await (const page of pagesOf<WpPost>(client, `wp/v2/${kind}`, query)) {
        // One transaction per page: a hundred commits fewer, and a retry redoes at most the page it was on.
        const outcomes = await db.transaction(async (tx) => {
          const found: ImportOutcome[] = [];
          for (const post of page)
            found.push((await deps.content.upsert(tx, target.accountId, importedArticle(post, target, terms))).outcome);
          return found;
        });
        for (const outcome of outcomes) counts[kind][outcome] += 1;
        done += outcomes.length;
        await job.progress(done, null, `Imported ${done} posts and pages`);
      }
    }
    return counts;
  }

  return {
    async run(job: JobContext<{ integration_id: number; sector_id: number }>): Promise<SyncCounts> {
      const accountId = job.accountId;
      if (accountId === null) throw new Error('integration.sync runs for an account');
      const { integration_id: integrationId, sector_id: sectorId } = job.payload;
      const row = await repo.integrationById(db, accountId, integrationId);
      if (!row) throw notFound('Integration');
      const client = await clientOf(row);
      let counts: SyncCounts;
      try {
        counts = await importAll(job, client, { accountId, site_id: row.site_id, sector_id: sectorId });
      } catch (error) {
        throw remoteFailure(error);
      }
      // Once per job: a retried or repeated run of the same task records no second event.
      await job.once('synced', async (tx) => {
        const synced = await repo.updateIntegration(tx, accountId, integrationId, { last_synced_at: new Date() });
        await record(tx, {
          account_id: accountId,
          site_id: synced.site_id,
          type: 'integration.synced',
          source_agent: 'worker',
          actor_id: null,
          object_type: 'integration',
          object_id: synced.id,
          payload: { ...counts, task_id: job.taskId },
        });
      });
      return counts;
    },
  };
}
export type SyncRunner = ReturnType<typeof createSyncRunner>;
