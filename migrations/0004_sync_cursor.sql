-- 0004: the change cursor of `orders sync-amounts --changed`: the (write_date, id) in Odoo up
-- to which changes have been applied. It moves only in the transaction that applied them.
CREATE TABLE IF NOT EXISTS orderbridge_sync_cursors (
    name        TEXT PRIMARY KEY,   -- 'sale.order'
    write_date  TEXT NOT NULL,      -- Odoo's write_date (UTC, to the second)
    odoo_id     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
