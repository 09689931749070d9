CREATE TABLE "events_deliveries" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"subscription_id" integer NOT NULL,
	"event_id" integer NOT NULL,
	"event_type" varchar(100) NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"redelivered_after" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now(),
	"last_response_code" integer,
	"last_error" varchar(500),
	"delivered_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events_delivery_attempts" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_delivery_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"delivery_id" integer NOT NULL,
	"attempt" integer NOT NULL,
	"succeeded" boolean NOT NULL,
	"response_code" integer,
	"response_body" text,
	"latency_ms" integer NOT NULL,
	"error" varchar(500),
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events_subscriptions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_subscriptions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"account_id" integer NOT NULL,
	"url" varchar(2000) NOT NULL,
	"description" varchar(500) DEFAULT '' NOT NULL,
	"event_types" varchar(100)[] NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"secret" varchar(100) NOT NULL,
	"previous_secret" varchar(100),
	"previous_secret_expires_at" timestamp (3) with time zone,
	"disabled_reason" varchar(300),
	"failing_since" timestamp (3) with time zone,
	"lease_token" varchar(40),
	"lease_delivery_id" integer,
	"lease_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events_deliveries" ADD CONSTRAINT "events_deliveries_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events_deliveries" ADD CONSTRAINT "events_deliveries_subscription_id_events_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."events_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events_delivery_attempts" ADD CONSTRAINT "events_delivery_attempts_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events_delivery_attempts" ADD CONSTRAINT "events_delivery_attempts_delivery_id_events_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."events_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events_subscriptions" ADD CONSTRAINT "events_subscriptions_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "events_deliveries_subscription_id_event_id_index" ON "events_deliveries" USING btree ("subscription_id","event_id");--> statement-breakpoint
CREATE INDEX "events_deliveries_account_id_id_index" ON "events_deliveries" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "events_deliveries_account_id_subscription_id_id_index" ON "events_deliveries" USING btree ("account_id","subscription_id","id");--> statement-breakpoint
CREATE INDEX "events_deliveries_pending_idx" ON "events_deliveries" USING btree ("next_attempt_at") WHERE "events_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "events_deliveries_pending_order_idx" ON "events_deliveries" USING btree ("subscription_id","event_id") WHERE "events_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "events_delivery_attempts_delivery_id_attempt_index" ON "events_delivery_attempts" USING btree ("delivery_id","attempt");--> statement-breakpoint
CREATE INDEX "events_subscriptions_account_id_id_index" ON "events_subscriptions" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "events_subscriptions_active_idx" ON "events_subscriptions" USING btree ("account_id") WHERE "events_subscriptions"."is_active";--> statement-breakpoint
-- Custom SQL (not generated): the fan-out of events to webhook subscriptions. Every event inserted becomes one
-- delivery per active subscription of its account whose types match (`*` in a pattern matches any run of
-- characters; `_` is literal), in the inserting transaction itself: a rolled-back event delivers nothing, and a
-- committed one has its deliveries even if the process dies right after. Statement-level, so a batch of events
-- costs one query. The dispatcher (events.deliveries.jobs.ts) hears these rows through the change notifications.
CREATE OR REPLACE FUNCTION events_fan_out() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO events_deliveries (account_id, subscription_id, event_id, event_type)
  SELECT e.account_id, s.id, e.id, e.type
    FROM events_fan_out_new e
    JOIN events_subscriptions s ON s.account_id = e.account_id AND s.is_active
   WHERE EXISTS (
     SELECT 1 FROM unnest(s.event_types) AS p(pattern)
      WHERE e.type LIKE replace(replace(p.pattern, '_', '\_'), '*', '%')
   )
  ON CONFLICT (subscription_id, event_id) DO NOTHING;
  RETURN NULL;
END
$fn$;
--> statement-breakpoint
CREATE TRIGGER events_fan_out AFTER INSERT ON events_events
  REFERENCING NEW TABLE AS events_fan_out_new FOR EACH STATEMENT EXECUTE FUNCTION events_fan_out();
