import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AppError } from './errors.js';

/**
 * The credential side of authentication: what a request presents (in the contract's order), and the crypto
 * for access tokens, opaque tokens and API keys. Looking credentials up is the auth module's job.
 */

export type Credential =
  | { kind: 'jwt'; token: string }
  | { kind: 'api_key'; key: string }
  | { kind: 'session'; token: string }
  | { kind: 'basic'; email: string; password: string };

/** Who is calling, as the services see it: the address (sign-in throttling) and the user agent (sessions). */
export interface Client {
  ip: string;
  userAgent: string;
}

export function clientOf(request: FastifyRequest): Client {
  return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 400) };
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
export const SESSION_COOKIE = 'sessionid';

/** The first scheme that applies decides: Bearer JWT, Bearer/X-API-Key key, session cookie, then Basic. */
export function readCredential(request: FastifyRequest): Credential | null {
  const header = request.headers.authorization;
  if (header) {
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer' && value)
      return JWT_SHAPE.test(value) ? { kind: 'jwt', token: value } : { kind: 'api_key', key: value };
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // A NUL would reach the email lookup, which Postgres text cannot hold: it names no one.
      if (colon > 0 && !decoded.includes('\0'))
        return { kind: 'basic', email: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    throw new AppError('authentication_failed', 'The Authorization header is not a Bearer token or Basic credentials.');
  }
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return { kind: 'api_key', key: apiKey };
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) return { kind: 'session', token: cookie };
  return null;
}

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');

// ---------------------------------------------------------------------------------------------------------
// Access tokens

export interface AccessClaims {
  userId: number;
  accountId: number | null;
  sessionId: number;
}

const keyCache = new Map<string, Uint8Array>();
const keyOf = (secret: string) => {
  let key = keyCache.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keyCache.set(secret, key);
  }
  return key;
};

export async function signAccessToken(secret: string, claims: AccessClaims, ttlSeconds: number) {
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  const token = await new SignJWT({ acc: claims.accountId, sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(claims.userId))
    .setIssuedAt()
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(keyOf(secret));
  return { token, expiresAt };
}

/**
 * Tokens already verified, until they expire: checking the HMAC again for every request of the same token
 * cost more than the rest of authentication. The token itself is the key, so only the exact bytes that
 * passed verification are trusted; revocation is checked elsewhere (the session), on every request.
 */
const verified = new Map<string, Map<string, { claims: AccessClaims; expiresAt: number }>>();
const VERIFIED_MAX = 20_000;

export async function verifyAccessToken(secret: string, token: string): Promise<AccessClaims> {
  let bySecret = verified.get(secret);
  if (!bySecret) {
    bySecret = new Map();
    verified.set(secret, bySecret);
  }
  const known = bySecret.get(token);
  if (known) {
    if (known.expiresAt > Date.now()) return known.claims;
    bySecret.delete(token);
    throw new AppError('token_expired', 'The access token has expired; refresh it.');
  }
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: ['HS256'] });
    const userId = Number(payload.sub);
    const sessionId = Number(payload.sid);
    if (!Number.isInteger(userId) || !Number.isInteger(sessionId) || typeof payload.exp !== 'number') throw new Error('claims');
    const claims = { userId, sessionId, accountId: typeof payload.acc === 'number' ? payload.acc : null };
    if (bySecret.size >= VERIFIED_MAX) bySecret.clear();
    bySecret.set(token, { claims, expiresAt: payload.exp * 1000 });
    return claims;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new AppError('token_expired', 'The access token has expired; refresh it.');
    throw new AppError('authentication_failed', 'The access token is not valid.');
  }
}

// ---------------------------------------------------------------------------------------------------------
// API keys: `ik_live_` + 32 random base62 characters + a 6-character checksum of those 32, so a mistyped
// key is refused without a database lookup (and secret scanners can recognise the format).

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const API_KEY_PREFIX = 'ik_live_';
const API_KEY_SHAPE = /^ik_live_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

function checksum(body: string): string {
  const digest = createHash('sha256').update(body).digest();
  let out = '';
  for (let i = 0; i < 6; i++) out += BASE62[(digest[i] as number) % 62];
  return out;
}

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  let body = '';
  for (let i = 0; i < 32; i++) body += BASE62[randomInt(62)];
  const key = `${API_KEY_PREFIX}${body}${checksum(body)}`;
  return { key, prefix: key.slice(0, API_KEY_PREFIX.length + 6), hash: sha256(key) };
}

export function isWellFormedApiKey(key: string): boolean {
  const match = API_KEY_SHAPE.exec(key);
  return match !== null && checksum(match[1] as string) === match[2];
}
