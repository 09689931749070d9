-- The free plan every new account starts on (shared/DOMAIN.md "billing"). Re-running is harmless.
INSERT INTO "billing_plans" ("name", "slug", "price_cents", "currency", "interval", "monthly_credits", "max_sites", "max_users", "max_keywords", "features")
VALUES ('Free', 'free', 0, 'usd', 'month', 200, 5, 5, 100000, '["planner", "writer", "linker", "optimizer", "publisher"]'::jsonb)
ON CONFLICT ("slug") DO NOTHING;
