import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './envelope.js';
import { AppError, ERROR_STATUS, type ErrorCode } from './errors.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/**
 * Requests refused before they reach a route still answer in the contract's envelope, with a request id and
 * the security headers: those Node's HTTP parser refuses (a URL and headers over Node's 16 KB
 * `maxHeaderSize`, a malformed request line), and those Fastify's router refuses (bad percent-encoding, a
 * path parameter over `maxParamLength`). Left alone, both answer bodies of their own
 * (`{"error":"Request Header Fields Too Large",...}`).
 */

/** Fastify's `clientErrorHandler`: no request object exists yet, so the answer is written on the socket. */
export function clientErrorHandler(headers: Record<string, string>) {
  return (error: NodeJS.ErrnoException, socket: Socket) => {
    // A reset connection has no one to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? ([400, 'validation_error', 'The URL and headers are too large: together they must stay under 16 KB.'] as const)
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ([408, 'parse_error', 'The request did not arrive in time.'] as const)
          : ([400, 'parse_error', 'Malformed HTTP request.'] as const);
    const requestId = randomUUID();
    const body = JSON.stringify({
      success: false,
      error: message,
      code,
      ...(code === 'validation_error' ? { errors: { non_field_errors: [message] } } : {}),
      request_id: requestId,
    });
    const lines = [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-ID: ${requestId}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      'Connection: close',
    ];
    if (socket.writable) socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
    else socket.destroy();
  };
}

/** Fastify's `frameworkErrors`: the router's refusals, through the one error path. */
export function frameworkErrors(headers: Record<string, string>) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(headers).header(REQUEST_ID_HEADER, request.id);
    // A path segment too long to be an id names nothing (an id that is not a positive int4 is a 404).
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(request, reply, new AppError('not_found', 'Not found.'));
    if (error.code === 'FST_ERR_BAD_URL') {
      return sendError(request, reply, new AppError('not_found', 'No route matches a malformed URL (bad percent-encoding).'));
    }
    const code = (Object.entries(ERROR_STATUS).find(([, s]) => s === error.statusCode)?.[0] ?? 'parse_error') as ErrorCode;
    return sendError(request, reply, new AppError(code, error.message));
  };
}
