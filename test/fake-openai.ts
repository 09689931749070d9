import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake OpenAI-compatible server for tests: real HTTP on 127.0.0.1 (port 0), so the app's own code runs
 * unmocked all the way down to the `openai` SDK. Answers are scripted in order with `queue()`; when the queue
 * is empty, `respond` (if set) answers, else the request gets a 400 naming the unscripted call.
 *
 *   const fake = await startFakeOpenAI();
 *   fake.queue({ json: { ideas: [...] }, usage: { prompt_tokens: 50, completion_tokens: 20 } });
 *   fake.queue({ status: 429, retryAfter: 1 }, { text: 'not json' }, { delayMs: 3000, json: {...} });
 *   const t = await buildTestApp({ AI_BASE_URL: fake.url });
 *   ... fake.requests[0].body.messages ...;  await fake.close();
 */

export interface FakeAnswer {
  /** A chat answer whose content is this value as JSON. */
  json?: unknown;
  /** A chat answer with this exact content (malformed JSON, prose, a code fence, ...). */
  text?: string;
  /** An image answer (`/v1/images/generations`). */
  image?: { b64?: string; url?: string; revised_prompt?: string };
  /** An error status (429, 500, 401, ...), with an OpenAI-style error body. */
  status?: number;
  /** Seconds, sent as `Retry-After` (with a status). */
  retryAfter?: number;
  message?: string;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
  /** Token usage in the answer; `null` leaves usage out (some local servers). Default 100 in, 50 out. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  /** The model the answer names; default: the one asked for. */
  model?: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are inspected freely by tests.
  body: any;
}

export interface FakeOpenAI {
  /** The base URL to give as AI_BASE_URL (ends in /v1). */
  url: string;
  /** Every request received, in order (including the SDK's retries). */
  requests: FakeRequest[];
  queue(...answers: FakeAnswer[]): void;
  /** Answers requests when the queue is empty (e.g. a planner test answering every call alike). */
  respond: ((request: FakeRequest) => FakeAnswer) | null;
  /** Scripted answers not yet used. */
  readonly pending: number;
  /** Chat requests only (the SDK's retries included). */
  chatRequests(): FakeRequest[];
  reset(): void;
  close(): Promise<void>;
}

const BASE64_PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const scripted: FakeAnswer[] = [];
  const requests: FakeRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;

  const fake: FakeOpenAI = {
    url: '',
    requests,
    respond: null,
    queue: (...answers) => void scripted.push(...answers),
    get pending() {
      return scripted.length;
    },
    chatRequests: () => requests.filter((r) => r.path.endsWith('/chat/completions')),
    reset() {
      scripted.length = 0;
      requests.length = 0;
      fake.respond = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  function answer(req: FakeRequest, res: ServerResponse, scriptedAnswer: FakeAnswer | undefined) {
    if (!scriptedAnswer) {
      // Not retryable (the SDK honours x-should-retry), so an unscripted call fails fast and says so.
      return send(
        res,
        400,
        { error: { message: `fake-openai: no answer scripted for ${req.method} ${req.path}`, type: 'invalid_request_error' } },
        { 'x-should-retry': 'false' },
      );
    }
    if (scriptedAnswer.status && scriptedAnswer.status >= 400) {
      const headers: Record<string, string> =
        scriptedAnswer.retryAfter !== undefined ? { 'retry-after': String(scriptedAnswer.retryAfter) } : {};
      return send(
        res,
        scriptedAnswer.status,
        {
          error: {
            message: scriptedAnswer.message ?? `fake-openai: scripted ${scriptedAnswer.status}`,
            type: 'fake_error',
            code: null,
          },
        },
        headers,
      );
    }
    const model = scriptedAnswer.model ?? req.body?.model ?? 'fake-model';
    const created = Math.floor(Date.now() / 1000);
    if (req.path.endsWith('/images/generations')) {
      const image = scriptedAnswer.image ?? { b64: BASE64_PIXEL };
      return send(res, 200, {
        created,
        data: [
          {
            ...(image.b64 ? { b64_json: image.b64 } : {}),
            ...(image.url ? { url: image.url } : {}),
            ...(image.revised_prompt ? { revised_prompt: image.revised_prompt } : {}),
          },
        ],
      });
    }
    const content = scriptedAnswer.text ?? JSON.stringify(scriptedAnswer.json ?? {});
    const usage = scriptedAnswer.usage === undefined ? { prompt_tokens: 100, completion_tokens: 50 } : scriptedAnswer.usage;
    return send(res, 200, {
      id: `chatcmpl-fake-${++counter}`,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
      ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
    });
  }

  const server: Server = createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const req: FakeRequest = {
        method: incoming.method ?? 'GET',
        path: (incoming.url ?? '/').split('?')[0] as string,
        headers: incoming.headers,
        body,
      };
      requests.push(req);
      const known = req.method === 'POST' && (req.path === '/v1/chat/completions' || req.path === '/v1/images/generations');
      if (!known)
        return send(
          res,
          404,
          { error: { message: `fake-openai: unknown route ${req.method} ${req.path}` } },
          { 'x-should-retry': 'false' },
        );
      const next = scripted.shift() ?? fake.respond?.(req);
      if (next?.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer(req, res, next);
        }, next.delayMs);
        timers.add(timer);
        return;
      }
      answer(req, res, next);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
