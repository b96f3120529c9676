-- 0002: when the last create request of an intent was sent to Odoo. Until Odoo can no longer
-- be working on that request (the grace period), a retry only looks the key up.
ALTER TABLE orderbridge_order_intents ADD COLUMN sent_at TEXT;
