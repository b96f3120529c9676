-- 0010: PostgreSQL's times became timestamptz; SQLite keeps its UTC text (nothing to do).
SELECT 1;
