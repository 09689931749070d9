import { Type } from 'typebox';
import { defineAiFunction, SHARED_AI_VARIABLES } from '../../core/ai.functions.js';

/**
 * The writer's image AI function: prompts for an article's images (one featured, N in-article, each in-article
 * one for a named section), with alt text and a caption. Registered with the engine in src/modules.ts; run by
 * the `writer.image_prompts` job; accounts override its prompt at system/prompts/image_prompts/.
 */

const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });

const ImagePrompt = Type.Object({
  prompt: Text(4000),
  alt_text: Text(500),
  caption: Type.Optional(Type.String({ maxLength: 1000 })),
});
const ImagePrompts = Type.Object({
  featured: ImagePrompt,
  in_article: Type.Array(ImagePrompt, { maxItems: 50 }),
});

export const imagePromptsFunction = defineAiFunction({
  name: 'image_prompts',
  operation: 'image_prompts',
  variables: ['title', 'summary', 'in_article_count', 'sections', 'image_style', ...SHARED_AI_VARIABLES],
  output: ImagePrompts,
  system:
    'You write prompts for an image generation model that illustrate articles. Visual style: {{image_style}}. No text in the images, no logos, no real people. Alt text and captions in {{language}}.\nBrand guidelines: {{brand_guidelines}}',
  user: 'Article: {{title}}\n{{summary}}\n\nWrite one featured image prompt and {{in_article_count}} in-article image prompts, one for each of these sections, in this order:\n{{sections}}\n\nGive each prompt alt text (what the image shows, for a reader who cannot see it, at most 125 characters) and a short caption.',
});

export const writerImageAiFunctions = [imagePromptsFunction];

declare module '../../core/ai.functions.js' {
  interface AiFunctionRegistry {
    image_prompts: typeof imagePromptsFunction;
  }
}
