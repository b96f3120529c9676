-- orderbridge's local store, current schema (user_version 11).
-- Readable on its own. `Store::open` brings a file up to it with the numbered migrations in
-- `migrations/` (a test checks that both give the same schema), including a Laravel
-- portal's legacy sales_orders table. The portal's tables (customers, sales_orders) keep their
-- names; orderbridge's own carry the prefix `orderbridge_`, so that none collides with another
-- table of the portal's database.
-- Money is decimal text (e.g. '857.87'), never REAL. Times are UTC 'YYYY-MM-DD HH:MM:SS'.

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
    last_synced_at    TEXT,
    odoo_write_date   TEXT,                         -- Odoo's write_date of what was last applied
    order_date        TEXT,                         -- Odoo's date_order: listings and the 30-day window
    -- The whole order as Odoo has it (named odoo_*: none collides with a portal's own column).
    odoo_delivery_status   TEXT,                    -- pending, started, partial, full (sale_stock)
    odoo_invoice_status    TEXT,                    -- no, to invoice, invoiced, upselling
    odoo_amount_invoiced   TEXT,                    -- posted invoices, with tax
    odoo_amount_to_invoice TEXT,
    odoo_payment_state     TEXT,                    -- of its posted invoices: not_paid, partial, paid, reversed
    odoo_commitment_date   TEXT,                    -- the delivery date promised (UTC)
    odoo_expected_date     TEXT,
    odoo_effective_date    TEXT,                    -- the first delivery done
    odoo_details_hash      TEXT,                    -- what was last stored, to skip same writes
    odoo_details_synced_at TEXT
);
-- The idempotency key of sync: an Odoo order is stored at most once. NULLs are allowed
-- (orders not in Odoo) and never collide.
CREATE UNIQUE INDEX IF NOT EXISTS sales_orders_odoo_order_id_unique ON sales_orders (odoo_order_id);
CREATE INDEX IF NOT EXISTS sales_orders_customer_id ON sales_orders (customer_id);
CREATE INDEX IF NOT EXISTS sales_orders_created_at ON sales_orders (created_at);
CREATE INDEX IF NOT EXISTS sales_orders_order_date ON sales_orders (order_date);

-- One row per `orders create`: written before the Odoo call, resolved after it, so that an
-- unknown outcome (timeout, crash) is looked up in Odoo by its key instead of created twice.
-- 'queued' rows are the outbox: taken while Odoo was unavailable, sent by `orders flush`.
CREATE TABLE IF NOT EXISTS orderbridge_order_intents (
    key            TEXT PRIMARY KEY,
    payload_hash   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'done', 'failed', 'cancelled')),
    odoo_order_id  INTEGER,
    local_order_id INTEGER,
    error          TEXT,
    claimed_by     TEXT,      -- the process working on it, until claimed_until
    claimed_until  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    sent_at        TEXT       -- when the last create request went to Odoo (outcome may be unknown)
);
CREATE INDEX IF NOT EXISTS orderbridge_order_intents_state_created_at ON orderbridge_order_intents (state, created_at);

-- One row per sync, flush or dedupe run: when, how it ended, what it did.
CREATE TABLE IF NOT EXISTS orderbridge_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,     -- sync-amounts, sync-status, sync-changed, flush, dedupe
    started_at  TEXT NOT NULL,
    finished_at TEXT,              -- NULL while running (or if the process died)
    outcome     TEXT,              -- ok, failed, odoo_unavailable, error
    exit_code   INTEGER,
    checked     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    round_trips INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    host        TEXT,              -- the host (ORDERBRIDGE_HOST_ID) and process running it:
    pid         INTEGER            -- `status` shows a run whose process is gone as died
);
CREATE INDEX IF NOT EXISTS orderbridge_runs_kind_started_at ON orderbridge_runs (kind, started_at);

