CREATE OR REPLACE FUNCTION user_event_push(p_users BIGINT[], p_body JSONB) RETURNS VOID
LANGUAGE sql AS $$
    WITH heads AS (
        INSERT INTO user_event_heads AS h (user_id, seq)
            SELECT u, 1 FROM (SELECT DISTINCT unnest(p_users) AS u) AS d
                WHERE EXISTS (SELECT FROM users WHERE id = d.u) ORDER BY u
            ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + 1
            RETURNING h.user_id, h.seq
    )
    INSERT INTO user_events (user_id, seq, body) SELECT user_id, seq, p_body FROM heads;
$$;
