-- message_store_many: several messages of one sender to one channel, stored in the order given,
-- in one call. Each goes through message_store, so membership, numbering and nonce rules are the
-- same as for a single send. A socket whose messages queue up while the database answers stores
-- the queue in one round trip instead of one round trip per message.
--
-- Returns one row per message, numbered from 1 in the order given (o_index).
CREATE FUNCTION message_store_many(
    p_server BIGINT, p_channel BIGINT, p_sender BIGINT, p_contents TEXT[], p_nonces TEXT[],
    p_window_minutes INT)
RETURNS TABLE (o_index INT, o_outcome TEXT, o_id BIGINT, o_seq BIGINT, o_created_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(p_contents) IS DISTINCT FROM cardinality(p_nonces) THEN
        RAISE EXCEPTION 'message_store_many: % contents but % nonces',
            cardinality(p_contents), cardinality(p_nonces);
    END IF;
    FOR i IN 1 .. coalesce(cardinality(p_contents), 0) LOOP
        RETURN QUERY SELECT i, s.o_outcome, s.o_id, s.o_seq, s.o_created_at
            FROM message_store(p_server, p_channel, p_sender, p_contents[i], p_nonces[i],
                               p_window_minutes) s;
    END LOOP;
END
$$;
