-- 0004 (PostgreSQL): the change cursor of `orders sync-amounts --changed`.
CREATE TABLE orderbridge_sync_cursors (
    name        TEXT PRIMARY KEY,
    write_date  TEXT NOT NULL,
    odoo_id     BIGINT NOT NULL,
    updated_at  TEXT NOT NULL
);
