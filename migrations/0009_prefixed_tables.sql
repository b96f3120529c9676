-- 0009: orderbridge's own tables carry its name, so that none collides with a table of the
-- portal whose database it shares (a Laravel app may well have `runs`). The steps above now
-- create them so; a store made before (at version 1 to 8) has its tables, their indexes and
-- constraint renamed in place by `Store::migrate` before the steps it still lacks, which
-- know only the new names. The portal's tables (sales_orders, customers) keep theirs.
SELECT 1;
