-- The index generation at which each photo's hashes were stored. Every
-- server process keeps its own in-memory photo index; with these stamps it
-- adds exactly the hashes other processes stored since it last looked.
-- Generations are taken under the image_index_meta row lock, so they follow
-- commit order: once generation N is visible, every photo stamped N or
-- lower is too.
ALTER TABLE reference_images ADD COLUMN index_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listing_images ADD COLUMN index_generation BIGINT NOT NULL DEFAULT 0;
CREATE INDEX reference_images_generation ON reference_images(index_generation);
CREATE INDEX listing_images_generation ON listing_images(index_generation);
