DROP TABLE message_nonces;
ALTER TABLE messages DROP COLUMN nonce;
