-- 0012 (MySQL / MariaDB): events for the portal (see migrations/0012_events.sql).
CREATE TABLE IF NOT EXISTS orderbridge_events (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    seq             BIGINT NULL,
    kind            VARCHAR(64) NOT NULL,
    order_id        BIGINT UNSIGNED NOT NULL,
    odoo_order_id   BIGINT NULL,
    order_number    VARCHAR(255) NULL,
    data            TEXT NOT NULL,
    created_at      VARCHAR(32) NOT NULL,
    delivered_at    VARCHAR(32) NULL,
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at VARCHAR(32) NULL,
    last_error      TEXT NULL,
    UNIQUE KEY orderbridge_events_seq (seq),
    INDEX orderbridge_events_unsequenced (seq, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
