DROP INDEX "planner_clusters_account_id_site_id_sector_id_created_at_id_index";--> statement-breakpoint
DROP INDEX "planner_clusters_account_id_volume_id_index";--> statement-breakpoint
DROP INDEX "planner_content_ideas_account_id_created_at_id_index";--> statement-breakpoint
DROP INDEX "planner_keywords_account_id_created_at_id_index";--> statement-breakpoint
DROP INDEX "planner_keywords_account_id_volume_id_index";--> statement-breakpoint
DROP INDEX "planner_keywords_account_id_site_id_sector_id_status_volume_index";--> statement-breakpoint
DROP INDEX "writer_tasks_account_id_created_at_id_index";--> statement-breakpoint
CREATE INDEX "planner_clusters_account_id_site_id_sector_id_created_at_id_index" ON "planner_clusters" USING btree ("account_id","site_id","sector_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_clusters_account_id_volume_id_index" ON "planner_clusters" USING btree ("account_id","volume" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_content_ideas_account_id_created_at_id_index" ON "planner_content_ideas" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_keywords_account_id_created_at_id_index" ON "planner_keywords" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_keywords_account_id_volume_id_index" ON "planner_keywords" USING btree ("account_id","volume" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_keywords_account_id_site_id_sector_id_status_volume_index" ON "planner_keywords" USING btree ("account_id","site_id","sector_id","status","volume" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "writer_tasks_account_id_created_at_id_index" ON "writer_tasks" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);