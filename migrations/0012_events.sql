-- 0012: events for the portal (order.created, order.amount_changed, order.status_changed,
-- order.conflict_opened), written in the same transaction as the change they tell of.
-- `seq` is given by `serve` in commit order (ids are taken at insert, and a transaction may
-- commit after one with a later id): a portal reading `GET /v1/events?after=` by seq never
-- skips an event that committed late.
CREATE TABLE IF NOT EXISTS orderbridge_events (
    id              INTEGER PRIMARY KEY,
    seq             INTEGER UNIQUE,     -- NULL until sequenced
    kind            TEXT NOT NULL,
    order_id        INTEGER NOT NULL,
    odoo_order_id   INTEGER,
    order_number    TEXT,
    data            TEXT NOT NULL,      -- the event's own members (JSON)
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,               -- the portal's webhook answered 2xx
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS orderbridge_events_unsequenced ON orderbridge_events (seq, id);
