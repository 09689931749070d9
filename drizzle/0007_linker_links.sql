CREATE TABLE "linker_links" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "linker_links_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"source_id" integer NOT NULL,
	"target_id" integer NOT NULL,
	"anchor" varchar(500) NOT NULL,
	"anchor_offset" integer NOT NULL,
	"context" text DEFAULT '' NOT NULL,
	"score" double precision NOT NULL,
	"target_url" text NOT NULL,
	"status" varchar(20) DEFAULT 'suggested' NOT NULL,
	"source_version" integer NOT NULL,
	"applied_version" integer,
	"task_id" integer,
	"applied_at" timestamp (3) with time zone,
	"decided_by_id" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "linker_links" ADD CONSTRAINT "linker_links_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linker_links" ADD CONSTRAINT "linker_links_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linker_links" ADD CONSTRAINT "linker_links_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linker_links" ADD CONSTRAINT "linker_links_source_id_writer_content_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."writer_content"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linker_links" ADD CONSTRAINT "linker_links_target_id_writer_content_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."writer_content"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linker_links" ADD CONSTRAINT "linker_links_decided_by_id_auth_users_id_fk" FOREIGN KEY ("decided_by_id") REFERENCES "public"."auth_users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "linker_links_source_id_target_id_index" ON "linker_links" USING btree ("source_id","target_id");--> statement-breakpoint
CREATE INDEX "linker_links_account_id_created_at_id_index" ON "linker_links" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "linker_links_target_id_index" ON "linker_links" USING btree ("target_id");--> statement-breakpoint
CREATE INDEX "linker_links_account_id_status_id_index" ON "linker_links" USING btree ("account_id","status","id") WHERE "linker_links"."status" = 'suggested';