import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * Calls a tenant names the address of (a webhook receiver, a WordPress site) must not reach the server's own
 * network: cloud metadata, the database, an admin port. Unless private addresses are allowed (outside production
 * by default; WEBHOOK_ALLOW_PRIVATE, INTEGRATION_ALLOW_PRIVATE), every address a host resolves to must be public
 * unicast: checked when the address is saved (a field error), and again on the connection itself, at every
 * request, so a name that later resolves elsewhere (DNS rebinding) or a redirect to a private host is refused
 * on the address actually connected to.
 */

export class UnsafeAddressError extends Error {
  readonly code = 'EUNSAFEADDRESS';
  constructor(readonly address: string) {
    super(`The address ${address} is not a public one (private, loopback and reserved ranges are refused).`);
    this.name = 'UnsafeAddressError';
  }
}

/** Public unicast only: ipaddr.js names every special range (private, loopback, link-local, reserved, ...). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** A URL's host as an IP literal (brackets of IPv6 removed), or null for a name. */
function literalOf(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? host : null;
}

const lookupAll = (host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/** At save time: null when the URL's host may be called, else the reason (for a field error). */
export async function addressProblem(value: string, allowPrivate: boolean): Promise<string | null> {
  if (allowPrivate) return null;
  const url = new URL(value);
  const literal = literalOf(url.hostname);
  if (literal) return isPublicAddress(literal) ? null : `${literal} is not a public address.`;
  if (url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) return 'localhost is not a public address.';
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(url.hostname);
  } catch {
    return `The host ${url.hostname} could not be resolved.`;
  }
  const unsafe = addresses.find((a) => !isPublicAddress(a.address));
  return unsafe ? `${url.hostname} resolves to ${unsafe.address}, which is not a public address.` : null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The `lookup` of a connection, refusing it when any address of the name is not public. Undefined when private
 * addresses are allowed (the default resolver then).
 */
export function guardedLookup(allowPrivate: boolean) {
  if (allowPrivate) return undefined;
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, verbatim: true, family: options.family ?? 0 }, (error, addresses) => {
      if (error) return callback(error, []);
      const unsafe = addresses.find((a) => !isPublicAddress(a.address));
      if (unsafe) return callback(new UnsafeAddressError(unsafe.address), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

/** An IP literal host is connected to without a lookup, so it is checked on its own; null when allowed. */
export function literalRefused(value: string, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  const literal = literalOf(new URL(value).hostname);
  return literal && !isPublicAddress(literal) ? literal : null;
}

/** The `fetch` signature the callers use (undici's own is the same function under stricter types). */
export type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * `fetch` for addresses a tenant gave: undici's, on an agent of its own whose every connection (the first
 * request's and each redirect's, to a name or to an IP literal) is checked before it is made unless private
 * addresses are allowed; allowed or not, the same fetch, so what the tests run is what production runs. A
 * refused connection fails the fetch as a network error whose cause is an `UnsafeAddressError`.
 */
export function publicFetch(allowPrivate: boolean): Fetch {
  const lookup = guardedLookup(allowPrivate);
  const connect = buildConnector((lookup ? { lookup } : {}) as buildConnector.BuildOptions);
  const agent = new Agent({
    connect(options, callback) {
      const literal = allowPrivate ? null : literalOf(options.hostname);
      if (literal && !isPublicAddress(literal)) return callback(new UnsafeAddressError(literal), null);
      return connect(options, callback);
    },
  });
  return (input, init) => undiciFetch(input, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>;
}
