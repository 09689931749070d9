CREATE TABLE "optimizer_runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "optimizer_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"content_id" integer NOT NULL,
	"task_id" integer,
	"rules_version" varchar(10) NOT NULL,
	"score_before" integer NOT NULL,
	"score_after" integer NOT NULL,
	"seo_score_before" integer,
	"seo_score_after" integer,
	"readability_score_before" integer NOT NULL,
	"readability_score_after" integer NOT NULL,
	"checks_before" jsonb NOT NULL,
	"checks_after" jsonb NOT NULL,
	"applied" boolean NOT NULL,
	"version" integer,
	"changes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"credits" integer NOT NULL,
	"model" varchar(200) NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "optimizer_runs" ADD CONSTRAINT "optimizer_runs_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "optimizer_runs" ADD CONSTRAINT "optimizer_runs_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "optimizer_runs" ADD CONSTRAINT "optimizer_runs_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "optimizer_runs" ADD CONSTRAINT "optimizer_runs_content_id_writer_content_id_fk" FOREIGN KEY ("content_id") REFERENCES "public"."writer_content"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "optimizer_runs_account_id_created_at_id_index" ON "optimizer_runs" USING btree ("account_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "optimizer_runs_content_id_index" ON "optimizer_runs" USING btree ("content_id");