import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { secretBinding } from '../src/modules/integration/integration.service.js';
import type { TestApp } from './harness.js';

/**
 * A small WordPress for what the real one (the peer, ../shared/peers/wordpress) cannot be made to show, and for
 * suites that cannot count on the peer: a 503, a request that never answers, a connection dropped before or
 * after WordPress acted, a `featured_media` silently ignored, a host that strips the Authorization header, a
 * WordPress that names a wrong password, a site with more posts than one REST page holds. It answers the REST
 * routes the integration (discovery, checks, sync) and the publisher call, in WordPress's shapes (error bodies,
 * `X-WP-Total`/`X-WP-TotalPages`, the home page's `Link` discovery header and generator tag), keeping posts,
 * pages, media and terms in memory. `fault` decides, per request, to fail it instead. Everything else is tested
 * against the real WordPress (src/modules/publisher/publisher.test.ts, the integration's peer tests).
 */

export type AuthBehaviour =
  /** A wrong password answers as anonymous (as the peer's WordPress 6.1 does). */
  | 'anonymous_when_wrong'
  /** A wrong password is `incorrect_password` (a WordPress that says so). */
  | 'refuse_when_wrong'
  /** The Authorization header never reaches WordPress (Apache CGI/FastCGI, nginx in front of Apache). */
  | 'strip_header';

/** `drop`: the connection is cut before WordPress acts; `drop-after`: it acts, then the answer is lost. */
export type Fault = 'drop' | 'drop-after' | 'hang' | { status: number; body?: unknown } | null;

export interface FakeRequest {
  method: string;
  /** The route under the REST root, e.g. `wp/v2/posts/3`. */
  route: string;
  /** The path and query as sent, e.g. `/wp-json/wp/v2/posts?page=2`. */
  path: string;
  query: URLSearchParams;
}

/** A post or page the site has from the start (what a sync imports). */
export interface FakePost {
  id: number;
  title: string;
  content: string;
  slug: string;
  categories?: number[];
  tags?: number[];
}

export interface FakeWordPressOptions {
  auth?: AuthBehaviour;
  /** The user of the application password (default `editor`). */
  username?: string;
  /** The application password it accepts (spaces ignored; default `fake-application-password`). */
  password?: string;
  /** Advertise application passwords in the REST index's `authentication` (default true). */
  applicationPasswords?: boolean;
  /** The user's capabilities (default: all the publisher needs). */
  capabilities?: Record<string, boolean>;
  posts?: FakePost[];
  pages?: FakePost[];
  categories?: { id: number; name: string }[];
  tags?: { id: number; name: string }[];
}

interface Post {
  id: number;
  title: string;
  content: string;
  excerpt: string;
  slug: string;
  status: string;
  featured_media: number;
  categories: number[];
  tags: number[];
}
interface Media {
  id: number;
  slug: string;
  alt_text: string;
  caption: string;
  source_url: string;
  bytes: number;
}

export interface FakeWordPress {
  /** The site's address (no trailing slash); `url` is the same. */
  baseUrl: string;
  url: string;
  restRoot: string;
  posts: Map<number, Post>;
  pages: Map<number, Post>;
  media: Map<number, Media>;
  terms: { categories: Map<number, string>; tags: Map<number, string> };
  /** Every request as `METHOD /path?query`, in order. */
  requests: string[];
  fault: ((request: FakeRequest) => Fault) | null;
  /** Answers every post without its featured image, as WordPress does when it cannot use one. */
  ignoreFeaturedMedia: boolean;
  /** What it was started with; set a new object to change how it behaves from the next request. */
  options: FakeWordPressOptions;
  readonly username: string;
  readonly password: string;
  close(): Promise<void>;
}

const ALL_CAPABILITIES = {
  edit_posts: true,
  publish_posts: true,
  edit_published_posts: true,
  delete_posts: true,
  delete_published_posts: true,
  upload_files: true,
  manage_categories: true,
};

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

