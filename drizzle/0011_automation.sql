CREATE TABLE "automation_configs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "automation_configs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"is_enabled" boolean DEFAULT false NOT NULL,
	"schedule" jsonb NOT NULL,
	"stages" jsonb NOT NULL,
	"ideas_per_cluster" integer DEFAULT 3 NOT NULL,
	"in_article_images" integer DEFAULT 2 NOT NULL,
	"require_approval" boolean DEFAULT true NOT NULL,
	"auto_publish" boolean DEFAULT false NOT NULL,
	"publish_status" varchar(10) DEFAULT 'publish' NOT NULL,
	"max_credits_per_run" integer,
	"next_run_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "automation_run_logs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "automation_run_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"run_id" integer NOT NULL,
	"stage" varchar(30),
	"level" varchar(10) DEFAULT 'info' NOT NULL,
	"message" varchar(1000) NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "automation_run_units" (
	"account_id" integer NOT NULL,
	"run_id" integer NOT NULL,
	"stage" varchar(30) NOT NULL,
	"unit" integer NOT NULL,
	"outcome" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "automation_run_units_run_id_stage_unit_pk" PRIMARY KEY("run_id","stage","unit")
);
--> statement-breakpoint
CREATE TABLE "automation_runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "automation_runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"trigger" varchar(20) NOT NULL,
	"status" varchar(20) DEFAULT 'queued' NOT NULL,
	"current_stage" varchar(30),
	"stages" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"settings" jsonb NOT NULL,
	"plan" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"credits_used" integer DEFAULT 0 NOT NULL,
	"estimated_credits" integer DEFAULT 0 NOT NULL,
	"task_id" integer,
	"actor_id" integer,
	"scheduled_for" timestamp (3) with time zone,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"error" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "automation_configs" ADD CONSTRAINT "automation_configs_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_configs" ADD CONSTRAINT "automation_configs_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_run_logs" ADD CONSTRAINT "automation_run_logs_run_id_automation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."automation_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_run_units" ADD CONSTRAINT "automation_run_units_run_id_automation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."automation_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_runs" ADD CONSTRAINT "automation_runs_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_runs" ADD CONSTRAINT "automation_runs_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "automation_configs_site_id_index" ON "automation_configs" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "automation_configs_next_run_at_index" ON "automation_configs" USING btree ("next_run_at");--> statement-breakpoint
CREATE INDEX "automation_run_logs_run_id_id_index" ON "automation_run_logs" USING btree ("run_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "automation_runs_one_active_per_site" ON "automation_runs" USING btree ("site_id") WHERE "automation_runs"."status" in ('queued', 'running', 'paused');--> statement-breakpoint
CREATE UNIQUE INDEX "automation_runs_once_per_due_time" ON "automation_runs" USING btree ("site_id","scheduled_for");--> statement-breakpoint
CREATE INDEX "automation_runs_account_id_created_at_id_index" ON "automation_runs" USING btree ("account_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);