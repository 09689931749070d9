ALTER TABLE "events_subscriptions" ALTER COLUMN "secret" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "events_subscriptions" ALTER COLUMN "previous_secret" SET DATA TYPE text;