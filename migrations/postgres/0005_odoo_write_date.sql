-- 0005 (PostgreSQL): the Odoo write_date of what each order last took from Odoo.
ALTER TABLE sales_orders ADD COLUMN IF NOT EXISTS odoo_write_date TEXT;
