//! Concurrency, proven: parallel collects on one bill never overpay it, and one receipt sent
//! many times at once is recorded once.

use std::sync::Arc;

use futures::future::join_all;
use tokio::sync::Barrier;

use crate::common::api::*;

const CN: &str = "SKY0100000001";
const N: usize = 24;

/// Sends every body at once (each waits at a barrier for the others) and returns each
/// answer's code, in order.
async fn codes_at_once(app: &Arc<TestApp>, bodies: Vec<serde_json::Value>) -> Vec<String> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    let answers = join_all(bodies.into_iter().map(|body| {
        let (app, barrier) = (app.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            code(&app.skypay(&body).await).to_owned()
        })
    }))
    .await;
    answers.into_iter().map(|r| r.unwrap()).collect()
}

/// How many of `codes` are one of `wanted`.
fn tally(codes: &[String], wanted: &[&str]) -> usize {
    codes
        .iter()
        .filter(|c| wanted.contains(&c.as_str()))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_collects_on_one_bill_never_overpay_it() {
    let app = Arc::new(spawn_app().await);
    // Room for 10 of the 24 collects of 100.00 each.
    app.register_bill(CN, "1000.00", true).await;
    let bodies = (0..N).map(|i| {
        let mut body = collect(CN, "100.00", &format!("PAR-{i}"));
        body["collectedTime"] = format!("2026-04-01 {:02}:00:00", i % 24).into();
        body
    });
    let codes = codes_at_once(&app, bodies.collect()).await;
    let accepted = tally(&codes, &["1000"]);
    let refused = tally(&codes, &["2001", "-1026"]);
    assert_eq!(accepted, 10, "{codes:?}");
    assert_eq!(refused, N - 10, "{codes:?}");
    assert_eq!(app.count("collections").await, 10);
    assert_eq!(app.count("outbox").await, 10);
    let total: rust_decimal::Decimal = sqlx::query_scalar("SELECT sum(amount) FROM collections")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(total.to_string(), "1000.00");
    assert_eq!(app.outstanding(CN).await, "0.00 paid");
    Arc::into_inner(app)
        .expect("all tasks done")
        .teardown()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_receipt_sent_n_times_at_once_records_one_collection() {
    let app = Arc::new(spawn_app().await);
    app.register_bill(CN, "5000.00", true).await;
    let bodies = vec![collect(CN, "100.00", "SAME-RECEIPT"); N];
    let codes = codes_at_once(&app, bodies).await;
    assert_eq!(tally(&codes, &["1000"]), 1, "{codes:?}");
    assert_eq!(tally(&codes, &["-1015"]), N - 1, "{codes:?}");
    assert_eq!(app.count("collections").await, 1);
    assert_eq!(app.count("outbox").await, 1);
    assert_eq!(
        app.count("flags WHERE kind = 'replay'").await,
        (N - 1) as i64
    );
    assert_eq!(app.outstanding(CN).await, "4900.00 open");
    Arc::into_inner(app)
        .expect("all tasks done")
        .teardown()
        .await;
}

/// Collects that arrive together share a transaction (`payments::grouped`), and every rule
/// still holds as if they came one by one: a bill is never overpaid, a collect refused by a
/// group's earlier collects is refused, and each double payment is flagged with every earlier
/// collection, the group's own included.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn collects_arriving_together_share_transactions_and_keep_every_rule() {
    let app = Arc::new(spawn_app().await);
    const BILLS: usize = 7;
    const EACH: usize = 5;
    for b in 1..=BILLS {
        app.register_bill(&format!("SKY03000000{b:02}"), "1000.00", true)
            .await;
    }
    // Room for three of its five collects.
    app.register_bill("SKY0300000099", "300.00", true).await;
    let mut asks = Vec::new();
    for b in (1..=BILLS).chain([99]) {
        for k in 0..EACH {
            let mut body = collect(
                &format!("SKY03000000{b:02}"),
                "100.00",
                &format!("GRP-{b}-{k}"),
            );
            body["collectedTime"] = "2026-04-01 10:00:00".into();
            asks.push(body);
        }
    }
    let codes = codes_at_once(&app, asks).await;
    let accepted = BILLS * EACH + 3;
    assert_eq!(tally(&codes, &["1000"]), accepted, "{codes:?}");
    assert_eq!(tally(&codes, &["-1026", "2001"]), 2, "{codes:?}");
    assert_eq!(app.count("collections").await, accepted as i64);
    assert_eq!(app.count("outbox").await, accepted as i64);
    for b in 1..=BILLS {
        assert_eq!(
            app.outstanding(&format!("SKY03000000{b:02}")).await,
            "500.00 open"
        );
    }
    assert_eq!(app.outstanding("SKY0300000099").await, "0.00 paid");
    // Per bill, the k-th collection of the same amount names the k - 1 before it.
    let named: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT control_number, count(*), sum(jsonb_array_length(details -> 'earlierCollections')) \
         FROM flags WHERE kind = 'suspected_double_payment' GROUP BY control_number",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(named.len(), BILLS + 1, "{named:?}");
    for (bill, flags, earlier) in &named {
        let k = if bill.ends_with("99") { 3 } else { EACH as i64 };
        assert_eq!(
            (*flags, *earlier),
            (k - 1, k * (k - 1) / 2),
            "{bill}: {named:?}"
        );
    }
    // And they did share transactions.
    let transactions: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT xmin::text) FROM collections")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(
        transactions < accepted as i64,
        "{transactions} transactions for {accepted} collections"
    );
    Arc::into_inner(app)
        .expect("all tasks done")
        .teardown()
        .await;
}

