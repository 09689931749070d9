import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordpressPeer } from '../../../test/wordpress-peer.js';
import { createWordPressClient, discoverRestRoot, restUrl, WordPressError } from './integration.wordpress.js';

const peer = await wordpressPeer('integration.wordpress');

describe('restUrl', () => {
  it('puts the route under either form of REST root', () => {
    expect(restUrl('https://a.test/wp-json/', 'wp/v2/posts', { per_page: 5 }).href).toBe(
      'https://a.test/wp-json/wp/v2/posts?per_page=5',
    );
    expect(restUrl('https://a.test/blog/?rest_route=/', 'wp/v2/posts/3', { context: 'edit' }).href).toBe(
      'https://a.test/blog/?rest_route=%2Fwp%2Fv2%2Fposts%2F3&context=edit',
    );
  });
});

describe.skipIf(!peer)('against the WordPress peer', () => {
  const {
    baseUrl,
    restUrl: peerRest,
    username,
    applicationPassword,
  } = peer ?? {
    baseUrl: '',
    restUrl: '',
    username: '',
    applicationPassword: '',
  };

  it('discovers the REST root the site advertises', async () => {
    const found = await discoverRestRoot(baseUrl);
    expect(found.restRoot).toBe(peerRest);
    expect(found.index.namespaces).toContain('wp/v2');
  });

  it('speaks to both forms of root, with the application password, and reads WordPress errors', async () => {
    for (const restRoot of [peerRest, `${baseUrl}/?rest_route=/`]) {
      const client = createWordPressClient({ restRoot, credentials: { username, applicationPassword } });
      const me = await client.request<{ id: number; capabilities: Record<string, boolean> }>('GET', 'wp/v2/users/me', {
        query: { context: 'edit' },
      });
      expect(me.data.capabilities.publish_posts).toBe(true);
    }
    const wrong = createWordPressClient({
      restRoot: peerRest,
      credentials: { username, applicationPassword: 'abcd efgh ijkl mnop qrst uvwx' },
    });
    const failure = await wrong.request('GET', 'wp/v2/users/me', { query: { context: 'edit' } }).catch((e) => e);
    expect(failure).toBeInstanceOf(WordPressError);
    expect(failure).toMatchObject({ status: 401, code: 'rest_not_logged_in', retryable: false });
  });

  it('pages through a collection by X-WP-TotalPages', async () => {
    const client = createWordPressClient({ restRoot: peerRest, credentials: { username, applicationPassword } });
    const made: number[] = [];
    for (let i = 0; i < 3; i++) {
      const post = await client.request<{ id: number }>('POST', 'wp/v2/posts', {
        json: { title: `paging ${i}`, content: '<p>x</p>', status: 'draft' },
      });
      made.push(post.data.id);
    }
    const seen: number[] = [];
    for await (const page of client.pages<{ id: number }>('wp/v2/posts', { per_page: 2, status: 'draft', context: 'edit' })) {
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((p) => p.id));
    }
    expect(seen).toEqual(expect.arrayContaining(made));
    for (const id of made) await client.request('DELETE', `wp/v2/posts/${id}`, { query: { force: true } });
  });
});

describe('failures WordPress cannot be made to show', () => {
  let server: Server;
  let root: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url?.includes('unavailable')) {
        response.writeHead(503, { 'content-type': 'text/html' }).end('<h1>Service Unavailable</h1>');
      } else if (request.url?.includes('hang')) {
        // Never answers: the client's timeout must end the call.
      } else if (request.url?.includes('drop')) {
        request.socket.destroy();
      } else {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an API</html>');
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    root = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wp-json/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('tells 503, timeouts and dropped connections (retryable) from a non-API answer (final)', async () => {
    const client = createWordPressClient({ restRoot: root, credentials: null, timeoutMs: 200 });
    await expect(client.request('GET', 'unavailable')).rejects.toMatchObject({ failure: 'http', status: 503, retryable: true });
    await expect(client.request('GET', 'hang')).rejects.toMatchObject({ failure: 'timeout', retryable: true });
    await expect(client.request('GET', 'drop')).rejects.toMatchObject({ failure: 'network', retryable: true });
    await expect(client.request('GET', 'wp/v2/posts')).rejects.toMatchObject({ failure: 'invalid_response', retryable: false });
    await expect(discoverRestRoot(root.replace('/wp-json/', ''), { timeoutMs: 500 })).rejects.toThrow(
      /no WordPress REST API found/,
    );
  });
});
