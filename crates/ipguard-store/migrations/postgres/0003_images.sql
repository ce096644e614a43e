-- Image protection. Reference photos keep all eight dihedral hashes so the
-- in-memory index can be rebuilt at start without decoding a single photo.
ALTER TABLE reference_images ADD COLUMN dihedral TEXT NOT NULL DEFAULT '';
ALTER TABLE reference_images ADD COLUMN uploaded_by BIGINT REFERENCES users(id);
CREATE INDEX reference_images_brand ON reference_images(brand_id, id);

-- Listing photos: fetch state (pending, hashed or failed) with retries, the
-- photo itself as evidence for reviewers, and its eight dihedral hashes.
ALTER TABLE listing_images ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE listing_images ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listing_images ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listing_images ADD COLUMN dihedral TEXT;
ALTER TABLE listing_images ADD COLUMN content BYTEA;
ALTER TABLE listing_images ADD COLUMN content_type TEXT;
ALTER TABLE listing_images ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX listing_images_due ON listing_images(status, next_attempt_at);

-- A listing photo within the match radius of a reference photo, found when
-- either of the two was hashed. Whether it counts against the seller (not an
-- authorised seller of the brand) is decided when the listing is scanned.
CREATE TABLE reference_matches (
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    position BIGINT NOT NULL,
    reference_id BIGINT NOT NULL REFERENCES reference_images(id),
    distance BIGINT NOT NULL,
    found_at BIGINT NOT NULL,
    PRIMARY KEY (listing_id, position, reference_id)
);
CREATE INDEX reference_matches_reference ON reference_matches(reference_id);

-- Two photos of different listings within the match radius, stored in both
-- directions: the relisting signal when the other listing was removed.
CREATE TABLE photo_matches (
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    position BIGINT NOT NULL,
    other_listing_id BIGINT NOT NULL REFERENCES listings(id),
    other_position BIGINT NOT NULL,
    distance BIGINT NOT NULL,
    found_at BIGINT NOT NULL,
    PRIMARY KEY (listing_id, position, other_listing_id, other_position)
);
CREATE INDEX photo_matches_other ON photo_matches(other_listing_id, other_position);

-- The same photo used by shops of unrelated people, for network analysis.
CREATE VIEW shared_photos AS
SELECT m.listing_id, m.position, s.person_id, m.other_listing_id, m.other_position,
       o.person_id AS other_person_id, m.distance, m.found_at
FROM photo_matches m
JOIN listings l ON l.id = m.listing_id
JOIN sellers s ON s.id = l.seller_id
JOIN listings ol ON ol.id = m.other_listing_id
JOIN sellers o ON o.id = ol.seller_id
WHERE s.person_id <> o.person_id;

-- Bumped by every transaction that adds hashes to the image index, so a
-- snapshot of the index written at generation N is known to be complete
-- exactly while the stored generation is still N.
CREATE TABLE image_index_meta (
    id BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO image_index_meta (id, generation) VALUES (1, 0);
