-- 0010 (MySQL / MariaDB): PostgreSQL's times became timestamptz; nothing to do here.
SELECT 1;
