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
SELECT user_events_number(ARRAY(SELECT DISTINCT user_id FROM user_event_pending));
DROP FUNCTION user_events_number_stale(INTERVAL);
DROP FUNCTION user_events_number(BIGINT[]);
DROP TABLE user_event_pending;
