import { createHash } from 'node:crypto';
import { type Static, Type } from 'typebox';
import type { Db } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import { record } from '../../core/events.js';
import {
  type AnyJobDefinition,
  abandonedBecause,
  defineJob,
  describeError,
  isTransient,
  JobCancelled,
  type JobContext,
} from '../../core/jobs.js';
import { isValidKey, type Storage } from '../../core/storage.js';
import type { PublishedArticle, PublishedImage } from '../writer/writer.service.js';
import type {
  AuthorName,
  DeploymentArticles,
  DeploymentFiles,
  DeploymentSites,
  ExportedSite,
} from './publisher.deployments.deps.js';
import {
  type IndexEntry,
  renderArticlePage,
  renderIndexPage,
  renderRobots,
  renderSitemap,
  rewriteImageSources,
  type SiteHead,
} from './publisher.deployments.render.js';
import * as repo from './publisher.deployments.repository.js';
import type { DeployedFile } from './publisher.tables.js';

/**
 * `publisher.deploy`: builds one deployment's static export of its site's published articles into its own
 * folder (`deployments/<site_id>/<version>/`) through the storage layer: a page per article at
 * `<slug>/index.html`, `index.html`, `sitemap.xml`, `robots.txt`, and the articles' images copied to
 * `images/<hash>.<ext>`. Only then, in one transaction, the row becomes `deployed` with its manifest and,
 * unless a newer version is already current, the current one; until that commit the previous export keeps
 * being served, and a failed build never replaces it.
 *
 * Idempotent: the version is fixed when the deployment is created, so a rerun (a retry, a process that died)
 * rewrites the same folder and never makes a second version; one that finds the row already `deployed` does
 * nothing. Transient faults (the store or the database unreachable) retry; anything else fails the row with
 * the reason in `error`.
 */

export const DeployPayload = Type.Object({
  account_id: Type.Integer({ minimum: 1 }),
  actor_id: Type.Union([Type.Integer(), Type.Null()]),
  deployment_id: Type.Integer({ minimum: 1 }),
});

declare module '../../core/jobs.js' {
  interface JobPayloads {
    'publisher.deploy': Static<typeof DeployPayload>;
  }
}

export interface DeploymentJobDeps {
  storage: Storage;
  /** Releases what a failed build wrote, and keeps what a rebuilt manifest names again (the system module). */
  files: DeploymentFiles;
  /** DEPLOYMENT_KEEP_VERSIONS: the newest versions of a site kept after each deployment (the current always). */
  keepVersions: number;
  /** Lazy: the writer's service is made after the job types. */
  articles: () => DeploymentArticles;
  sites: DeploymentSites;
  authorName: AuthorName;
}

type Ctx = JobContext<Static<typeof DeployPayload>>;

/** Articles read (with their HTML) per query: a site of thousands is never held in memory at once. */
const BATCH = 50;
const HTML = 'text/html; charset=utf-8';

const IMAGE_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
};

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** The files written so far, by their path in the export. */
class ExportWriter {
  readonly manifest: Record<string, DeployedFile> = {};
  constructor(
    private readonly storage: Storage,
    private readonly prefix: string,
  ) {}

  async put(path: string, content: Uint8Array | string, contentType: string): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    // A path past the store's key length (a very long slug) is kept under its hash; the manifest maps it.
    const readable = `${this.prefix}/${path}`;
    const key = isValidKey(readable) ? readable : `${this.prefix}/long/${sha256(path).slice(0, 40)}`;
    await this.storage.put(key, bytes, contentType);
    this.manifest[path] = { key, content_type: contentType, bytes: bytes.byteLength, sha256: sha256(bytes) };
  }

  /** Equal exports give equal checksums: every path and its content's hash, in path order. */
  summary() {
    const paths = Object.keys(this.manifest).sort();
    const checksum = sha256(paths.map((p) => `${p}\0${this.manifest[p]?.sha256}\n`).join(''));
    const bytes = paths.reduce((sum, p) => sum + (this.manifest[p]?.bytes ?? 0), 0);
    return { files: paths.length, bytes, checksum };
  }
}

