//! Reconciliation through the real interfaces: `fake-skypay` plays SkyPay on both sides (it
//! collects through our SkyPay API, and serves its book as the report), the app runs on a
//! real Postgres, and the match is run and worked through the admin API.

use std::time::Duration;

use chrono::Utc;
use collector::domain::MANILA;
use collector::fake_skypay::{BookRow, ReportSwitches, SimulateRequest};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::api::collect;
use crate::common::pipeline::{Core, Pipeline};
use crate::common::skypay::{start, SkyPayApp};

impl SkyPayApp {
    /// Every item of the day, by id.
    async fn items(&self) -> Vec<Value> {
        let response = self
            .app
            .admin_request(Method::GET, "/internal/reconciliation/items?state=all")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut items: Vec<Value> = response.json().await.unwrap();
        items.sort_by_key(|i| i["id"].as_i64());
        items
    }

    async fn resolve(&self, id: i64, resolution: &str, note: &str) -> (u16, Value) {
        let response = self
            .app
            .admin_request(
                Method::POST,
                &format!("/internal/reconciliation/items/{id}/resolve"),
            )
            .json(&json!({ "resolution": resolution, "note": note }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }
}

fn with_status<'a>(items: &'a [Value], status: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["status"] == status).collect()
}

fn now_manila() -> chrono::NaiveDateTime {
    Utc::now().with_timezone(&MANILA).naive_local()
}

/// A collect made now (the common helper's is on a fixed day).
fn collect_now(control_number: &str, amount: &str, receipt: &str) -> Value {
    let mut body = collect(control_number, amount, receipt);
    body["collectedTime"] = now_manila().format("%Y-%m-%d %H:%M:%S").to_string().into();
    body
}

