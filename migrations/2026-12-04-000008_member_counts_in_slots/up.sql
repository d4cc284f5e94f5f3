-- A popular server's joins and leaves no longer queue on one row. servers.member_count was kept
-- by a trigger that updated the server's row, so each join or leave of a server held that row's
-- lock until its transaction committed (a WAL flush): concurrent joins of one server ran one at a
-- time, about a thousand a second whatever the hardware.
--
-- Now a server's count is member_count plus the sum of its slots in server_member_counts (at most
-- 16 rows, one per pg_backend_pid() % 16). A server is counted in its row until two of its joins
-- or leaves meet: the one that finds the row locked waits for it once (as every one did before)
-- and marks the server counted_in_slots; from then on its joins and leaves add to their
-- connection's slot, so connections rarely wait for each other. Reads add the slots only for
-- marked servers, so a catalogue of quiet servers reads what it read before.
--
-- A server that has quietened down goes back to its row: server_member_counts_fold(), called
-- every few seconds, adds the slots of marked servers with no join or leave under way into
-- member_count and clears the mark.
--
-- Exact in any snapshot: the count is always member_count + the slots (either place may change,
-- both commit with the membership change they count), and a slot is written only by a
-- transaction holding a key-share lock on the server's row and seeing the mark committed; the
-- fold takes the row's update lock, which waits for those and holds off new ones, so no slot
-- is written while it folds, and a snapshot that sees a slot also sees the mark.

CREATE TABLE server_member_counts (
    server_id BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    slot SMALLINT NOT NULL,
    -- One slot may go below zero (a join counted in one slot, its leave in another), as may
    -- member_count once the slots count too; their sum cannot.
    count BIGINT NOT NULL,
    PRIMARY KEY (server_id, slot)
);

ALTER TABLE servers DROP CONSTRAINT servers_member_count_check;
ALTER TABLE servers ADD COLUMN counted_in_slots BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX servers_counted_in_slots ON servers (id) WHERE counted_in_slots;

CREATE OR REPLACE FUNCTION server_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_server BIGINT;
    v_delta BIGINT;
    v_slots BOOLEAN;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_server := NEW.server_id;
        v_delta := 1;
    ELSE
        v_server := OLD.server_id;
        v_delta := -1;
    END IF;
    -- The common case: nobody else is changing this server's count.
    UPDATE servers SET member_count = member_count + v_delta
        WHERE id = (SELECT id FROM servers WHERE id = v_server AND NOT counted_in_slots
                    FOR NO KEY UPDATE SKIP LOCKED);
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT counted_in_slots INTO v_slots FROM servers WHERE id = v_server FOR KEY SHARE;
    IF NOT FOUND THEN
        -- A cascade from a deleted server: nothing to count.
        RETURN NULL;
    END IF;
    IF v_slots THEN
        INSERT INTO server_member_counts AS c (server_id, slot, count)
            VALUES (v_server, pg_backend_pid() % 16, v_delta)
            ON CONFLICT (server_id, slot) DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSE
        -- Another join or leave holds the row: wait for it this once, and count this server in
        -- slots from now on.
        UPDATE servers SET member_count = member_count + v_delta, counted_in_slots = true
            WHERE id = v_server;
    END IF;
    RETURN NULL;
END
$$;

-- Moves the slots of up to p_limit marked servers that no join or leave is touching back into
-- their rows; returns how many servers it folded.
CREATE FUNCTION server_member_counts_fold(p_limit INTEGER) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    v_server BIGINT;
    v_folded INTEGER := 0;
BEGIN
    FOR v_server IN
        SELECT id FROM servers WHERE counted_in_slots ORDER BY id LIMIT p_limit
            FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE servers SET counted_in_slots = false,
            member_count = member_count + COALESCE(
                (SELECT sum(count) FROM server_member_counts WHERE server_id = v_server), 0)
            WHERE id = v_server;
        DELETE FROM server_member_counts WHERE server_id = v_server;
        v_folded := v_folded + 1;
    END LOOP;
    RETURN v_folded;
END
$$;
