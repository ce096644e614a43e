-- Bumped by every transaction that changes what the detection engine is
-- built from (brands, their terms, prices and authorised sellers, category
-- rules). Each server process rebuilds its engine when the stored
-- generation differs from the one it built, so a change made through one
-- process reaches every process sharing the database within a job round.
CREATE TABLE catalog_meta (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO catalog_meta (id, generation) VALUES (1, 0);
