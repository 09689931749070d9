import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/core/db.js';
import { buildTestApp, seededDataDir, type TestApp } from './harness.js';

/** Operations: /metrics, health when the database is down, and a graceful stop of the real server on SIGTERM. */

describe('/metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  it('counts requests and their latency by route pattern and status, in Prometheus text', async () => {
    for (const url of ['/api/v1/auth/industries/1/', '/api/v1/auth/industries/2/', '/api/v1/auth/industries/999/', '/nope/123']) {
      await t.request({ method: 'GET', url });
    }
    const res = await t.request({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain('http_requests_total{method="GET",route="/api/v1/auth/industries/:id",status="200"} 2');
    expect(text).toContain('http_requests_total{method="GET",route="/api/v1/auth/industries/:id",status="404"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/auth\/industries\/:id",status="200"\} \d/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/auth\/industries\/:id",status="200"\} 2/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
    // Raw URLs never become labels.
    expect(text).not.toMatch(/route="[^"]*\/(1|2|999|123)\/?"/);
  });

  it('answers loopback callers only when no METRICS_TOKEN is set', async () => {
    const res = await t.request({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('permission_denied');
  });

  it('with METRICS_TOKEN it wants that bearer token, from anywhere', async () => {
    const guarded = await buildTestApp({ METRICS_TOKEN: 'scrape-me-please' }, { database: t.database });
    try {
      const none = await guarded.request({ method: 'GET', url: '/metrics' });
      expect(none.statusCode).toBe(401);
      const wrong = await guarded.request({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer scrape-me-pleasX' },
      });
      expect(wrong.statusCode).toBe(401);
      const right = await guarded.request({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '203.0.113.9',
        headers: { authorization: 'Bearer scrape-me-please' },
      });
      expect(right.statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('health', () => {
  it('is 503 service_unavailable, with the report, when the database is down', async () => {
    const t = await buildTestApp();
    try {
      expect((await t.request({ method: 'GET', url: '/api/v1/system/health/' })).statusCode).toBe(200);
      await t.database.close();
      const res = await t.request({ method: 'GET', url: '/api/v1/system/health/' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        success: false,
        code: 'service_unavailable',
        details: { status: 'down', database: { status: 'down', latency_ms: null } },
      });
      expect(res.headers['cache-control']).toBe('no-store');
    } finally {
      await t.close().catch(() => {});
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

describe('graceful shutdown (the real server, over HTTP)', () => {
  let server: ChildProcess | null = null;
  let dataDir = '';
  afterAll(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('on SIGTERM finishes the request in flight, accepts nothing new, and exits 0', async () => {
    const port = await freePort();
    dataDir = await seededDataDir();
    let output = '';
    server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'debug',
        WORKER: 'false',
        DATABASE_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk) => (output += chunk));
    server.stderr?.on('data', (chunk) => (output += chunk));
    const exited = once(server, 'exit');
    const base = `http://127.0.0.1:${port}`;
    /** Waits, with a deadline, until the server's output shows `pattern` (or fails with the output so far). */
    const logged = async (pattern: RegExp, what: string) => {
      const deadline = Date.now() + 45_000;
      while (!pattern.test(output)) {
        if (Date.now() > deadline || server?.exitCode !== null) throw new Error(`${what}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await logged(/API ready/, 'the server did not start');

    // A request in flight: its JSON body arrives in two parts, SIGTERM lands between them.
    const inflight = httpRequest(`${base}/api/v1/no-such-route/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'x-request-id': 'in-flight' },
    });
    const answered = new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
      inflight.on('response', (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
      });
      inflight.on('error', reject);
    });
    inflight.write('{"a": ');
    // The server has the request (it logs each one as it arrives, at debug) before the signal is sent.
    await logged(/"request_id":"in-flight"[^\n]*"msg":"incoming request"/, 'the request in flight never arrived');
    server.kill('SIGTERM');
    await logged(/shutting down/, 'SIGTERM was not handled');

    // Nothing new is accepted while the request in flight is still open: the listener closes at once.
    const connect = () =>
      fetch(`${base}/api/v1/system/health/`, { headers: { connection: 'close' } }).then(
        (r) => `status ${r.status}`,
        (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
      );
    let fresh = await connect();
    for (const deadline = Date.now() + 10_000; fresh !== 'ECONNREFUSED' && Date.now() < deadline; ) fresh = await connect();
    expect(fresh).toBe('ECONNREFUSED');
    expect(server.exitCode).toBeNull();

    inflight.end('1}');
    const answer = await answered;
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ success: false, code: 'not_found', request_id: 'in-flight' });
    // Answered during the close, it ends its keep-alive connection, so the server need not wait for the client.
    expect(answer.connection).toBe('close');

    const [code] = await exited;
    expect(code, output).toBe(0);
    expect(output).toContain('shutting down');
  }, 60_000);
});
