-- 0002 (PostgreSQL): when the last create request of an intent was sent to Odoo.
ALTER TABLE order_intents ADD COLUMN sent_at TEXT;
