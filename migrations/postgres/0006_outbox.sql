-- 0006 (PostgreSQL): the outbox states 'queued' and 'cancelled'. PostgreSQL changes the
-- CHECK constraint in place (SQLite rebuilds the table).
ALTER TABLE order_intents DROP CONSTRAINT order_intents_state_check;
ALTER TABLE order_intents ADD CONSTRAINT order_intents_state_check
    CHECK (state IN ('pending', 'queued', 'done', 'failed', 'cancelled'));
CREATE INDEX order_intents_state_created_at ON order_intents (state, created_at);
