-- 0006 (PostgreSQL): the outbox states 'queued' and 'cancelled'. PostgreSQL changes the
-- CHECK constraint in place (SQLite rebuilds the table).
ALTER TABLE orderbridge_order_intents DROP CONSTRAINT orderbridge_order_intents_state_check;
ALTER TABLE orderbridge_order_intents ADD CONSTRAINT orderbridge_order_intents_state_check
    CHECK (state IN ('pending', 'queued', 'done', 'failed', 'cancelled'));
CREATE INDEX orderbridge_order_intents_state_created_at ON orderbridge_order_intents (state, created_at);
