CREATE TABLE "system_released_files" (
	"storage_key" varchar(300) PRIMARY KEY NOT NULL,
	"released_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- One list of released files for every module (system.purge_released_files deletes them): the writer's move over.
INSERT INTO system_released_files (storage_key, released_at)
  SELECT storage_key, released_at FROM writer_released_files ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- An image row's file is released when the row goes (by any route or cascade) or names another file.
CREATE OR REPLACE FUNCTION writer_release_image_file() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.storage_key IS NOT NULL AND (TG_OP = 'DELETE' OR NEW.storage_key IS DISTINCT FROM OLD.storage_key) THEN
    INSERT INTO system_released_files (storage_key) VALUES (OLD.storage_key) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- A deployment's files are released when its manifest rows go: a pruned or deleted deployment, a site or an
-- account deleted (by cascade), a rebuilt manifest (which takes back the keys it names again, in its transaction).
CREATE FUNCTION publisher_release_deployment_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO system_released_files (storage_key) SELECT DISTINCT key FROM released ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER publisher_deployment_files_release AFTER DELETE ON publisher_deployment_files
  REFERENCING OLD TABLE AS released FOR EACH STATEMENT EXECUTE FUNCTION publisher_release_deployment_files();
