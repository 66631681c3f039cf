-- The collect transaction exactly as the handler runs it (src/payments/collect.rs, with
-- db::bills::lock_for_collect and db::collections::record), for pgbench: the bill lock with the
-- repeat check, then the collection, bill update, outbox event and double-payment probe in one
-- statement. (The handler makes the collection id and the payload in Rust; here Postgres does.)
\set b random(1, :bills)
\set n random(1, 1000000000000)
\set m random(0, 525599)
\set a random(100, 99999)
BEGIN;
SELECT control_number, loan_ref, amount_due, outstanding, allow_partial, status, expires_at, payer_last_name, payer_first_name, payer_middle_name, payer_suffix, payer_address, payer_phone, (SELECT id FROM collections WHERE pay_channel = 10 AND receipt_number = 'PGB-' || :n) AS repeat_of FROM bills WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0') FOR UPDATE;
WITH nearby AS (SELECT coalesce(array_agg(id ORDER BY collected_at), '{}') AS ids FROM collections WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0') AND amount = :a / 100.0 AND collected_at BETWEEN timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute' - interval '15 minutes' AND timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute' + interval '15 minutes'), inserted AS (INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at) VALUES (gen_random_uuid(), 'BENCH' || lpad(:b::text, 8, '0'), 'LN-BENCH', 10, 'PGB-' || :n, :a / 100.0, '09221008333', timestamptz '2025-01-01 00:00+08' + :m * interval '1 minute') ON CONFLICT ON CONSTRAINT collections_receipt_key DO NOTHING RETURNING id), bill AS (UPDATE bills SET outstanding = outstanding - :a / 100.0, status = CASE WHEN status = 'open' THEN 'open' ELSE status END, updated_at = now() WHERE control_number = 'BENCH' || lpad(:b::text, 8, '0') AND EXISTS (SELECT 1 FROM inserted)), event AS (INSERT INTO outbox (collection_id, payload) SELECT id, jsonb_build_object('collectionId', id::text, 'receiptNumber', 'PGB-' || CAST(:n AS text), 'controlNumber', 'BENCH' || lpad(:b::text, 8, '0'), 'loanRef', 'LN-BENCH', 'amount', (:a / 100.0)::text, 'collectedAt', '2025-01-01T00:00:00+08:00', 'payChannel', 10, 'payerPhone', '09221008333') FROM inserted) SELECT EXISTS (SELECT 1 FROM inserted), (SELECT ids FROM nearby);
COMMIT;