interface Build {
  ctx: Ctx;
  deps: DeploymentJobDeps;
  site: ExportedSite;
  head: SiteHead;
  /** Where the export's absolute URLs point: the site's own URL when set, else where we serve it; ends in `/`. */
  base: string;
  out: ExportWriter;
  /** Storage key of an article's image → its copy's path in the export (each file copied once per build). */
  copies: Map<string, string>;
  authors: Map<number, string | null>;
}

async function copyImage(build: Build, article: PublishedArticle, image: PublishedImage): Promise<string> {
  const known = build.copies.get(image.storage_key);
  if (known) return known;
  const file = await build.deps.storage.get(image.storage_key);
  if (!file) {
    throw new AppError(
      'conflict',
      `The file of image ${image.id} of "${article.title.slice(0, 120)}" is missing from storage; generate the image again or remove it from the article, then deploy again.`,
    );
  }
  const ext = IMAGE_EXTENSIONS[file.contentType] ?? 'bin';
  const path = `images/${sha256(file.body).slice(0, 32)}.${ext}`;
  if (!build.out.manifest[path]) await build.out.put(path, file.body, file.contentType);
  build.copies.set(image.storage_key, path);
  return path;
}

async function authorOf(build: Build, profileId: number | null): Promise<string | null> {
  if (profileId === null) return null;
  if (!build.authors.has(profileId))
    build.authors.set(profileId, await build.deps.authorName(build.ctx.payload.account_id, profileId));
  return build.authors.get(profileId) ?? null;
}

async function writeArticle(build: Build, article: PublishedArticle, publishedAt: Date | undefined): Promise<IndexEntry> {
  const pageCopies = new Map<string, string>();
  for (const image of article.images) pageCopies.set(image.storage_key, `../${await copyImage(build, article, image)}`);
  const featuredImage = article.images.find((i) => i.id === article.featured_image_id) ?? null;
  const featuredPath = featuredImage ? build.copies.get(featuredImage.storage_key) : undefined;
  const canonical = `${build.base}${article.slug}/`;
  const page = renderArticlePage(build.head, {
    title: article.title,
    meta_title: article.meta_title,
    meta_description: article.meta_description,
    html: rewriteImageSources(article.html, pageCopies),
    canonical_url: canonical,
    featured:
      featuredImage && featuredPath
        ? {
            href: `../${featuredPath}`,
            url: `${build.base}${featuredPath}`,
            alt: featuredImage.alt_text,
            width: featuredImage.width,
            height: featuredImage.height,
          }
        : null,
    date_published: publishedAt ?? article.created_at,
    date_modified: article.updated_at,
    author: await authorOf(build, article.author_profile_id),
    tags: article.tags,
    categories: article.categories,
    home_href: '../',
  });
  await build.out.put(`${article.slug}/index.html`, page, HTML);
  return { title: article.title, description: article.meta_description, href: `${article.slug}/`, date: article.updated_at };
}

