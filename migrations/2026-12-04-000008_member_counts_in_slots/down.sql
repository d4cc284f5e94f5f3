DROP FUNCTION server_member_counts_fold(INTEGER);
UPDATE servers s SET member_count = (SELECT count(*) FROM server_members m WHERE m.server_id = s.id);
ALTER TABLE servers DROP COLUMN counted_in_slots;
ALTER TABLE servers ADD CONSTRAINT servers_member_count_check CHECK (member_count >= 0);

CREATE OR REPLACE FUNCTION server_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE servers SET member_count = member_count + 1 WHERE id = NEW.server_id;
        RETURN NEW;
    END IF;
    UPDATE servers SET member_count = member_count - 1 WHERE id = OLD.server_id;
    RETURN OLD;
END
$$;

DROP TABLE server_member_counts;
