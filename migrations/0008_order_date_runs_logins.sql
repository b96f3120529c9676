-- 0008: Odoo's order date on each order (listings and the 30-day window use it; an
-- imported order is as old as Odoo says, not as its import); who runs each run (a run whose
-- process died is shown as died); the uid Odoo gave each login (a run logs in only when Odoo
-- refuses it: a password check costs Odoo most of a second).
ALTER TABLE sales_orders ADD COLUMN order_date TEXT;   -- Odoo's date_order (UTC)
UPDATE sales_orders SET order_date = created_at;
CREATE INDEX IF NOT EXISTS sales_orders_order_date ON sales_orders (order_date);

ALTER TABLE orderbridge_runs ADD COLUMN host TEXT;                 -- ORDERBRIDGE_HOST_ID of its process
ALTER TABLE orderbridge_runs ADD COLUMN pid INTEGER;

CREATE TABLE IF NOT EXISTS orderbridge_odoo_logins (
    server     TEXT NOT NULL,   -- ODOO_URL
    database   TEXT NOT NULL,   -- ODOO_DB
    login      TEXT NOT NULL,   -- ODOO_USERNAME
    uid        INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (server, database, login)
);

-- The Odoo clock (its HTTP Date) at a change cursor's last read: the next read re-reads
-- only behind that minus the overlap, so a quiet Odoo costs one round trip.
ALTER TABLE orderbridge_sync_cursors ADD COLUMN read_at TEXT;
