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

CREATE OR REPLACE FUNCTION server_members_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM user_event_push(ARRAY[NEW.user_id], jsonb_build_object(
            'type', 'member.joined', 'server_id', NEW.server_id, 'user_id', NEW.user_id));
        RETURN NEW;
    END IF;
    PERFORM FROM servers WHERE id = OLD.server_id;
    IF FOUND THEN
        PERFORM user_event_push(ARRAY[OLD.user_id], jsonb_build_object(
            'type', 'member.left', 'server_id', OLD.server_id, 'user_id', OLD.user_id));
    END IF;
    RETURN OLD;
END
$$;
