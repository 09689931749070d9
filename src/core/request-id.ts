import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A client's own id is reused when it is 1–128 characters of `[A-Za-z0-9._-]`; otherwise the server makes one. */
const CLIENT_ID = /^[A-Za-z0-9._-]{1,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestIdFor(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  if (typeof given === 'string' && CLIENT_ID.test(given)) return given;
  return randomUUID();
}
