-- Ops: a collection's history (every attempt and ops action) and discard bookkeeping.

CREATE TABLE collection_events (
    id            bigserial PRIMARY KEY,
    collection_id uuid NOT NULL REFERENCES collections (id),
    -- posted, duplicate, retrying, dead_lettered, replayed, discarded
    event         text NOT NULL,
    attempt       integer,
    detail        text,
    actor         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX collection_events_collection_idx ON collection_events (collection_id, id);

ALTER TABLE collections
    ADD COLUMN discarded_at   timestamptz,
    ADD COLUMN discarded_by   text,
    ADD COLUMN discard_reason text,
    ADD COLUMN replayed_at    timestamptz;

CREATE INDEX collections_receipt_idx ON collections (receipt_number);
CREATE INDEX flags_status_idx ON flags (status, kind, id);
