import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import type { Config } from '../../core/config.js';
import { AppError } from '../../core/errors.js';

/**
 * Payments behind one small interface, with Stripe as the implementation (the official package). The rest of
 * billing never sees Stripe's types: checkout and portal go through `PaymentProvider`, incoming events through
 * `verifyStripeEvent` (signature checked by the package itself) and billing.webhooks.ts (applied by a job).
 */

export type CheckoutItem =
  | { kind: 'plan'; slug: string; name: string; priceCents: number; currency: string; interval: 'month' | 'year' }
  | { kind: 'credit_pack'; slug: string; name: string; priceCents: number; currency: string };

export interface PaymentProvider {
  name: 'stripe';
  /** The account's customer at the provider, made (with the account id in its metadata) when it has none. */
  ensureCustomer(input: { accountId: number; email: string | null; existing: string | null }): Promise<string>;
  checkout(input: {
    accountId: number;
    customerId: string;
    item: CheckoutItem;
    successUrl: string;
    cancelUrl: string;
  }): Promise<{ id: string; url: string }>;
  portal(customerId: string, returnUrl: string): Promise<{ url: string }>;
}

const require = createRequire(import.meta.url);
let stripePackage: typeof Stripe | null = null;
/** The package, loaded on first use: about 20 MB of memory that a server without Stripe never needs. */
const stripeSdk = (): typeof Stripe => {
  stripePackage ??= require('stripe') as typeof Stripe;
  return stripePackage;
};

/** Stripe's own tolerance for signed timestamps, which the contract adopts. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

function clientFor(config: Config['stripe']): Stripe | null {
  if (!config.secretKey) return null;
  const options: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 20_000 };
  if (config.apiBase) {
    const base = new URL(config.apiBase);
    options.host = base.hostname;
    options.port = base.port || (base.protocol === 'https:' ? 443 : 80);
    options.protocol = base.protocol === 'https:' ? 'https' : 'http';
  }
  return new (stripeSdk())(config.secretKey, options);
}

/**
 * Errors from Stripe's API are a dependency failing: 503, with Stripe's own message (written for API users, no
 * secret). Anything else thrown on the way (a network error, a bug) keeps its message out of the answer.
 */
async function upstream<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw error;
    const message =
      error instanceof stripeSdk().errors.StripeError && !(error instanceof stripeSdk().errors.StripeConnectionError)
        ? `: ${error.message}`
        : '.';
    throw new AppError('service_unavailable', `The payment provider refused or did not answer${message}`);
  }
}

export function createStripeProvider(config: Config['stripe']): PaymentProvider | null {
  const stripe = clientFor(config);
  if (!stripe) return null;
  return {
    name: 'stripe',

    async ensureCustomer({ accountId, email, existing }) {
      if (existing) return existing;
      const customer = await upstream(() =>
        stripe.customers.create(
          { ...(email ? { email } : {}), metadata: { account_id: String(accountId) } },
          // A retried request (network blip) makes the customer once.
          { idempotencyKey: `customer-account-${accountId}` },
        ),
      );
      return customer.id;
    },

    async checkout({ accountId, customerId, item, successUrl, cancelUrl }) {
      const metadata: Record<string, string> = { account_id: String(accountId), [item.kind]: item.slug };
      const priceData = {
        currency: item.currency,
        unit_amount: item.priceCents,
        product_data: { name: item.kind === 'plan' ? `${item.name} plan` : item.name },
      };
      const session = await upstream(() =>
        stripe.checkout.sessions.create({
          customer: customerId,
          client_reference_id: String(accountId),
          metadata,
          success_url: successUrl,
          cancel_url: cancelUrl,
          ...(item.kind === 'plan'
            ? {
                mode: 'subscription' as const,
                line_items: [{ quantity: 1, price_data: { ...priceData, recurring: { interval: item.interval } } }],
                // Later events (invoices, subscription changes) carry these, whatever order they arrive in.
                subscription_data: { metadata },
              }
            : {
                mode: 'payment' as const,
                line_items: [{ quantity: 1, price_data: priceData }],
                payment_intent_data: { metadata },
              }),
        }),
      );
      if (!session.url) throw new AppError('service_unavailable', 'The payment provider gave no checkout URL.');
      return { id: session.id, url: session.url };
    },

    async portal(customerId, returnUrl) {
      const session = await upstream(() => stripe.billingPortal.sessions.create({ customer: customerId, return_url: returnUrl }));
      return { url: session.url };
    },
  };
}

export interface VerifiedEvent {
  id: string;
  type: string;
  created: number;
  payload: Record<string, unknown>;
}

/**
 * Checks Stripe's `t=..,v1=..` signature over the raw body with the package's own verifier (HMAC-SHA256,
 * constant-time compare, 300 s tolerance). Any failure, or no secret configured, is a 400.
 */
export function verifyStripeEvent(
  rawBody: string | undefined,
  header: string | string[] | undefined,
  secret: string | null,
): VerifiedEvent {
  if (!secret)
    throw new AppError('validation_error', 'Stripe webhooks are not configured on this server (set STRIPE_WEBHOOK_SECRET).');
  if (typeof header !== 'string' || header === '')
    throw new AppError('validation_error', 'The Stripe-Signature header is missing.');
  if (rawBody === undefined) throw new AppError('validation_error', 'The webhook body must be JSON.');
  let event: Stripe.Event;
  try {
    event = stripeSdk().webhooks.constructEvent(rawBody, header, secret, SIGNATURE_TOLERANCE_SECONDS);
  } catch (error) {
    throw new AppError(
      'validation_error',
      `Invalid Stripe signature: ${error instanceof Error ? error.message : 'verification failed'}`,
    );
  }
  // The package refuses only timestamps older than the tolerance; one as far ahead is refused the same way, so a
  // signed delivery cannot be kept for replay later (the timestamp is covered by the signature checked above).
  const signedAt = Number(/(?:^|,)\s*t=(\d+)/.exec(header)?.[1]);
  if (!Number.isFinite(signedAt) || signedAt - Math.floor(Date.now() / 1000) > SIGNATURE_TOLERANCE_SECONDS) {
    throw new AppError('validation_error', 'Invalid Stripe signature: the timestamp is outside the tolerance zone.');
  }
  if (typeof event.id !== 'string' || typeof event.type !== 'string') {
    throw new AppError('validation_error', 'The event has no id or type.');
  }
  return { id: event.id, type: event.type, created: event.created, payload: event as unknown as Record<string, unknown> };
}
