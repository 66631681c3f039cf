-- Bills, collections, the outbox, flags, refused collects and the ops audit trail.
-- Money is numeric(12,2); time is timestamptz. Status columns are text with CHECKs so that
-- ops can read them in psql without a lookup table.

CREATE TABLE bills (
    control_number    text PRIMARY KEY,
    loan_ref          text NOT NULL,
    amount_due        numeric(12,2) NOT NULL CHECK (amount_due > 0),
    outstanding       numeric(12,2) NOT NULL CHECK (outstanding >= 0),
    allow_partial     boolean NOT NULL DEFAULT false,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
    expires_at        timestamptz,
    payer_last_name   text NOT NULL,
    payer_first_name  text NOT NULL,
    payer_middle_name text,
    payer_suffix      text,
    payer_address     text NOT NULL CHECK (char_length(payer_address) <= 255),
    payer_phone       text NOT NULL,
    cancelled_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE collections (
    id               uuid PRIMARY KEY,
    control_number   text NOT NULL REFERENCES bills (control_number),
    loan_ref         text NOT NULL,
    pay_channel      integer NOT NULL,
    receipt_number   text NOT NULL,
    amount           numeric(12,2) NOT NULL CHECK (amount > 0),
    phone            text NOT NULL,
    collected_at     timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'recorded' CHECK (status IN
                       ('recorded', 'published', 'retrying', 'posted', 'dead_lettered', 'replayed', 'discarded')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    core_reference   text,
    published_at     timestamptz,
    posted_at        timestamptz,
    dead_lettered_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- The idempotency key of a collection: SkyPay's channel plus the channel's receipt.
    CONSTRAINT collections_receipt_key UNIQUE (pay_channel, receipt_number)
);
CREATE INDEX collections_control_number_idx ON collections (control_number, collected_at);
CREATE INDEX collections_status_idx ON collections (status) WHERE status <> 'posted';

-- Transactional outbox: written in the collect transaction, published by the relay.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    collection_id uuid NOT NULL REFERENCES collections (id),
    kind          text NOT NULL DEFAULT 'collection.recorded',
    payload       jsonb NOT NULL,
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Every collect we refused (the cash is already in the store's till): what and why.
CREATE TABLE refused_collects (
    id             bigserial PRIMARY KEY,
    response_code  text NOT NULL,
    reason         text NOT NULL,
    control_number text,
    receipt_number text,
    pay_channel    integer,
    amount         numeric(12,2),
    collected_at   timestamptz,
    -- The request as received, credentials removed.
    request        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refused_collects_control_number_idx ON refused_collects (control_number);

-- Things ops must look at: repeated receipts, suspected double payments, refusals, ...
CREATE TABLE flags (
    id                bigserial PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('replay', 'conflict', 'suspected_double_payment',
                        'refused_collect', 'overpayment', 'core_duplicate')),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    collection_id     uuid REFERENCES collections (id),
    refused_collect_id bigint REFERENCES refused_collects (id),
    control_number    text,
    receipt_number    text,
    pay_channel       integer,
    details           jsonb NOT NULL DEFAULT '{}'::jsonb,
    resolved_by       text,
    resolved_at       timestamptz,
    resolution_note   text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flags_open_idx ON flags (kind, created_at) WHERE status = 'open';
CREATE INDEX flags_collection_idx ON flags (collection_id);

-- Every ops action (admin API or CLI): who, what, when, why.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    actor      text NOT NULL,
    action     text NOT NULL,
    subject    text NOT NULL,
    reason     text,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, created_at);

-- Wake the outbox relay when a transaction that wrote outbox rows commits. Notifications
-- raised inside one transaction are folded into one, so a collect costs a single NOTIFY.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('collector_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
