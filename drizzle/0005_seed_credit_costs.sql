-- Credits per operation (shared/DOMAIN.md "costs"); staff edit them at /api/v1/admin/credit-costs/.
-- A request of `units` costs ceil(units / per_units) * credits. The free operations are listed so an estimate
-- of them answers 0 instead of "unknown operation". Re-running is harmless.
INSERT INTO "billing_credit_costs" ("operation", "credits", "per_units", "unit", "description") VALUES
  ('clustering_ai', 1, 20, 'keyword', 'AI clustering: 1 credit per 20 keywords'),
  ('idea_generation', 2, 1, 'cluster', 'Content ideas: 2 credits per cluster'),
  ('content_generation', 1, 100, 'target word', 'Article writing: 1 credit per 100 target words'),
  ('image_prompts', 1, 1, 'content', 'Image prompts: 1 credit per content'),
  ('image_generation', 5, 1, 'image', 'Image generation: 5 credits per image'),
  ('optimization', 1, 500, 'word', 'AI optimization: 1 credit per 500 words'),
  ('clustering_lexical', 0, 1, 'keyword', 'Lexical clustering is free'),
  ('linking', 0, 1, 'content', 'Internal linking is free'),
  ('publishing', 0, 1, 'content', 'Publishing is free')
ON CONFLICT ("operation") DO NOTHING;
--> statement-breakpoint
-- Accounts made before billing existed get the free-plan subscription row the renewal job works from.
INSERT INTO "billing_subscriptions" ("account_id", "plan_id", "status", "current_period_start", "current_period_end")
SELECT "id", "plan_id", 'active', now(), now() + interval '1 month' FROM "auth_accounts"
ON CONFLICT ("account_id") DO NOTHING;
--> statement-breakpoint
-- ... and an opening ledger row for any balance they already hold, so the balance equals the ledger's sum.
INSERT INTO "billing_credit_transactions" ("account_id", "amount", "type", "balance_after", "description", "ref")
SELECT "id", "credits", 'adjustment', "credits", 'Opening balance', 'opening:' || "id" FROM "auth_accounts" WHERE "credits" <> 0
ON CONFLICT ("ref") DO NOTHING;
