-- 0008 (PostgreSQL): Odoo's order date on each order, who runs each run, the uid of each login.
-- Added and filled only when the table has none: a portal's own order_date is its own.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'sales_orders' AND column_name = 'order_date') THEN
        ALTER TABLE sales_orders ADD COLUMN order_date TEXT;
        UPDATE sales_orders SET order_date = created_at;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS sales_orders_order_date ON sales_orders (order_date);

ALTER TABLE orderbridge_runs ADD COLUMN host TEXT;
ALTER TABLE orderbridge_runs ADD COLUMN pid BIGINT;

CREATE TABLE orderbridge_odoo_logins (
    server     TEXT NOT NULL,
    database   TEXT NOT NULL,
    login      TEXT NOT NULL,
    uid        BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (server, database, login)
);

ALTER TABLE orderbridge_sync_cursors ADD COLUMN read_at TEXT;
