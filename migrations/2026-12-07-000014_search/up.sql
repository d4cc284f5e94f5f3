-- Search: a message matches a query when its content holds every term as a substring, letter
-- case ignored (ILIKE '%term%'). Trigrams index that for any language, with or without spaces
-- between words (a `simple` tsvector would miss "회의" in "회의는" and every word of Japanese),
-- and PostgreSQL keeps the index current in the statement that stores, edits or deletes a
-- message, so search reflects each at once. Only live messages are indexed.
--
-- fastupdate off: each insert updates the index itself rather than a pending list that one
-- unlucky insert would later have to merge (a latency spike on the chat path).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_content_trgm_idx ON messages USING gin (content gin_trgm_ops)
    WITH (fastupdate = off) WHERE deleted_at IS NULL;
