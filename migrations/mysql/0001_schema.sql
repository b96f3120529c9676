-- 0001 (MySQL / MariaDB): the whole schema at once. MySQL support began at schema version 9,
-- so its steps 2 to 9 are empty: a MySQL store has never been at an earlier version.
-- The portal's own tables (sales_orders, customers) are created only when the database has
-- none; a portal's existing ones get the columns orderbridge needs added beforehand, by
-- `Store::migrate`, which also makes the indexes (MySQL 8 has no CREATE INDEX IF NOT EXISTS).
-- Money is DECIMAL, never FLOAT/DOUBLE; orderbridge's own times are UTC text, as on the
-- other engines; a portal's TIMESTAMP columns are read and written in UTC (the session's
-- time zone is +00:00).

CREATE TABLE IF NOT EXISTS customers (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name            VARCHAR(255) NOT NULL,
    email           VARCHAR(255) NOT NULL,
    odoo_partner_id BIGINT NULL,
    created_at      TIMESTAMP NULL,
    updated_at      TIMESTAMP NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS sales_orders (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id       BIGINT UNSIGNED NULL,
    order_number      VARCHAR(191) NULL,
    odoo_order_id     BIGINT NULL,
    total_amount      DECIMAL(20, 6) NOT NULL DEFAULT 0,   -- the portal's amount
    odoo_amount_total DECIMAL(20, 6) NULL,                  -- Odoo's amount_total when last seen
    currency          VARCHAR(3) NOT NULL DEFAULT 'USD',
    status            VARCHAR(32) NOT NULL DEFAULT 'pending',
    odoo_state        VARCHAR(16) NULL,
    idempotency_key   VARCHAR(200) NULL,
    note              TEXT NULL,
    created_at        TIMESTAMP NULL,
    updated_at        TIMESTAMP NULL,
    last_synced_at    VARCHAR(32) NULL,
    odoo_write_date   VARCHAR(32) NULL,
    order_date        VARCHAR(32) NULL,
    odoo_delivery_status   VARCHAR(16) NULL,
    odoo_invoice_status    VARCHAR(16) NULL,
    odoo_amount_invoiced   DECIMAL(20, 6) NULL,
    odoo_amount_to_invoice DECIMAL(20, 6) NULL,
    odoo_payment_state     VARCHAR(16) NULL,
    odoo_commitment_date   VARCHAR(32) NULL,
    odoo_expected_date     VARCHAR(32) NULL,
    odoo_effective_date    VARCHAR(32) NULL,
    odoo_details_hash      VARCHAR(64) NULL,
    odoo_details_synced_at VARCHAR(32) NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_order_intents (
    "key"          VARCHAR(200) NOT NULL PRIMARY KEY,
    payload_hash   VARCHAR(64) NOT NULL,
    payload        MEDIUMTEXT NOT NULL,
    state          VARCHAR(16) NOT NULL CHECK (state IN ('pending', 'queued', 'done', 'failed', 'cancelled')),
    odoo_order_id  BIGINT NULL,
    local_order_id BIGINT NULL,
    error          TEXT NULL,
    claimed_by     VARCHAR(255) NULL,
    claimed_until  VARCHAR(32) NULL,
    created_at     VARCHAR(32) NOT NULL,
    updated_at     VARCHAR(32) NOT NULL,
    sent_at        VARCHAR(32) NULL,
    INDEX orderbridge_order_intents_state_created_at (state, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_runs (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind        VARCHAR(32) NOT NULL,
    started_at  VARCHAR(32) NOT NULL,
    finished_at VARCHAR(32) NULL,
    outcome     VARCHAR(32) NULL,
    exit_code   INT NULL,
    checked     BIGINT NOT NULL DEFAULT 0,
    updated     BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    round_trips BIGINT NOT NULL DEFAULT 0,
    error       TEXT NULL,
    host        VARCHAR(255) NULL,
    pid         BIGINT NULL,
    INDEX orderbridge_runs_kind_started_at (kind, started_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_sync_cursors (
    name        VARCHAR(191) NOT NULL PRIMARY KEY,
    write_date  VARCHAR(32) NOT NULL,
    odoo_id     BIGINT NOT NULL,
    updated_at  VARCHAR(32) NOT NULL,
    read_at     VARCHAR(32) NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_amount_conflicts (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id        BIGINT UNSIGNED NOT NULL,
    odoo_order_id   BIGINT NULL,
    currency        VARCHAR(3) NOT NULL,
    portal_amount   DECIMAL(20, 6) NOT NULL,
    odoo_amount     DECIMAL(20, 6) NOT NULL,
    odoo_write_date VARCHAR(32) NULL,
    state           VARCHAR(16) NOT NULL CHECK (state IN ('open', 'accepted', 'kept', 'resolved')),
    first_seen      VARCHAR(32) NOT NULL,
    last_seen       VARCHAR(32) NOT NULL,
    decided_by      VARCHAR(255) NULL,
    decided_at      VARCHAR(32) NULL,
    INDEX orderbridge_amount_conflicts_order_state (order_id, state)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS orderbridge_odoo_logins (
    server     VARCHAR(255) NOT NULL,
    "database" VARCHAR(128) NOT NULL,
    login      VARCHAR(128) NOT NULL,
    uid        BIGINT NOT NULL,
    updated_at VARCHAR(32) NOT NULL,
    PRIMARY KEY (server, "database", login)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- The store's write lock: every write transaction locks this row first (released at its
-- commit), so that writes queue as SQLite's BEGIN IMMEDIATE makes them.
CREATE TABLE IF NOT EXISTS orderbridge_locks (
    name VARCHAR(32) NOT NULL PRIMARY KEY
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
INSERT IGNORE INTO orderbridge_locks (name) VALUES ('write');
