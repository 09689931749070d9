-- The trigram operator classes (a contrib extension shipped with Postgres and with PGlite, trusted since Postgres 13).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "planner_keywords_keyword_trgm_idx" ON "planner_keywords" USING gin ("keyword" gin_trgm_ops);
