-- How far each user has read each channel or conversation: the `seq` of the last message they
-- saw. A missing row is 0 (nothing read). Acks only move it forward (see read_state_ack).
CREATE TABLE read_states (
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    read_seq   BIGINT      NOT NULL CHECK (read_seq >= 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel_id)
);
-- A deleted channel's states go with it.
CREATE INDEX read_states_channel_id_idx ON read_states (channel_id);
