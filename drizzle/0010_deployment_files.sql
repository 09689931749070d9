CREATE TABLE "publisher_deployment_files" (
	"deployment_id" integer NOT NULL,
	"account_id" integer NOT NULL,
	"path" varchar(1000) NOT NULL,
	"key" varchar(300) NOT NULL,
	"content_type" varchar(100) NOT NULL,
	"bytes" integer NOT NULL,
	"sha256" varchar(64) NOT NULL,
	CONSTRAINT "publisher_deployment_files_deployment_id_path_pk" PRIMARY KEY("deployment_id","path")
);
--> statement-breakpoint
ALTER TABLE "publisher_deployment_files" ADD CONSTRAINT "publisher_deployment_files_deployment_id_publisher_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."publisher_deployments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publisher_deployment_files" ADD CONSTRAINT "publisher_deployment_files_account_id_auth_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."auth_accounts"("id") ON DELETE cascade ON UPDATE no action;