-- A popular server's joins and leaves no longer queue on one row. servers.member_count was kept
-- by a trigger that updated the server's row, so every join or leave of that server held the
-- row's lock until its transaction committed (a WAL flush): concurrent joins of one server ran one
-- at a time. The count now lives in up to 16 slots per server; a join or a leave adds to the slot
-- of its database connection (pg_backend_pid() % 16), so connections rarely wait for each other,
-- and a server's count is the sum of at most 16 rows (one index range read). Exact in any
-- snapshot: every change of a slot commits with the membership change it counts.

CREATE TABLE server_member_counts (
    server_id BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    slot SMALLINT NOT NULL,
    -- One slot may go below zero (a join counted in one slot, its leave in another); the sum
    -- of a server's slots cannot.
    count BIGINT NOT NULL,
    PRIMARY KEY (server_id, slot)
);

INSERT INTO server_member_counts (server_id, slot, count)
    SELECT id, 0, member_count FROM servers;

CREATE OR REPLACE FUNCTION server_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_server BIGINT;
    v_delta BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        v_server := NEW.server_id;
        v_delta := 1;
    ELSE
        v_server := OLD.server_id;
        v_delta := -1;
        -- A cascade from a deleted server: its slots go with it.
        PERFORM FROM servers WHERE id = v_server;
        IF NOT FOUND THEN
            RETURN OLD;
        END IF;
    END IF;
    INSERT INTO server_member_counts AS c (server_id, slot, count)
        VALUES (v_server, pg_backend_pid() % 16, v_delta)
        ON CONFLICT (server_id, slot) DO UPDATE SET count = c.count + EXCLUDED.count;
    RETURN NULL;
END
$$;

ALTER TABLE servers DROP COLUMN member_count;
