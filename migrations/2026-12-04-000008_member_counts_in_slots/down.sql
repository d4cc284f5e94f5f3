ALTER TABLE servers ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0 CHECK (member_count >= 0);
UPDATE servers s SET member_count = (SELECT count(*) FROM server_members m WHERE m.server_id = s.id);

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
