-- 0007: amount changes held for review (`ORDERBRIDGE_MAX_CHANGE`): one row per conflict,
-- open until a sync sees Odoo's amount come back within the threshold (resolved) or a person
-- decides (`orders conflicts accept|keep`).
CREATE TABLE IF NOT EXISTS orderbridge_amount_conflicts (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES sales_orders (id),
    odoo_order_id   INTEGER,
    currency        TEXT NOT NULL,
    portal_amount   TEXT NOT NULL,      -- the portal's amount when held
    odoo_amount     TEXT NOT NULL,      -- Odoo's amount that was held (the latest seen)
    odoo_write_date TEXT,               -- Odoo's write_date of that amount, when known
    state           TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'kept', 'resolved')),
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    decided_by      TEXT,               -- the OS user who accepted or kept it
    decided_at      TEXT
);
CREATE INDEX IF NOT EXISTS orderbridge_amount_conflicts_order_state ON orderbridge_amount_conflicts (order_id, state);
