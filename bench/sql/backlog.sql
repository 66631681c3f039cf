-- An outbox backlog of :rows rows, each with its collection, as the collect handler writes them.
INSERT INTO collections (id, control_number, loan_ref, pay_channel, receipt_number, amount, phone, collected_at)
SELECT gen_random_uuid(), 'BENCH' || lpad((1 + g % :bills)::text, 8, '0'), 'LN-BENCH', 10, 'BL-' || g,
    (1 + g % 997)::numeric + 0.5, '09221008333', timestamptz '2025-06-01 10:00+08' + g * interval '1 second'
FROM generate_series(1, :rows) AS g;
INSERT INTO outbox (collection_id, payload)
SELECT id, jsonb_build_object('collectionId', id, 'receiptNumber', receipt_number, 'controlNumber', control_number,
    'loanRef', loan_ref, 'amount', amount::text, 'collectedAt', to_char(collected_at AT TIME ZONE 'Asia/Manila', 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00',
    'payChannel', pay_channel, 'payerPhone', phone)
FROM collections WHERE receipt_number LIKE 'BL-%' ORDER BY receipt_number;
