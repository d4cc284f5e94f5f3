-- Pins: a channel's or conversation's messages kept at hand, at most 50 per channel (checked
-- under a lock on the channel's row, so concurrent pins cannot pass the cap). A deleted
-- message is no pin any more. Columns without a default are added without rewriting the table.
ALTER TABLE messages ADD COLUMN pinned_at TIMESTAMPTZ;
ALTER TABLE messages ADD COLUMN pinned_by BIGINT;
CREATE INDEX messages_pinned_idx ON messages (channel_id, pinned_at DESC)
    WHERE pinned_at IS NOT NULL;
