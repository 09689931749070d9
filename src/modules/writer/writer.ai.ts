import { Type } from 'typebox';
import { defineAiFunction, SHARED_AI_VARIABLES } from '../../core/ai.functions.js';

/**
 * The writer's text AI functions, all charged as `content_generation` (1 credit per 100 target words, per
 * article, once it is stored: the calls of one article are settled together, see writer.jobs.ts):
 *
 * - `content`: a whole article in one call, for targets up to about 1,500 words;
 * - `outline`: the sections of a longer article, when its idea has no outline;
 * - `section`: one section of a longer article, given the outline and the headings already written, so a
 *   3,000-word target gives ~3,000 words rather than the 800 a model writes when asked for "3,000 words";
 * - `meta`: the introduction and the SEO fields of a sectioned article, written last, from its headings.
 *
 * Registered in src/modules.ts; accounts override the prompts at system/prompts/<name>/. The templates say
 * "about {{word_count}} words" in so many words: keep the phrase in an override (test/fake-writer.ts reads it).
 */

const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
const Words = Type.Array(Text(200), { maxItems: 100 });
const Slug = Type.String({ maxLength: 200, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' });

const Content = Type.Object({
  html: Text(500_000),
  meta_title: Text(200),
  meta_description: Text(500),
  slug: Type.Optional(Slug),
  primary_keyword: Type.Optional(Type.String({ maxLength: 300 })),
  secondary_keywords: Words,
  categories: Type.Optional(Words),
  tags: Type.Optional(Words),
});

const Outline = Type.Object({
  sections: Type.Array(
    Type.Object({
      heading: Text(300),
      level: Type.Integer({ minimum: 2, maximum: 3 }),
      points: Type.Array(Text(1000), { maxItems: 20 }),
    }),
    { minItems: 2, maxItems: 40 },
  ),
});

const Section = Type.Object({ html: Text(200_000) });

const Meta = Type.Object({
  introduction: Text(20_000),
  meta_title: Text(200),
  meta_description: Text(500),
  slug: Type.Optional(Slug),
  primary_keyword: Type.Optional(Type.String({ maxLength: 300 })),
  secondary_keywords: Words,
  categories: Type.Optional(Words),
  tags: Type.Optional(Words),
});

/** The author and the site, the same in every writer prompt. */
const AUTHOR_VARIABLES = ['author_name', 'author_persona', 'author_tone', 'author_guidelines', 'site_name', 'sector'] as const;

const WRITER_SYSTEM =
  'You are {{author_name}}: {{author_persona}}. You write for {{site_name}} ({{sector}}), in {{language}}, in a {{tone}} tone; your own voice: {{author_tone}}.\n' +
  'Author guidelines: {{author_guidelines}}\n' +
  'Brand guidelines: {{brand_guidelines}}\n\n' +
  'You write for people first: every paragraph answers a question a reader of this topic really has, with concrete facts, numbers, examples, steps and trade-offs. ' +
  'No filler, no throat-clearing ("In this article we will..."), no claims you cannot stand behind, no invented statistics, studies or quotes. ' +
  'Use keywords where they read naturally, never stuffed. Short paragraphs (2-4 sentences), varied sentence length, active voice, transition words between ideas.\n' +
  'Write semantic HTML only: <p>, <h2>, <h3>, <h4>, <ul>/<ol>/<li>, <table> with <thead>, <blockquote>, <strong>, <em>, <code>, <a href> to well-known sources only when you are sure of the URL. ' +
  'Never <h1> (the title is the page heading), no inline styles, classes, scripts, forms, iframes or images.';

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
    ...AUTHOR_VARIABLES,
    ...SHARED_AI_VARIABLES,
  ],
  output: Content,
  system: WRITER_SYSTEM,
  user:
    'Write the complete {{content_type}} below, structured as a {{content_structure}}, of about {{word_count}} words (count them: the length matters).\n\n' +
    'Title: {{title}}\nBrief: {{description}}\nPrimary keyword: {{primary_keyword}}\nSecondary keywords (use the ones that fit):\n{{keywords}}\n\n' +
    'Outline to follow (one <h2> per section, <h3> for its sub-points when they need their own heading):\n{{outline}}\n\n' +
    'Open with an introduction of 2-3 short paragraphs (no heading) that uses the primary keyword in its first sentence and tells the reader what they will get; close with a section that sums up the practical takeaway. ' +
    'Put the primary keyword in at least one <h2>.\n\n' +
    'Also give: a meta title (at most 60 characters, the primary keyword near the start), a meta description (120-155 characters, one or two sentences with the primary keyword, an invitation to read), ' +
    'a URL slug (lowercase words joined by hyphens, the primary keyword, no stop words), the secondary keywords you actually used, 1-3 categories and 3-8 tags.',
});

