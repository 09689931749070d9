import { Type } from 'typebox';
import { defineAiFunction, SHARED_AI_VARIABLES } from '../../core/ai.functions.js';

/**
 * The planner's AI functions: keyword clustering and content ideas. Registered with the engine in
 * src/modules.ts; the jobs run them by name (`ai.run(ctx, 'ideas', ...)`), and accounts override their
 * prompts at system/prompts/<name>/.
 */

const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
const Words = Type.Array(Text(200), { maxItems: 100 });

const Clustering = Type.Object({
  clusters: Type.Array(
    Type.Object({
      name: Text(200),
      description: Type.Optional(Text(2000, 0)),
      keywords: Type.Array(Text(300), { minItems: 1 }),
    }),
  ),
});

const Outline = Type.Object({
  sections: Type.Array(
    Type.Object({ heading: Text(300), level: Type.Integer({ minimum: 1, maximum: 6 }), points: Type.Array(Text(1000)) }),
  ),
});

const Ideas = Type.Object({
  ideas: Type.Array(
    Type.Object({
      title: Text(300),
      description: Type.String({ maxLength: 5000 }),
      content_type: Type.Union(['post', 'page', 'product', 'service', 'category'].map((v) => Type.Literal(v))),
      content_structure: Type.Union(
        ['article', 'guide', 'how_to', 'listicle', 'comparison', 'review', 'faq'].map((v) => Type.Literal(v)),
      ),
      target_keywords: Words,
      estimated_word_count: Type.Integer({ minimum: 100, maximum: 20000 }),
      outline: Outline,
    }),
    { minItems: 1 },
  ),
});

export const clusteringFunction = defineAiFunction({
  name: 'clustering',
  operation: 'clustering_ai',
  variables: ['keywords', 'sector', 'site_name', ...SHARED_AI_VARIABLES],
  output: Clustering,
  system:
    'You are an SEO strategist. You group search keywords into topic clusters: keywords in one cluster share search intent and could be answered by the same page or a tight group of pages. Write names and descriptions in {{language}}.',
  user: 'Site: {{site_name}}\nSector: {{sector}}\n\nGroup these keywords (one per line) into clusters. Use every keyword at most once, copy each keyword exactly as written, and leave out keywords that fit no cluster. Give each cluster a short name and a one-sentence description.\n\n{{keywords}}',
});

export const ideasFunction = defineAiFunction({
  name: 'ideas',
  operation: 'idea_generation',
  variables: ['cluster_name', 'cluster_description', 'keywords', 'ideas_count', 'site_name', ...SHARED_AI_VARIABLES],
  output: Ideas,
  system:
    'You are a content strategist planning articles that rank in search and help readers. Write in {{language}}, in a {{tone}} tone.\nBrand guidelines: {{brand_guidelines}}',
  user: 'Topic cluster: {{cluster_name}}\n{{cluster_description}}\n\nKeywords of the cluster:\n{{keywords}}\n\nPropose {{ideas_count}} distinct content ideas for this cluster. For each: a title, a description of the angle, the content type, the structure, the target keywords (taken from the list), an estimated word count and an outline of sections (heading, level 2 or 3, key points).',
});

export const plannerAiFunctions = [clusteringFunction, ideasFunction];

declare module '../../core/ai.functions.js' {
  interface AiFunctionRegistry {
    clustering: typeof clusteringFunction;
    ideas: typeof ideasFunction;
  }
}