async function buildExport(ctx: Ctx, deps: DeploymentJobDeps, deployment: repo.DeploymentFullRow, out: ExportWriter) {
  const accountId = ctx.payload.account_id;
  const site = await deps.sites.exported(ctx.db, accountId, deployment.site_id);
  if (!site) throw new AppError('not_found', 'The site of this deployment no longer exists.');
  const served = deployment.url ?? '';
  const base = site.url ? `${site.url.replace(/\/+$/, '')}/` : served;
  const build: Build = {
    ctx,
    deps,
    site,
    head: { name: site.name, description: site.description },
    base,
    out,
    copies: new Map(),
    authors: new Map(),
  };
  const entries: IndexEntry[] = [];
  const sitemap: { url: string; lastmod: Date }[] = [];
  for (let afterId = 0; ; ) {
    const batch = await deps.articles().publishedArticles(ctx.db, accountId, site.id, { afterId, limit: BATCH });
    if (batch.length === 0) break;
    const published = await repo.firstPublishedAt(
      ctx.db,
      accountId,
      batch.map((a) => a.id),
    );
    for (const article of batch) {
      await ctx.progress(entries.length, null, `Writing "${article.title.slice(0, 80)}"`);
      entries.push(await writeArticle(build, article, published.get(article.id)));
      sitemap.push({ url: `${base}${article.slug}/`, lastmod: article.updated_at });
    }
    afterId = batch[batch.length - 1]?.id ?? afterId;
  }
  entries.sort((a, b) => b.date.getTime() - a.date.getTime());
  await build.out.put('index.html', renderIndexPage(build.head, base, entries), HTML);
  // The sitemap protocol needs one <url> at least (the package refuses an empty one): a site with no article
  // yet lists its index page.
  const listed = sitemap.length > 0 ? sitemap : [{ url: base, lastmod: new Date(deployment.created_at) }];
  await build.out.put('sitemap.xml', await renderSitemap(listed), 'application/xml');
  await build.out.put('robots.txt', renderRobots(`${base}sitemap.xml`), 'text/plain; charset=utf-8');
  const summary = build.out.summary();
  return {
    manifest: build.out.manifest,
    metadata: { pages: entries.length + 1, articles: entries.length, images: build.copies.size, ...summary },
  };
}

interface DeployJob {
  accountId: number;
  actorId: number | null;
  taskId: number | null;
}

async function markFailed(tx: Db, job: DeployJob, deployment: repo.DeploymentFullRow, message: string) {
  await repo.updateDeployment(tx, job.accountId, deployment.id, { status: 'failed', error: message });
  await record(tx, {
    account_id: job.accountId,
    site_id: deployment.site_id,
    type: 'deployment.failed',
    source_agent: 'worker',
    actor_id: job.actorId,
    object_type: 'deployment',
    object_id: deployment.id,
    payload: { version: deployment.version, error: message, system_task_id: job.taskId },
  });
}

/**
 * After a new deployment, the site keeps its newest DEPLOYMENT_KEEP_VERSIONS versions and its current one: older
 * finished ones are deleted (their manifests with them, which releases their files for the purge), each with a
 * `deployment.pruned` event. Never one still building. Returns the versions pruned.
 */
async function pruneVersions(tx: Db, job: DeployJob, siteId: number, deps: DeploymentJobDeps): Promise<number[]> {
  const old = await repo.pruneCandidates(tx, job.accountId, siteId, deps.keepVersions);
  if (old.length === 0) return [];
  await repo.deleteDeployments(
    tx,
    job.accountId,
    old.map((d) => d.id),
  );
  await record(
    tx,
    ...old.map((d) => ({
      account_id: job.accountId,
      site_id: siteId,
      type: 'deployment.pruned',
      source_agent: 'worker' as const,
      actor_id: job.actorId,
      object_type: 'deployment',
      object_id: d.id,
      payload: { version: d.version, status: d.status, keep_versions: deps.keepVersions, system_task_id: job.taskId },
    })),
  );
  return old.map((d) => d.version);
}

/** A cancelled task's deployment, not built yet, is failed saying so (its site keeps the version it had). */
async function abandon(tx: Db, job: DeployJob, deploymentId: number, reason: string) {
  const deployment = await repo.deploymentById(tx, job.accountId, deploymentId, { lock: true });
  if (deployment?.status !== 'pending' && deployment?.status !== 'deploying') return;
  await markFailed(tx, job, deployment, reason);
}

const summaryOf = (row: Pick<repo.DeploymentFullRow, 'id' | 'version' | 'status' | 'is_current' | 'url' | 'metadata'>) => ({
  deployment_id: row.id,
  version: row.version,
  status: row.status,
  is_current: row.is_current,
  url: row.url,
  metadata: row.metadata,
});

