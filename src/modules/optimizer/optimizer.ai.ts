import { Type } from 'typebox';
import { defineAiFunction, SHARED_AI_VARIABLES } from '../../core/ai.functions.js';

/** The optimizer's AI function: the article and its failing checks in, the rewrite out. */

const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });

const Optimization = Type.Object({
  html: Text(500_000),
  meta_title: Text(200),
  meta_description: Text(500),
  changes: Type.Array(Text(1000)),
});

export const optimizationFunction = defineAiFunction({
  name: 'optimization',
  operation: 'optimization',
  variables: ['title', 'html', 'primary_keyword', 'keywords', 'word_count', 'issues', ...SHARED_AI_VARIABLES],
  output: Optimization,
  system:
    'You are an SEO editor. You improve articles for search and readability without changing their facts or voice. Write in {{language}}, in a {{tone}} tone.\nBrand guidelines: {{brand_guidelines}}',
  user: 'Improve this article ({{word_count}} words) for the primary keyword "{{primary_keyword}}" and the keywords: {{keywords}}.\nIssues found: {{issues}}\nKeep the HTML semantic, keep existing links. Give the whole improved HTML, a meta title, a meta description and the list of changes you made.\n\nTitle: {{title}}\n\n{{html}}',
});

export const optimizerAiFunctions = [optimizationFunction];

declare module '../../core/ai.functions.js' {
  interface AiFunctionRegistry {
    optimization: typeof optimizationFunction;
  }
}
