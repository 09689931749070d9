import { type Static, Type } from 'typebox';
import { DateTime, Id, StringEnum } from '../../core/columns.js';
import { DEPLOYMENT_STATUSES } from './publisher.tables.js';

/** Wire shapes of the publisher's deployments (static exports of a site) and their public serving. */

export const CreateDeploymentBody = Type.Object({
  site_id: Id,
});
export type CreateDeploymentRequest = Static<typeof CreateDeploymentBody>;

export const DeploymentMetadataSchema = Type.Object(
  {
    pages: Type.Optional(Type.Integer({ description: 'HTML pages: one per article, plus the index.' })),
    articles: Type.Optional(Type.Integer()),
    images: Type.Optional(Type.Integer({ description: 'Image files copied from storage.' })),
    files: Type.Optional(Type.Integer({ description: 'Every file of the export (pages, images, sitemap.xml, robots.txt).' })),
    bytes: Type.Optional(Type.Integer({ description: 'Their total size.' })),
    checksum: Type.Optional(
      Type.String({ description: 'SHA-256 over every path and its SHA-256, in path order: equal exports, equal checksums.' }),
    ),
  },
  { additionalProperties: true },
);

export const DeploymentSchema = Type.Object({
  id: Id,
  account_id: Id,
  site_id: Id,
  version: Type.Integer({ minimum: 1, description: '1, 2, … per site.' }),
  status: StringEnum(DEPLOYMENT_STATUSES),
  is_current: Type.Boolean({ description: 'The one export served at `url` (at most one per site).' }),
  url: Type.Union([Type.String(), Type.Null()], {
    description: 'Where the site is served while this deployment is current: `/sites/<account_slug>/<site_slug>/`.',
  }),
  metadata: DeploymentMetadataSchema,
  error: Type.Union([Type.String(), Type.Null()]),
  task_id: Type.Union([Type.Integer(), Type.Null()]),
  deployed_at: Type.Union([DateTime, Type.Null()]),
  created_at: DateTime,
  updated_at: DateTime,
});

export const DeploymentAccepted = Type.Object({
  task_id: Id,
  status: Type.String(),
  deployment: DeploymentSchema,
});

export const SitePathParams = Type.Object({
  account: Type.String({ maxLength: 220 }),
  site: Type.String({ maxLength: 220 }),
  '*': Type.Optional(Type.String({ maxLength: 1000 })),
});
