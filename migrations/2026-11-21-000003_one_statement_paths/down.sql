DROP FUNCTION message_store(BIGINT, BIGINT, BIGINT, TEXT, TEXT, INT);
DROP FUNCTION membership_leave(BIGINT, BIGINT);
DROP FUNCTION membership_join(BIGINT, BIGINT);
DROP TRIGGER server_members_count ON server_members;
DROP FUNCTION server_members_count();
ALTER TABLE servers DROP COLUMN member_count;
