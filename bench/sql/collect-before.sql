-- The collect transaction as the handler ran it before the folds of 2026-11-29 (eight round
-- trips: repeat check, bill lock, double-payment probe, insert, bill update, outbox insert), for
-- the attribution in scripts/bench. Run it with `notify-trigger.sql` applied for the path as it
-- was then (NOTIFY inside the transaction).
\set b random(1, :bills)
\set n random(1, 1000000000000)
\set m random(0, 525599)
\set a random(100, 99999)
BEGIN;
SELECT id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at, status, attempts, last_error, core_reference, published_at, posted_at, dead_lettered_at, created_at, updated_at FROM collections WHERE pay_channel = 10 AND receipt_number = 'PGB-' || :n;
SELECT control_number, loan_ref, amount_due, outstanding, allow_partial, status, expires_at, payer_last_name, payer_first_name, payer_middle_name, payer_suffix, payer_address, payer_phone FROM bills WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0') FOR UPDATE;
SELECT id FROM collections WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0') AND amount = :a / 100.0 AND collected_at BETWEEN timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute' - interval '15 minutes' AND timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute' + interval '15 minutes' ORDER BY collected_at;
INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at) VALUES (gen_random_uuid(), 'BENCH' || lpad(:b::text, 8, '0'), 'LN-BENCH', 10, 'PGB-' || :n, :a / 100.0, '09221008333', timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute') ON CONFLICT ON CONSTRAINT collections_receipt_key DO NOTHING RETURNING id AS cid \gset
UPDATE bills SET outstanding = outstanding - :a / 100.0, status = CASE WHEN status = 'open' THEN 'open' ELSE status END, updated_at = now() WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0');
INSERT INTO outbox (collection_id, payload) VALUES (CAST(:cid AS uuid), jsonb_build_object('collectionId', CAST(:cid AS text), 'receiptNumber', 'PGB-' || CAST(:n AS text), 'controlNumber', 'BENCH' || lpad(:b::text, 8, '0'), 'loanRef', 'LN-BENCH', 'amount', (:a / 100.0)::text, 'collectedAt', '2025-01-01T00:00:00+08:00', 'payChannel', 10, 'payerPhone', '09221008333')) RETURNING id;
COMMIT;
