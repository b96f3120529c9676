-- 0006: the outbox. An intent may now be 'queued' (Odoo was unavailable when the order was
-- taken: `orders flush` sends it) or 'cancelled' (taken back before Odoo had it). SQLite
-- cannot change a CHECK constraint in place: the table is rebuilt, rows kept as they are.
CREATE TABLE orderbridge_order_intents_0006 (
    key            TEXT PRIMARY KEY,
    payload_hash   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'done', 'failed', 'cancelled')),
    odoo_order_id  INTEGER,
    local_order_id INTEGER,
    error          TEXT,
    claimed_by     TEXT,
    claimed_until  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    sent_at        TEXT
);
INSERT INTO orderbridge_order_intents_0006 (key, payload_hash, payload, state, odoo_order_id, local_order_id,
    error, claimed_by, claimed_until, created_at, updated_at, sent_at)
SELECT key, payload_hash, payload, state, odoo_order_id, local_order_id,
    error, claimed_by, claimed_until, created_at, updated_at, sent_at FROM orderbridge_order_intents;
DROP TABLE orderbridge_order_intents;
ALTER TABLE orderbridge_order_intents_0006 RENAME TO orderbridge_order_intents;
CREATE INDEX IF NOT EXISTS orderbridge_order_intents_state_created_at ON orderbridge_order_intents (state, created_at);
