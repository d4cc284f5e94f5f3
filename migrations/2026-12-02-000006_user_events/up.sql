-- Every event addressed to one user, numbered 1, 2, 3, ... per user with no gap, so a personal
-- socket resumes from a cursor (the last number it received) from storage, whatever instance
-- it reconnects to and whether or not the one it left still runs.
--
-- Rows are written by triggers on the tables whose changes they report, so they commit with
-- the change or not at all. The number comes from the user's head row, locked until commit:
-- a user's events become visible in their order, never a later one before an earlier one.
-- A server's events (its channels, its settings) are written once per member; they are rare
-- next to messages, which resume by their channel's `seq` and are not written here.

CREATE TABLE user_event_heads (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- The last number given.
    seq            BIGINT NOT NULL DEFAULT 0,
    -- Events up to this number were pruned: a cursor below it cannot be resumed.
    pruned_through BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE user_events (
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        BIGINT      NOT NULL,
    -- The event as live clients receive it (without its cursor).
    body       JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq)
);
-- Pruning by age.
CREATE INDEX user_events_created_at_idx ON user_events (created_at);

-- Appends p_body to the log of each of p_users (but an account being deleted, whose cascades
-- fire these triggers). Heads are locked in id order, so two transactions writing to
-- overlapping users cannot deadlock on them.
CREATE FUNCTION user_event_push(p_users BIGINT[], p_body JSONB) RETURNS VOID
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

-- Appends p_body to the log of every member of p_server.
CREATE FUNCTION user_event_push_server(p_server BIGINT, p_body JSONB) RETURNS VOID
LANGUAGE sql AS $$
    SELECT user_event_push(
        ARRAY(SELECT user_id FROM server_members WHERE server_id = p_server), p_body);
$$;

-- A server as live clients see it (hearth_domain::ServerView).
CREATE FUNCTION server_view(s servers) RETURNS JSONB LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', s.id, 'name', s.name, 'owner', s.owner_id,
        'category', (SELECT c.name FROM categories c WHERE c.id = s.category_id),
        'description', s.description, 'icon', s.icon, 'banner', s.banner);
$$;

-- A channel as live clients see it (hearth_domain::ChannelView).
CREATE FUNCTION channel_view(c channels) RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'name', c.name, 'topic', c.topic, 'owner', c.owner_id, 'server', c.server_id);
$$;

-- member.joined and member.left, to the member concerned. A server being deleted takes its
-- members with it: they hear of that as server.deleted, not as one member.left each.
CREATE FUNCTION server_members_log() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- Named to fire after server_members_count: the server row is locked before the user's head,
-- in the same order as everywhere else.
CREATE TRIGGER server_members_log AFTER INSERT OR DELETE ON server_members
    FOR EACH ROW EXECUTE FUNCTION server_members_log();

-- server.updated (what the catalogue shows changed) and server.deleted, to every member.
CREATE FUNCTION servers_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM user_event_push_server(NEW.id, jsonb_build_object(
            'type', 'server.updated', 'server', server_view(NEW)));
        RETURN NEW;
    END IF;
    -- Before the delete, while the members are there (the row is locked already).
    PERFORM user_event_push_server(OLD.id, jsonb_build_object(
        'type', 'server.deleted', 'server_id', OLD.id));
    RETURN OLD;
END
$$;
CREATE TRIGGER servers_log_update AFTER UPDATE ON servers FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name
       OR OLD.description IS DISTINCT FROM NEW.description
       OR OLD.category_id IS DISTINCT FROM NEW.category_id
       OR OLD.icon IS DISTINCT FROM NEW.icon
       OR OLD.banner IS DISTINCT FROM NEW.banner
       OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION servers_log();
CREATE TRIGGER servers_log_delete BEFORE DELETE ON servers
    FOR EACH ROW EXECUTE FUNCTION servers_log();

-- channel.created, channel.updated (name or topic) and channel.deleted, to every member of the
-- channel's server; not for a server being deleted (server.deleted says it all).
CREATE FUNCTION channels_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.kind = 'text' THEN
            PERFORM user_event_push_server(NEW.server_id, jsonb_build_object(
                'type', 'channel.created', 'channel', channel_view(NEW)));
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.kind = 'text' THEN
            PERFORM user_event_push_server(NEW.server_id, jsonb_build_object(
                'type', 'channel.updated', 'channel', channel_view(NEW)));
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.kind = 'text' THEN
        PERFORM FROM servers WHERE id = OLD.server_id;
        IF FOUND THEN
            PERFORM user_event_push_server(OLD.server_id, jsonb_build_object(
                'type', 'channel.deleted', 'channel_id', OLD.id, 'server_id', OLD.server_id));
        END IF;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER channels_log_insert AFTER INSERT ON channels
    FOR EACH ROW EXECUTE FUNCTION channels_log();
CREATE TRIGGER channels_log_update AFTER UPDATE ON channels FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.topic IS DISTINCT FROM NEW.topic)
    EXECUTE FUNCTION channels_log();
CREATE TRIGGER channels_log_delete AFTER DELETE ON channels
    FOR EACH ROW EXECUTE FUNCTION channels_log();

-- conversation.added, to everyone who starts taking part in a conversation (its creator's
-- other devices learn of it too).
CREATE FUNCTION conversation_participants_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM user_event_push(ARRAY[NEW.user_id], jsonb_build_object(
        'type', 'conversation.added', 'conversation_id', NEW.channel_id, 'to', NEW.user_id));
    RETURN NEW;
END
$$;
CREATE TRIGGER conversation_participants_log AFTER INSERT ON conversation_participants
    FOR EACH ROW EXECUTE FUNCTION conversation_participants_log();

-- Forgets events older than p_age, at most p_batch of them: returns how many went. Each user's
-- head remembers the highest number pruned, so a cursor below it is known to be too old.
CREATE FUNCTION user_events_prune(p_age INTERVAL, p_batch INT) RETURNS BIGINT
LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM user_events e
            USING (SELECT user_id, seq FROM user_events
                       WHERE created_at < now() - p_age
                       ORDER BY created_at LIMIT p_batch) AS old
            WHERE e.user_id = old.user_id AND e.seq = old.seq
            RETURNING e.user_id, e.seq
    ), heads AS (
        UPDATE user_event_heads h SET pruned_through = greatest(h.pruned_through, g.top)
            FROM (SELECT user_id, max(seq) AS top FROM gone GROUP BY user_id ORDER BY user_id) g
            WHERE h.user_id = g.user_id
            RETURNING 1
    )
    SELECT count(*) FROM gone;
$$;
