ALTER TABLE messages
    DROP CONSTRAINT messages_channel_id_seq_key,
    ADD CONSTRAINT messages_channel_id_seq_key UNIQUE (channel_id, seq);
