import type { Db } from '../../core/db.js';
import { AppError, conflict, notFound, validationError } from '../../core/errors.js';
import { byCaller, record } from '../../core/events.js';
import type { Jobs } from '../../core/jobs.js';
import type { ListQuery } from '../../core/lists.js';
import type { ScopedContext } from '../../core/resource.js';
import type { Storage, StoredFile } from '../../core/storage.js';
import type { SiteAccess } from '../../core/tenancy.js';
import type { DeploymentSites } from './publisher.deployments.deps.js';
import * as repo from './publisher.deployments.repository.js';
import type { CreateDeploymentRequest } from './publisher.deployments.schemas.js';
import type { DeployedFile } from './publisher.tables.js';

/**
 * The deployments' rules. `create`: a site of the caller's gets its next version (1, 2, … per site) as a
 * `pending` row and a task (`publisher.deploy`) that builds the export into `deployments/<site_id>/<version>/`
 * and makes it current. `rollback`: only the current deployment rolls back, and only onto an older `deployed`
 * one; both flags change in one transaction. `serve`: the public files of a site's current export.
 *
 * The public address names the account as well as the site: `/sites/<account_slug>/<site_slug>/`. Site slugs
 * are unique only within an account (two teams may both have a `blog`), account slugs are unique across the
 * platform, so the pair names one site and no team can take another's address.
 */

export const SITES_PATH = '/sites';

export interface DeploymentServiceDeps {
  db: Db;
  jobs: Jobs;
  storage: Storage;
  sites: DeploymentSites;
  siteAccess: SiteAccess;
}

export type ServedFile =
  | { kind: 'file'; file: StoredFile; entry: DeployedFile; immutable: boolean }
  | { kind: 'not_modified'; entry: DeployedFile; immutable: boolean }
  /** A directory asked without its slash: the route redirects to the address with it. */
  | { kind: 'redirect' };

const NO_FILE = () => new AppError('not_found', 'Nothing is published at this address.');

/** Copies of images are named by their content's hash: the same name never holds other bytes. */
export const isImmutablePath = (path: string) => path.startsWith('images/');

/** A path inside an export, refused when it could name anything outside it (`..`, `.`, a backslash, NUL). */
export function exportPath(raw: string): string | null {
  if (raw.length > 1000 || /[\\\0]/.test(raw)) return null;
  const segments = raw.split('/');
  if (segments.some((s) => s === '.' || s === '..' || s.startsWith('.'))) return null;
  if (segments.slice(0, -1).some((s) => s === '')) return null;
  return raw === '' || raw.endsWith('/') ? `${raw}index.html` : raw;
}

const insertRetries = 5;
const isVersionClash = (error: unknown) => {
  let current = error as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 4; depth++) {
    if (current.code === '23505') return true;
    current = current.cause as typeof current;
  }
  return false;
};