-- The change cursors (`orders sync-amounts --changed`; `orders list`, one per set of
-- partners): the (write_date, id) in Odoo up to which changes have been applied. A cursor
-- moves only in the transaction that applied them.
CREATE TABLE IF NOT EXISTS orderbridge_sync_cursors (
    name        TEXT PRIMARY KEY,   -- 'sale.order', or 'list:<partner ids>'
    write_date  TEXT NOT NULL,      -- Odoo's write_date (UTC, to the second)
    odoo_id     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    read_at     TEXT                -- Odoo's clock (HTTP Date) at the last read
);

-- Amount changes held for review (`ORDERBRIDGE_MAX_CHANGE`): open until a sync sees Odoo's
-- amount come back within the threshold (resolved) or a person decides (accepted, kept).
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

-- The uid Odoo gave each login: a run sends its calls with it and authenticates only when
-- Odoo refuses it (a password check costs Odoo most of a second; a known uid is cached there).
CREATE TABLE IF NOT EXISTS orderbridge_odoo_logins (
    server     TEXT NOT NULL,   -- ODOO_URL
    database   TEXT NOT NULL,   -- ODOO_DB
    login      TEXT NOT NULL,   -- ODOO_USERNAME
    uid        INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (server, database, login)
);

-- Odoo's lines of each order (sections and notes kept as such, in Odoo's order). The
-- portal's own sales_order_items, what the customer ordered in the portal, are left alone.
CREATE TABLE IF NOT EXISTS sales_order_lines (
    id             INTEGER PRIMARY KEY,
    sales_order_id INTEGER NOT NULL REFERENCES sales_orders (id),
    odoo_line_id   INTEGER NOT NULL,
    position       INTEGER NOT NULL,       -- Odoo's order of the lines
    display_type   TEXT,                   -- line_section, line_subsection, line_note; NULL for a product line
    product_id     INTEGER,                -- Odoo's product.product id
    product_name   TEXT,
    description    TEXT NOT NULL DEFAULT '',
    quantity       TEXT NOT NULL DEFAULT '0',
    unit_price     TEXT NOT NULL DEFAULT '0',
    discount       TEXT NOT NULL DEFAULT '0',  -- percent
    subtotal       TEXT NOT NULL DEFAULT '0',  -- without tax
    total          TEXT NOT NULL DEFAULT '0',  -- with tax
    qty_delivered  TEXT NOT NULL DEFAULT '0',
    qty_invoiced   TEXT NOT NULL DEFAULT '0',
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS sales_order_lines_odoo_line_id_unique ON sales_order_lines (odoo_line_id);
CREATE INDEX IF NOT EXISTS sales_order_lines_sales_order_id ON sales_order_lines (sales_order_id, position);

-- What the Odoo server offers (asked once a run, when first needed): `status` says what is
-- not synced because a module is missing.
CREATE TABLE IF NOT EXISTS orderbridge_odoo_features (
    server     TEXT NOT NULL,
    database   TEXT NOT NULL,
    missing    TEXT NOT NULL,   -- comma-separated: e.g. sale_stock
    checked_at TEXT NOT NULL,
    PRIMARY KEY (server, database)
);

-- Portal updates (note, customer reference, promised date) that met a change made in Odoo
-- since the portal last saw the order: held for a person's review (`orders conflicts`),
-- never written over staff's change unasked.
CREATE TABLE IF NOT EXISTS orderbridge_held_updates (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES sales_orders (id),
    intent_key      TEXT NOT NULL,
    payload         TEXT NOT NULL,      -- the update's values (JSON)
    seen_write_date TEXT,               -- Odoo's write_date the portal had seen
    odoo_write_date TEXT NOT NULL,      -- Odoo's write_date when the update met it
    state           TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'kept')),
    created_at      TEXT NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT
);
CREATE INDEX IF NOT EXISTS orderbridge_held_updates_state ON orderbridge_held_updates (state, order_id);

-- Events for the portal, written in the same transaction as the change they tell of;
-- `seq` is given by `serve` in commit order (see migrations/0012_events.sql).
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
