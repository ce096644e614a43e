-- Bookkeeping that follows every insert, done by the database so that a
-- notice's transaction makes fewer round trips.

-- The chain head always names the newest entry's hash.
CREATE FUNCTION audit_head_follow() RETURNS trigger AS $$
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_head_follow();

-- Each notification is queued once for every active webhook of its party.
CREATE FUNCTION notification_fan_out() RETURNS trigger AS $$
BEGIN
    INSERT INTO webhook_deliveries (notification_id, webhook_id, status, attempts, next_attempt_at)
    SELECT NEW.id, w.id, 'pending', 0, NEW.created_at FROM webhooks w
    WHERE w.party_kind = NEW.party_kind AND w.party_id = NEW.party_id AND w.active = 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notification_fans_out AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION notification_fan_out();

CREATE INDEX webhooks_party ON webhooks(party_kind, party_id);
