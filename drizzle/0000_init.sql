CREATE TABLE "system_idempotency_keys" (
	"account_id" integer NOT NULL,
	"key" varchar(255) NOT NULL,
	"method" varchar(10) NOT NULL,
	"path" text NOT NULL,
	"body_sha256" varchar(64) NOT NULL,
	"response_status" smallint,
	"response_body" text,
	"response_content_type" varchar(200),
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "system_idempotency_keys_account_id_key_pk" PRIMARY KEY("account_id","key")
);
--> statement-breakpoint
CREATE TABLE "system_outbox" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "system_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"to" varchar(254) NOT NULL,
	"subject" varchar(300) NOT NULL,
	"text" text NOT NULL,
	"status" varchar(10) NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account_api_keys" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "account_api_keys_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"name" varchar(120) NOT NULL,
	"prefix" varchar(20) NOT NULL,
	"key_hash" varchar(64) NOT NULL,
	"scopes" varchar(10)[] NOT NULL,
	"site_id" integer,
	"created_by" integer,
	"expires_at" timestamp (3) with time zone,
	"last_used_at" timestamp (3) with time zone,
	"revoked_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account_invitations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "account_invitations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"email" varchar(254) NOT NULL,
	"role" varchar(20) NOT NULL,
	"site_ids" integer[] DEFAULT '{}' NOT NULL,
	"token_hash" varchar(64) NOT NULL,
	"invited_by" integer,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"accepted_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_accounts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_accounts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(200) NOT NULL,
	"slug" varchar(220) NOT NULL,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"plan_id" integer NOT NULL,
	"credits" integer DEFAULT 0 NOT NULL,
	"owner_id" integer,
	"timezone" varchar(64) DEFAULT 'UTC' NOT NULL,
	"billing_email" varchar(254),
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_industries" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_industries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(120) NOT NULL,
	"slug" varchar(120) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"suggested_sectors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_memberships" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_memberships_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"user_id" integer NOT NULL,
	"role" varchar(20) NOT NULL,
	"site_ids" integer[] DEFAULT '{}' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_password_resets" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_password_resets_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"token_hash" varchar(64) NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"used_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_refresh_tokens" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_refresh_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"session_id" integer NOT NULL,
	"token_hash" varchar(64) NOT NULL,
	"used_at" timestamp (3) with time zone,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_sectors" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_sectors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"name" varchar(200) NOT NULL,
	"slug" varchar(220) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_sessions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_sessions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"account_id" integer,
	"cookie_hash" varchar(64),
	"user_agent" varchar(400) DEFAULT '' NOT NULL,
	"ip" varchar(64) DEFAULT '' NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"revoked_reason" varchar(40),
	"last_used_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_sites" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_sites_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"name" varchar(200) NOT NULL,
	"slug" varchar(220) NOT NULL,
	"url" varchar(500) DEFAULT '' NOT NULL,
	"industry" varchar(120),
	"description" text DEFAULT '' NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_users" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "auth_users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"email" varchar(254) NOT NULL,
	"password_hash" text NOT NULL,
	"first_name" varchar(150) DEFAULT '' NOT NULL,
	"last_name" varchar(150) DEFAULT '' NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"is_staff" boolean DEFAULT false NOT NULL,
	"is_superuser" boolean DEFAULT false NOT NULL,
	"last_account_id" integer,
	"last_login_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_credit_costs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_credit_costs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"operation" varchar(60) NOT NULL,
	"credits" integer NOT NULL,
	"per_units" integer DEFAULT 1 NOT NULL,
	"unit" varchar(40) NOT NULL,
	"description" varchar(500) DEFAULT '' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_credit_costs_positive" CHECK ("billing_credit_costs"."credits" >= 0 and "billing_credit_costs"."per_units" >= 1)
);
--> statement-breakpoint
CREATE TABLE "billing_credit_packs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_credit_packs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(120) NOT NULL,
	"slug" varchar(120) NOT NULL,
	"credits" integer NOT NULL,
	"price_cents" integer NOT NULL,
	"currency" varchar(3) DEFAULT 'usd' NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_credit_packs_positive" CHECK ("billing_credit_packs"."credits" > 0 and "billing_credit_packs"."price_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "billing_credit_transactions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_credit_transactions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"amount" integer NOT NULL,
	"type" varchar(20) NOT NULL,
	"balance_after" integer NOT NULL,
	"operation" varchar(60),
	"object_type" varchar(60),
	"object_id" integer,
	"description" varchar(500) DEFAULT '' NOT NULL,
	"ref" varchar(255) NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_credit_transactions_balance" CHECK ("billing_credit_transactions"."balance_after" >= 0)
);
--> statement-breakpoint
CREATE TABLE "billing_plans" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_plans_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(120) NOT NULL,
	"slug" varchar(120) NOT NULL,
	"price_cents" integer DEFAULT 0 NOT NULL,
	"currency" varchar(3) DEFAULT 'usd' NOT NULL,
	"interval" varchar(10) DEFAULT 'month' NOT NULL,
	"monthly_credits" integer DEFAULT 0 NOT NULL,
	"max_sites" integer NOT NULL,
	"max_users" integer NOT NULL,
	"max_keywords" integer NOT NULL,
	"features" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_subscriptions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_subscriptions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"plan_id" integer NOT NULL,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"provider" varchar(20),
	"provider_customer_id" varchar(120),
	"provider_subscription_id" varchar(120),
	"provider_event_at" timestamp (3) with time zone,
	"cancel_at_period_end" boolean DEFAULT false NOT NULL,
	"current_period_start" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"current_period_end" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_usage" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_usage_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"operation" varchar(60) NOT NULL,
	"model" varchar(120) NOT NULL,
	"tokens_in" integer DEFAULT 0 NOT NULL,
	"tokens_out" integer DEFAULT 0 NOT NULL,
	"credits" integer DEFAULT 0 NOT NULL,
	"cost_micros" integer DEFAULT 0 NOT NULL,
	"latency_ms" integer DEFAULT 0 NOT NULL,
	"ref" varchar(255),
	"object_type" varchar(60),
	"object_id" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "billing_webhook_events" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "billing_webhook_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"provider" varchar(20) NOT NULL,
	"event_id" varchar(255) NOT NULL,
	"type" varchar(120) NOT NULL,
	"payload" jsonb NOT NULL,
	"status" varchar(20) DEFAULT 'received' NOT NULL,
	"account_id" integer,
	"error" varchar(1000),
	"processed_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events_events" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"type" varchar(100) NOT NULL,
	"source_agent" varchar(100) NOT NULL,
	"actor_id" integer,
	"object_type" varchar(60),
	"object_id" integer,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "planner_clusters" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "planner_clusters_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"name" varchar(300) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"status" varchar(20) DEFAULT 'new' NOT NULL,
	"keywords_count" integer DEFAULT 0 NOT NULL,
	"volume" integer DEFAULT 0 NOT NULL,
	"difficulty" smallint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "planner_content_ideas" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "planner_content_ideas_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"cluster_id" integer,
	"title" varchar(300) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"outline" jsonb DEFAULT '{"sections":[]}'::jsonb NOT NULL,
	"content_type" varchar(20) DEFAULT 'post' NOT NULL,
	"content_structure" varchar(20) DEFAULT 'article' NOT NULL,
	"target_keywords" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"estimated_word_count" integer,
	"status" varchar(20) DEFAULT 'new' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "planner_keywords" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "planner_keywords_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"keyword" varchar(300) NOT NULL,
	"volume" integer DEFAULT 0 NOT NULL,
	"difficulty" smallint DEFAULT 0 NOT NULL,
	"cpc" numeric(10, 2) DEFAULT '0.00' NOT NULL,
	"intent" varchar(20),
	"status" varchar(20) DEFAULT 'new' NOT NULL,
	"cluster_id" integer,
	"source" varchar(20) DEFAULT 'manual' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "system_ai_settings" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "system_ai_settings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"model" varchar(200),
	"temperature" real,
	"language" varchar(60) DEFAULT 'English' NOT NULL,
	"tone" varchar(120) DEFAULT 'professional' NOT NULL,
	"default_word_count" integer DEFAULT 1500 NOT NULL,
	"image_model" varchar(200),
	"image_size" varchar(20) DEFAULT '1024x1024' NOT NULL,
	"image_style" varchar(200) DEFAULT '' NOT NULL,
	"brand_guidelines" text DEFAULT '' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "system_ai_settings_account_id_unique" UNIQUE("account_id")
);
--> statement-breakpoint
CREATE TABLE "system_author_profiles" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "system_author_profiles_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"name" varchar(200) NOT NULL,
	"tone" varchar(120) DEFAULT '' NOT NULL,
	"persona" text DEFAULT '' NOT NULL,
	"guidelines" text DEFAULT '' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "system_job_units" (
	"job_key" varchar(100) NOT NULL,
	"unit" varchar(200) NOT NULL,
	"result" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "system_job_units_job_key_unit_pk" PRIMARY KEY("job_key","unit")
);
--> statement-breakpoint
CREATE TABLE "system_prompts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "system_prompts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"function" varchar(40) NOT NULL,
	"system_template" text NOT NULL,
	"user_template" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "system_tasks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "system_tasks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"actor_id" integer,
	"type" varchar(100) NOT NULL,
	"status" varchar(20) DEFAULT 'queued' NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"progress" jsonb DEFAULT '{"current":0,"total":null,"message":""}'::jsonb NOT NULL,
	"result" jsonb,
	"error" jsonb,
	"job_id" uuid,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "writer_tasks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "writer_tasks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"site_id" integer NOT NULL,
	"sector_id" integer NOT NULL,
	"title" varchar(300) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"idea_id" integer,
	"cluster_id" integer,
	"keywords" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"content_type" varchar(20) DEFAULT 'post' NOT NULL,
	"content_structure" varchar(20) DEFAULT 'article' NOT NULL,
	"word_count_target" integer NOT NULL,
	"author_profile_id" integer,
	"status" varchar(20) DEFAULT 'queued' NOT NULL,
	"error" text,
	"content_id" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "account_api_keys" ADD CONSTRAINT "account_api_keys_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_api_keys" ADD CONSTRAINT "account_api_keys_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_api_keys" ADD CONSTRAINT "account_api_keys_created_by_auth_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."auth_users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_invitations" ADD CONSTRAINT "account_invitations_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account_invitations" ADD CONSTRAINT "account_invitations_invited_by_auth_users_id_fk" FOREIGN KEY ("invited_by") REFERENCES "public"."auth_users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_accounts" ADD CONSTRAINT "auth_accounts_plan_id_billing_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."billing_plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_memberships" ADD CONSTRAINT "auth_memberships_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_memberships" ADD CONSTRAINT "auth_memberships_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_password_resets" ADD CONSTRAINT "auth_password_resets_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_refresh_tokens" ADD CONSTRAINT "auth_refresh_tokens_session_id_auth_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."auth_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sectors" ADD CONSTRAINT "auth_sectors_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sectors" ADD CONSTRAINT "auth_sectors_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD CONSTRAINT "auth_sessions_user_id_auth_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."auth_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sessions" ADD CONSTRAINT "auth_sessions_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth_sites" ADD CONSTRAINT "auth_sites_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "billing_subscriptions" ADD CONSTRAINT "billing_subscriptions_plan_id_billing_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."billing_plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_clusters" ADD CONSTRAINT "planner_clusters_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_clusters" ADD CONSTRAINT "planner_clusters_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_clusters" ADD CONSTRAINT "planner_clusters_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_content_ideas" ADD CONSTRAINT "planner_content_ideas_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_content_ideas" ADD CONSTRAINT "planner_content_ideas_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_content_ideas" ADD CONSTRAINT "planner_content_ideas_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_content_ideas" ADD CONSTRAINT "planner_content_ideas_cluster_id_planner_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."planner_clusters"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_keywords" ADD CONSTRAINT "planner_keywords_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_keywords" ADD CONSTRAINT "planner_keywords_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_keywords" ADD CONSTRAINT "planner_keywords_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "planner_keywords" ADD CONSTRAINT "planner_keywords_cluster_id_planner_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."planner_clusters"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "system_ai_settings" ADD CONSTRAINT "system_ai_settings_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "system_author_profiles" ADD CONSTRAINT "system_author_profiles_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "system_prompts" ADD CONSTRAINT "system_prompts_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_tasks" ADD CONSTRAINT "writer_tasks_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_tasks" ADD CONSTRAINT "writer_tasks_site_id_auth_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."auth_sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_tasks" ADD CONSTRAINT "writer_tasks_sector_id_auth_sectors_id_fk" FOREIGN KEY ("sector_id") REFERENCES "public"."auth_sectors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_tasks" ADD CONSTRAINT "writer_tasks_idea_id_planner_content_ideas_id_fk" FOREIGN KEY ("idea_id") REFERENCES "public"."planner_content_ideas"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "writer_tasks" ADD CONSTRAINT "writer_tasks_cluster_id_planner_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."planner_clusters"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "system_idempotency_keys_created_at_index" ON "system_idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "system_outbox_created_at_index" ON "system_outbox" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "account_api_keys_key_hash_index" ON "account_api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "account_api_keys_account_id_created_at_index" ON "account_api_keys" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "account_invitations_token_hash_index" ON "account_invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "account_invitations_account_id_index" ON "account_invitations" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_accounts_slug_index" ON "auth_accounts" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_industries_slug_index" ON "auth_industries" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_memberships_account_id_user_id_index" ON "auth_memberships" USING btree ("account_id","user_id");--> statement-breakpoint
