import { sql } from 'drizzle-orm';
import { rowsOf } from './factories.js';
import type { TestApp } from './harness.js';

/** What billing's tests (the ledger, staff's routes, Stripe) read and make alike. */

/** A paid plan as staff create it through /api/v1/admin/plans/. */
export const PRO_PLAN = {
  name: 'Pro',
  slug: 'pro',
  price_cents: 4900,
  monthly_credits: 5000,
  max_sites: 50,
  max_users: 20,
  max_keywords: 1_000_000,
};

/** The balance kept on the account's row. */
export async function balanceOf(t: TestApp, accountId: number): Promise<number> {
  const [row] = await rowsOf<{ credits: number }>(t, sql`select credits from auth_accounts where id = ${accountId}`);
  return Number(row?.credits);
}

/** The sum of the account's ledger, which the balance must always equal. */
export async function ledgerSum(t: TestApp, accountId: number): Promise<number> {
  const [row] = await rowsOf<{ s: number }>(
    t,
    sql`select coalesce(sum(amount), 0)::int as s from billing_credit_transactions where account_id = ${accountId}`,
  );
  return Number(row?.s);
}
