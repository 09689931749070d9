import type { Db } from '../../core/db.js';
import type { AccountBalances } from '../billing/billing.service.js';
import * as repo from './auth.repository.js';

/**
 * The balance and the plan live on auth's accounts; billing moves them, through this, inside its own
 * transactions (the ledger row and the balance commit together, the account's row locked first).
 */
export function createAccountBalances(db: Db): AccountBalances {
  return {
    lock: (tx, accountId) => repo.lockCredits(tx, accountId),
    read: (accountId) => repo.credits(db, accountId),
    move: (tx, accountId, amount) => repo.moveCredits(tx, accountId, amount),
    setPlan: (tx, accountId, planId) => repo.setAccountPlan(tx, accountId, planId),
    totals: () => repo.creditTotals(db),
    account: (accountId) => repo.accountWithCredits(db, accountId),
    list: (query) => repo.listAccounts(db, query),
  };
}
