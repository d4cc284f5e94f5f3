-- Direct messages. A conversation (a 1:1 DM or a group DM) is a channel with no server, so its
-- messages have everything a channel's have: the messages table, gap-free numbering under the
-- channel row's lock, nonces, edits, deletions, history, replay and the hub. Who may read and
-- post is who takes part (conversation_participants), not a server's membership.

ALTER TABLE channels ALTER COLUMN server_id DROP NOT NULL;
-- Conversations have no owner (the foreign key cascades: an owner's account deleted would take
-- the conversation from everyone else).
ALTER TABLE channels ALTER COLUMN owner_id DROP NOT NULL;
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'text'
    CHECK (kind IN ('text', 'dm', 'group'));
ALTER TABLE channels ADD CONSTRAINT channels_kind_has_server
    CHECK ((kind = 'text') = (server_id IS NOT NULL));
ALTER TABLE channels ADD CONSTRAINT channels_text_has_owner
    CHECK ((kind = 'text') = (owner_id IS NOT NULL));

CREATE TABLE conversation_participants (
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, user_id)
);
-- "My conversations", and cascades from users.
CREATE INDEX conversation_participants_user_id_idx
    ON conversation_participants (user_id, channel_id);

-- The one 1:1 conversation of two users (low_id < high_id): its primary key is what makes
-- concurrent opens of the same pair create one conversation.
CREATE TABLE direct_pairs (
    low_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    high_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL UNIQUE REFERENCES channels (id) ON DELETE CASCADE,
    PRIMARY KEY (low_id, high_id),
    CHECK (low_id < high_id)
);
CREATE INDEX direct_pairs_high_id_idx ON direct_pairs (high_id);

CREATE TABLE user_blocks (
    blocker_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX user_blocks_blocked_id_idx ON user_blocks (blocked_id, blocker_id);

-- A conversation whose last participant left (or deleted their account) is gone, with its
-- messages.
CREATE FUNCTION conversation_last_leaves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM channels c
        WHERE c.id = OLD.channel_id AND c.kind IN ('group', 'dm')
          AND NOT EXISTS (SELECT FROM conversation_participants p WHERE p.channel_id = c.id);
    RETURN OLD;
END
$$;
CREATE TRIGGER conversation_last_leaves AFTER DELETE ON conversation_participants
    FOR EACH ROW EXECUTE FUNCTION conversation_last_leaves();

-- Opens the 1:1 conversation of p_user with p_other: 'created' or 'existing' with its id, or
-- 'no_such_user' (p_other, or p_user, does not exist), or 'blocked' (p_other blocked p_user).
-- Concurrent opens of one pair: both insert a channel, one wins the pair's primary key; the
-- other waits for its commit, finds the pair taken, and takes back its channel.
CREATE FUNCTION direct_open(p_user BIGINT, p_other BIGINT, OUT o_outcome TEXT, OUT o_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_low  BIGINT := least(p_user, p_other);
    v_high BIGINT := greatest(p_user, p_other);
BEGIN
    PERFORM FROM users WHERE id IN (p_user, p_other) HAVING count(*) = 2;
    IF NOT FOUND THEN
        o_outcome := 'no_such_user';
        RETURN;
    END IF;
    PERFORM FROM user_blocks WHERE blocker_id = p_other AND blocked_id = p_user;
    IF FOUND THEN
        o_outcome := 'blocked';
        RETURN;
    END IF;
    SELECT channel_id INTO o_id FROM direct_pairs WHERE low_id = v_low AND high_id = v_high;
    IF FOUND THEN
        o_outcome := 'existing';
        RETURN;
    END IF;
    INSERT INTO channels (server_id, owner_id, name, kind)
        VALUES (NULL, NULL, 'direct', 'dm') RETURNING id INTO o_id;
    INSERT INTO direct_pairs (low_id, high_id, channel_id) VALUES (v_low, v_high, o_id)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        DELETE FROM channels WHERE id = o_id;
        SELECT channel_id INTO o_id FROM direct_pairs WHERE low_id = v_low AND high_id = v_high;
        o_outcome := 'existing';
        RETURN;
    END IF;
    INSERT INTO conversation_participants (channel_id, user_id)
        VALUES (o_id, v_low), (o_id, v_high);
    o_outcome := 'created';
END
$$;

-- Adds p_user to the group conversation p_channel on behalf of p_actor, a participant:
-- 'added', 'already_participant', 'full' (p_max participants already), 'no_such_user', or
-- 'no_such_conversation' (none, not a group, or p_actor does not take part). The channel row is
-- locked while counting, so concurrent adds cannot pass p_max.
CREATE FUNCTION conversation_add(p_channel BIGINT, p_actor BIGINT, p_user BIGINT, p_max INT)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    v_count INT;
BEGIN
    PERFORM FROM channels WHERE id = p_channel AND kind = 'group' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'no_such_conversation';
    END IF;
    PERFORM FROM conversation_participants WHERE channel_id = p_channel AND user_id = p_actor;
    IF NOT FOUND THEN
        RETURN 'no_such_conversation';
    END IF;
    PERFORM FROM users WHERE id = p_user;
    IF NOT FOUND THEN
        RETURN 'no_such_user';
    END IF;
    PERFORM FROM conversation_participants WHERE channel_id = p_channel AND user_id = p_user;
    IF FOUND THEN
        RETURN 'already_participant';
    END IF;
    SELECT count(*) INTO v_count FROM conversation_participants WHERE channel_id = p_channel;
    IF v_count >= p_max THEN
        RETURN 'full';
    END IF;
    INSERT INTO conversation_participants (channel_id, user_id) VALUES (p_channel, p_user);
    RETURN 'added';
END
$$;

-- message_store (migration 3) learns conversations: p_server NULL means p_channel is one, and
-- only its participants may post ('no_such_channel' for anyone else: to them it does not
-- exist), nobody in a 1:1 conversation where either user blocked the other ('blocked').
-- Everything after the check is as before.
CREATE OR REPLACE FUNCTION message_store(
    p_server BIGINT, p_channel BIGINT, p_sender BIGINT, p_content TEXT, p_nonce TEXT,
    p_window_minutes INT,
    OUT o_outcome TEXT, OUT o_id BIGINT, OUT o_seq BIGINT, OUT o_created_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_server IS NULL THEN
        PERFORM FROM conversation_participants
            WHERE channel_id = p_channel AND user_id = p_sender;
        IF NOT FOUND THEN
            o_outcome := 'no_such_channel';
            RETURN;
        END IF;
        PERFORM FROM direct_pairs p
            JOIN user_blocks b ON (b.blocker_id = p.low_id AND b.blocked_id = p.high_id)
                               OR (b.blocker_id = p.high_id AND b.blocked_id = p.low_id)
            WHERE p.channel_id = p_channel;
        IF FOUND THEN
            o_outcome := 'blocked';
            RETURN;
        END IF;
    ELSE
        PERFORM FROM server_members WHERE server_id = p_server AND user_id = p_sender;
        IF NOT FOUND THEN
            PERFORM FROM servers WHERE id = p_server;
            o_outcome := CASE WHEN FOUND THEN 'not_member' ELSE 'no_such_channel' END;
            RETURN;
        END IF;
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
        WHERE id = p_channel AND server_id IS NOT DISTINCT FROM p_server
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