/// A receipt recorded before, arriving with new collects, rolls its group back: each collect is
/// then recorded on its own, the repeat answered as a repeat, and nothing is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repeat_among_new_collects_costs_nothing_but_its_groups_transaction() {
    let app = Arc::new(spawn_app().await);
    app.register_bill(CN, "5000.00", true).await;
    let first = app.skypay(&collect(CN, "100.00", "REP-0")).await;
    assert_eq!(code(&first), "1000", "{first}");
    let bodies = (0..N).map(|i| collect(CN, "100.00", &format!("REP-{}", i % 12)));
    let codes = codes_at_once(&app, bodies.collect()).await;
    // REP-1 … REP-11 are new: each recorded once; every other ask is a repeat.
    assert_eq!(tally(&codes, &["1000"]), 11, "{codes:?}");
    assert_eq!(tally(&codes, &["-1015"]), N - 11, "{codes:?}");
    assert_eq!(app.count("collections").await, 12);
    assert_eq!(app.count("outbox").await, 12);
    assert_eq!(
        app.count("flags WHERE kind = 'replay'").await,
        (N - 11) as i64
    );
    assert_eq!(app.outstanding(CN).await, "3800.00 open");
    Arc::into_inner(app)
        .expect("all tasks done")
        .teardown()
        .await;
}

/// Inquiries in flight share one read (`BillReader`): each still gets its own bill's answer,
/// whether its bill is open, paid, unknown, or asked for twice in one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn inquiries_at_once_each_get_their_own_bills_answer() {
    let app = Arc::new(spawn_app().await);
    const BILLS: usize = 12;
    for i in 1..=BILLS {
        let mut body = bill_body(&format!("{}.00", 100 + i), false);
        body["payer"]["firstName"] = format!("Payer{i}").into();
        let response = app
            .admin_request(
                reqwest::Method::PUT,
                &format!("/internal/bills/SKY02000000{i:02}"),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
    // The last bill is paid in full before the inquiries.
    let paid = format!("SKY02000000{BILLS:02}");
    let answer = app
        .skypay(&collect(&paid, format!("{}.00", 100 + BILLS), "PAID-1"))
        .await;
    assert_eq!(code(&answer), "1000", "{answer}");

    // Per bill: the right amount twice, a wrong amount once; and unknown control numbers.
    let mut asks: Vec<(String, String, &str)> = Vec::new();
    for i in 1..=BILLS {
        let cn = format!("SKY02000000{i:02}");
        let ok = if i == BILLS { "-1026" } else { "1000" };
        asks.push((cn.clone(), format!("{}.00", 100 + i), ok));
        asks.push((cn.clone(), format!("{}.00", 100 + i), ok));
        let wrong = if i == BILLS { "-1026" } else { "2001" };
        asks.push((cn, format!("{}.00", 200 + i), wrong));
    }
    for i in 1..=BILLS {
        asks.push((format!("SKY09900000{i:02}"), "100.00".into(), "-1015"));
    }
    let barrier = Arc::new(Barrier::new(asks.len()));
    let answers = join_all(asks.iter().cloned().map(|(cn, amount, _)| {
        let (app, barrier) = (app.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            app.skypay(&inquiry(&cn, amount.as_str())).await
        })
    }))
    .await;
    for ((cn, amount, expected), answer) in asks.iter().zip(answers) {
        let answer = answer.unwrap();
        assert_eq!(code(&answer), *expected, "{cn} {amount}: {answer}");
        if *expected == "1000" {
            let i: usize = cn[cn.len() - 2..].parse().unwrap();
            assert_eq!(
                answer["payerName"],
                format!("Dela Cruz,Payer{i},Santos"),
                "{cn}: {answer}"
            );
            assert_eq!(answer["amount"], amount.as_str(), "{cn}: {answer}");
        } else {
            assert!(answer.get("payerName").is_none(), "{cn}: {answer}");
        }
    }
    Arc::into_inner(app)
        .expect("all tasks done")
        .teardown()
        .await;
}
