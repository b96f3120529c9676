-- 0005: the Odoo write_date of what each order last took from Odoo, so that a webhook that
-- arrives late or twice never overwrites newer data ('YYYY-MM-DD HH:MM:SS.ffffff', UTC;
-- a second-resolution read is stored at the end of its second).
ALTER TABLE sales_orders ADD COLUMN odoo_write_date TEXT;
