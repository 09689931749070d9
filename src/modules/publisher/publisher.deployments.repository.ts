import { and, desc, eq, getTableColumns, inArray, isNotNull, lt, max, min, sql } from 'drizzle-orm';
import type { Db } from '../../core/db.js';
import { type ListQuery, type ListSpec, runList } from '../../core/lists.js';
import {
  DEPLOYMENT_STATUSES,
  type DeployedFile,
  type DeploymentStatus,
  publisher_deployment_files,
  publisher_deployments,
  publisher_records,
} from './publisher.tables.js';

/** The deployments' queries: every one takes the account (serving looks the site up first, then takes its account). */

export type DeploymentFullRow = typeof publisher_deployments.$inferSelect;
/** A deployment as the API shows it: everything but its folder in the store. */
export type DeploymentRow = Omit<DeploymentFullRow, 'storage_prefix'>;

const { storage_prefix: _prefix, ...WIRE_COLUMNS } = getTableColumns(publisher_deployments);

export const DEPLOYMENT_LIST: ListSpec = {
  filters: {
    site_id: { column: publisher_deployments.site_id, kind: 'integer', in: true },
    status: { column: publisher_deployments.status, kind: 'string', values: DEPLOYMENT_STATUSES, in: true },
    is_current: { column: publisher_deployments.is_current, kind: 'boolean' },
    version: { column: publisher_deployments.version, kind: 'integer', range: true },
  },
  ordering: {
    created_at: publisher_deployments.created_at,
    version: publisher_deployments.version,
    deployed_at: publisher_deployments.deployed_at,
  },
};

const reachable = (siteIds: number[] | null | undefined) =>
  siteIds ? (siteIds.length > 0 ? inArray(publisher_deployments.site_id, siteIds) : sql`false`) : undefined;

export function listDeployments(db: Db, accountId: number, siteIds: number[] | null, query: ListQuery) {
  const where = [eq(publisher_deployments.account_id, accountId)];
  const limit = reachable(siteIds);
  if (limit) where.push(limit);
  return runList<DeploymentRow>({
    db,
    table: publisher_deployments,
    idColumn: publisher_deployments.id,
    select: WIRE_COLUMNS,
    where,
    spec: DEPLOYMENT_LIST,
    query,
    accountId,
  });
}

export async function deploymentById(
  db: Db,
  accountId: number,
  id: number,
  options: { siteIds?: number[] | null; lock?: boolean } = {},
): Promise<DeploymentFullRow | null> {
  const query = db
    .select()
    .from(publisher_deployments)
    .where(and(eq(publisher_deployments.account_id, accountId), eq(publisher_deployments.id, id), reachable(options.siteIds)));
  const [row] = await (options.lock ? query.for('update') : query);
  return row ?? null;
}

export const toWire = ({ storage_prefix: _p, ...row }: DeploymentFullRow): DeploymentRow => row;

/** The next version of the site (a hint: the unique (site_id, version) index decides under concurrent creates). */
export async function nextVersion(tx: Db, accountId: number, siteId: number): Promise<number> {
  const [row] = await tx
    .select({ last: max(publisher_deployments.version) })
    .from(publisher_deployments)
    .where(and(eq(publisher_deployments.account_id, accountId), eq(publisher_deployments.site_id, siteId)));
  return (row?.last ?? 0) + 1;
}

export async function insertDeployment(
  tx: Db,
  accountId: number,
  values: { site_id: number; version: number; url: string; storage_prefix: string },
): Promise<DeploymentFullRow> {
  const [row] = await tx
    .insert(publisher_deployments)
    .values({ ...values, account_id: accountId })
    .returning();
  if (!row) throw new Error('deployment not inserted');
  return row;
}

export async function updateDeployment(
  tx: Db,
  accountId: number,
  id: number,
  changes: Partial<Omit<typeof publisher_deployments.$inferInsert, 'id' | 'account_id' | 'site_id' | 'version'>>,
): Promise<DeploymentFullRow> {
  const [row] = await tx
    .update(publisher_deployments)
    .set({ ...changes, updated_at: new Date() })
    .where(and(eq(publisher_deployments.account_id, accountId), eq(publisher_deployments.id, id)))
    .returning();
  if (!row) throw new Error(`deployment ${id} not found`);
  return row;
}

/** The site's current deployment, locked for the caller's transaction. */
export async function currentOfSite(tx: Db, accountId: number, siteId: number, lock = false) {
  const query = tx
    .select({ id: publisher_deployments.id, version: publisher_deployments.version })
    .from(publisher_deployments)
    .where(
      and(
        eq(publisher_deployments.account_id, accountId),
        eq(publisher_deployments.site_id, siteId),
        eq(publisher_deployments.is_current, true),
      ),
    );
  const [row] = await (lock ? query.for('update') : query);
  return row ?? null;
}

/** The newest deployed version of the site older than `version` (what a rollback of `version` makes current). */
export async function previousDeployed(tx: Db, accountId: number, siteId: number, version: number) {
  const [row] = await tx
    .select({ id: publisher_deployments.id, version: publisher_deployments.version })
    .from(publisher_deployments)
    .where(
      and(
        eq(publisher_deployments.account_id, accountId),
        eq(publisher_deployments.site_id, siteId),
        eq(publisher_deployments.status, 'deployed'),
        lt(publisher_deployments.version, version),
      ),
    )
    .orderBy(desc(publisher_deployments.version))
    .limit(1)
    .for('update');
  return row ?? null;
}

