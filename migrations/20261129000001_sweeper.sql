-- The database is the truth about every payment's next step, so that a sweeper can find and
-- re-send a payment whose message the broker lost.
--
-- collections.dispatch: the generation of the payment's one live message. Every re-send (a
-- sweeper's rescue, an ops replay) bumps it and publishes a message carrying it; a worker
-- drops a message whose generation is older (it was superseded), so a rescued payment never
-- travels as two messages at once.
-- collections.next_due_at: when the payment's message is due at a worker: when it was
-- (re)published, or when its retry tier expires. NULL: since it was created.
-- collections.next_attempt: the attempt number its message carries (a rescued retry keeps
-- its place in the schedule).
-- Adding columns with constant defaults rewrites nothing (Postgres 11+).
ALTER TABLE collections
    ADD COLUMN dispatch     integer NOT NULL DEFAULT 0,
    ADD COLUMN next_due_at  timestamptz,
    ADD COLUMN next_attempt integer NOT NULL DEFAULT 0;

ALTER TABLE outbox
    ADD COLUMN dispatch integer NOT NULL DEFAULT 0,
    ADD COLUMN attempt  integer NOT NULL DEFAULT 0;

-- The sweeper looks at collections created (or replayed) within its look-back window.
-- Neither column changes on a status change, so status updates stay HOT (see
-- 20261123000003_hot_updates.sql): an index on status itself would undo that.
CREATE INDEX collections_created_at_idx ON collections (created_at);
CREATE INDEX collections_replayed_at_idx ON collections (replayed_at) WHERE replayed_at IS NOT NULL;
