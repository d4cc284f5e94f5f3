-- The hot paths, each one statement (one round trip, one cached plan):
--   * servers.member_count, kept by triggers, so the catalogue reads counts instead of counting;
--   * membership_join / membership_leave, which also tell whether the account still exists, so
--     a request needs no separate account lookup;
--   * message_store, which checks membership, numbers, stores and claims the nonce in one call.

ALTER TABLE servers ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0 CHECK (member_count >= 0);
UPDATE servers s SET member_count = (SELECT count(*) FROM server_members m WHERE m.server_id = s.id);

-- Every path that adds or removes a member (join, leave, removal by the owner, the owner's own
-- membership, cascades from deleted accounts) goes through these, so the count cannot drift.
-- A cascade from a deleted server updates no row: the server is already gone.
CREATE FUNCTION server_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE servers SET member_count = member_count + 1 WHERE id = NEW.server_id;
        RETURN NEW;
    END IF;
    UPDATE servers SET member_count = member_count - 1 WHERE id = OLD.server_id;
    RETURN OLD;
END
$$;
CREATE TRIGGER server_members_count AFTER INSERT OR DELETE ON server_members
    FOR EACH ROW EXECUTE FUNCTION server_members_count();

-- Joins p_user to p_server: 'joined', 'already_member', 'no_such_server' or 'no_such_user'.
-- The primary key of server_members makes concurrent joins safe; the foreign keys catch a server
-- or an account deleted while this runs (an error the caller maps).
CREATE FUNCTION membership_join(p_server BIGINT, p_user BIGINT) RETURNS TEXT
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM users WHERE id = p_user;
    IF NOT FOUND THEN
        RETURN 'no_such_user';
    END IF;
    INSERT INTO server_members (server_id, user_id)
        SELECT id, p_user FROM servers WHERE id = p_server
        ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN 'joined';
    END IF;
    PERFORM FROM servers WHERE id = p_server;
    RETURN CASE WHEN FOUND THEN 'already_member' ELSE 'no_such_server' END;
END
$$;

-- Removes p_user from p_server unless they own it: 'left', 'not_member', 'owner_cannot_leave',
-- 'no_such_server' or 'no_such_user'.
CREATE FUNCTION membership_leave(p_server BIGINT, p_user BIGINT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    v_owner BIGINT;
BEGIN
    PERFORM FROM users WHERE id = p_user;
    IF NOT FOUND THEN
        RETURN 'no_such_user';
    END IF;
    SELECT owner_id INTO v_owner FROM servers WHERE id = p_server;
    IF NOT FOUND THEN
        RETURN 'no_such_server';
    END IF;
    IF v_owner = p_user THEN
        RETURN 'owner_cannot_leave';
    END IF;
    DELETE FROM server_members WHERE server_id = p_server AND user_id = p_user;
    RETURN CASE WHEN FOUND THEN 'left' ELSE 'not_member' END;
END
$$;

-- Stores a message in p_channel (of p_server) from p_sender. The outcome is
--   'created'         the message was stored now: its id, sequence number and time;
--   'replayed'        p_nonce was used by p_sender within p_window_minutes: that message's id;
--   'not_member'      p_sender is not a member of p_server;
--   'no_such_channel' there is no such server, or no such channel in it.
-- Locks are always taken channel first, then nonce claim, so concurrent sends cannot deadlock.
-- The channel row stays locked until commit, which is what numbers messages without gaps.
CREATE FUNCTION message_store(
    p_server BIGINT, p_channel BIGINT, p_sender BIGINT, p_content TEXT, p_nonce TEXT,
    p_window_minutes INT,
    OUT o_outcome TEXT, OUT o_id BIGINT, OUT o_seq BIGINT, OUT o_created_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM server_members WHERE server_id = p_server AND user_id = p_sender;
    IF NOT FOUND THEN
        PERFORM FROM servers WHERE id = p_server;
        o_outcome := CASE WHEN FOUND THEN 'not_member' ELSE 'no_such_channel' END;
        RETURN;
    END IF;
    IF p_nonce IS NOT NULL THEN
        -- The common replay (a client re-sending after a drop) takes no lock at all.
        SELECT n.message_id INTO o_id
            FROM message_nonces n JOIN messages m ON m.id = n.message_id
            WHERE n.sender_id = p_sender AND n.nonce = p_nonce AND m.deleted_at IS NULL
              AND n.created_at > now() - make_interval(mins => p_window_minutes);
        IF FOUND THEN
            o_outcome := 'replayed';
            RETURN;
        END IF;
    END IF;
    UPDATE channels SET last_seq = last_seq + 1
        WHERE id = p_channel AND server_id = p_server
        RETURNING last_seq INTO o_seq;
    IF NOT FOUND THEN
        o_outcome := 'no_such_channel';
        RETURN;
    END IF;
    INSERT INTO messages (channel_id, sender_id, seq, content, nonce)
        VALUES (p_channel, p_sender, o_seq, p_content, p_nonce)
        RETURNING id, created_at INTO o_id, o_created_at;
    IF p_nonce IS NOT NULL THEN
        -- Takes the nonce, or a claim on it older than the window. If a concurrent send holds
        -- it, this waits for that send's commit and then finds the claim taken.
        INSERT INTO message_nonces AS n (sender_id, nonce, message_id)
            VALUES (p_sender, p_nonce, o_id)
            ON CONFLICT (sender_id, nonce) DO UPDATE
                SET message_id = EXCLUDED.message_id, created_at = now()
                WHERE n.created_at <= now() - make_interval(mins => p_window_minutes);
        IF NOT FOUND THEN
            -- A concurrent send won the nonce: take back this message and its number (the
            -- channel row is still locked by us, so nobody took a later number), and answer
            -- with the winner's message. Its claim row is locked by us now, so it stays put.
            DELETE FROM messages WHERE id = o_id;
            UPDATE channels SET last_seq = last_seq - 1 WHERE id = p_channel;
            SELECT message_id INTO o_id FROM message_nonces
                WHERE sender_id = p_sender AND nonce = p_nonce;
            o_seq := NULL;
            o_created_at := NULL;
            o_outcome := 'replayed';
            RETURN;
        END IF;
    END IF;
    o_outcome := 'created';
END
$$;
