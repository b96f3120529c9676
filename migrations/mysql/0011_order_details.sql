-- 0011 (MySQL / MariaDB): the whole order as Odoo has it (see migrations/0011_order_details.sql).
-- The columns on sales_orders are added by `Store::migrate` when a table lacks them (MySQL 8
-- has no ADD COLUMN IF NOT EXISTS); a new database has them from step 1.
CREATE TABLE IF NOT EXISTS sales_order_lines (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    sales_order_id BIGINT UNSIGNED NOT NULL,
    odoo_line_id   BIGINT NOT NULL,
    position       INT NOT NULL,
    display_type   VARCHAR(32) NULL,
    product_id     BIGINT NULL,
    product_name   VARCHAR(255) NULL,
    description    TEXT NOT NULL,
    quantity       DECIMAL(20, 6) NOT NULL DEFAULT 0,
    unit_price     DECIMAL(20, 6) NOT NULL DEFAULT 0,
    discount       DECIMAL(20, 6) NOT NULL DEFAULT 0,
    subtotal       DECIMAL(20, 6) NOT NULL DEFAULT 0,
    total          DECIMAL(20, 6) NOT NULL DEFAULT 0,
    qty_delivered  DECIMAL(20, 6) NOT NULL DEFAULT 0,
    qty_invoiced   DECIMAL(20, 6) NOT NULL DEFAULT 0,
    updated_at     VARCHAR(32) NOT NULL,
    UNIQUE KEY sales_order_lines_odoo_line_id_unique (odoo_line_id),
    KEY sales_order_lines_sales_order_id (sales_order_id, position)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_odoo_features (
    server     VARCHAR(255) NOT NULL,
    "database" VARCHAR(128) NOT NULL,
    missing    VARCHAR(255) NOT NULL,
    checked_at VARCHAR(32) NOT NULL,
    PRIMARY KEY (server, "database")
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_held_updates (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id        BIGINT UNSIGNED NOT NULL,
    intent_key      VARCHAR(200) NOT NULL,
    payload         TEXT NOT NULL,
    seen_write_date VARCHAR(32) NULL,
    odoo_write_date VARCHAR(32) NOT NULL,
    state           VARCHAR(16) NOT NULL CHECK (state IN ('open', 'accepted', 'kept')),
    created_at      VARCHAR(32) NOT NULL,
    decided_by      VARCHAR(255) NULL,
    decided_at      VARCHAR(32) NULL,
    INDEX orderbridge_held_updates_state (state, order_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