async function deploy(ctx: Ctx, deps: DeploymentJobDeps) {
  const accountId = ctx.payload.account_id;
  const deployment = await repo.deploymentById(ctx.db, accountId, ctx.payload.deployment_id);
  if (!deployment) throw new AppError('not_found', 'This deployment no longer exists.');
  // Built by an earlier run (or rolled back since): a rerun changes nothing.
  if (deployment.status === 'deployed' || deployment.status === 'rolled_back') return summaryOf(deployment);
  if (deployment.status === 'failed') throw new AppError('conflict', deployment.error ?? 'This deployment failed.');
  await repo.updateDeployment(ctx.db, accountId, deployment.id, { status: 'deploying', error: null });
  const out = new ExportWriter(
    deps.storage,
    deployment.storage_prefix ?? `deployments/${deployment.site_id}/${deployment.version}`,
  );
  try {
    const built = await buildExport(ctx, deps, deployment, out);
    const done = await ctx.once('complete', async (tx) => {
      const row = await repo.deploymentById(tx, accountId, deployment.id, { lock: true });
      if (!row) throw new AppError('not_found', 'This deployment no longer exists.');
      const current = await repo.currentOfSite(tx, accountId, row.site_id, true);
      // Two builds of one site may finish out of order: an older version never replaces a newer current one.
      const becomesCurrent = !current || current.version < row.version;
      await repo.replaceFiles(tx, accountId, row.id, built.manifest);
      // A rerun's manifest names the keys the one it replaced did (its deletion released them): they stay.
      await deps.files.keep(
        tx,
        Object.values(built.manifest).map((f) => f.key),
      );
      await repo.updateDeployment(tx, accountId, row.id, {
        status: 'deployed',
        error: null,
        metadata: built.metadata,
        deployed_at: new Date(),
      });
      if (becomesCurrent) await repo.setCurrent(tx, accountId, row.site_id, row.id);
      await record(tx, {
        account_id: accountId,
        site_id: row.site_id,
        type: 'deployment.completed',
        source_agent: 'worker',
        actor_id: ctx.payload.actor_id,
        object_type: 'deployment',
        object_id: row.id,
        payload: { version: row.version, is_current: becomesCurrent, ...built.metadata, system_task_id: ctx.taskId },
      });
      const pruned = await pruneVersions(tx, { accountId, actorId: ctx.payload.actor_id, taskId: ctx.taskId }, row.site_id, deps);
      return {
        ...summaryOf({ ...row, status: 'deployed', is_current: becomesCurrent, metadata: built.metadata }),
        pruned_versions: pruned,
      };
    });
    await ctx.progress(1, 1, `Version ${deployment.version} deployed`);
    return done;
  } catch (error) {
    const written = Object.values(out.manifest).map((f) => f.key);
    // Cancelled: the deployment ends failed (onAbandoned) and never runs again, so what it wrote goes.
    if (error instanceof JobCancelled) {
      await ctx.db.transaction((tx: Db) => deps.files.release(tx, written));
      throw error;
    }
    // To be tried again (or stopped by shutdown): the next attempt writes the same keys, and decides.
    if (ctx.signal.aborted || (isTransient(error) && !ctx.lastAttempt)) throw error;
    if (!(error instanceof AppError)) ctx.log.error({ err: error, deployment_id: deployment.id }, 'deployment failed');
    const job = { accountId, actorId: ctx.payload.actor_id, taskId: ctx.taskId };
    const message = describeError(error, ctx.taskId).message;
    await ctx.db.transaction(async (tx: Db) => {
      await markFailed(tx, job, deployment, message);
      await deps.files.release(tx, written);
    });
    throw error;
  }
}

export function publisherDeploymentJobs(deps: DeploymentJobDeps): AnyJobDefinition[] {
  return [
    defineJob({
      name: 'publisher.deploy',
      payload: DeployPayload,
      timeoutSeconds: 1800,
      retryLimit: 3,
      retryDelaySeconds: 10,
      // Builds are heavy on the store; one at a time per process keeps a worker responsive.
      concurrency: 1,
      handler: (ctx) => deploy(ctx, deps),
      onAbandoned: (tx, task, ending) =>
        abandon(
          tx,
          { accountId: task.accountId, actorId: task.payload.actor_id, taskId: task.taskId },
          task.payload.deployment_id,
          abandonedBecause(ending, 'The deployment was cancelled.'),
        ),
    }),
  ];
}
