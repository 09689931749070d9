CREATE TABLE "integration_integrations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "integration_integrations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"platform" varchar(20) NOT NULL,
	"base_url" varchar(500) NOT NULL,
	"rest_root" varchar(600),
	"username" varchar(200) DEFAULT '' NOT NULL,
	"credentials" text,
	"webhook_secret" text,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"last_checked_at" timestamp (3) with time zone,
	"last_error" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_synced_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "integration_webhook_events" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "integration_webhook_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"integration_id" integer NOT NULL,
	"provider" varchar(50) NOT NULL,
	"event_id" varchar(200) NOT NULL,
	"event_type" varchar(100) DEFAULT '' NOT NULL,
	"payload" jsonb NOT NULL,
	"status" varchar(20) DEFAULT 'received' NOT NULL,
	"error" text,
	"deliveries" integer DEFAULT 1 NOT NULL,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "publisher_deployments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "publisher_deployments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"version" integer NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"url" text,
	"storage_prefix" varchar(300),
	"is_current" boolean DEFAULT false NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"task_id" integer,
	"deployed_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "publisher_records" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "publisher_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"content_id" integer NOT NULL,
	"destination" varchar(20) NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"remote_status" varchar(20) DEFAULT 'publish' NOT NULL,
	"scheduled_for" timestamp (3) with time zone,
	"external_id" varchar(100),
	"external_url" text,
	"remote_media" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"task_id" integer,
	"published_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "integration_integrations" ADD CONSTRAINT "integration_integrations_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_integrations" ADD CONSTRAINT "integration_integrations_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_webhook_events" ADD CONSTRAINT "integration_webhook_events_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_webhook_events" ADD CONSTRAINT "integration_webhook_events_integration_id_integration_integrations_id_fk" FOREIGN KEY ("integration_id") REFERENCES "public"."integration_integrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publisher_deployments" ADD CONSTRAINT "publisher_deployments_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publisher_deployments" ADD CONSTRAINT "publisher_deployments_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publisher_records" ADD CONSTRAINT "publisher_records_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publisher_records" ADD CONSTRAINT "publisher_records_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publisher_records" ADD CONSTRAINT "publisher_records_content_id_writer_content_id_fk" FOREIGN KEY ("content_id") REFERENCES "public"."writer_content"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "integration_integrations_site_id_platform_index" ON "integration_integrations" USING btree ("site_id","platform");--> statement-breakpoint
CREATE INDEX "integration_integrations_account_id_created_at_id_index" ON "integration_integrations" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE UNIQUE INDEX "integration_webhook_events_integration_id_event_id_index" ON "integration_webhook_events" USING btree ("integration_id","event_id");--> statement-breakpoint
CREATE INDEX "integration_webhook_events_account_id_received_at_id_index" ON "integration_webhook_events" USING btree ("account_id","received_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "integration_webhook_events_status_index" ON "integration_webhook_events" USING btree ("status") WHERE "integration_webhook_events"."status" = 'received';--> statement-breakpoint
CREATE UNIQUE INDEX "publisher_deployments_site_id_version_index" ON "publisher_deployments" USING btree ("site_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "publisher_deployments_current_per_site" ON "publisher_deployments" USING btree ("site_id") WHERE "publisher_deployments"."is_current";--> statement-breakpoint
CREATE INDEX "publisher_deployments_account_id_created_at_id_index" ON "publisher_deployments" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE UNIQUE INDEX "publisher_records_content_id_destination_index" ON "publisher_records" USING btree ("content_id","destination");--> statement-breakpoint
CREATE INDEX "publisher_records_account_id_created_at_id_index" ON "publisher_records" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "publisher_records_account_id_status_id_index" ON "publisher_records" USING btree ("account_id","status","id");