export function createDeploymentsService(deps: DeploymentServiceDeps) {
  const { db, jobs, storage, sites } = deps;
  return {
    /** `origin`: where this API is reached (PUBLIC_URL, else the request's own), for the deployment's `url`. */
    async create(ctx: ScopedContext, body: CreateDeploymentRequest, origin: string) {
      const errors = await deps.siteAccess.check(db, ctx, body.site_id, null);
      if (errors) throw validationError(errors);
      const site = await sites.exported(db, ctx.accountId, body.site_id);
      if (!site) throw validationError({ site_id: ['Unknown site.'] });
      const url = `${origin}${SITES_PATH}/${encodeURIComponent(site.account_slug)}/${encodeURIComponent(site.slug)}/`;
      const actorId = ctx.user?.id ?? null;
      return db.transaction(async (tx) => {
        // Two creates at once may both read the same next version: the unique (site_id, version) index refuses
        // the second, whose savepoint is rolled back and which asks again.
        let row: repo.DeploymentFullRow | null = null;
        for (let attempt = 0; row === null; attempt++) {
          const version = await repo.nextVersion(tx, ctx.accountId, site.id);
          try {
            row = await tx.transaction((sp) =>
              repo.insertDeployment(sp, ctx.accountId, {
                site_id: site.id,
                version,
                url,
                storage_prefix: `deployments/${site.id}/${version}`,
              }),
            );
          } catch (error) {
            if (!isVersionClash(error) || attempt >= insertRetries) throw error;
          }
        }
        const task = await jobs.startTask(tx, { accountId: ctx.accountId, actorId, siteId: site.id }, 'publisher.deploy', {
          account_id: ctx.accountId,
          actor_id: actorId,
          deployment_id: row.id,
        });
        const deployment = await repo.updateDeployment(tx, ctx.accountId, row.id, { task_id: task.id });
        await record(
          tx,
          byCaller(ctx, {
            site_id: site.id,
            type: 'deployment.created',
            object_type: 'deployment',
            object_id: row.id,
            payload: { version: row.version, system_task_id: task.id },
          }),
        );
        return { task, deployment: repo.toWire(deployment) };
      });
    },

    list: (ctx: ScopedContext, query: ListQuery) => repo.listDeployments(db, ctx.accountId, ctx.siteIds, query),

    async get(ctx: ScopedContext, id: number) {
      const row = await repo.deploymentById(db, ctx.accountId, id, { siteIds: ctx.siteIds });
      if (!row) throw notFound('Deployment');
      return repo.toWire(row);
    },

    async rollback(ctx: ScopedContext, id: number) {
      return db.transaction(async (tx) => {
        const row = await repo.deploymentById(tx, ctx.accountId, id, { siteIds: ctx.siteIds, lock: true });
        if (!row) throw notFound('Deployment');
        if (!row.is_current) {
          throw conflict(
            `Only the current deployment can be rolled back; version ${row.version} is ${row.status}, not current.`,
            row.status,
          );
        }
        const previous = await repo.previousDeployed(tx, ctx.accountId, row.site_id, row.version);
        if (!previous) {
          throw conflict(`Version ${row.version} has no earlier deployed version to roll back to.`, row.status);
        }
        await repo.setCurrent(tx, ctx.accountId, row.site_id, previous.id);
        const rolledBack = await repo.updateDeployment(tx, ctx.accountId, row.id, { status: 'rolled_back' });
        await record(
          tx,
          byCaller(ctx, {
            site_id: row.site_id,
            type: 'deployment.rolled_back',
            object_type: 'deployment',
            object_id: row.id,
            payload: { version: row.version, current_deployment_id: previous.id, current_version: previous.version },
          }),
        );
        return { deployment: repo.toWire(rolledBack), current: previous };
      });
    },

    /**
     * A file of the site's current export, for the public address. `raw` is the path after the site's root;
     * `ifNoneMatch` the client's header (answered `not_modified` from the manifest's hash, without reading the
     * store). A directory asked without its slash is redirected to it, so the pages' relative links resolve.
     */
    async serve(
      accountSlug: string,
      siteSlug: string,
      raw: string,
      asked: { rootWithoutSlash: boolean; ifNoneMatch: string | undefined },
    ): Promise<ServedFile> {
      const path = exportPath(raw);
      if (path === null) throw NO_FILE();
      const site = await sites.bySlugs(db, accountSlug, siteSlug);
      if (!site) throw NO_FILE();
      const found = await repo.currentFile(db, site.account_id, site.site_id, path);
      if (!found) throw NO_FILE();
      if (asked.rootWithoutSlash) {
        if (found.file) return { kind: 'redirect' };
        throw NO_FILE();
      }
      if (!found.file) {
        if (found.directory) return { kind: 'redirect' };
        throw NO_FILE();
      }
      const entry = found.file;
      const immutable = isImmutablePath(path);
      const etag = etagOf(entry);
      // If-None-Match compares weakly (RFC 9110 13.1.2): a cache's `W/"…"` of our tag matches too.
      if (asked.ifNoneMatch?.split(',').some((tag) => ['*', etag, `W/${etag}`].includes(tag.trim()))) {
        return { kind: 'not_modified', entry, immutable };
      }
      const file = await storage.get(entry.key);
      // The manifest names only files the build stored: one missing from the store is our fault, not the client's.
      if (!file) throw new Error(`deployment ${found.deployment_id}: ${entry.key} is in the manifest but not in storage`);
      return { kind: 'file', file, entry, immutable };
    },
  };
}
export type DeploymentsService = ReturnType<typeof createDeploymentsService>;

/** A strong ETag: the file's SHA-256, so equal bytes in two versions share it and a changed file never does. */
export const etagOf = (entry: DeployedFile) => `"${entry.sha256}"`;
