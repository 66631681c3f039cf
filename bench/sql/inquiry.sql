-- The inquiry read exactly as the handler runs it for one inquiry (src/db/bills.rs
-- `BillReader`: the handler batches concurrent inquiries into one such statement), for pgbench.
\set b random(1, :bills)
SELECT control_number, loan_ref, amount_due, outstanding, allow_partial, status, expires_at, payer_last_name, payer_first_name, payer_middle_name, payer_suffix, payer_address, payer_phone FROM bills WHERE control_number = ANY(ARRAY['BENCH' || lpad(:b::text, 8, '0')]);
