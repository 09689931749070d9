import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver started by a test: a real HTTP server on loopback that records every request and answers
 * as its path's script says (`/ok`, `/status/500,200` answers 500 then 200 then 200..., `/hang` never answers,
 * `/slow/<ms>` answers 200 after a delay). It never verifies: the tests do, with the `standardwebhooks` package.
 */

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: (path: string) => string;
  received: Received[];
  /** Requests of one path. */
  at(path: string): Received[];
  /** The most requests one path had open at once. */
  maxInFlight(path: string): number;
  /** Resolves once `path` has had `count` requests (polls the record; no fixed sleep). */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const hanging = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const n = counts.get(path) ?? 0;
      counts.set(path, n + 1);
      const open = (inFlight.get(path) ?? 0) + 1;
      inFlight.set(path, open);
      maxInFlight.set(path, Math.max(maxInFlight.get(path) ?? 0, open));
      const answer = (status: number, body = `answer ${status}`) => {
        inFlight.set(path, (inFlight.get(path) ?? 1) - 1);
        response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      };
      const [, kind, arg] = path.split('/');
      if (kind === 'hang') {
        const release = () => response.destroy();
        hanging.add(release);
        response.on('close', () => {
          hanging.delete(release);
          inFlight.set(path, (inFlight.get(path) ?? 1) - 1);
        });
        return;
      }
      if (kind === 'status') {
        const statuses = (arg ?? '200').split(',').map(Number);
        return answer(statuses[Math.min(n, statuses.length - 1)] ?? 200, 'x'.repeat(5000));
      }
      if (kind === 'slow') {
        setTimeout(() => answer(200), Number(arg ?? 50));
        return;
      }
      answer(200, 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const at = (path: string) => received.filter((r) => r.path === path);
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    at,
    maxInFlight: (path) => maxInFlight.get(path) ?? 0,
    async waitFor(path, count, timeoutMs = 10_000) {
      const started = Date.now();
      while (at(path).length < count) {
        if (Date.now() - started > timeoutMs) {
          throw new Error(`receiver: ${path} had ${at(path).length} of ${count} requests after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return at(path);
    },
    async close() {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
