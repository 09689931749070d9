import type { FastifyReply, FastifyRequest } from 'fastify';

/** One server-sent event: a named event, an id to resume from, JSON data; or a comment (a heartbeat). */
export type SseFrame = { event?: string; id?: string | number; data?: unknown } | { comment: string };

export interface EventStream {
  /** Aborts when the client leaves. */
  signal: AbortSignal;
  send(frame: SseFrame): void;
}

function frameText(frame: SseFrame): string {
  if ('comment' in frame) return `: ${frame.comment}\n\n`;
  let text = '';
  if (frame.event !== undefined) text += `event: ${frame.event}\n`;
  if (frame.id !== undefined) text += `id: ${frame.id}\n`;
  return `${text}data: ${JSON.stringify(frame.data ?? null)}\n\n`;
}

/**
 * Answers a route with server-sent events: the reply is taken over from Fastify with the headers it already has
 * (request id, security headers) and the stream's own (no caching, no proxy buffering), a reconnection delay is
 * sent, then `feed` writes frames until it returns or the client leaves. When `feed` fails, the client gets an
 * `error` event saying how to carry on (`reconnect`), not a dropped connection.
 */
export async function serveEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  feed: (stream: EventStream) => Promise<void>,
  reconnect: string,
): Promise<void> {
  const closed = new AbortController();
  request.raw.on('close', () => closed.abort());
  reply.hijack();
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  reply.raw.write('retry: 2000\n\n');
  const stream: EventStream = { signal: closed.signal, send: (frame) => reply.raw.write(frameText(frame)) };
  try {
    await feed(stream);
  } catch (error) {
    request.log.warn({ err: error, url: request.url }, 'event stream failed');
    stream.send({ event: 'error', data: { code: 'internal_error', message: `The stream stopped; ${reconnect}.` } });
  }
  reply.raw.end();
}
