CREATE TABLE "writer_released_files" (
	"storage_key" varchar(200) PRIMARY KEY NOT NULL,
	"released_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- An image row's file is released when the row goes (by any route or cascade) or names another file.
CREATE FUNCTION writer_release_image_file() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.storage_key IS NOT NULL AND (TG_OP = 'DELETE' OR NEW.storage_key IS DISTINCT FROM OLD.storage_key) THEN
    INSERT INTO writer_released_files (storage_key) VALUES (OLD.storage_key) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER writer_images_release_file AFTER DELETE OR UPDATE OF storage_key ON writer_images
  FOR EACH ROW EXECUTE FUNCTION writer_release_image_file();
