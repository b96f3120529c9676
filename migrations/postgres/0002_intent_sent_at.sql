-- 0002 (PostgreSQL): when the last create request of an intent was sent to Odoo.
ALTER TABLE orderbridge_order_intents ADD COLUMN sent_at TEXT;
