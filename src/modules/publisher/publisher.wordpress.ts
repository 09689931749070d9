import { type DefaultTreeAdapterMap, parseFragment } from 'parse5';
import { type WordPressClient, WordPressError } from '../integration/integration.service.js';

/**
 * The publisher's WordPress calls, on top of the integration module's client (the one place that speaks
 * WordPress's REST API): terms found or created by name, media uploaded with their alt text, posts created,
 * updated, read back and trashed. Every answer is checked for the fields we read, so a site that answers
 * something else fails clearly instead of storing `undefined`.
 */

export interface RemotePost {
  id: number;
  slug: string;
  link: string;
  status: string;
  featured_media: number;
  categories: number[];
  tags: number[];
}

export interface RemoteMedia {
  id: number;
  source_url: string;
  alt_text: string;
}

export type Taxonomy = 'categories' | 'tags';

type Node = DefaultTreeAdapterMap['childNode'];

/** Text as a reader sees it: WordPress answers term names HTML-escaped (`Gear &amp; Tools`). */
export function decodeEntities(text: string): string {
  const collect = (nodes: Node[]): string =>
    nodes.map((node) => ('value' in node ? node.value : 'childNodes' in node ? collect(node.childNodes) : '')).join('');
  return collect(parseFragment(text).childNodes);
}

/** WordPress compares term names without regard to case (its collation), and so must we. */
const sameName = (a: string, b: string) => decodeEntities(a).trim().toLowerCase() === b.trim().toLowerCase();

function invalid(what: string, data: unknown): WordPressError {
  const sample = JSON.stringify(data)?.slice(0, 200) ?? String(data);
  return new WordPressError('invalid_response', `WordPress answered ${what} without the fields expected: ${sample}`);
}

function asPost(data: unknown): RemotePost {
  const post = data as Partial<RemotePost> | null;
  if (!post || typeof post.id !== 'number' || typeof post.link !== 'string' || typeof post.slug !== 'string') {
    throw invalid('a post', data);
  }
  return {
    id: post.id,
    slug: post.slug,
    link: post.link,
    status: String(post.status ?? ''),
    featured_media: typeof post.featured_media === 'number' ? post.featured_media : 0,
    categories: Array.isArray(post.categories) ? post.categories : [],
    tags: Array.isArray(post.tags) ? post.tags : [],
  };
}

function asMedia(data: unknown): RemoteMedia {
  const media = data as Partial<RemoteMedia> | null;
  if (!media || typeof media.id !== 'number' || typeof media.source_url !== 'string') throw invalid('a media item', data);
  return { id: media.id, source_url: media.source_url, alt_text: String(media.alt_text ?? '') };
}

const isGone = (error: unknown) => error instanceof WordPressError && (error.status === 404 || error.status === 410);

export interface PostFields {
  title: string;
  content: string;
  excerpt: string;
  slug: string;
  status: 'publish' | 'draft' | 'future';
  date_gmt?: string;
  categories: number[];
  tags: number[];
  featured_media: number;
}