const error = (status: number, code: string, message: string, data: Record<string, unknown> = {}): Answer => ({
  status,
  body: { code, message, data: { status, ...data } },
});

/** A page of a collection with WordPress's paging headers; past the last page, WordPress's 400. */
function paged(query: URLSearchParams, items: unknown[]): Answer {
  const perPage = Number(query.get('per_page') ?? '10');
  const page = Number(query.get('page') ?? '1');
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  if (page > totalPages) {
    return error(400, 'rest_post_invalid_page_number', 'The page number requested is larger than the number of pages available.');
  }
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: { 'x-wp-total': String(items.length), 'x-wp-totalpages': String(totalPages) },
  };
}

const seeded = (post: FakePost): Post => ({
  excerpt: '',
  status: 'publish',
  featured_media: 0,
  categories: [],
  tags: [],
  ...post,
});

export async function startFakeWordPress(initial: FakeWordPressOptions = {}): Promise<FakeWordPress> {
  let nextId = 100;
  let origin = '';
  const fake = {
    posts: new Map((initial.posts ?? []).map((p) => [p.id, seeded(p)])),
    pages: new Map((initial.pages ?? []).map((p) => [p.id, seeded(p)])),
    media: new Map<number, Media>(),
    terms: {
      categories: new Map((initial.categories ?? [{ id: 1, name: 'Uncategorized' }]).map((t) => [t.id, t.name])),
      tags: new Map((initial.tags ?? []).map((t) => [t.id, t.name])),
    },
    requests: [] as string[],
    fault: null as FakeWordPress['fault'],
    ignoreFeaturedMedia: false,
    options: initial,
    get username() {
      return fake.options.username ?? 'editor';
    },
    get password() {
      return fake.options.password ?? 'fake-application-password';
    },
  };

  const postShape = (post: Post) => ({
    id: post.id,
    slug: post.slug,
    status: post.status,
    link: post.status === 'publish' ? `${origin}/${post.slug}/` : `${origin}/?p=${post.id}`,
    title: { raw: post.title, rendered: post.title.replace(/&/g, '&amp;') },
    content: { raw: post.content, rendered: post.content },
    excerpt: { raw: post.excerpt, rendered: post.excerpt },
    featured_media: fake.ignoreFeaturedMedia ? 0 : post.featured_media,
    categories: post.categories,
    tags: post.tags,
  });
  const mediaShape = (media: Media) => ({ ...media, caption: { raw: media.caption } });

  /** Signed in (true), anonymous (false), or already answered (an `incorrect_password`). */
  function signedIn(header: string | undefined): boolean | Answer {
    const o = fake.options;
    if (o.auth === 'strip_header' || !header?.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    if (user === fake.username && rest.join(':').replace(/\s+/g, '') === fake.password.replace(/\s+/g, '')) return true;
    if (o.auth === 'refuse_when_wrong') {
      return error(401, 'incorrect_password', 'The provided password is an invalid application password.');
    }
    return false;
  }

  function terms(collection: 'categories' | 'tags', method: string, query: URLSearchParams, json: () => Record<string, unknown>) {
    const store = fake.terms[collection];
    if (method === 'GET') {
      const search = (query.get('search') ?? '').toLowerCase();
      const found = [...store].filter(([, n]) => n.toLowerCase().includes(search)).map(([id, name]) => ({ id, name }));
      return paged(query, found);
    }
    const name = String(json().name ?? '');
    // As WordPress: names are stored escaped and compared as written, whatever the case.
    const existing = [...store].find(([, n]) => n.replace(/&amp;/g, '&').toLowerCase() === name.toLowerCase());
    if (existing) return error(400, 'term_exists', 'A term with the name provided already exists.', { term_id: existing[0] });
    const id = ++nextId;
    store.set(id, name.replace(/&/g, '&amp;'));
    return { status: 201, body: { id, name: store.get(id) } };
  }

  function media(method: string, idText: string | undefined, query: URLSearchParams, body: Buffer, json: () => object) {
    if (method === 'GET' && idText === undefined) {
      const slug = query.get('slug');
      return { status: 200, body: [...fake.media.values()].filter((m) => m.slug === slug).map(mediaShape) };
    }
    if (method === 'POST' && idText === undefined) {
      const name = /filename="([^"]+)"/.exec(String(query.get('__disposition')))?.[1] ?? 'file.png';
      const item: Media = {
        id: ++nextId,
        slug: name.replace(/\.[^.]+$/, ''),
        alt_text: query.get('alt_text') ?? '',
        caption: query.get('caption') ?? '',
        source_url: `${origin}/wp-content/uploads/${name}`,
        bytes: body.length,
      };
      fake.media.set(item.id, item);
      return { status: 201, body: mediaShape(item) };
    }
    const item = fake.media.get(Number(idText));
    if (!item) return error(404, 'rest_post_invalid_id', 'Invalid post ID.');
    if (method === 'POST') Object.assign(item, json());
    return { status: 200, body: mediaShape(item) };
  }

  function posts(
    store: Map<number, Post>,
    method: string,
    idText: string | undefined,
    query: URLSearchParams,
    json: () => object,
  ) {
    if (method === 'GET' && idText === undefined) {
      const slug = query.get('slug');
      const all = [...store.values()];
      // A lookup by slug (the publisher's marker) is one answer; a listing (a sync) is paged.
      if (slug !== null) return { status: 200, body: all.filter((p) => p.slug === slug).map(postShape) };
      return paged(query, all.filter((p) => p.status === (query.get('status') ?? 'publish')).map(postShape));
    }
    if (method === 'POST' && idText === undefined) {
      const post: Post = { ...seeded({ id: ++nextId, title: '', content: '', slug: '' }), status: 'draft', ...json() };
      if (!fake.media.has(post.featured_media)) post.featured_media = 0;
      store.set(post.id, post);
      return { status: 201, body: postShape(post) };
    }
    const post = store.get(Number(idText));
    if (!post) return error(404, 'rest_post_invalid_id', 'Invalid post ID.');
    if (method === 'DELETE') {
      if (post.status === 'trash') return error(410, 'rest_already_trashed', 'The post has already been deleted.');
      post.status = 'trash';
      return { status: 200, body: postShape(post) };
    }
    if (method === 'POST') {
      const { date_gmt: _date, ...fields } = json() as Record<string, unknown>;
      Object.assign(post, fields);
      if (!fake.media.has(post.featured_media)) post.featured_media = 0;
    }
    return { status: 200, body: postShape(post) };
  }

  function handle(request: FakeRequest, body: Buffer, authorization: string | undefined): Answer {
    const { method, route, query } = request;
    const link = { link: `<${origin}/wp-json/>; rel="https://api.w.org/"` };
    if (route === '' && request.path.startsWith('/wp-json')) {
      const authentication = fake.options.applicationPasswords === false ? [] : { 'application-passwords': { endpoints: {} } };
      return { status: 200, body: { name: 'Fake WordPress', namespaces: ['wp/v2'], authentication }, headers: link };
    }
    const auth = signedIn(authorization);
    if (typeof auth === 'object') return auth;
    if (!auth && method !== 'GET') return error(401, 'rest_cannot_create', 'Sorry, you are not allowed to do that.');
    if (route === 'wp/v2/users/me') {
      if (!auth) return error(401, 'rest_not_logged_in', 'You are not currently logged in.');
      const capabilities = fake.options.capabilities ?? ALL_CAPABILITIES;
      return { status: 200, body: { id: 7, username: fake.username, roles: ['editor'], capabilities } };
    }
    if (query.get('context') === 'edit' && !auth) {
      return error(401, 'rest_forbidden_context', 'Sorry, you are not allowed to edit posts in this post type.');
    }
    const json = () => (body.length > 0 ? JSON.parse(body.toString('utf8')) : {});
    const [, , collection, idText] = route.split('/');
    if (collection === 'categories' || collection === 'tags') return terms(collection, method, query, json);
    if (collection === 'media') return media(method, idText, query, body, json);
    if (collection === 'posts') return posts(fake.posts, method, idText, query, json);
    if (collection === 'pages') return posts(fake.pages, method, idText, query, json);
    return error(404, 'rest_no_route', 'No route was found matching the URL and request method.');
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', origin);
      const method = request.method ?? 'GET';
      const path = `${url.pathname}${url.search}`;
      fake.requests.push(`${method} ${path}`);
      if (url.pathname === '/' && !url.searchParams.has('rest_route')) {
        response.writeHead(200, { 'content-type': 'text/html', link: `<${origin}/wp-json/>; rel="https://api.w.org/"` });
        response.end('<html><head><meta name="generator" content="WordPress 6.4.3" /></head><body>Fake</body></html>');
        return;
      }
      const route = url.pathname.replace(/^\/wp-json\/?/, '').replace(/\/+$/, '');
      const seen: FakeRequest = { method, route, path, query: url.searchParams };
      const fault = fake.fault?.(seen) ?? null;
      if (fault === 'drop') return request.socket.destroy();
      if (fault === 'hang') return;
      const send = ({ status, body, headers = {} }: Answer) =>
        response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
      if (fault !== null && fault !== 'drop-after') {
        return send({
          status: fault.status,
          body: fault.body ?? { code: 'fault', message: 'Injected.', data: { status: fault.status } },
        });
      }
      const query = new URLSearchParams(url.searchParams);
      query.set('__disposition', String(request.headers['content-disposition'] ?? ''));
      try {
        const answer = handle({ ...seen, query }, Buffer.concat(chunks), request.headers.authorization);
        if (fault === 'drop-after') return request.socket.destroy();
        send(answer);
      } catch (thrown) {
        send({ status: 400, body: { code: 'rest_invalid_json', message: String(thrown), data: { status: 400 } } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    baseUrl: origin,
    url: origin,
    restRoot: `${origin}/wp-json/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

/** A fault that strikes the first request whose path and query contain `fragment`, once (a reset connection). */
export function dropOnce(fragment: string): (request: FakeRequest) => Fault {
  let dropped = false;
  return ({ path }) => {
    if (dropped || !path.includes(fragment)) return null;
    dropped = true;
    return 'drop';
  };
}

/**
 * A site's WordPress integration, made in the database as the integration routes would (tests may set up data
 * directly): the application password encrypted under the app's key, bound to the row.
 */
export async function connectWordPress(
  t: TestApp,
  target: { accountId: number; siteId: number },
  site: { baseUrl: string; restRoot: string; username: string; password: string },
): Promise<number> {
  const { db } = t.database;
  const inserted = (await db.execute(sql`
    insert into integration_integrations (account_id, site_id, platform, base_url, rest_root, username)
    values (${target.accountId}, ${target.siteId}, 'wordpress', ${site.baseUrl}, ${site.restRoot}, ${site.username})
    on conflict (site_id, platform) do update set base_url = excluded.base_url, rest_root = excluded.rest_root,
      username = excluded.username, status = 'active'
    returning id`)) as unknown as { rows: { id: number }[] };
  const id = inserted.rows[0]?.id as number;
  const credentials = t.app.services.secrets.encrypt(site.password, secretBinding(id, 'credentials'));
  await db.execute(sql`update integration_integrations set credentials = ${credentials} where id = ${id}`);
  return id;
}

/** The fake's own site connection for `connectWordPress`. */
export const fakeSite = (fake: FakeWordPress) => ({
  baseUrl: fake.baseUrl,
  restRoot: fake.restRoot,
  username: fake.username,
  password: fake.password,
});
