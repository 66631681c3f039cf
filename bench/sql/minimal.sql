-- The minimal durable collect, the baseline of the collect figure: lock the bill row, insert
-- the collection, update the bill, insert the outbox row, commit. Any correct collect does at
-- least this (no repeat check, no double-payment probe, no flags, no answer).
\set b random(1, :bills)
\set n random(1, 1000000000000)
\set m random(0, 525599)
\set a random(100, 99999)
BEGIN;
SELECT outstanding FROM bills WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0') FOR UPDATE;
INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at) VALUES (gen_random_uuid(), 'BENCH' || lpad(:b::text, 8, '0'), 'LN-BENCH', 10, 'PGM-' || :n, :a / 100.0, '09221008333', timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute') RETURNING id AS cid \gset
UPDATE bills SET outstanding = outstanding - :a / 100.0, updated_at = now() WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0');
INSERT INTO outbox (collection_id, payload) VALUES (CAST(:cid AS uuid), jsonb_build_object('collectionId', CAST(:cid AS text), 'receiptNumber', 'PGM-' || CAST(:n AS text), 'controlNumber', 'BENCH' || lpad(:b::text, 8, '0'), 'loanRef', 'LN-BENCH', 'amount', (:a / 100.0)::text, 'collectedAt', '2025-01-01T00:00:00+08:00', 'payChannel', 10, 'payerPhone', '09221008333'));
COMMIT;