export const outlineFunction = defineAiFunction({
  name: 'outline',
  operation: 'content_generation',
  variables: [
    'title',
    'description',
    'primary_keyword',
    'keywords',
    'content_type',
    'content_structure',
    'word_count',
    'section_count',
    'site_name',
    'sector',
    ...SHARED_AI_VARIABLES,
  ],
  output: Outline,
  system:
    'You are a senior editor planning long-form articles that rank in search and keep readers to the end. You plan in {{language}} for {{site_name}} ({{sector}}).\n' +
    'Brand guidelines: {{brand_guidelines}}',
  user:
    'Plan the sections of a {{content_type}} structured as a {{content_structure}}, about {{word_count}} words in all.\n\n' +
    'Title: {{title}}\nBrief: {{description}}\nPrimary keyword: {{primary_keyword}}\nSecondary keywords:\n{{keywords}}\n\n' +
    'Give about {{section_count}} sections in reading order (the introduction is written separately: do not plan one). Each section: a specific, descriptive heading (not "Introduction" or "Overview"; ' +
    'the primary keyword in one or two of them), its level (2 for a main section, 3 for a sub-section of the main section before it), and 2-5 points it must cover, each a concrete claim, question or step. ' +
    'Cover the topic completely without overlap between sections: the questions a searcher has, in the order they have them; end with a section on the practical takeaway or next steps.',
});

export const sectionFunction = defineAiFunction({
  name: 'section',
  operation: 'content_generation',
  variables: [
    'title',
    'description',
    'primary_keyword',
    'keywords',
    'content_type',
    'content_structure',
    'outline',
    'previous_headings',
    'heading',
    'level',
    'points',
    'position',
    'word_count',
    ...AUTHOR_VARIABLES,
    ...SHARED_AI_VARIABLES,
  ],
  output: Section,
  system: `${WRITER_SYSTEM}\nYou are writing one section of a longer article: its heading is added for you, so start with the text under it.`,
  user:
    'Article: {{title}} (a {{content_type}}, structured as a {{content_structure}})\nBrief: {{description}}\nPrimary keyword: {{primary_keyword}}\nSecondary keywords (use the ones that fit this section):\n{{keywords}}\n\n' +
    'The whole outline:\n{{outline}}\n\nSections already written, in order (do not repeat what they cover; build on them):\n{{previous_headings}}\n\n' +
    'Now write section {{position}}: "{{heading}}" (an h{{level}} heading). It must cover:\n{{points}}\n\n' +
    'Write about {{word_count}} words for this section (count them: the length matters), as HTML without the section heading itself. ' +
    'Use <h4> sub-headings only if the section is long enough to need them; lists or a small table where they help a reader compare or follow steps. ' +
    'No introduction to the whole article and no sign-off; a conclusion only if this is the last section.',
});

export const metaFunction = defineAiFunction({
  name: 'meta',
  operation: 'content_generation',
  variables: [
    'title',
    'description',
    'primary_keyword',
    'keywords',
    'content_type',
    'headings',
    'word_count',
    ...AUTHOR_VARIABLES,
    ...SHARED_AI_VARIABLES,
  ],
  output: Meta,
  system: WRITER_SYSTEM,
  user:
    'The sections of the {{content_type}} "{{title}}" are written; these are their headings, in order:\n{{headings}}\n\nBrief: {{description}}\nPrimary keyword: {{primary_keyword}}\nSecondary keywords:\n{{keywords}}\n\n' +
    'Write its introduction: about {{word_count}} words of HTML paragraphs (no heading), the primary keyword in the first sentence, that make the reader want to continue and tell them what they will learn, without repeating the headings as a list.\n\n' +
    'Also give: a meta title (at most 60 characters, the primary keyword near the start), a meta description (120-155 characters, one or two sentences with the primary keyword, an invitation to read), ' +
    'a URL slug (lowercase words joined by hyphens, the primary keyword, no stop words), the secondary keywords the article covers, 1-3 categories and 3-8 tags.',
});

export const writerAiFunctions = [contentFunction, outlineFunction, sectionFunction, metaFunction];

declare module '../../core/ai.functions.js' {
  interface AiFunctionRegistry {
    content: typeof contentFunction;
    outline: typeof outlineFunction;
    section: typeof sectionFunction;
    meta: typeof metaFunction;
  }
}