#[tokio::test]
async fn collects_cut_off_on_the_way_are_found_as_missing_ours_and_every_status_is_produced() {
    let s = start(&[("RECON_MISSING_THEIRS_GRACE", "1ms")]).await;
    // SkyPay collects 30 payments; a fifth never reach us.
    let summary = s
        .fake
        .simulate(&SimulateRequest {
            count: Some(30),
            drop_rate: 0.2,
            ..SimulateRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(summary.errors, 0, "{:?}", summary.error_messages);
    assert_eq!(summary.booked, 30);
    assert!(
        summary.dropped > 0 && summary.answered_1000 > 0,
        "{summary:?}"
    );

    // Ours only: a collect SkyPay's book does not have (missing_theirs).
    s.app.register_bill("SKY0199000001", "500.00", false).await;
    assert_eq!(
        s.app
            .skypay(&collect_now("SKY0199000001", "500.00", "OURS-ONLY"))
            .await["responseCode"],
        "1000"
    );
    // A probable match: our receipt differs from SkyPay's reference, all else agrees.
    s.app.register_bill("SKY0199000002", "700.00", false).await;
    assert_eq!(
        s.app
            .skypay(&collect_now("SKY0199000002", "700.00", "OUR-RECEIPT"))
            .await["responseCode"],
        "1000"
    );
    let collected: chrono::DateTime<Utc> = sqlx::query_scalar(
        "SELECT collected_at FROM collections WHERE receipt_number = 'OUR-RECEIPT'",
    )
    .fetch_one(&s.app.db.pool)
    .await
    .unwrap();
    let paid = collected.with_timezone(&MANILA).naive_local();
    let dec = |v: &str| Decimal::from_str_exact(v).unwrap();
    // A reference SkyPay lists twice: an answered collect's row, again a second later.
    let answered = s
        .fake
        .book()
        .into_iter()
        .find(|r| !summary.dropped_receipts.contains(&r.reference_no))
        .unwrap();
    s.fake.add_rows([
        BookRow::new(
            paid,
            "SKY0199000002",
            dec("700.00"),
            "09221008333",
            "THEIR-REFERENCE",
        ),
        BookRow {
            pay_time: answered.pay_time + chrono::Duration::seconds(1),
            create_date: answered.create_date + chrono::Duration::seconds(1),
            ..answered.clone()
        },
    ]);

    let (status, outcome) = s.reconcile_today().await;
    assert_eq!(status, 200, "{outcome}");
    let items = s.items().await;
    let missing = with_status(&items, "missing_ours");
    let mut missing_refs: Vec<&str> = missing
        .iter()
        .map(|i| i["referenceNo"].as_str().unwrap())
        .collect();
    missing_refs.sort();
    let mut dropped: Vec<&str> = summary
        .dropped_receipts
        .iter()
        .map(String::as_str)
        .collect();
    dropped.sort();
    // Every cut-off payment is missing_ours, an open exception.
    assert_eq!(missing_refs, dropped, "{items:#?}");
    assert!(missing.iter().all(|i| i["state"] == "open"));
    assert_eq!(with_status(&items, "matched").len(), summary.answered_1000);
    let duplicate = with_status(&items, "duplicate");
    assert_eq!(duplicate.len(), 1);
    assert_eq!(duplicate[0]["referenceNo"], answered.reference_no.as_str());
    let probable = with_status(&items, "probable_match");
    assert_eq!(probable.len(), 1);
    assert_eq!(probable[0]["referenceNo"], "THEIR-REFERENCE");
    // OURS-ONLY; OUR-RECEIPT is taken by the probable match.
    let theirs_missing = with_status(&items, "missing_theirs");
    assert_eq!(theirs_missing.len(), 1, "{items:#?}");
    assert_eq!(theirs_missing[0]["referenceNo"], "OURS-ONLY");
    assert_eq!(theirs_missing[0]["state"], "open", "past its (1 ms) grace");
    s.teardown().await;
}

#[tokio::test]
async fn an_amount_mismatch_and_a_not_posted_collection_are_exceptions() {
    let s = start(&[("RECON_NOT_POSTED_AFTER", "1ms")]).await;
    s.app.register_bill("SKY0199000010", "100.00", false).await;
    assert_eq!(
        s.app
            .skypay(&collect_now("SKY0199000010", "100.00", "R-MISMATCH"))
            .await["responseCode"],
        "1000"
    );
    s.app.register_bill("SKY0199000011", "200.00", false).await;
    assert_eq!(
        s.app
            .skypay(&collect_now("SKY0199000011", "200.00", "R-NOT-POSTED"))
            .await["responseCode"],
        "1000"
    );
    let now = now_manila();
    let dec = |v: &str| Decimal::from_str_exact(v).unwrap();
    s.fake.add_rows([
        BookRow::new(
            now,
            "SKY0199000010",
            dec("100.01"),
            "09221008333",
            "R-MISMATCH",
        ),
        BookRow::new(
            now,
            "SKY0199000011",
            dec("200.00"),
            "09221008333",
            "R-NOT-POSTED",
        ),
    ]);
    let (status, outcome) = s.reconcile_today().await;
    assert_eq!(status, 200, "{outcome}");
    let items = s.items().await;
    let mismatch = with_status(&items, "amount_mismatch");
    assert_eq!(mismatch.len(), 1, "{items:#?}");
    assert_eq!(mismatch[0]["theirAmount"], "100.01");
    assert_eq!(mismatch[0]["ourAmount"], "100.00");
    // No pipeline runs here: the matched collection is not posted past the (1 ms) bound.
    let not_posted = with_status(&items, "not_posted");
    assert_eq!(not_posted.len(), 1, "{items:#?}");
    assert_eq!(not_posted[0]["referenceNo"], "R-NOT-POSTED");
    s.teardown().await;
}

#[tokio::test]
async fn a_rerun_changes_nothing_and_keeps_what_ops_resolved() {
    let s = start(&[]).await;
    let summary = s
        .fake
        .simulate(&SimulateRequest {
            count: Some(12),
            drop_rate: 0.5,
            ..SimulateRequest::default()
        })
        .await
        .unwrap();
    assert!(summary.dropped >= 1, "{summary:?}");
    assert_eq!(s.reconcile_today().await.0, 200);
    let first = s.items().await;
    let missing = with_status(&first, "missing_ours")[0]["id"]
        .as_i64()
        .unwrap();
    let (status, resolved) = s
        .resolve(missing, "void", "test payment, refunded at the counter")
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["resolution"], "void");
    // Resolving twice is refused; so is adopting something that is not missing_ours.
    assert_eq!(s.resolve(missing, "escalate", "again").await.0, 409);
    let matched = with_status(&first, "matched")[0]["id"].as_i64().unwrap();
    assert_eq!(
        s.resolve(matched, "escalate", "x").await.0,
        409,
        "matched is not open"
    );

    let (status, again) = s.reconcile_today().await;
    assert_eq!(status, 200, "{again}");
    let second = s.items().await;
    let strip = |items: &[Value]| -> Vec<(i64, String, String)> {
        items
            .iter()
            .map(|i| {
                (
                    i["id"].as_i64().unwrap(),
                    i["status"].to_string(),
                    i["state"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(strip(&first).len(), strip(&second).len());
    for (a, b) in strip(&first).iter().zip(strip(&second).iter()) {
        if a.0 == missing {
            assert_eq!(
                b.2, "\"resolved\"",
                "the resolved item is kept as ops left it"
            );
        } else {
            assert_eq!(a, b, "same items, same ids, same findings");
        }
    }
    let runs: Vec<Value> = s
        .app
        .admin_request(Method::GET, "/internal/reconciliation/runs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["status"] == "succeeded"));
    // The export lists every item once, and a header.
    let today = Utc::now().with_timezone(&MANILA).date_naive();
    let csv = s
        .app
        .admin_request(
            Method::GET,
            &format!("/internal/reconciliation/export?date={today}"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), second.len() + 1, "{csv}");
    assert!(csv.starts_with("id,business_date,status,state"));
    s.teardown().await;
}

#[tokio::test]
async fn every_report_quirk_is_read_and_rows_appearing_while_we_page_are_found() {
    // Five rows a page, slow ones, two refused with a 503 first, numbers as strings, trailing
    // commas, SkyPay's misspelt action: the book is read over several pages while rows keep
    // appearing.
    let s = start(&[
        ("SKYPAY_REPORT_PAGE_SIZE", "5"),
        ("SKYPAY_REPORT_ACTION", "getRerpotCollection"),
    ])
    .await;
    let summary = s
        .fake
        .simulate(&SimulateRequest {
            count: Some(23),
            ..SimulateRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(summary.answered_1000, 23, "{summary:?}");
    s.fake.set_report(ReportSwitches {
        numbers_as_strings: true,
        trailing_commas: true,
        insert_between_pages: 2,
        fail_pages: 2,
        page_delay_ms: 100,
        action_spellings: vec!["getRerpotCollection".into()],
        ..ReportSwitches::default()
    });
    let (status, outcome) = s.reconcile_today().await;
    assert_eq!(status, 200, "{outcome}");
    let items = s.items().await;
    assert!(
        s.fake.book().len() > 23,
        "rows were inserted while the report was read"
    );
    // Every row that was there when the run began was read, whatever the page shifts (a row
    // pushed onto the next page is read twice and kept once): ours are all matched.
    assert_eq!(with_status(&items, "matched").len(), 23, "{items:#?}");
    assert_eq!(
        with_status(&items, "duplicate").len(),
        0,
        "a shifted row is not a duplicate"
    );
    let appeared = with_status(&items, "missing_ours").len();
    assert!(
        appeared > 0,
        "rows that appeared mid-run are read again in a further pass"
    );
    // The next run, with SkyPay's book at rest, finds every row.
    s.fake.set_report(ReportSwitches::default());
    let (status, outcome) = s.reconcile_today().await;
    assert_eq!(status, 200, "{outcome}");
    let items = s.items().await;
    let booked = s.fake.book().len();
    assert_eq!(with_status(&items, "matched").len(), 23);
    assert_eq!(
        with_status(&items, "missing_ours").len(),
        booked - 23,
        "{items:#?}"
    );
    assert_eq!(items.len(), booked);

    // An error envelope instead of a report fails the run, saying which code, and records it.
    s.fake.set_report(ReportSwitches {
        error_code: Some("-1032".into()),
        ..ReportSwitches::default()
    });
    let (status, body) = s.reconcile_today().await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap().contains("-1032"), "{body}");
    let failed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM recon_runs WHERE status = 'failed' AND error LIKE '%-1032%'",
    )
    .fetch_one(&s.app.db.pool)
    .await
    .unwrap();
    assert_eq!(failed, 1);
    // The strict action spelling is refused as SkyPay would: a clear -1032 too.
    s.fake.set_report(ReportSwitches {
        action_spellings: vec!["getReportCollection".into()],
        ..ReportSwitches::default()
    });
    let (status, body) = s.reconcile_today().await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap().contains("-1032"), "{body}");
    s.teardown().await;
}

#[tokio::test]
async fn an_adopted_payment_is_recorded_and_posted_exactly_once() {
    let s = start(&[]).await;
    let summary = s
        .fake
        .simulate(&SimulateRequest {
            count: Some(6),
            drop_rate: 0.5,
            ..SimulateRequest::default()
        })
        .await
        .unwrap();
    assert!(summary.dropped >= 1, "{summary:?}");
    assert_eq!(s.reconcile_today().await.0, 200);
    let items = s.items().await;
    let missing: Vec<i64> = with_status(&items, "missing_ours")
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(missing.len(), summary.dropped);
    for id in &missing {
        let (status, item) = s
            .resolve(
                *id,
                "adopt",
                "SkyPay collected it; the collect never reached us",
            )
            .await;
        assert_eq!(status, 200, "{item}");
        assert_eq!(item["resolution"], "adopt");
        assert!(item["collectionId"].is_string(), "{item}");
    }
    // Adopted: recorded, flagged, audited, and a second adoption is refused.
    assert_eq!(
        s.app.count("flags WHERE kind = 'adopted'").await,
        summary.dropped as i64
    );
    assert_eq!(
        s.app
            .count("audit_log WHERE action = 'reconciliation.adopt'")
            .await,
        summary.dropped as i64
    );
    assert_eq!(s.resolve(missing[0], "adopt", "again").await.0, 409);

    // The pipeline posts every collection, adopted ones included, exactly once.
    let core = Core::start(Default::default()).await;
    let prefix = format!("test-{}", uuid::Uuid::new_v4().simple());
    let mut pipeline = Pipeline::on_database(&s.app.db.name, &s.app.db.url, &prefix, "100ms").await;
    pipeline.spawn_relay();
    pipeline.spawn_worker(&core.url, Duration::from_secs(5));
    pipeline
        .assert_all_posted_once(&core, summary.booked, Duration::from_secs(60))
        .await;
    // The next run finds the others matched, and keeps the adopted items as ops resolved them.
    assert_eq!(s.reconcile_today().await.0, 200);
    let after = s.items().await;
    assert_eq!(
        with_status(&after, "matched").len(),
        summary.answered_1000,
        "{after:#?}"
    );
    let adopted = with_status(&after, "missing_ours");
    assert_eq!(adopted.len(), summary.dropped);
    assert!(adopted
        .iter()
        .all(|i| i["state"] == "resolved" && i["resolution"] == "adopt"));
    core.stop();
    pipeline.teardown().await;
    s.teardown().await;
}

#[tokio::test]
async fn reconciliation_without_skypay_is_refused_clearly() {
    let app = crate::common::api::spawn_app().await;
    let response = app
        .admin_request(Method::POST, "/internal/reconciliation/runs")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("SKYPAY_API_URL"),
        "{body}"
    );
    app.teardown().await;
}

#[tokio::test]
async fn the_cli_reconciles_a_day_and_its_json_is_clean_whatever_it_logs() {
    let s = start(&[]).await;
    let summary = s
        .fake
        .simulate(&SimulateRequest {
            count: Some(4),
            drop_rate: 0.5,
            ..SimulateRequest::default()
        })
        .await
        .unwrap();
    let today = Utc::now().with_timezone(&MANILA).date_naive().to_string();
    let credential = format!("{}:{}", crate::common::api::USER, crate::common::api::KEY);
    // Asynchronous: the fake SkyPay answering the command runs on this test's runtime.
    let run = |args: &[&str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_collector"))
            .args(args)
            .env("DATABASE_URL", &s.app.db.url)
            .env("SKYPAY_API_URL", &s.fake_url)
            .env("SKYPAY_CALLER_NAME", "collector")
            .env("SKYPAY_PARTNER_CREDENTIAL", &credential)
            // Logs at info, as JSON: they must not end up in the answer.
            .env("RUST_LOG", "info")
            .env("LOG_FORMAT", "json")
            .output()
    };
    let out = run(&["reconcile", "--date", &today, "--json"])
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not the JSON answer ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(outcome["theirRows"], summary.booked);
    assert!(
        stderr.contains("reconciliation run succeeded"),
        "the log goes to stderr: {stderr}"
    );
    let out = run(&["exceptions", "list", "--status", "missing_ours", "--json"])
        .await
        .unwrap();
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), summary.dropped);
    s.teardown().await;
}