export function wordpressCalls(client: WordPressClient) {
  return {
    /** Who the credentials act as, and whether they may publish and upload (a wrong password answers 401). */
    async me(): Promise<{ id: number; capabilities: Record<string, boolean> }> {
      const answer = await client.request<{ id?: number; capabilities?: Record<string, boolean> }>('GET', 'wp/v2/users/me', {
        query: { context: 'edit' },
      });
      if (typeof answer.data?.id !== 'number') throw invalid('users/me', answer.data);
      return { id: answer.data.id, capabilities: answer.data.capabilities ?? {} };
    },

    /**
     * The term ids of these names, each found by name (decoded, any case) or created; a `term_exists` refusal
     * (a term WordPress matched that our search did not, e.g. by its escaped form) gives its id in data.term_id.
     */
    async terms(taxonomy: Taxonomy, names: string[]): Promise<number[]> {
      const ids: number[] = [];
      for (const name of [...new Set(names.map((n) => n.trim()).filter(Boolean))]) {
        const found = await client.request<{ id: number; name: string }[]>('GET', `wp/v2/${taxonomy}`, {
          // The view context: a term's name is there, and a user who may not edit terms may still read them.
          query: { search: name, per_page: 100 },
        });
        const match = Array.isArray(found.data) ? found.data.find((term) => sameName(term.name, name)) : undefined;
        if (match) {
          ids.push(match.id);
          continue;
        }
        try {
          const made = await client.request<{ id: number }>('POST', `wp/v2/${taxonomy}`, { json: { name } });
          if (typeof made.data?.id !== 'number') throw invalid(`a new term of ${taxonomy}`, made.data);
          ids.push(made.data.id);
        } catch (error) {
          const existing = (error as WordPressError).data as { term_id?: unknown } | null;
          if (error instanceof WordPressError && error.code === 'term_exists' && typeof existing?.term_id === 'number') {
            ids.push(existing.term_id);
          } else throw error;
        }
      }
      return [...new Set(ids)];
    },

    /** The media item, or null when WordPress no longer has it. */
    async media(id: number): Promise<RemoteMedia | null> {
      try {
        return asMedia((await client.request('GET', `wp/v2/media/${id}`, { query: { context: 'edit' } })).data);
      } catch (error) {
        if (isGone(error)) return null;
        throw error;
      }
    },

    /** A media item uploaded under exactly this slug (an earlier run that lost its id), or null. */
    async mediaBySlug(slug: string): Promise<RemoteMedia | null> {
      const found = await client.request<unknown[]>('GET', 'wp/v2/media', { query: { slug, context: 'edit' } });
      const [first] = Array.isArray(found.data) ? found.data : [];
      return first === undefined ? null : asMedia(first);
    },

    /** Uploads a file (raw body) with its alt text and caption, named `<name>.<ext>` (its slug is `<name>`). */
    async upload(file: {
      bytes: Uint8Array;
      contentType: string;
      name: string;
      extension: string;
      alt: string;
      caption: string;
    }) {
      const answer = await client.request('POST', 'wp/v2/media', {
        body: file.bytes,
        contentType: file.contentType,
        headers: { 'content-disposition': `attachment; filename="${file.name}.${file.extension}"` },
        query: { alt_text: file.alt, caption: file.caption, title: file.name },
      });
      return asMedia(answer.data);
    },

    async describeMedia(id: number, fields: { alt_text: string; caption: string }): Promise<RemoteMedia> {
      return asMedia((await client.request('POST', `wp/v2/media/${id}`, { json: fields })).data);
    },

    /** The post as WordPress holds it (`context=edit`), or null when it is gone for good. */
    async post(id: number): Promise<RemotePost | null> {
      try {
        return asPost((await client.request('GET', `wp/v2/posts/${id}`, { query: { context: 'edit' } })).data);
      } catch (error) {
        if (isGone(error)) return null;
        throw error;
      }
    },

    /** A post of any status but trash made under exactly this slug, or null. */
    async postBySlug(slug: string): Promise<RemotePost | null> {
      const found = await client.request<unknown[]>('GET', 'wp/v2/posts', {
        query: { slug, status: 'draft,pending,publish,future,private', context: 'edit' },
      });
      const [first] = Array.isArray(found.data) ? found.data : [];
      return first === undefined ? null : asPost(first);
    },

    async createPost(fields: PostFields): Promise<RemotePost> {
      return asPost((await client.request('POST', 'wp/v2/posts', { json: fields })).data);
    },

    async updatePost(id: number, fields: Partial<PostFields>): Promise<RemotePost> {
      return asPost((await client.request('POST', `wp/v2/posts/${id}`, { json: fields })).data);
    },

    /** To the trash (no `force`: it can be restored); `false` when it was already trashed or deleted. */
    async trashPost(id: number): Promise<boolean> {
      try {
        await client.request('DELETE', `wp/v2/posts/${id}`);
        return true;
      } catch (error) {
        if (isGone(error)) return false;
        throw error;
      }
    },
  };
}
export type WordPressCalls = ReturnType<typeof wordpressCalls>;
