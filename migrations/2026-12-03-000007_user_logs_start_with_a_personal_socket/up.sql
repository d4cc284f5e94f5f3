-- A user's event log starts when they first open a personal socket (the gateway creates
-- their head row then): what was addressed to them before has no cursor to resume from, so it
-- was written for nobody. Users who never open one (REST clients, bots, the compatibility
-- SPA's users) write nothing to it.
--
-- And the function is PL/pgSQL now: a SQL function with data-modifying statements is planned
-- again on every call, and the membership triggers call it while their transaction holds the
-- server's row (its member count), so every join and leave of a server waited for that
-- planning too (join_leave ran at half its rate). PL/pgSQL keeps its plans per connection.
CREATE OR REPLACE FUNCTION user_event_push(p_users BIGINT[], p_body JSONB) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    WITH locked AS (
        -- Heads in id order; not an account being deleted (whose cascades fire the triggers
        -- calling this).
        SELECT h.user_id FROM user_event_heads h
            WHERE h.user_id = ANY(p_users)
              AND EXISTS (SELECT FROM users u WHERE u.id = h.user_id)
            ORDER BY h.user_id FOR UPDATE
    ), heads AS (
        UPDATE user_event_heads h SET seq = h.seq + 1 FROM locked
            WHERE h.user_id = locked.user_id
            RETURNING h.user_id, h.seq
    )
    INSERT INTO user_events (user_id, seq, body) SELECT user_id, seq, p_body FROM heads;
END
$$;

-- member.joined and member.left, to the member concerned if their log has started (the
-- cheap check first: most joins are by users without one). A server being deleted takes its
-- members with it: they hear of that as server.deleted, not as one member.left each.
CREATE OR REPLACE FUNCTION server_members_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT FROM user_event_heads WHERE user_id = NEW.user_id) THEN
            PERFORM user_event_push(ARRAY[NEW.user_id], jsonb_build_object(
                'type', 'member.joined', 'server_id', NEW.server_id, 'user_id', NEW.user_id));
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT FROM user_event_heads WHERE user_id = OLD.user_id)
       AND EXISTS (SELECT FROM servers WHERE id = OLD.server_id) THEN
        PERFORM user_event_push(ARRAY[OLD.user_id], jsonb_build_object(
            'type', 'member.left', 'server_id', OLD.server_id, 'user_id', OLD.user_id));
    END IF;
    RETURN OLD;
END
$$;
