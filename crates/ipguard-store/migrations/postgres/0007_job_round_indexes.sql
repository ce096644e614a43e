-- Every job round looks up the listings removed since the previous round
-- (to scan again the live listings sharing their photos) and the strikes
-- that expired since then; without these indexes each round, once a
-- second by default, would read both tables whole.
CREATE INDEX listings_removed_at ON listings(removed_at);
CREATE INDEX strikes_expiry ON strikes(expires_at);
