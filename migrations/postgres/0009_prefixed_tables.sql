-- 0009 (PostgreSQL): orderbridge's own tables carry its name; a store made before is renamed
-- in place by `Store::migrate` (see the SQLite step).
SELECT 1;
