-- 0010 (PostgreSQL): orderbridge's own times become timestamptz (UTC instants) instead of
-- text. Odoo's stamps (`odoo_write_date`, the cursors' `write_date`) stay Odoo's text, to
-- the microsecond as Odoo sends them; a portal's own column of another type is never retyped.
DO $$
DECLARE
    col RECORD;
BEGIN
    FOR col IN
        SELECT c.table_name, c.column_name
        FROM information_schema.columns c
        JOIN (VALUES
            ('customers', 'created_at'), ('customers', 'updated_at'),
            ('sales_orders', 'created_at'), ('sales_orders', 'updated_at'),
            ('sales_orders', 'last_synced_at'), ('sales_orders', 'order_date'),
            ('orderbridge_order_intents', 'claimed_until'), ('orderbridge_order_intents', 'created_at'),
            ('orderbridge_order_intents', 'updated_at'), ('orderbridge_order_intents', 'sent_at'),
            ('orderbridge_runs', 'started_at'), ('orderbridge_runs', 'finished_at'),
            ('orderbridge_sync_cursors', 'updated_at'), ('orderbridge_sync_cursors', 'read_at'),
            ('orderbridge_amount_conflicts', 'first_seen'), ('orderbridge_amount_conflicts', 'last_seen'),
            ('orderbridge_amount_conflicts', 'decided_at'),
            ('orderbridge_odoo_logins', 'updated_at'),
            ('orderbridge_schema_migrations', 'applied_at')
        ) AS t(table_name, column_name)
          ON t.table_name = c.table_name AND t.column_name = c.column_name
        WHERE c.table_schema = current_schema() AND c.data_type = 'text'
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ALTER COLUMN %I TYPE timestamptz USING (CASE WHEN %I ~ ''^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d'' THEN %I::timestamp AT TIME ZONE ''UTC'' END)',
            col.table_name, col.column_name, col.column_name, col.column_name
        );
    END LOOP;
END
$$;
