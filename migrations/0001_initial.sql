-- 0001: the first schema (customers, sales_orders, order_intents).
-- Tables are created only if absent: a Laravel portal's legacy tables are kept (open adds
-- the columns they lack first).

CREATE TABLE IF NOT EXISTS customers (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    odoo_partner_id INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
-- One local customer per Odoo partner; customers not yet in Odoo have NULL.
CREATE UNIQUE INDEX IF NOT EXISTS customers_odoo_partner_id_unique ON customers (odoo_partner_id);

CREATE TABLE IF NOT EXISTS sales_orders (
    id                INTEGER PRIMARY KEY,
    customer_id       INTEGER REFERENCES customers (id),
    order_number      TEXT,
    odoo_order_id     INTEGER,
    total_amount      TEXT NOT NULL DEFAULT '0',   -- the portal's amount
    odoo_amount_total TEXT,                         -- Odoo's amount_total when last seen
    currency          TEXT NOT NULL DEFAULT 'USD',
    status            TEXT NOT NULL DEFAULT 'pending',
    odoo_state        TEXT,                         -- draft, sent, sale, cancel
    idempotency_key   TEXT,
    note              TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    last_synced_at    TEXT
);
-- The idempotency key of sync: an Odoo order is stored at most once. NULLs are allowed
-- (orders not in Odoo) and never collide.
CREATE UNIQUE INDEX IF NOT EXISTS sales_orders_odoo_order_id_unique ON sales_orders (odoo_order_id);
CREATE INDEX IF NOT EXISTS sales_orders_customer_id ON sales_orders (customer_id);
CREATE INDEX IF NOT EXISTS sales_orders_created_at ON sales_orders (created_at);

-- One row per `orders create`: written before the Odoo call, resolved after it, so that an
-- unknown outcome (timeout, crash) is looked up in Odoo by its key instead of created twice.
CREATE TABLE IF NOT EXISTS orderbridge_order_intents (
    key            TEXT PRIMARY KEY,
    payload_hash   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    odoo_order_id  INTEGER,
    local_order_id INTEGER,
    error          TEXT,
    claimed_by     TEXT,      -- the process working on it, until claimed_until
    claimed_until  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
