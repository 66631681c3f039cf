//! The fake's behaviour through its library face, and once over HTTP; the simulator against a
//! stub of our API.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::skypay::envelope::{decrypt, encrypt};

const USER: &str = "AppName@skypay";
const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
const DAY: &str = "2026-11-20";

fn fake() -> Arc<FakeSkyPay> {
    FakeSkyPay::new(PartnerCredential::new(USER, KEY), Switches::default())
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, TIME_FORMAT).unwrap()
}

fn amount(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// `n` rows one minute apart from 08:00 on `DAY`, references `R0000`…
fn book_rows(fake: &FakeSkyPay, n: i64) {
    fake.add_rows((0..n).map(|i| {
        BookRow::new(
            at("2026-11-20 08:00:00") + TimeDelta::minutes(i),
            "SKY0100000001",
            amount("1300.00"),
            "09221008333",
            &format!("R{i:04}"),
        )
    }));
}

fn request(date_type: &str, start: &str, end: &str, page: u64, size: u64) -> Value {
    json!({
        "userName": USER, "action": "getReportCollection", "authentication": KEY,
        "startDate": start, "endDate": end, "dateType": date_type,
        "pagination": page, "pageSize": size,
    })
}

fn page_of(day_page: u64, size: u64) -> Value {
    request("CollectedTime", DAY, DAY, day_page, size)
}

/// A plain call; the answer's text.
fn ask_text(fake: &FakeSkyPay, request: &Value) -> String {
    let reply = fake.report("collector", request.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.encrypted);
    reply.body
}

fn ask(fake: &FakeSkyPay, request: &Value) -> Value {
    let text = ask_text(fake, request);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn references(answer: &Value) -> Vec<String> {
    answer["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["referenceNo"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_sealed_request_gets_a_sealed_answer_and_a_wrong_credential_is_refused() {
    let fake = fake();
    book_rows(&fake, 3);
    let key = PartnerCredential::new(USER, KEY).envelope_key().clone();
    let sealed = encrypt(&key, page_of(1, 100).to_string().as_bytes());
    let reply = fake.report("collector", sealed.as_bytes());
    assert_eq!(reply.status, 200);
    assert!(
        reply.encrypted && !reply.body.starts_with('{'),
        "{}",
        reply.body
    );
    let answer: Value = serde_json::from_slice(&decrypt(&key, reply.body.as_bytes()).unwrap())
        .expect("the answer opens with the partner key");
    assert_eq!(answer["totalTransaction"], 3);
    assert_eq!(answer["lastPage"], true);
    assert_eq!(references(&answer), ["R0002", "R0001", "R0000"]);

    let mut wrong = page_of(1, 100);
    wrong["authentication"] = "NOT-THE-KEY".into();
    let sealed = encrypt(&key, wrong.to_string().as_bytes());
    let reply = fake.report("collector", sealed.as_bytes());
    let answer: Value =
        serde_json::from_slice(&decrypt(&key, reply.body.as_bytes()).unwrap()).unwrap();
    assert_eq!(
        answer,
        json!({"responseCode": "-1001", "responseDescription": "Verification failed"})
    );
    assert_eq!(ask(&fake, &wrong)["responseCode"], "-1001");
    let mut wrong_user = page_of(1, 100);
    wrong_user["userName"] = "Other@skypay".into();
    assert_eq!(ask(&fake, &wrong_user)["responseCode"], "-1001");

    let other_key = PartnerCredential::new(USER, "ANOTHER-KEY")
        .envelope_key()
        .clone();
    let sealed = encrypt(&other_key, page_of(1, 100).to_string().as_bytes());
    let reply = fake.report("collector", sealed.as_bytes());
    assert!(
        !reply.encrypted,
        "a body our key cannot open is answered plain"
    );
    assert!(reply.body.contains("-1001"), "{}", reply.body);
    assert!(fake
        .report("collector", b"{not json")
        .body
        .contains("-1000"));
    let calls = fake.report_calls();
    assert_eq!(calls.len(), 6);
    assert!(calls[0].encrypted);
    assert_eq!(calls[0].outcome, "page 1: 3 of 3, last");
    assert!(
        !serde_json::to_string(&calls).unwrap().contains(KEY),
        "the key is never kept"
    );
}

#[test]
fn pages_come_newest_first_with_last_page_only_on_the_last() {
    let fake = fake();
    book_rows(&fake, 250);
    let pages: Vec<Value> = (1..=3).map(|p| ask(&fake, &page_of(p, 100))).collect();
    let sizes: Vec<usize> = pages.iter().map(|p| references(p).len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let last: Vec<Option<bool>> = pages.iter().map(|p| p["lastPage"].as_bool()).collect();
    assert_eq!(last, [Some(false), Some(false), Some(true)]);
    assert!(pages.iter().all(|p| p["totalTransaction"] == 250));
    let all: Vec<String> = pages.iter().flat_map(references).collect();
    let expected: Vec<String> = (0..250).rev().map(|i| format!("R{i:04}")).collect();
    assert_eq!(all, expected, "newest first, each row once");
    let times: Vec<String> = pages
        .iter()
        .flat_map(|p| p["result"].as_array().unwrap().clone())
        .map(|row| row["payTime"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(times[0], "2026-11-20 12:09:00");
    assert!(times.windows(2).all(|w| w[0] > w[1]));
    let past = ask(&fake, &page_of(4, 100));
    assert_eq!(references(&past).len(), 0);
    assert_eq!(past["lastPage"], true);
    let mut strings = page_of(2, 100);
    strings["pagination"] = "2".into();
    strings["pageSize"] = " 100 ".into();
    assert_eq!(
        ask(&fake, &strings),
        pages[1],
        "numbers may come as strings"
    );
}

#[test]
fn the_date_filter_reads_pay_time_or_create_date() {
    let fake = fake();
    let mut paid_on_the_day = BookRow::new(
        at("2026-11-20 10:00:00"),
        "SKY0100000001",
        amount("100.00"),
        "09221008333",
        "A",
    );
    paid_on_the_day.create_date = at("2026-11-19 23:50:00");
    let mut created_on_the_day = BookRow::new(
        at("2026-11-21 00:10:00"),
        "SKY0100000002",
        amount("200.00"),
        "09221008333",
        "B",
    );
    created_on_the_day.create_date = at("2026-11-20 23:59:59");
    fake.add_rows([paid_on_the_day, created_on_the_day]);
    let by = |date_type: &str, start: &str, end: &str| {
        references(&ask(&fake, &request(date_type, start, end, 1, 100)))
    };
    assert_eq!(by("CollectedTime", DAY, DAY), ["A"]);
    assert_eq!(by("CreateDate", DAY, DAY), ["B"]);
    assert_eq!(by("CollectedTime", "2026-11-19", "2026-11-21"), ["B", "A"]);
    assert_eq!(by("CreateDate", "2026-11-19", "2026-11-19"), ["A"]);
    assert!(by("CollectedTime", "2026-11-22", "2026-11-30").is_empty());
    let bad = ask(&fake, &request("PayDate", DAY, DAY, 1, 100));
    assert_eq!(bad["responseCode"], "-1032");
}

#[test]
fn trailing_commas_and_numbers_as_strings_are_what_they_say() {
    let fake = fake();
    fake.add_rows([
        BookRow::new(
            at("2026-11-20 10:00:00"),
            "SKY0100000001",
            amount("1300.25"),
            "0917",
            "A",
        ),
        BookRow::new(
            at("2026-11-20 10:00:01"),
            "SKY0100000002",
            amount("5"),
            "0917",
            "B",
        ),
    ]);
    fake.set_report(ReportSwitches {
        trailing_commas: true,
        ..Default::default()
    });
    let text = ask_text(&fake, &page_of(1, 100));
    assert!(text.contains(r#""status":"Confirmed",}"#), "{text}");
    assert!(text.ends_with(r#""status":"Confirmed",},]}"#), "{text}");
    assert_eq!(
        text.matches(",}").count(),
        2,
        "after each row's last field: {text}"
    );
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not strict JSON"
    );

    fake.set_report(ReportSwitches {
        numbers_as_strings: true,
        ..Default::default()
    });
    let answer = ask(&fake, &page_of(1, 100));
    assert_eq!(answer["totalTransaction"], "2");
    assert_eq!(answer["result"][0]["amount"], "5");
    assert_eq!(answer["result"][1]["amount"], "1300.25");
    assert_eq!(answer["lastPage"], true, "a boolean stays a boolean");

    fake.set_report(ReportSwitches::default());
    let answer = ask(&fake, &page_of(1, 100));
    assert_eq!(answer["totalTransaction"], 2);
    assert!(answer["result"][1]["amount"].is_number());
}

#[test]
fn amounts_keep_the_books_digits() {
    let fake = fake();
    for (i, text) in ["1300.25", "1300.0", "1300.00", "0.10"].iter().enumerate() {
        fake.add_rows([BookRow::new(
            at("2026-11-20 10:00:00") + TimeDelta::seconds(i as i64),
            "SKY0100000001",
            amount(text),
            "09221008333",
            &format!("R{i}"),
        )]);
    }
    let text = ask_text(&fake, &page_of(1, 100));
    for expected in [
        r#""amount":1300.25,"#,
        r#""amount":1300.0,"#,
        r#""amount":1300.00,"#,
        r#""amount":0.10,"#,
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let posted: Vec<NewRow> = serde_json::from_str(
        r#"[{"payTime":"2026-11-20 11:00:00","controlNo":"C1","amount":1300.0,"phone":"p","referenceNo":"N1"},
            {"payTime":"2026-11-20 11:00:01","controlNo":"C2","amount":"1300.25","phone":"p","referenceNo":"N2"}]"#,
    )
    .unwrap();
    fake.clear_book();
    fake.add_rows(posted.into_iter().map(|r| r.into_row().unwrap()));
    let text = ask_text(&fake, &page_of(1, 100));
    assert!(text.contains(r#""referenceNo":"N2""#) && text.contains(r#""amount":1300.25,"#));
    assert!(text.contains(r#""amount":1300.0,"#), "{text}");
}

#[test]
fn the_action_spellings_switch_decides_what_is_accepted() {
    let fake = fake();
    book_rows(&fake, 1);
    let mut misspelt = page_of(1, 100);
    misspelt["action"] = ACTION_MISSPELT.into();
    assert_eq!(ask(&fake, &page_of(1, 100))["totalTransaction"], 1);
    assert_eq!(
        ask(&fake, &misspelt)["totalTransaction"],
        1,
        "accepted by default"
    );
    fake.set_report(ReportSwitches {
        action_spellings: vec![ACTION.to_owned()],
        ..Default::default()
    });
    assert_eq!(ask(&fake, &page_of(1, 100))["totalTransaction"], 1);
    let refused = ask(&fake, &misspelt);
    assert_eq!(refused["responseCode"], "-1032");
    assert!(
        refused["responseDescription"]
            .as_str()
            .unwrap()
            .contains(ACTION_MISSPELT),
        "{refused}"
    );
    let mut cased = page_of(1, 100);
    cased["action"] = "getreportcollection".into();
    assert_eq!(
        ask(&fake, &cased)["responseCode"],
        "-1032",
        "compared exactly"
    );
}

#[test]
fn rows_inserted_between_pages_shift_the_pages() {
    let fake = fake();
    book_rows(&fake, 150);
    fake.set_report(ReportSwitches {
        insert_between_pages: 5,
        ..Default::default()
    });
    let first = ask(&fake, &page_of(1, 100));
    assert_eq!(first["totalTransaction"], 150);
    assert_eq!(first["lastPage"], false);
    assert_eq!(fake.book().len(), 155, "5 rows booked after page 1");
    let added = &fake.book()[150..];
    let times: Vec<String> = added
        .iter()
        .map(|r| r.pay_time.format(TIME_FORMAT).to_string())
        .collect();
    assert_eq!(
        times,
        (1..=5)
            .map(|s| format!("2026-11-20 10:29:{s:02}"))
            .collect::<Vec<_>>(),
        "1 s, 2 s… after the newest in range (08:00 + 149 min)"
    );
    assert!(added.iter().all(|r| r.create_date == r.pay_time));
    let second = ask(&fake, &page_of(2, 100));
    assert_eq!(second["totalTransaction"], 155);
    assert_eq!(second["lastPage"], true);
    let (first, second) = (references(&first), references(&second));
    assert_eq!(second.len(), 55);
    assert_eq!(
        second[..5],
        first[95..],
        "the last 5 rows of page 1 come again at the top of page 2"
    );
    assert_eq!(fake.book().len(), 155, "nothing booked after the last page");
}

#[test]
fn failed_pages_then_answers_and_an_injected_error_code() {
    let fake = fake();
    book_rows(&fake, 1);
    fake.set_report(ReportSwitches {
        fail_pages: 2,
        ..Default::default()
    });
    let body = page_of(1, 100).to_string();
    let statuses: Vec<u16> = (0..4)
        .map(|_| fake.report("collector", body.as_bytes()).status)
        .collect();
    assert_eq!(statuses, [503, 503, 200, 200]);
    assert_eq!(fake.pages_failed(), 2);
    fake.set_report(ReportSwitches {
        fail_pages: 1,
        error_code: Some("-9999".into()),
        ..Default::default()
    });
    assert_eq!(
        fake.report("collector", body.as_bytes()).status,
        503,
        "counted again"
    );
    let answer = ask(&fake, &page_of(1, 100));
    assert_eq!(
        answer,
        json!({"responseCode": "-9999", "responseDescription": "System error"})
    );
    assert_eq!(fake.report_calls()[4].outcome, "HTTP 503");
}

#[tokio::test]
async fn over_http_the_book_control_and_report_work_and_secrets_stay_hidden() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = FakeSkyPay::new(
        PartnerCredential::new(USER, KEY),
        Switches {
            simulator: SimulatorTargets {
                admin_token: Some("secret-admin-token".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, fake.clone(), shutdown.clone()));
    let http = reqwest::Client::new();

    let added: Value = http
        .post(format!("{base}/book"))
        .json(
            &json!([{"payTime": "2026-11-20 10:00:00", "controlNo": "SKY0100000001",
                       "amount": 1300.0, "phone": "09221008333", "referenceNo": "E103ED0E4726"}]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(added, json!({"added": 1, "total": 1}));
    let bad = http
        .post(format!("{base}/book"))
        .json(
            &json!([{"payTime": "yesterday", "controlNo": "C", "amount": "1",
                       "phone": "p", "referenceNo": "R"}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);

    let control = http
        .put(format!("{base}/control"))
        .json(
            &json!({"report": {"trailingCommas": true, "actionSpellings": ["getReportCollection"]},
                      "simulator": {"apiUrl": "http://127.0.0.1:8080/"}}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !control.contains("secret-admin-token") && !control.contains(KEY),
        "{control}"
    );
    let control: Value = serde_json::from_str(&control).unwrap();
    assert_eq!(control["user"], USER);
    assert_eq!(control["report"]["trailingCommas"], true);
    assert_eq!(control["simulator"]["apiUrl"], "http://127.0.0.1:8080");
    assert_eq!(control["simulator"]["adminTokenSet"], true);
    let typo = http
        .put(format!("{base}/control"))
        .json(&json!({"trailingCommas": true}))
        .send()
        .await
        .unwrap();
    assert!(typo.status().is_client_error(), "unknown parts are refused");

    let key = PartnerCredential::new(USER, KEY).envelope_key().clone();
    let response = http
        .post(format!("{base}/services/AppName"))
        .header("content-type", "text/plain")
        .body(encrypt(&key, page_of(1, 100).to_string().as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let text = String::from_utf8(decrypt(&key, text.as_bytes()).unwrap()).unwrap();
    assert!(text.contains(r#""amount":1300.0,"#), "{text}");
    assert!(
        text.contains(r#""referenceNo":"E103ED0E4726","status":"Confirmed",}"#),
        "{text}"
    );

    let book: Value = http
        .get(format!("{base}/book"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(book[0]["amount"], "1300.0");
    let calls: Value = http
        .get(format!("{base}/report-calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls[0]["callerName"], "AppName");
    assert_eq!(calls[0]["request"]["pagination"], 1);
    assert!(calls[0]["request"].get("authentication").is_none());
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

/// A stand-in for our SkyPay and admin APIs: bills `SKY02…` answer collects late, `SKY03…`
/// are refused at inquiry; everything else is `1000`. Counts registrations and collects.
async fn stub_api(
    registered: Arc<AtomicUsize>,
    collects: Arc<AtomicUsize>,
) -> (String, CancellationToken) {
    use axum::routing::{post, put};
    let key = PartnerCredential::new(USER, KEY).envelope_key().clone();
    let skypay = move |body: axum::body::Bytes| {
        let key = key.clone();
        let collects = collects.clone();
        async move {
            let request: Value =
                serde_json::from_slice(&decrypt(&key, &body).expect("sealed")).unwrap();
            assert_eq!(request["userName"], USER);
            assert_eq!(request["authentication"], KEY);
            let control = request["controlNumber"].as_str().unwrap().to_owned();
            let code = match request["action"].as_str().unwrap() {
                "collectionInquiry" if control.starts_with("SKY03") => "-1015",
                "collectionInquiry" => "1000",
                "collectionCollect" => {
                    assert!(request["receiptNumber"].as_str().unwrap().starts_with("FS"));
                    assert_eq!(request["payChannel"], 10);
                    assert_eq!(request["collectedTime"].as_str().unwrap().len(), 19);
                    collects.fetch_add(1, Ordering::Relaxed);
                    if control.starts_with("SKY02") {
                        tokio::time::sleep(Duration::from_millis(400)).await;
                    }
                    "1000"
                }
                other => panic!("unexpected action {other}"),
            };
            let answer = json!({"responseCode": code, "responseDescription": "stub"});
            encrypt(&key, answer.to_string().as_bytes())
        }
    };
    let admin = move |axum::extract::Path(control): axum::extract::Path<String>,
                      headers: axum::http::HeaderMap,
                      axum::Json(bill): axum::Json<Value>| {
        let registered = registered.clone();
        async move {
            assert_eq!(headers["authorization"], "Bearer admin-token");
            assert!(crate::domain::ControlNumber::parse(&control).is_ok());
            assert_eq!(bill["amountDue"], "1300.00");
            registered.fetch_add(1, Ordering::Relaxed);
            axum::http::StatusCode::CREATED
        }
    };
    let app = axum::Router::new()
        .route("/skypay", post(skypay))
        .route("/internal/bills/{control}", put(admin));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(token.cancelled_owned())
            .await
            .unwrap();
    });
    (base, shutdown)
}

#[tokio::test]
async fn the_simulator_books_what_was_answered_dropped_or_timed_out() {
    let (registered, collects) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (base, shutdown) = stub_api(registered.clone(), collects.clone()).await;
    let fake = FakeSkyPay::new(
        PartnerCredential::new(USER, KEY),
        Switches {
            simulator: SimulatorTargets {
                api_url: Some(base.clone()),
                admin_url: Some(base.clone()),
                admin_token: Some("admin-token".into()),
            },
            ..Default::default()
        },
    );
    let request: SimulateRequest =
        serde_json::from_value(json!({"count": 40, "dropRate": 0.25})).unwrap();
    let summary = fake.simulate(&request).await.unwrap();
    assert_eq!(summary.attempted, 40);
    assert_eq!(summary.registered, 40);
    assert_eq!(registered.load(Ordering::Relaxed), 40);
    assert!((4..=16).contains(&summary.dropped), "{summary:?}");
    assert_eq!(summary.answered_1000 + summary.dropped, 40, "{summary:?}");
    assert_eq!(collects.load(Ordering::Relaxed), summary.answered_1000);
    assert_eq!(summary.booked, 40);
    let book = fake.book();
    assert_eq!(book.len(), 40);
    assert!(summary
        .dropped_receipts
        .iter()
        .all(|r| book.iter().any(|row| &row.reference_no == r)));
    assert!(book.iter().all(|row| row.amount.to_string() == "1300.00"
        && row.create_date == row.pay_time
        && row.status == "Confirmed"));

    fake.clear_book();
    let request: SimulateRequest = serde_json::from_value(json!({
        "count": 4, "controlNumbers": ["SKY0100000001", "SKY0200000002", "SKY0300000003"],
        "timeoutMs": 100, "concurrency": 2,
    }))
    .unwrap();
    let summary = fake.simulate(&request).await.unwrap();
    assert_eq!(
        (summary.attempted, summary.registered, summary.answered_1000),
        (4, 0, 2),
        "{summary:?}"
    );
    assert_eq!(
        (summary.timed_out, summary.refused, summary.booked),
        (1, 1, 3)
    );
    assert_eq!(summary.refusals.get("-1015"), Some(&1));
    assert_eq!(fake.book().len(), 3);
    assert!(fake
        .book()
        .iter()
        .any(|row| row.reference_no == summary.timed_out_receipts[0]
            && row.control_no == "SKY0200000002"));
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["answered1000"], 2);
    assert_eq!(json["timedOutReceipts"].as_array().unwrap().len(), 1);
    shutdown.cancel();
}

#[test]
fn notification_inquiry_answers_from_the_listed_notices() {
    let fake = fake();
    let listed = fake
        .add_notices([
            json!({"referenceNumber": "FN-1", "accountNo": "A1", "statementType": 4,
                   "transctionDate": "2026-11-21 09:00:00", "amount": 390000}),
            json!({"referenceNumber": "FN-2", "statementType": 1,
                   "transctionDate": "2026-11-21 09:00:00", "amount": 5}),
            json!({"referenceNumber": "FN-3", "statementType": "4",
                   "transctionDate": "2026-11-23 09:00:00", "amount": 7}),
        ])
        .unwrap();
    assert_eq!(listed, 3);
    // The same reference and account replaces the listed notice.
    let listed = fake
        .add_notices([
            json!({"referenceNumber": "FN-1", "accountNo": "A1", "statementType": 4,
                             "transctionDate": "2026-11-21 09:00:00", "amount": 390100}),
        ])
        .unwrap();
    assert_eq!(listed, 3);
    assert!(fake.add_notices([json!({"amount": 1})]).is_err());
    let inquiry = |types: Value| {
        json!({"userName": USER, "action": "NOTIFICATIONINQUIRY", "authentication": KEY,
               "startDate": "2026-11-20", "endDate": "2026-11-22", "statementTypes": types})
    };
    let answer = ask(&fake, &inquiry(json!([4])));
    let result = answer["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{answer}");
    assert_eq!(result[0]["referenceNumber"], "FN-1");
    assert_eq!(result[0]["amount"], 390100);
    assert_eq!(
        ask(&fake, &inquiry(Value::Null))["result"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mut wrong = inquiry(json!([4]));
    wrong["authentication"] = "NOT-THE-KEY".into();
    assert_eq!(ask(&fake, &wrong)["responseCode"], "-1001");
    let mut bad = inquiry(json!([4]));
    bad["endDate"] = "2026-11-19".into();
    assert_eq!(ask(&fake, &bad)["responseCode"], "-1032");
    fake.set_notices_error(Some("-9999".into()));
    assert_eq!(ask(&fake, &inquiry(json!([4])))["responseCode"], "-9999");
    assert_eq!(
        ask(&fake, &page_of(1, 10))["result"],
        json!([]),
        "the report still answers"
    );
    let outcomes: Vec<String> = fake.report_calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(outcomes[0], "notices: 1");
}
