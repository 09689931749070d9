import { type Static, type TObject, Type } from 'typebox';

/**
 * The AI functions: for each, the billing operation it is charged as, the variables its caller provides
 * (the only ones a template may use), the default prompt (system + user, `{{variable}}` placeholders) and the
 * schema its JSON answer must follow. Accounts override the prompts (system/prompts/<function>/), never the
 * variables or the schema: the code that consumes the answer depends on them.
 *
 * `language`, `tone` and `brand_guidelines` come from the account's AI settings unless the caller gives them.
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

const SHARED = ['language', 'tone', 'brand_guidelines'] as const;

export const AI_FUNCTIONS = {
  clustering: {
    operation: 'clustering_ai',
    variables: ['keywords', 'sector', 'site_name', ...SHARED],
    output: Clustering,
    system:
      'You are an SEO strategist. You group search keywords into topic clusters: keywords in one cluster share search intent and could be answered by the same page or a tight group of pages. Write names and descriptions in {{language}}.',
    user: 'Site: {{site_name}}\nSector: {{sector}}\n\nGroup these keywords (one per line) into clusters. Use every keyword at most once, copy each keyword exactly as written, and leave out keywords that fit no cluster. Give each cluster a short name and a one-sentence description.\n\n{{keywords}}',
  },
  ideas: {
    operation: 'idea_generation',
    variables: ['cluster_name', 'cluster_description', 'keywords', 'ideas_count', 'site_name', ...SHARED],
    output: Ideas,
    system:
      'You are a content strategist planning articles that rank in search and help readers. Write in {{language}}, in a {{tone}} tone.\nBrand guidelines: {{brand_guidelines}}',
    user: 'Topic cluster: {{cluster_name}}\n{{cluster_description}}\n\nKeywords of the cluster:\n{{keywords}}\n\nPropose {{ideas_count}} distinct content ideas for this cluster. For each: a title, a description of the angle, the content type, the structure, the target keywords (taken from the list), an estimated word count and an outline of sections (heading, level 2 or 3, key points).',
  },
  content: {
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
      ...SHARED,
    ],
    output: Content,
    system:
      'You are {{author_name}}, {{author_persona}}. You write in {{language}}, in a {{tone}} tone ({{author_tone}}).\nAuthor guidelines: {{author_guidelines}}\nBrand guidelines: {{brand_guidelines}}\nYou write complete, accurate, well-structured articles in semantic HTML (h2, h3, p, ul, ol, table; no h1, no inline styles, no scripts).',
    user: 'Write a {{content_type}} ({{content_structure}}) of about {{word_count}} words.\nTitle: {{title}}\nBrief: {{description}}\nPrimary keyword: {{primary_keyword}}\nOther keywords to cover naturally: {{keywords}}\nOutline to follow:\n{{outline}}\n\nAlso give a meta title (at most 60 characters), a meta description (at most 155 characters), a URL slug, secondary keywords, categories and tags.',
  },
  image_prompts: {
    operation: 'image_prompts',
    variables: ['title', 'summary', 'in_article_count', 'image_style', ...SHARED],
    output: ImagePrompts,
    system:
      'You write prompts for an image generation model that illustrate articles. Visual style: {{image_style}}. No text in the images, no logos, no real people. Alt text and captions in {{language}}.\nBrand guidelines: {{brand_guidelines}}',
    user: 'Article: {{title}}\n{{summary}}\n\nWrite one featured image prompt and {{in_article_count}} in-article image prompts, each with alt text and a short caption.',
  },
  optimization: {
    operation: 'optimization',
    variables: ['title', 'html', 'primary_keyword', 'keywords', 'word_count', 'issues', ...SHARED],
    output: Optimization,
    system:
      'You are an SEO editor. You improve articles for search and readability without changing their facts or voice. Write in {{language}}, in a {{tone}} tone.\nBrand guidelines: {{brand_guidelines}}',
    user: 'Improve this article ({{word_count}} words) for the primary keyword "{{primary_keyword}}" and the keywords: {{keywords}}.\nIssues found: {{issues}}\nKeep the HTML semantic, keep existing links. Give the whole improved HTML, a meta title, a meta description and the list of changes you made.\n\nTitle: {{title}}\n\n{{html}}',
  },
} as const satisfies Record<
  string,
  { operation: string; variables: readonly string[]; output: TObject; system: string; user: string }
>;

export type AiFunctionName = keyof typeof AI_FUNCTIONS;
export const AI_FUNCTION_NAMES = Object.keys(AI_FUNCTIONS) as AiFunctionName[];
/** The validated answer of a function. */
export type AiOutput<F extends AiFunctionName> = Static<(typeof AI_FUNCTIONS)[F]['output']>;
/** What a caller passes: any of the function's variables (missing ones render empty; shared ones from settings). */
export type AiVariables<F extends AiFunctionName> = Partial<
  Record<(typeof AI_FUNCTIONS)[F]['variables'][number], string | number | readonly string[] | Record<string, unknown> | null>
>;

const PLACEHOLDER = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/** The placeholder names a template uses. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** Fills `{{name}}`: lists one per line, objects as JSON, absent values as nothing. */
export function renderTemplate(template: string, variables: Record<string, unknown>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = variables[name];
    if (value === undefined || value === null) return '';
    if (Array.isArray(value)) return value.map(String).join('\n');
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  });
}
