-- 0002 (MySQL / MariaDB): empty; step 1 made the whole schema (see it).
SELECT 1;
