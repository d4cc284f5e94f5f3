DROP TRIGGER reactions_gone_from_counts ON message_reactions;
DROP FUNCTION reactions_gone_from_counts();
DROP FUNCTION reaction_counts_of(BIGINT);
ALTER TABLE messages DROP COLUMN reactions;
DROP TABLE message_reactions;