CREATE INDEX "auth_memberships_user_id_index" ON "auth_memberships" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_password_resets_token_hash_index" ON "auth_password_resets" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "auth_password_resets_user_id_index" ON "auth_password_resets" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_refresh_tokens_token_hash_index" ON "auth_refresh_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "auth_refresh_tokens_session_id_index" ON "auth_refresh_tokens" USING btree ("session_id");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_sectors_site_id_slug_index" ON "auth_sectors" USING btree ("site_id","slug");--> statement-breakpoint
CREATE INDEX "auth_sectors_account_id_created_at_index" ON "auth_sectors" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "auth_sessions_user_id_index" ON "auth_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_sessions_cookie_hash_index" ON "auth_sessions" USING btree ("cookie_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_sites_account_id_slug_index" ON "auth_sites" USING btree ("account_id","slug");--> statement-breakpoint
CREATE INDEX "auth_sites_account_id_created_at_index" ON "auth_sites" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "auth_users_email_unique" ON "auth_users" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "billing_credit_costs_operation_index" ON "billing_credit_costs" USING btree ("operation");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_credit_packs_slug_index" ON "billing_credit_packs" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_credit_transactions_ref_index" ON "billing_credit_transactions" USING btree ("ref");--> statement-breakpoint
CREATE INDEX "billing_credit_transactions_account_id_id_index" ON "billing_credit_transactions" USING btree ("account_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_plans_slug_index" ON "billing_plans" USING btree ("slug");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_subscriptions_account_id_index" ON "billing_subscriptions" USING btree ("account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_subscriptions_provider_subscription_id_index" ON "billing_subscriptions" USING btree ("provider_subscription_id");--> statement-breakpoint
CREATE INDEX "billing_subscriptions_provider_customer_id_index" ON "billing_subscriptions" USING btree ("provider_customer_id");--> statement-breakpoint
CREATE INDEX "billing_subscriptions_current_period_end_index" ON "billing_subscriptions" USING btree ("current_period_end");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_usage_ref_index" ON "billing_usage" USING btree ("ref");--> statement-breakpoint
CREATE INDEX "billing_usage_account_id_id_index" ON "billing_usage" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "billing_usage_created_at_index" ON "billing_usage" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "billing_webhook_events_provider_event_id_index" ON "billing_webhook_events" USING btree ("provider","event_id");--> statement-breakpoint
CREATE INDEX "events_events_account_id_id_index" ON "events_events" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "events_events_account_id_type_id_index" ON "events_events" USING btree ("account_id","type","id");--> statement-breakpoint
CREATE INDEX "events_events_account_id_object_type_object_id_id_index" ON "events_events" USING btree ("account_id","object_type","object_id","id");--> statement-breakpoint
CREATE INDEX "planner_clusters_account_id_site_id_sector_id_created_at_id_index" ON "planner_clusters" USING btree ("account_id","site_id","sector_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_clusters_account_id_volume_id_index" ON "planner_clusters" USING btree ("account_id","volume" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_content_ideas_account_id_created_at_id_index" ON "planner_content_ideas" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_content_ideas_cluster_id_index" ON "planner_content_ideas" USING btree ("cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "planner_keywords_site_id_sector_id_keyword_index" ON "planner_keywords" USING btree ("site_id","sector_id","keyword");--> statement-breakpoint
CREATE INDEX "planner_keywords_account_id_created_at_id_index" ON "planner_keywords" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_keywords_account_id_volume_id_index" ON "planner_keywords" USING btree ("account_id","volume" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_keywords_account_id_site_id_sector_id_status_volume_index" ON "planner_keywords" USING btree ("account_id","site_id","sector_id","status","volume" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "planner_keywords_cluster_id_index" ON "planner_keywords" USING btree ("cluster_id") WHERE "planner_keywords"."cluster_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "system_author_profiles_account_id_created_at_id_index" ON "system_author_profiles" USING btree ("account_id","created_at","id");--> statement-breakpoint
CREATE INDEX "system_job_units_created_at_index" ON "system_job_units" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "system_prompts_account_id_function_index" ON "system_prompts" USING btree ("account_id","function");--> statement-breakpoint
CREATE INDEX "system_tasks_account_id_id_index" ON "system_tasks" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "system_tasks_account_id_status_id_index" ON "system_tasks" USING btree ("account_id","status","id");--> statement-breakpoint
CREATE INDEX "writer_tasks_account_id_created_at_id_index" ON "writer_tasks" USING btree ("account_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "writer_tasks_account_id_status_id_index" ON "writer_tasks" USING btree ("account_id","status","id");--> statement-breakpoint
CREATE INDEX "writer_tasks_idea_id_index" ON "writer_tasks" USING btree ("idea_id");