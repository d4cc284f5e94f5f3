DROP TRIGGER reactions_removed ON message_reactions;
DROP TRIGGER reactions_added ON message_reactions;
DROP FUNCTION reactions_recount();
DROP FUNCTION reaction_counts_of(BIGINT);
ALTER TABLE messages DROP COLUMN reactions;
DROP TABLE message_reactions;
