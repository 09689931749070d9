import { AppError, conflict, notFound } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { InlineUnit } from '../../core/jobs.js';
import { type ListQuery, pageOfRows } from '../../core/lists.js';
import type { ScopedContext } from '../../core/resource.js';
import { canReachSite } from '../../core/tenancy.js';
import type { LinkerDeps } from './linker.deps.js';
import { bodyText, CLOSE_TAG, linkHrefs, openTag, spliceLinks, stillThere } from './linker.html.js';
import * as repo from './linker.repository.js';
import type { Process, ReportEntry } from './linker.schemas.js';
import { articleMatcher, articleUrl } from './linker.urls.js';

/**
 * The rules of the linker (DOMAIN.md "linker"): `process/` starts one task over the caller's articles among
 * `content_ids` (the others are reported as `skipped`; none at all is a 404); a link moves `suggested` →
 * `applied` | `rejected` and nothing else (409 naming its status); applying splices the anchor into the
 * source's html at the offsets it was found at, or answers 409 when that text is no longer there.
 */

type Ctx = ScopedContext;

export function createLinkerService(deps: LinkerDeps) {
  const { db, jobs, content } = deps;

  const linkEvent = (ctx: Ctx, verb: string, link: repo.LinkRow, payload: Record<string, unknown> = {}) =>
    byCaller(ctx, {
      type: `link.${verb}`,
      object_type: 'link',
      object_id: link.id,
      site_id: link.site_id,
      payload: { source_id: link.source_id, target_id: link.target_id, anchor: link.anchor, ...payload },
    });

  async function ownLink(tx: typeof db, ctx: Ctx, id: number, lock = false) {
    const link = await repo.linkById(tx, ctx.accountId, id, ctx.siteIds, lock);
    if (!link) throw notFound('Link');
    return link;
  }

  const suggestedOnly = (link: repo.LinkRow, action: string) => {
    if (link.status !== 'suggested') {
      throw conflict(`This link is ${link.status}; only a suggested link can be ${action}.`, link.status);
    }
  };

  return {
    async process(ctx: Ctx, body: Process) {
      const ids = [...new Set(body.content_ids)];
      const found = await content.articleSites(db, ctx.accountId, ids, ctx.siteIds);
      if (found.length === 0) throw notFound('Content');
      const sites = new Set(found.map((a) => a.site_id));
      const owner = {
        accountId: ctx.accountId,
        actorId: ctx.user?.id ?? null,
        siteId: sites.size === 1 ? ([...sites][0] ?? null) : null,
      };
      const order = new Map(ids.map((id, i) => [id, i]));
      const task = await db.transaction((tx) =>
        jobs.startTask(tx, owner, 'linker.process', {
          account_id: ctx.accountId,
          actor_id: owner.actorId,
          content_ids: found.map((a) => a.id).sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)),
          dry_run: body.dry_run ?? false,
          ...(body.max_links_per_1000_words === undefined ? {} : { max_links_per_1000_words: body.max_links_per_1000_words }),
        }),
      );
      const known = new Set(found.map((a) => a.id));
      return { task, skipped: ids.filter((id) => !known.has(id)) };
    },

    /**
     * Links one article, for a pipeline that drives the linker unit by unit (automation): `linker.process`'s own
     * handler run here under the caller's key, so the same key run again links nothing twice.
     */
    async linkOne(unit: InlineUnit, contentId: number): Promise<{ applied: number }> {
      const result = (await jobs.runInline(
        'linker.process',
        { account_id: unit.accountId, actor_id: unit.actorId, content_ids: [contentId], dry_run: false },
        unit,
      )) as { applied: number };
      return { applied: result.applied };
    },

    list: (ctx: Ctx, query: ListQuery) => repo.listLinks(db, ctx.accountId, ctx.siteIds, query),

    get: (ctx: Ctx, id: number) => ownLink(db, ctx, id),

    async apply(ctx: Ctx, id: number) {
      return db.transaction(async (tx) => {
        const link = await ownLink(tx, ctx, id, true);
        suggestedOnly(link, 'applied');
        const source = await content.article(tx, ctx.accountId, link.source_id, true);
        if (!source) throw notFound('Content');
        const insertion = { offset: link.anchor_offset, text: link.anchor, href: link.target_url };
        if (!stillThere(source.html, bodyText(source.html), insertion)) {
          throw new AppError(
            'conflict',
            `The anchor text "${link.anchor}" is no longer where it was found: the article changed since. Run linker/process/ again for fresh suggestions.`,
            { details: { anchor: link.anchor, anchor_offset: link.anchor_offset, current_state: link.status } },
          );
        }
        if (linkHrefs(source.html).includes(link.target_url)) {
          throw conflict('The article already links to this target; one link per target.', link.status);
        }
        const revised = await content.reviseHtml(
          tx,
          ctx.accountId,
          source.id,
          spliceLinks(source.html, [insertion]),
          ctx.user?.id ?? null,
        );
        await repo.shiftSuggestions(
          tx,
          ctx.accountId,
          source.id,
          link.anchor_offset,
          openTag(link.target_url).length + CLOSE_TAG.length,
          link.id,
        );
        const applied = await repo.decideLink(tx, ctx.accountId, link.id, 'applied', {
          userId: ctx.user?.id ?? null,
          appliedVersion: revised.version,
        });
        await record(tx, linkEvent(ctx, 'applied', applied, { version: revised.version }));
        return applied;
      });
    },

    async reject(ctx: Ctx, id: number) {
      return db.transaction(async (tx) => {
        const link = await ownLink(tx, ctx, id, true);
        suggestedOnly(link, 'rejected');
        const rejected = await repo.decideLink(tx, ctx.accountId, link.id, 'rejected', { userId: ctx.user?.id ?? null });
        await record(tx, linkEvent(ctx, 'rejected', rejected));
        return rejected;
      });
    },

    /**
     * Inbound and outbound internal links per article of a site, read from the html (links applied here and
     * links already there, matched to articles by URL or slug), orphans (no inbound link) first.
     */
    async report(ctx: Ctx, query: ListQuery & { site_id: number }) {
      const siteUrl = canReachSite(ctx, query.site_id) ? await deps.sites.url(db, ctx.accountId, query.site_id) : null;
      if (siteUrl === null) throw notFound('Site');
      const articles = await content.siteArticles(db, ctx.accountId, query.site_id);
      const matcher = articleMatcher(articles, siteUrl);
      const inbound = new Map<number, Set<number>>();
      const outbound = new Map<number, Set<number>>();
      for (const article of articles) {
        const targets = new Set(
          linkHrefs(article.html)
            .map(matcher)
            .filter((id): id is number => id !== null && id !== article.id),
        );
        outbound.set(article.id, targets);
        for (const target of targets) inbound.set(target, (inbound.get(target) ?? new Set()).add(article.id));
      }
      const waiting = await repo.suggestedCounts(db, ctx.accountId, query.site_id);
      const rows: ReportEntry[] = articles.map((a) => {
        const n = inbound.get(a.id)?.size ?? 0;
        return {
          content_id: a.id,
          title: a.title,
          slug: a.slug,
          status: a.status,
          url: articleUrl(a, siteUrl),
          inbound: n,
          outbound: outbound.get(a.id)?.size ?? 0,
          orphan: n === 0,
          suggested: waiting.get(a.id) ?? 0,
        };
      });
      rows.sort((a, b) => a.inbound - b.inbound || a.content_id - b.content_id);
      return pageOfRows(rows, query);
    },
  };
}
export type LinkerService = ReturnType<typeof createLinkerService>;
