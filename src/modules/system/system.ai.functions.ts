import { Type } from 'typebox';
import { defineAiFunction, SHARED_AI_VARIABLES } from '../../core/ai.functions.js';

/**
 * The AI functions of the writing steps not yet in their module (image prompts, optimization). No module runs
 * them yet: they are kept here, registered in src/modules.ts so their prompts can already be read and
 * overridden, until the module that uses them takes them into its own *.ai.ts (the writer's text functions
 * are in writer.ai.ts).
 */

const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });

const ImagePrompt = Type.Object({
  prompt: Text(4000),
  alt_text: Text(500),
  caption: Type.Optional(Type.String({ maxLength: 1000 })),
});
const ImagePrompts = Type.Object({ featured: ImagePrompt, in_article: Type.Array(ImagePrompt) });

const Optimization = Type.Object({
  html: Text(500_000),
  meta_title: Text(200),
  meta_description: Text(500),
  changes: Type.Array(Text(1000)),
});

export const imagePromptsFunction = defineAiFunction({
  name: 'image_prompts',
  operation: 'image_prompts',
  variables: ['title', 'summary', 'in_article_count', 'image_style', ...SHARED_AI_VARIABLES],
  output: ImagePrompts,
  system:
    'You write prompts for an image generation model that illustrate articles. Visual style: {{image_style}}. No text in the images, no logos, no real people. Alt text and captions in {{language}}.\nBrand guidelines: {{brand_guidelines}}',
  user: 'Article: {{title}}\n{{summary}}\n\nWrite one featured image prompt and {{in_article_count}} in-article image prompts, each with alt text and a short caption.',
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

export const writingAiFunctions = [imagePromptsFunction, optimizationFunction];

declare module '../../core/ai.functions.js' {
  interface AiFunctionRegistry {
    image_prompts: typeof imagePromptsFunction;
    optimization: typeof optimizationFunction;
  }
}
