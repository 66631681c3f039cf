-- Bills for the load generator: BENCH00000001 … BENCH{bills}, never paid off.
INSERT INTO bills (control_number, loan_ref, amount_due, outstanding, allow_partial, payer_last_name,
    payer_first_name, payer_middle_name, payer_address, payer_phone)
SELECT 'BENCH' || lpad(g::text, 8, '0'), 'LN-BENCH', 99999999.99, 99999999.99, true, 'Dela Cruz', 'Juan',
    'Santos', '1740 Mabini St,Malate,Manila,1004 Metro Manila,Philippines', '09221008333'
FROM generate_series(1, :bills) AS g;
