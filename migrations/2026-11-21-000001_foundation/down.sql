DROP TABLE messages;
DROP TABLE channels;
DROP TRIGGER servers_owner_is_member ON servers;
DROP FUNCTION add_owner_as_member();
DROP TABLE server_members;
DROP TABLE servers;
DROP TABLE categories;
DROP TABLE users;
