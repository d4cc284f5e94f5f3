-- A user's event log starts when they first open a personal socket (the gateway creates
-- their head row then): what was addressed to them before has no cursor to resume from, so it
-- was written for nobody. Users who never open one (REST clients, bots, the compatibility
-- SPA's users) write nothing to it, and their joins and leaves cost what they did before the
-- log existed. Heads are still locked in id order.
CREATE OR REPLACE FUNCTION user_event_push(p_users BIGINT[], p_body JSONB) RETURNS VOID
LANGUAGE sql AS $$
    WITH locked AS (
        -- Not an account being deleted (whose cascades fire the triggers calling this).
        SELECT h.user_id FROM user_event_heads h
            WHERE h.user_id = ANY(p_users) AND EXISTS (SELECT FROM users u WHERE u.id = h.user_id)
            ORDER BY h.user_id FOR UPDATE
    ), heads AS (
        UPDATE user_event_heads h SET seq = h.seq + 1 FROM locked
            WHERE h.user_id = locked.user_id
            RETURNING h.user_id, h.seq
    )
    INSERT INTO user_events (user_id, seq, body) SELECT user_id, seq, p_body FROM heads;
$$;
