-- Bookkeeping that follows every insert, done by the database so that a
-- notice's transaction makes fewer round trips (each one is a hop to
-- SQLite's connection thread and back).

-- The chain head always names the newest entry's hash.
CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
END;

-- Each notification is queued once for every active webhook of its party.
CREATE TRIGGER notification_fans_out AFTER INSERT ON notifications
BEGIN
    INSERT INTO webhook_deliveries (notification_id, webhook_id, status, attempts, next_attempt_at)
    SELECT NEW.id, w.id, 'pending', 0, NEW.created_at FROM webhooks w
    WHERE w.party_kind = NEW.party_kind AND w.party_id = NEW.party_id AND w.active = 1;
END;

CREATE INDEX webhooks_party ON webhooks(party_kind, party_id);
