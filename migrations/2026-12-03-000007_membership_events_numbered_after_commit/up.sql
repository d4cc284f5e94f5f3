-- Membership changes are numbered in their user's event log after they commit, not while
-- they do. Written in the change's transaction, the number held the user's head row locked
-- through every commit: one user's joins and leaves (several clients, a bot) waited for one
-- another's disk flush, one at a time. Now the change's transaction only queues its event
-- (user_event_pending, no lock); right after the commit the caller numbers the user's queue
-- (user_events_number), in batches: while one batch is flushed to disk, the next one's events
-- gather, and a caller that finds its event numbered already returns without writing. A
-- queue left behind by a crash between the two is numbered by the housekeeping round
-- (user_events_number_stale). The other events, rare next to these, are still numbered with
-- their change.

CREATE TABLE user_event_pending (
    id         BIGSERIAL   PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_event_pending_user_id_idx ON user_event_pending (user_id, id);

-- Numbers the queued events of p_users, oldest first, one user at a time in id order. An
-- advisory lock per user keeps numberings of one user apart without writing anything, so a
-- numbering that finds nothing to do (another one took its event) commits without a flush;
-- the head row is locked only when there is something to number.
CREATE FUNCTION user_events_number(p_users BIGINT[]) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    u     BIGINT;
    head  BIGINT;
    moved BIGINT;
    total BIGINT := 0;
BEGIN
    FOR u IN SELECT DISTINCT x FROM unnest(p_users) AS x ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(7001, (u % 2147483647)::INT);
        CONTINUE WHEN NOT EXISTS (SELECT FROM user_event_pending WHERE user_id = u);
        INSERT INTO user_event_heads (user_id) VALUES (u) ON CONFLICT (user_id) DO NOTHING;
        SELECT seq INTO head FROM user_event_heads WHERE user_id = u FOR UPDATE;
        WITH queued AS (
            DELETE FROM user_event_pending WHERE user_id = u RETURNING id, body, created_at
        )
        INSERT INTO user_events (user_id, seq, body, created_at)
            SELECT u, head + row_number() OVER (ORDER BY id), body, created_at FROM queued;
        GET DIAGNOSTICS moved = ROW_COUNT;
        UPDATE user_event_heads SET seq = head + moved WHERE user_id = u;
        total := total + moved;
    END LOOP;
    RETURN total;
END
$$;

-- Numbers what was queued more than p_age ago and is still there (its numbering never ran).
CREATE FUNCTION user_events_number_stale(p_age INTERVAL) RETURNS BIGINT
LANGUAGE sql AS $$
    SELECT user_events_number(ARRAY(
        SELECT DISTINCT user_id FROM user_event_pending WHERE created_at < now() - p_age));
$$;

-- member.joined and member.left, to the member concerned, queued (see above). A server being
-- deleted takes its members with it: they hear of that as server.deleted.
CREATE OR REPLACE FUNCTION server_members_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_event_pending (user_id, body) VALUES (NEW.user_id, jsonb_build_object(
            'type', 'member.joined', 'server_id', NEW.server_id, 'user_id', NEW.user_id));
        RETURN NEW;
    END IF;
    PERFORM FROM servers WHERE id = OLD.server_id;
    -- Not for an account being deleted either (its queue goes with it).
    IF FOUND AND EXISTS (SELECT FROM users WHERE id = OLD.user_id) THEN
        INSERT INTO user_event_pending (user_id, body) VALUES (OLD.user_id, jsonb_build_object(
            'type', 'member.left', 'server_id', OLD.server_id, 'user_id', OLD.user_id));
    END IF;
    RETURN OLD;
END
$$;
