CREATE TABLE "writer_content" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "writer_content_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"title" varchar(300) NOT NULL,
	"html" text DEFAULT '' NOT NULL,
	"meta_title" varchar(300) DEFAULT '' NOT NULL,
	"meta_description" varchar(500) DEFAULT '' NOT NULL,
	"slug" varchar(200) NOT NULL,
	"primary_keyword" varchar(300) DEFAULT '' NOT NULL,
	"secondary_keywords" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"word_count" integer DEFAULT 0 NOT NULL,
	"categories" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"featured_image_id" integer,
	"source" varchar(20) DEFAULT 'manual' NOT NULL,
	"task_id" integer,
	"cluster_id" integer,
	"status" varchar(20) DEFAULT 'draft' NOT NULL,
	"external_id" varchar(100),
	"external_url" text,
	"provenance" jsonb,
	"version" integer DEFAULT 1 NOT NULL,
	"submitted_at" timestamp (3) with time zone,
	"reviewed_by_id" integer,
	"reviewed_at" timestamp (3) with time zone,
	"review_note" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "writer_content_versions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "writer_content_versions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"content_id" integer NOT NULL,
	"number" integer NOT NULL,
	"title" varchar(300) NOT NULL,
	"html" text NOT NULL,
	"meta_title" varchar(300) NOT NULL,
	"meta_description" varchar(500) NOT NULL,
	"slug" varchar(200) NOT NULL,
	"primary_keyword" varchar(300) NOT NULL,
	"secondary_keywords" jsonb NOT NULL,
	"word_count" integer NOT NULL,
	"created_by_id" integer,
	"reason" varchar(20) NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "writer_images" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "writer_images_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"content_id" integer NOT NULL,
	"image_type" varchar(20) NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"section_heading" varchar(300),
	"prompt" text NOT NULL,
	"alt_text" varchar(500) DEFAULT '' NOT NULL,
	"caption" text DEFAULT '' NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"error" text,
	"storage_key" varchar(200),
	"url" text,
	"mime_type" varchar(50),
	"bytes" integer,
	"width" integer,
	"height" integer,
	"provenance" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_featured_image_id_writer_images_id_fk" FOREIGN KEY ("featured_image_id") REFERENCES "public"."writer_images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_task_id_writer_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."writer_tasks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_cluster_id_planner_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."planner_clusters"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content" ADD CONSTRAINT "writer_content_reviewed_by_id_auth_users_id_fk" FOREIGN KEY ("reviewed_by_id") REFERENCES "public"."auth_users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content_versions" ADD CONSTRAINT "writer_content_versions_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content_versions" ADD CONSTRAINT "writer_content_versions_content_id_writer_content_id_fk" FOREIGN KEY ("content_id") REFERENCES "public"."writer_content"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_content_versions" ADD CONSTRAINT "writer_content_versions_created_by_id_auth_users_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."auth_users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_images" ADD CONSTRAINT "writer_images_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_images" ADD CONSTRAINT "writer_images_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_images" ADD CONSTRAINT "writer_images_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_images" ADD CONSTRAINT "writer_images_content_id_writer_content_id_fk" FOREIGN KEY ("content_id") REFERENCES "public"."writer_content"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "writer_content_site_id_slug_index" ON "writer_content" USING btree ("site_id","slug");--> statement-breakpoint
CREATE INDEX "writer_content_account_id_created_at_id_index" ON "writer_content" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "writer_content_account_id_status_submitted_at_id_index" ON "writer_content" USING btree ("account_id","status","submitted_at","id");--> statement-breakpoint
CREATE INDEX "writer_content_task_id_index" ON "writer_content" USING btree ("task_id") WHERE "writer_content"."task_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "writer_content_cluster_id_index" ON "writer_content" USING btree ("cluster_id") WHERE "writer_content"."cluster_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "writer_content_versions_content_id_number_index" ON "writer_content_versions" USING btree ("content_id","number");--> statement-breakpoint
CREATE INDEX "writer_images_account_id_created_at_id_index" ON "writer_images" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "writer_images_content_id_position_index" ON "writer_images" USING btree ("content_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "writer_images_storage_key_index" ON "writer_images" USING btree ("storage_key");--> statement-breakpoint
ALTER TABLE "writer_tasks" ADD CONSTRAINT "writer_tasks_content_id_writer_content_id_fk" FOREIGN KEY ("content_id") REFERENCES "public"."writer_content"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "writer_tasks_cluster_id_index" ON "writer_tasks" USING btree ("cluster_id") WHERE "writer_tasks"."cluster_id" IS NOT NULL;