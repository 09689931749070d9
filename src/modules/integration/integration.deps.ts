import type { Db } from '../../core/db.js';

/**
 * What the integration asks of other modules, wired in src/modules.ts: the writer stores what a sync imports
 * (through its one sanitising, counting and versioning path), so this module never writes the writer's tables.
 */

export interface ImportedArticleInput {
  site_id: number;
  sector_id: number;
  external_id: string;
  external_url: string;
  title: string;
  html: string;
  slug: string;
  meta_description: string;
  categories: string[];
  tags: string[];
}

export interface IntegrationContent {
  upsert(
    tx: Db,
    accountId: number,
    article: ImportedArticleInput,
  ): Promise<{ id: number; outcome: 'created' | 'updated' | 'unchanged' | 'skipped' }>;
}
