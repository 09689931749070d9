import { eq } from 'drizzle-orm';
import slugify from 'slugify';
import type { Db } from '../../core/db.js';
import { AppError, type FieldErrors, fieldError } from '../../core/errors.js';
import type { ResourceHooks } from '../../core/resource.js';
import { canReachSite, type SiteAccess } from '../../core/tenancy.js';
import * as repo from './auth.repository.js';
import type { PlanLimits } from './auth.service.js';
import { auth_sectors, auth_sites } from './auth.tables.js';

/**
 * The rules of sites and sectors (plain CRUD comes from core/resource.ts): the plan's site limit, slugs made
 * from names and unique per account / per site, industries by slug, and the check every site-scoped resource
 * uses for a body's `site_id`/`sector_id`.
 */

export const siteAccess: SiteAccess = {
  async check(db, ctx, siteId, sectorId) {
    const errors: FieldErrors = {};
    const site = await repo.siteOfAccount(db, ctx.accountId, siteId);
    // Another account's site reads exactly like a site that does not exist.
    if (!site || !canReachSite(ctx, siteId)) errors.site_id = ['Unknown site.'];
    if (sectorId !== null) {
      const sector = await repo.sectorOfAccount(db, ctx.accountId, sectorId);
      if (!sector) errors.sector_id = ['Unknown sector.'];
      else if (sector.site_id !== siteId) errors.sector_id = ['This sector belongs to another site.'];
    }
    return Object.keys(errors).length > 0 ? errors : null;
  },
};

/** `base`, or `base-2`, `base-3`… : the first not taken among the rows the slug must be unique within. */
async function freeSlug(
  db: Db,
  table: typeof auth_sites | typeof auth_sectors,
  scope: ReturnType<typeof eq>,
  name: string,
): Promise<string> {
  const base = slugify(name, { lower: true, strict: true }).slice(0, 200) || 'untitled';
  const taken = await repo.slugsLike(db, table, scope, base);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

async function checkIndustry(db: Db, industry: unknown): Promise<void> {
  if (industry === undefined || industry === null) return;
  if (!(await repo.industryBySlug(db, String(industry))))
    throw fieldError('industry', `Unknown industry "${industry}"; see /api/v1/auth/industries/.`);
}

/** The site rules; the plan's cap comes from `lockPlanLimits` (auth's service, through billing's plans). */
export const createSiteHooks = (
  lockPlanLimits: (tx: Db, accountId: number) => Promise<PlanLimits | undefined>,
): ResourceHooks<typeof auth_sites> => ({
  async beforeCreate(tx, ctx, values) {
    const plan = await lockPlanLimits(tx, ctx.accountId);
    const current = await repo.countSites(tx, ctx.accountId);
    if (plan && current >= plan.max_sites) {
      throw new AppError('plan_limit_reached', `Your plan allows ${plan.max_sites} sites; upgrade to add more.`, {
        details: { limit: plan.max_sites, current },
      });
    }
    await checkIndustry(tx, values.industry);
    const name = (values.name ?? '').trim();
    const slug = values.slug ?? (await freeSlug(tx, auth_sites, eq(auth_sites.account_id, ctx.accountId), name));
    return { ...values, name, slug };
  },
  async beforeUpdate(tx, _ctx, _current, changes) {
    await checkIndustry(tx, changes.industry);
    return typeof changes.name === 'string' ? { ...changes, name: changes.name.trim() } : changes;
  },
});

export const sectorHooks: ResourceHooks<typeof auth_sectors> = {
  async beforeCreate(tx, ctx, values) {
    const siteId = values.site_id;
    if (siteId === undefined || (await siteAccess.check(tx, ctx, siteId, null))) throw fieldError('site_id', 'Unknown site.');
    const name = (values.name ?? '').trim();
    const slug = values.slug ?? (await freeSlug(tx, auth_sectors, eq(auth_sectors.site_id, siteId), name));
    return { ...values, name, slug };
  },
  beforeUpdate(_tx, _ctx, _current, changes) {
    return typeof changes.name === 'string' ? { ...changes, name: changes.name.trim() } : changes;
  },
};

/**
 * What other modules ask of an account's sites and plan (the planner: names for AI prompts, the keyword
 * limit), wired in src/modules.ts so they never read auth's tables. The plan's caps come from
 * `lockPlanLimits` (auth's service, through billing's plans), which also locks the account's row, so
 * concurrent imports count against the limit one at a time.
 */
export function createSiteDirectory(lockPlanLimits: (tx: Db, accountId: number) => Promise<PlanLimits | undefined>) {
  return {
    names: (db: Db, accountId: number, siteId: number, sectorId: number) => repo.siteSectorNames(db, accountId, siteId, sectorId),
    /** The site's URL (`''` when none is set); null when the site is not the account's. */
    url: async (db: Db, accountId: number, siteId: number) => (await repo.siteUrl(db, accountId, siteId)) ?? null,
    lockKeywordLimit: async (tx: Db, accountId: number) => (await lockPlanLimits(tx, accountId))?.max_keywords ?? null,
    /** What the publisher's static export shows of a site (null when the site is not the account's). */
    exported: (db: Db, accountId: number, siteId: number) => repo.exportedSite(db, accountId, siteId),
    /** The site a public `/sites/<account_slug>/<site_slug>/` address names (null: none, inactive or suspended). */
    bySlugs: (db: Db, accountSlug: string, siteSlug: string) => repo.activeSiteBySlugs(db, accountSlug, siteSlug),
  };
}
