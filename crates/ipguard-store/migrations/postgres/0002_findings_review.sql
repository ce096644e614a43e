-- Proactive detection: a finding is reviewed like a notice item, and the
-- brands it names are indexed so each rights holder sees its own.
ALTER TABLE findings ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE findings ADD COLUMN statement TEXT;
ALTER TABLE findings ADD COLUMN reviewed_by BIGINT REFERENCES users(id);
ALTER TABLE findings ADD COLUMN reviewed_at BIGINT;
CREATE INDEX findings_status ON findings(status, id);

CREATE TABLE finding_brands (
    finding_id BIGINT NOT NULL REFERENCES findings(id),
    brand_slug TEXT NOT NULL,
    PRIMARY KEY (brand_slug, finding_id)
);

-- When the seller's account was opened on its platform (the account-age
-- signal); NULL when the platform did not say, then created_at stands in.
ALTER TABLE sellers ADD COLUMN joined_at BIGINT;
