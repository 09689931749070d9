import type { Ai } from '../../core/ai.js';
import type { AutomationStages } from './automation.deps.js';
import type { Estimate } from './automation.schemas.js';
import type { RunSettings } from './automation.tables.js';

/**
 * What the next run would take and cost, stage by stage, at most: each stage's units are what waits on the site
 * now plus what the stages before it can make (a cluster needs two keywords; each cluster gives
 * `ideas_per_cluster` ideas; each article `1 + in_article_images` images), within the stage's batch size.
 * Articles not written yet are priced at the account's default length, written ones at their own.
 */

type StageEstimate = Estimate['stages'][number];

export async function estimateRun(
  deps: { ai: Ai; stages: AutomationStages; defaultWordCount: () => Promise<number> },
  accountId: number,
  siteId: number,
  settings: RunSettings,
): Promise<StageEstimate[]> {
  const { planner, writer } = deps.stages;
  const { stages } = settings;
  const cap = (stage: keyof RunSettings['stages'], n: number) =>
    stages[stage].enabled ? Math.min(n, stages[stage].batch_size) : 0;
  const each = async (fn: Parameters<Ai['estimate']>[0], units: number, count: number) =>
    count === 0 ? 0 : (await deps.ai.estimate(fn, units)) * count;
  const [keywords, clusters, ideas, tasks, drafts, pending, words] = await Promise.all([
    planner.newKeywords(accountId, siteId, stages.clusters.batch_size),
    planner.clustersWithoutIdeas(accountId, siteId, stages.ideas.batch_size),
    planner.newIdeas(accountId, siteId, stages.tasks.batch_size),
    writer.queuedTasks(accountId, siteId, stages.articles.batch_size),
    writer.drafts(accountId, siteId, Math.max(stages.image_prompts.batch_size, stages.optimize.batch_size)),
    writer.pendingImages(accountId, siteId, stages.images.batch_size),
    deps.defaultWordCount(),
  ]);
  const out: StageEstimate[] = [];
  const add = (stage: StageEstimate['stage'], units: number, credits: number) =>
    out.push({ stage, enabled: stage === 'publish' ? units > 0 : stages[stage].enabled, units, credits });

  const keywordUnits = cap('clusters', keywords.length);
  add('clusters', keywordUnits, 0);
  const clusterUnits = cap('ideas', clusters.length + Math.floor(keywordUnits / 2));
  add('ideas', clusterUnits, await each('ideas', 1, clusterUnits));
  const ideaUnits = cap('tasks', ideas.length + clusterUnits * settings.ideas_per_cluster);
  add('tasks', ideaUnits, 0);
  const articleUnits = cap('articles', tasks.length + ideaUnits);
  let articleCredits = 0;
  for (let i = 0; i < articleUnits; i++)
    articleCredits += await deps.ai.estimate('content', tasks[i]?.word_count_target ?? words);
  add('articles', articleUnits, articleCredits);
  const promptUnits = cap('image_prompts', drafts.filter((d) => !d.has_images).length + articleUnits);
  add('image_prompts', promptUnits, await each('image_prompts', 1, promptUnits));
  const imageUnits = cap('images', pending.length + promptUnits * (1 + settings.in_article_images));
  add('images', imageUnits, await each('image_generation', 1, imageUnits));
  const optimizeUnits = cap('optimize', drafts.length + articleUnits);
  let optimizeCredits = 0;
  for (let i = 0; i < optimizeUnits; i++) {
    optimizeCredits += await deps.ai.estimate('optimization', Math.max(1, drafts[i]?.word_count ?? words));
  }
  add('optimize', optimizeUnits, optimizeCredits);
  add('link', cap('link', drafts.length + articleUnits), 0);
  const reviewUnits = cap('review', drafts.length + articleUnits);
  add('review', reviewUnits, 0);
  add('publish', !settings.require_approval && settings.auto_publish ? reviewUnits : 0, 0);
  return out;
}
