ALTER TABLE "events_events" ADD COLUMN "site_id" integer;--> statement-breakpoint
ALTER TABLE "system_tasks" ADD COLUMN "site_id" integer;--> statement-breakpoint
CREATE INDEX "events_events_account_id_site_id_id_index" ON "events_events" USING btree ("account_id","site_id","id");--> statement-breakpoint
CREATE INDEX "system_tasks_account_id_site_id_id_index" ON "system_tasks" USING btree ("account_id","site_id","id");