-- ipguard core schema (SQLite). Times are Unix milliseconds (BIGINT) and
-- flags are 0/1 BIGINTs so that one set of queries serves both backends.

CREATE TABLE platforms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    listing_url_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Rights holders and the operator itself are organisations. Submitter
-- standing (the abuse sanctions) is kept on the organisation.
CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    standing TEXT NOT NULL DEFAULT 'normal',
    standing_until BIGINT,
    created_at BIGINT NOT NULL
);

-- The identity graph: a person is whoever stands behind one or more shops on
-- any platform, linked through verified identity data.
CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    penalty TEXT NOT NULL DEFAULT 'none',
    penalty_since BIGINT,
    closed_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sellers (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL REFERENCES platforms(id),
    ext_id TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    display_name TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    id_document_ref TEXT NOT NULL,
    bank_account_ref TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (platform, ext_id)
);
CREATE INDEX sellers_person ON sellers(person_id);

-- Normalised, hashed identity attributes; equal values link sellers to one person.
CREATE TABLE identity_links (
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    seller_id BIGINT NOT NULL REFERENCES sellers(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (kind, value_hash, seller_id)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    display_name TEXT NOT NULL,
    org_id BIGINT REFERENCES organisations(id),
    seller_id BIGINT REFERENCES sellers(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE ip_rights (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    office TEXT NOT NULL,
    scope TEXT NOT NULL,
    owner TEXT NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    verified_by BIGINT REFERENCES users(id),
    verified_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, kind, office, registration_number)
);
CREATE INDEX ip_rights_registration ON ip_rights(registration_number, office);

CREATE TABLE right_evidence (
    id INTEGER PRIMARY KEY,
    right_id BIGINT NOT NULL REFERENCES ip_rights(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE brands (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    right_id BIGINT NOT NULL REFERENCES ip_rights(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE brand_terms (
    brand_id BIGINT NOT NULL REFERENCES brands(id),
    term TEXT NOT NULL,
    PRIMARY KEY (brand_id, term)
);

-- Genuine reference prices per category (amount as a decimal string).
CREATE TABLE brand_prices (
    brand_id BIGINT NOT NULL REFERENCES brands(id),
    category TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (brand_id, category)
);

CREATE TABLE brand_authorized_sellers (
    brand_id BIGINT NOT NULL REFERENCES brands(id),
    seller_id BIGINT NOT NULL REFERENCES sellers(id),
    PRIMARY KEY (brand_id, seller_id)
);

-- Rights holders' reference photos with their PDQ hash (hex) and quality.
CREATE TABLE reference_images (
    id INTEGER PRIMARY KEY,
    brand_id BIGINT NOT NULL REFERENCES brands(id),
    filename TEXT NOT NULL,
    pdq TEXT NOT NULL,
    quality BIGINT NOT NULL,
    content BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE category_rules (
    platform TEXT NOT NULL REFERENCES platforms(id),
    category TEXT NOT NULL,
    rule TEXT NOT NULL,
    PRIMARY KEY (platform, category)
);

CREATE TABLE listings (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL REFERENCES platforms(id),
    ext_id TEXT NOT NULL,
    seller_id BIGINT NOT NULL REFERENCES sellers(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    price_amount TEXT,
    price_currency TEXT,
    images TEXT NOT NULL,
    listed_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    -- What removed it: notice, trusted_notice, proactive or penalty.
    removed_by TEXT,
    removed_at BIGINT,
    UNIQUE (platform, ext_id)
);
CREATE INDEX listings_seller ON listings(seller_id, state);

-- Listing photos' PDQ hashes, for stolen-photo and relisting detection.
CREATE TABLE listing_images (
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    position BIGINT NOT NULL,
    source TEXT NOT NULL,
    pdq TEXT,
    quality BIGINT,
    error TEXT,
    PRIMARY KEY (listing_id, position)
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL REFERENCES platforms(id),
    ext_id TEXT NOT NULL,
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    units BIGINT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    ordered_at BIGINT NOT NULL,
    -- Shipping origin, for network analysis.
    ship_from TEXT,
    UNIQUE (platform, ext_id)
);
CREATE INDEX orders_listing ON orders(listing_id);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    org_id BIGINT REFERENCES organisations(id),
    submitted_by BIGINT REFERENCES users(id),
    channel TEXT NOT NULL,
    right_id BIGINT REFERENCES ip_rights(id),
    right_reference TEXT,
    infringement_type TEXT NOT NULL,
    description TEXT NOT NULL,
    contact TEXT NOT NULL,
    tracking_token_hash TEXT UNIQUE,
    trusted BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX notices_org ON notices(org_id, id);

CREATE TABLE notice_items (
    id INTEGER PRIMARY KEY,
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    status TEXT NOT NULL,
    deadline_at BIGINT NOT NULL,
    removed_at BIGINT,
    decided_at BIGINT,
    restored_at BIGINT
);
CREATE INDEX notice_items_queue ON notice_items(status, deadline_at);
CREATE INDEX notice_items_notice ON notice_items(notice_id);
CREATE INDEX notice_items_listing ON notice_items(listing_id);

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES notice_items(id),
    reviewer_id BIGINT REFERENCES users(id),
    outcome TEXT NOT NULL,
    manifestly_unfounded BIGINT NOT NULL,
    statement TEXT NOT NULL,
    automated BIGINT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX decisions_item ON decisions(item_id);

CREATE TABLE challenges (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES notice_items(id),
    seller_id BIGINT NOT NULL REFERENCES sellers(id),
    kind TEXT NOT NULL,
    reasons TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,
    filed_at BIGINT NOT NULL,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    statement TEXT,
    restore_after BIGINT,
    legal_action_reference TEXT
);
CREATE INDEX challenges_status ON challenges(status, restore_after);

CREATE TABLE strikes (
    id INTEGER PRIMARY KEY,
    seller_id BIGINT NOT NULL REFERENCES sellers(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    item_id BIGINT NOT NULL REFERENCES notice_items(id),
    infringement_type TEXT NOT NULL,
    weight REAL NOT NULL,
    given_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX strikes_person ON strikes(person_id, expires_at);

-- Every penalty change, with the weight and reason shown to the seller.
CREATE TABLE penalty_history (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    penalty TEXT NOT NULL,
    active_weight REAL NOT NULL,
    reason TEXT NOT NULL,
    applied_at BIGINT NOT NULL
);

-- Trusted-submitter status per organisation and infringement type.
CREATE TABLE submitter_trust (
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    infringement_type TEXT NOT NULL,
    trusted BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (org_id, infringement_type)
);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    score REAL NOT NULL,
    action TEXT NOT NULL,
    brands TEXT NOT NULL,
    reasons TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX findings_listing ON findings(listing_id);

-- Contact details and sales volume shown to a rights holder after an upheld notice.
CREATE TABLE disclosures (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES notice_items(id),
    org_id BIGINT NOT NULL REFERENCES organisations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    seller_id BIGINT NOT NULL REFERENCES sellers(id),
    disclosed TEXT NOT NULL,
    disclosed_at BIGINT NOT NULL
);

-- Infringer networks and the criminal leads built from them.
CREATE TABLE networks (
    id INTEGER PRIMARY KEY,
    infringing_value TEXT NOT NULL,
    infringing_units BIGINT NOT NULL,
    computed_at BIGINT NOT NULL
);
CREATE TABLE network_members (
    network_id BIGINT NOT NULL REFERENCES networks(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (network_id, person_id)
);
CREATE TABLE leads (
    id INTEGER PRIMARY KEY,
    network_id BIGINT NOT NULL REFERENCES networks(id),
    status TEXT NOT NULL,
    referred_to TEXT,
    outcome TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Prevalence audits: a stratified random sample of live listings, reviewed by hand.
CREATE TABLE prevalence_audits (
    id INTEGER PRIMARY KEY,
    started_at BIGINT NOT NULL,
    sample_size BIGINT NOT NULL,
    seed BIGINT NOT NULL
);
CREATE TABLE prevalence_samples (
    audit_id BIGINT NOT NULL REFERENCES prevalence_audits(id),
    listing_id BIGINT NOT NULL REFERENCES listings(id),
    stratum TEXT NOT NULL,
    verdict TEXT,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at BIGINT,
    PRIMARY KEY (audit_id, listing_id)
);

-- The outbox: every event a party must hear of, written in the same
-- transaction as the change it reports.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    party_kind TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_party ON notifications(party_kind, party_id, id);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    party_kind TEXT NOT NULL,
    party_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    notification_id BIGINT NOT NULL REFERENCES notifications(id),
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status_code BIGINT,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);

-- Append-only, hash-chained log of every state change.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- The chain's head, one row: appending updates it first, which serialises appenders.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT,
    response TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (principal, key)
);