/**
 * Makes `id` the site's current deployment (or none, with null) in the caller's transaction: the old current
 * one is unflagged first, so the partial unique index (one current per site) holds at every statement.
 */
export async function setCurrent(tx: Db, accountId: number, siteId: number, id: number | null): Promise<void> {
  await tx
    .update(publisher_deployments)
    .set({ is_current: false, updated_at: new Date() })
    .where(
      and(
        eq(publisher_deployments.account_id, accountId),
        eq(publisher_deployments.site_id, siteId),
        eq(publisher_deployments.is_current, true),
      ),
    );
  if (id === null) return;
  await tx
    .update(publisher_deployments)
    .set({ is_current: true, updated_at: new Date() })
    .where(and(eq(publisher_deployments.account_id, accountId), eq(publisher_deployments.id, id)));
}

/**
 * One file of the site's current export: the current row (the partial unique index) and the file's manifest
 * row (its primary key), in one statement. `directory`: the path names a folder of the export (it has an
 * `index.html`), for a redirect to the address with its slash. Null: the site has no current deployment.
 */
export async function currentFile(
  db: Db,
  accountId: number,
  siteId: number,
  path: string,
): Promise<{ deployment_id: number; file: DeployedFile | null; directory: boolean } | null> {
  const files = publisher_deployment_files;
  const [row] = await db
    .select({
      deployment_id: publisher_deployments.id,
      key: files.key,
      content_type: files.content_type,
      bytes: files.bytes,
      sha256: files.sha256,
      directory: sql<boolean>`exists (select 1 from ${files} d where d.deployment_id = ${publisher_deployments.id} and d.path = ${`${path}/index.html`})`,
    })
    .from(publisher_deployments)
    .leftJoin(files, and(eq(files.deployment_id, publisher_deployments.id), eq(files.path, path)))
    .where(
      and(
        eq(publisher_deployments.account_id, accountId),
        eq(publisher_deployments.site_id, siteId),
        eq(publisher_deployments.is_current, true),
      ),
    );
  if (!row) return null;
  const { deployment_id, directory, key, content_type, bytes, sha256 } = row;
  const file =
    key !== null && content_type !== null && bytes !== null && sha256 !== null ? { key, content_type, bytes, sha256 } : null;
  return { deployment_id, file, directory: Boolean(directory) };
}

const FINISHED: readonly DeploymentStatus[] = ['deployed', 'rolled_back', 'failed'];

/**
 * The site's deployments past its newest `keep` versions that may go: finished (never one still building) and not
 * the current one, whatever their age.
 */
export async function pruneCandidates(tx: Db, accountId: number, siteId: number, keep: number) {
  const rows = await tx
    .select({
      id: publisher_deployments.id,
      version: publisher_deployments.version,
      status: publisher_deployments.status,
      is_current: publisher_deployments.is_current,
    })
    .from(publisher_deployments)
    .where(and(eq(publisher_deployments.account_id, accountId), eq(publisher_deployments.site_id, siteId)))
    .orderBy(desc(publisher_deployments.version))
    .for('update');
  return rows.slice(keep).filter((row) => !row.is_current && FINISHED.includes(row.status));
}

/** Deletes deployments with their manifests (the manifest's trigger releases their files: migration 0014). */
export async function deleteDeployments(tx: Db, accountId: number, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .delete(publisher_deployments)
    .where(and(eq(publisher_deployments.account_id, accountId), inArray(publisher_deployments.id, ids)));
}

/** Replaces the deployment's manifest in the caller's transaction (a rerun's build replaces the earlier one). */
export async function replaceFiles(tx: Db, accountId: number, deploymentId: number, manifest: Record<string, DeployedFile>) {
  await tx
    .delete(publisher_deployment_files)
    .where(and(eq(publisher_deployment_files.account_id, accountId), eq(publisher_deployment_files.deployment_id, deploymentId)));
  const rows = Object.entries(manifest).map(([path, file]) => ({
    ...file,
    path,
    deployment_id: deploymentId,
    account_id: accountId,
  }));
  // Bounded statements: 7 parameters a row, well under Postgres's 65,535 per statement.
  for (let i = 0; i < rows.length; i += 1000) await tx.insert(publisher_deployment_files).values(rows.slice(i, i + 1000));
}

/** When each of these articles was first published somewhere (its publishing records), for `datePublished`. */
export async function firstPublishedAt(db: Db, accountId: number, contentIds: number[]): Promise<Map<number, Date>> {
  if (contentIds.length === 0) return new Map();
  const rows = await db
    .select({ content_id: publisher_records.content_id, at: min(publisher_records.published_at) })
    .from(publisher_records)
    .where(
      and(
        eq(publisher_records.account_id, accountId),
        inArray(publisher_records.content_id, contentIds),
        isNotNull(publisher_records.published_at),
      ),
    )
    .groupBy(publisher_records.content_id);
  return new Map(rows.flatMap((r) => (r.at ? [[r.content_id, new Date(r.at)] as [number, Date]] : [])));
}
