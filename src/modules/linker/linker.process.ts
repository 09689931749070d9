import type { Db } from '../../core/db.js';
import { type EventInput, record } from '../../core/events.js';
import type { LinkableArticle } from '../writer/writer.service.js';
import type { LinkerContent } from './linker.deps.js';
import { CLOSE_TAG, linkHrefs, openTag, spliceLinks } from './linker.html.js';
import { type PlannedLink, planLinks, type SiteArticle, sitePlan } from './linker.plan.js';
import * as repo from './linker.repository.js';
import { articleMatcher, articleUrl } from './linker.urls.js';

/**
 * One run of `linker/process/` over one site: the site's articles read once (the phrase index and the TF-IDF
 * vectors made once for all of them), then each source article linked in its own transaction (its row locked,
 * its html read fresh): the planned links stored, and unless it is a dry run spliced into the html as a new
 * version of the article.
 */

export interface SiteRun {
  accountId: number;
  actorId: number | null;
  taskId: number | null;
  dryRun: boolean;
  perThousand: number;
}

export interface SourceOutcome {
  source_id: number;
  suggested: number;
  applied: number;
  link_ids: number[];
}

const toSiteArticle = (a: LinkableArticle, siteUrl: string): SiteArticle => ({
  id: a.id,
  title: a.title,
  html: a.html,
  primary_keyword: a.primary_keyword,
  secondary_keywords: a.secondary_keywords,
  cluster_id: a.cluster_id,
  word_count: a.word_count,
  slug: a.slug,
  external_url: a.external_url,
  url: articleUrl(a, siteUrl),
});

export function prepareSite(articles: LinkableArticle[], siteUrl: string) {
  const site = articles.map((a) => toSiteArticle(a, siteUrl));
  return { plan: sitePlan(site), matcher: articleMatcher(articles, siteUrl), siteUrl };
}
export type PreparedSite = ReturnType<typeof prepareSite>;

const workerEvent = (run: SiteRun, source: LinkableArticle, type: string, payload: Record<string, unknown>): EventInput => ({
  account_id: run.accountId,
  site_id: source.site_id,
  type,
  source_agent: 'worker',
  actor_id: run.actorId,
  object_type: 'content',
  object_id: source.id,
  payload: { task_id: run.taskId, ...payload },
});

/** Links one source article, in the caller's transaction. */
export async function linkSource(
  tx: Db,
  content: LinkerContent,
  site: PreparedSite,
  run: SiteRun,
  sourceId: number,
): Promise<SourceOutcome> {
  const none = { source_id: sourceId, suggested: 0, applied: 0, link_ids: [] };
  const source = await content.article(tx, run.accountId, sourceId, true);
  if (!source || source.status === 'archived') return none;
  const links = await repo.linksOfSource(tx, run.accountId, sourceId);
  const linked = linkHrefs(source.html)
    .map(site.matcher)
    .filter((id): id is number => id !== null && id !== sourceId);
  const waiting = links.filter((l) => l.status === 'suggested');
  const planned = planLinks({
    ...site.plan,
    source: toSiteArticle(source, site.siteUrl),
    perThousand: run.perThousand,
    existing: {
      target_ids: new Set([...links.map((l) => l.target_id), ...linked]),
      offsets: waiting.map((l) => l.anchor_offset),
      count: new Set(linked).size + waiting.length,
    },
  });
  if (planned.length === 0) return none;

  const row = (link: PlannedLink) => ({
    site_id: source.site_id,
    sector_id: source.sector_id,
    source_id: source.id,
    target_id: link.target_id,
    anchor: link.anchor,
    anchor_offset: link.offset,
    context: link.context,
    score: link.score,
    target_url: link.target_url,
    source_version: source.version,
    task_id: run.taskId,
  });
  if (run.dryRun) {
    const stored = await repo.insertLinks(tx, run.accountId, planned.map(row));
    const ids = stored.map((l) => l.id);
    await record(tx, workerEvent(run, source, 'links.suggested', { count: ids.length, link_ids: ids, dry_run: true }));
    return { source_id: sourceId, suggested: ids.length, applied: 0, link_ids: ids };
  }

  const html = spliceLinks(
    source.html,
    planned.map((l) => ({ offset: l.offset, text: l.anchor, href: l.target_url })),
  );
  const revised = await content.reviseHtml(tx, run.accountId, source.id, html, run.actorId);
  // The suggestions already waiting move past the tags inserted before them (last insertion first).
  for (const link of [...planned].sort((a, b) => b.offset - a.offset)) {
    await repo.shiftSuggestions(tx, run.accountId, source.id, link.offset, openTag(link.target_url).length + CLOSE_TAG.length, 0);
  }
  const stored = await repo.insertLinks(
    tx,
    run.accountId,
    planned.map((l) => ({
      ...row(l),
      status: 'applied' as const,
      applied_version: revised.version,
      applied_at: new Date(),
      decided_by_id: run.actorId,
    })),
  );
  const ids = stored.map((l) => l.id);
  await record(tx, workerEvent(run, source, 'links.applied', { count: ids.length, link_ids: ids, version: revised.version }));
  return { source_id: sourceId, suggested: 0, applied: ids.length, link_ids: ids };
}
