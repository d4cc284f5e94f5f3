DROP INDEX messages_content_trgm_idx;
DROP EXTENSION IF EXISTS pg_trgm;
