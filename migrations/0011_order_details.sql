-- 0011: the whole order as Odoo has it. On each order: delivery (sale_stock), invoicing and
-- payment, the promised and expected dates; named odoo_* so that none collides with a
-- column of a portal's own sales_orders. Odoo's lines go to sales_order_lines (the portal's
-- own sales_order_items, what the customer ordered in the portal, are left alone).
ALTER TABLE sales_orders ADD COLUMN odoo_delivery_status TEXT;     -- pending, started, partial, full
ALTER TABLE sales_orders ADD COLUMN odoo_invoice_status TEXT;      -- no, to invoice, invoiced, upselling
ALTER TABLE sales_orders ADD COLUMN odoo_amount_invoiced TEXT;     -- posted invoices, with tax
ALTER TABLE sales_orders ADD COLUMN odoo_amount_to_invoice TEXT;
ALTER TABLE sales_orders ADD COLUMN odoo_payment_state TEXT;       -- of its posted invoices: not_paid, partial, paid, reversed
ALTER TABLE sales_orders ADD COLUMN odoo_commitment_date TEXT;     -- the delivery date promised (UTC)
ALTER TABLE sales_orders ADD COLUMN odoo_expected_date TEXT;
ALTER TABLE sales_orders ADD COLUMN odoo_effective_date TEXT;      -- the first delivery done
ALTER TABLE sales_orders ADD COLUMN odoo_details_hash TEXT;        -- what was last stored, to skip same writes
ALTER TABLE sales_orders ADD COLUMN odoo_details_synced_at TEXT;

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
