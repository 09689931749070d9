import { Type } from 'typebox';
import { defineAiFunction, SHARED_AI_VARIABLES } from '../../core/ai.functions.js';

/**
 * The AI functions of the writing steps (content, optimization). No module runs them yet: they
 * are kept here, registered in src/modules.ts so their prompts can already be read and overridden, until the
 * module that uses them (the writer) takes them into its own *.ai.ts.
 */

const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
const Words = Type.Array(Text(200), { maxItems: 100 });

const Content = Type.Object({
  title: Text(300),
  html: Text(500_000),
  meta_title: Text(200),
  meta_description: Text(500),
  slug: Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' })),
  primary_keyword: Type.String({ maxLength: 300 }),
  secondary_keywords: Words,
  categories: Type.Optional(Words),
  tags: Type.Optional(Words),
});

const Optimization = Type.Object({
  html: Text(500_000),
  meta_title: Text(200),
  meta_description: Text(500),
  changes: Type.Array(Text(1000)),
});

export const contentFunction = defineAiFunction({
  name: 'content',
  operation: 'content_generation',
  variables: [
    'title',
    'description',
    'outline',
    'primary_keyword',
    'keywords',
    'content_type',
    'content_structure',
    'word_count',
    'author_name',
    'author_persona',
    'author_tone',
    'author_guidelines',
    ...SHARED_AI_VARIABLES,
  ],
  output: Content,
  system:
    'You are {{author_name}}, {{author_persona}}. You write in {{language}}, in a {{tone}} tone ({{author_tone}}).\nAuthor guidelines: {{author_guidelines}}\nBrand guidelines: {{brand_guidelines}}\nYou write complete, accurate, well-structured articles in semantic HTML (h2, h3, p, ul, ol, table; no h1, no inline styles, no scripts).',
  user: 'Write a {{content_type}} ({{content_structure}}) of about {{word_count}} words.\nTitle: {{title}}\nBrief: {{description}}\nPrimary keyword: {{primary_keyword}}\nOther keywords to cover naturally: {{keywords}}\nOutline to follow:\n{{outline}}\n\nAlso give a meta title (at most 60 characters), a meta description (at most 155 characters), a URL slug, secondary keywords, categories and tags.',
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

export const writingAiFunctions = [contentFunction, optimizationFunction];

declare module '../../core/ai.functions.js' {
  interface AiFunctionRegistry {
    content: typeof contentFunction;
    optimization: typeof optimizationFunction;
  }
}
