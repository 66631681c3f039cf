-- Reconciliation with SkyPay's own books: every run of the daily match, every item it found,
-- and SkyPay's finance notifications (settlements).

-- One run of the match for one Manila day: who started it, what it read, what it found.
CREATE TABLE recon_runs (
    id            bigserial PRIMARY KEY,
    business_date date NOT NULL,
    trigger       text NOT NULL CHECK (trigger IN ('manual', 'nightly', 'intraday')),
    status        text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    error         text,
    -- Rows of SkyPay's report read (after removing rows a page shift served twice), and our
    -- collections of the day.
    their_rows    integer NOT NULL DEFAULT 0,
    our_rows      integer NOT NULL DEFAULT 0,
    -- Items by status after the run, e.g. {"matched": 412, "missing_ours": 3}.
    counts        jsonb NOT NULL DEFAULT '{}'::jsonb,
    started_by    text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX recon_runs_date_idx ON recon_runs (business_date, started_at);

-- What the match found, one row per SkyPay report row or per collection of ours, kept across
-- runs of the same day: a re-run recomputes the items that are not resolved and keeps the
-- resolved ones as they are.
CREATE TABLE recon_items (
    id              bigserial PRIMARY KEY,
    business_date   date NOT NULL,
    -- `ref:<referenceNo>` for a row of SkyPay's report (`ref:<referenceNo>#2` for its second
    -- copy), `ours:<collection id>` for a collection SkyPay's report does not hold.
    match_key       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('matched', 'missing_ours', 'missing_theirs',
                        'amount_mismatch', 'duplicate', 'not_posted', 'probable_match')),
    -- ok: nothing to do; expected: not an exception yet (within its grace); open: an
    -- exception for ops; resolved: ops decided (resolution, note, who, when).
    state           text NOT NULL CHECK (state IN ('ok', 'expected', 'open', 'resolved')),
    collection_id   uuid REFERENCES collections (id),
    reference_no    text,
    control_number  text,
    their_amount    numeric(12,2),
    our_amount      numeric(12,2),
    their_row       jsonb,
    detail          text NOT NULL DEFAULT '',
    first_run_id    bigint NOT NULL REFERENCES recon_runs (id),
    last_run_id     bigint NOT NULL REFERENCES recon_runs (id),
    resolution      text CHECK (resolution IN ('adopt', 'void', 'escalate')),
    resolution_note text,
    resolved_by     text,
    resolved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recon_items_key UNIQUE (business_date, match_key)
);
CREATE INDEX recon_items_open_idx ON recon_items (created_at) WHERE state = 'open';

-- A day's collections, for the match.
CREATE INDEX collections_collected_at_idx ON collections (collected_at);

-- A collection created by adopting a row of SkyPay's report (`collector recon resolve --adopt`).
ALTER TABLE flags DROP CONSTRAINT flags_kind_check;
ALTER TABLE flags ADD CONSTRAINT flags_kind_check CHECK (kind IN ('replay', 'conflict',
    'suspected_double_payment', 'refused_collect', 'overpayment', 'core_duplicate', 'adopted'));

-- SkyPay's financeNotification callbacks, as received (unique by reference and account), and
-- the settlement check of each collection settlement (statementType 4).
CREATE TABLE finance_notifications (
    id                bigserial PRIMARY KEY,
    reference_number  text NOT NULL,
    account_no        text NOT NULL DEFAULT '',
    statement_type    integer,
    sign_type         text,
    amount            numeric(18,2),
    currency          text,
    transaction_date  text,
    company_prefix    text,
    -- The notice as received, credentials removed.
    body              jsonb NOT NULL,
    -- For a collection settlement: the matched collections of the period it covers, and the
    -- drift (amount − matched), in pesos.
    settlement_period_start timestamptz,
    settlement_period_end   timestamptz,
    matched_amount    numeric(18,2),
    drift             numeric(18,2),
    received_via      text NOT NULL DEFAULT 'callback' CHECK (received_via IN ('callback', 'inquiry')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT finance_notifications_key UNIQUE (reference_number, account_no)
);
