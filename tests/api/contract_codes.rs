//! Every row of the code table in docs/skypay-contract.md, for both calls, through HTTP.

use serde_json::{json, Value};

use crate::common::api::*;

const CN: &str = "SKY0100000001";

async fn app_with_bill() -> TestApp {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", false).await;
    app
}

#[tokio::test]
async fn inquiry_answers_1000_with_the_payer_details() {
    let app = app_with_bill().await;
    let answer = app.skypay(&inquiry(CN, "3900")).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    assert_eq!(answer["responseDescription"], "Success");
    assert_eq!(answer["amount"], "3900.00");
    assert_eq!(answer["payerName"], "Dela Cruz,Juan,Santos");
    assert_eq!(
        answer["payerAddress"],
        "1740 Mabini St,Malate,Manila,1004 Metro Manila,Philippines"
    );
    assert_eq!(answer["payerPhone"], "09221008333");
    app.teardown().await;
}

#[tokio::test]
async fn collect_answers_1000_after_recording_the_collection_and_the_outbox_row() {
    let app = app_with_bill().await;
    let answer = app.skypay(&collect(CN, "3900.00", "R-1")).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    assert_eq!(
        answer.as_object().unwrap().len(),
        3,
        "collect answers three fields: {answer}"
    );
    assert_eq!(
        app.count("collections WHERE receipt_number = 'R-1'").await,
        1
    );
    assert_eq!(app.count("outbox").await, 1);
    assert_eq!(app.outstanding(CN).await, "0.00 paid");
    let payload: Value = sqlx::query_scalar("SELECT payload FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(payload["amount"], "3900.00");
    assert_eq!(payload["collectedAt"], "2026-11-20T10:15:00+08:00");
    assert_eq!(payload["payChannel"], 10);
    app.teardown().await;
}

#[tokio::test]
async fn minus_1000_for_bodies_that_are_not_valid() {
    let app = app_with_bill().await;
    let too_large = format!(r#"{{"pad":"{}"}}"#, "x".repeat(17 * 1024));
    for body in [
        "not json",
        "",
        "[1,2]",
        "{\"a\":",
        "bm90IGVuY3J5cHRlZA==",
        too_large.as_str(),
    ] {
        let text = app.post_text("/skypay", body.to_owned()).await;
        let answer: Value = serde_json::from_str(&text).expect("-1000 is answered in plain JSON");
        assert_eq!(code(&answer), "-1000", "{body:.40}: {answer}");
    }
    assert_eq!(app.count("refused_collects").await, 0);
    app.teardown().await;
}

#[tokio::test]
async fn minus_1001_for_wrong_credentials_on_both_calls_touches_nothing() {
    let app = app_with_bill().await;
    for mut body in [inquiry(CN, "3900"), collect(CN, "3900", "R-1")] {
        body["authentication"] = json!("WRONG-KEY");
        assert_eq!(code(&app.skypay(&body).await), "-1001");
        body["authentication"] = json!(KEY);
        body["userName"] = json!("Other@skypay");
        assert_eq!(code(&app.skypay(&body).await), "-1001");
    }
    assert_eq!(app.count("collections").await, 0);
    assert_eq!(app.count("refused_collects").await, 0);
    app.teardown().await;
}

#[tokio::test]
async fn minus_1001_from_an_address_outside_the_allow_list() {
    let app = spawn_app_with(&[("SKYPAY_ALLOWED_IPS", "203.0.113.0/24")]).await;
    app.register_bill(CN, "3900.00", false).await;
    assert_eq!(code(&app.skypay(&inquiry(CN, "3900")).await), "-1001");
    assert_eq!(
        code(&app.skypay(&collect(CN, "3900", "R-1")).await),
        "-1001"
    );
    assert_eq!(app.count("collections").await, 0);
    app.teardown().await;

    // The same request through a trusted proxy that forwards an allowed address.
    let app = spawn_app_with(&[
        ("SKYPAY_ALLOWED_IPS", "203.0.113.0/24"),
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
    ])
    .await;
    app.register_bill(CN, "3900.00", false).await;
    let response = app
        .client
        .post(format!("{}/skypay", app.base))
        .header("x-forwarded-for", "203.0.113.7")
        .body(inquiry(CN, "3900").to_string())
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(code(&answer), "1000", "{answer}");
    app.teardown().await;
}

#[tokio::test]
async fn minus_1009_when_the_database_is_unreachable() {
    let app = app_with_bill().await;
    app.db.cut().await;
    assert_eq!(code(&app.skypay(&inquiry(CN, "3900")).await), "-1009");
    assert_eq!(
        code(&app.skypay(&collect(CN, "3900", "R-1")).await),
        "-1009"
    );
    app.db.restore().await;
    assert_eq!(app.count("collections").await, 0);
    assert_eq!(app.count("outbox").await, 0);
    // Back without a restart.
    assert_eq!(code(&app.skypay(&inquiry(CN, "3900")).await), "1000");
    app.teardown().await;
}

#[tokio::test]
async fn minus_1015_for_unknown_cancelled_or_expired_control_numbers_at_inquiry() {
    let app = app_with_bill().await;
    assert_eq!(
        code(&app.skypay(&inquiry("SKY0199999999", "3900")).await),
        "-1015"
    );

    let mut expired = bill_body("100.00", false);
    expired["expiresAt"] = json!("2020-01-01T00:00:00+08:00");
    let put = app
        .admin_request(reqwest::Method::PUT, "/internal/bills/SKY0100000002")
        .json(&expired);
    assert!(put.send().await.unwrap().status().is_success());
    assert_eq!(
        code(&app.skypay(&inquiry("SKY0100000002", "100")).await),
        "-1015"
    );

    let cancel = app.admin_request(
        reqwest::Method::POST,
        &format!("/internal/bills/{CN}/cancel"),
    );
    assert_eq!(cancel.send().await.unwrap().status(), 200);
    assert_eq!(code(&app.skypay(&inquiry(CN, "3900")).await), "-1015");
    app.teardown().await;
}

#[tokio::test]
async fn minus_1015_for_a_receipt_collected_before_and_it_is_flagged() {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", true).await;
    assert_eq!(code(&app.skypay(&collect(CN, "100", "R-1")).await), "1000");
    assert_eq!(code(&app.skypay(&collect(CN, "100", "R-1")).await), "-1015");
    assert_eq!(code(&app.skypay(&collect(CN, "200", "R-1")).await), "-1015");
    assert_eq!(app.count("collections").await, 1);
    assert_eq!(app.outstanding(CN).await, "3800.00 open");
    assert_eq!(app.flag_kinds().await, vec!["replay", "conflict"]);
    app.teardown().await;
}

#[tokio::test]
async fn minus_1026_when_the_bill_is_already_paid_on_both_calls() {
    let app = app_with_bill().await;
    assert_eq!(code(&app.skypay(&collect(CN, "3900", "R-1")).await), "1000");
    assert_eq!(code(&app.skypay(&inquiry(CN, "3900")).await), "-1026");
    assert_eq!(
        code(&app.skypay(&collect(CN, "3900", "R-2")).await),
        "-1026"
    );
    assert_eq!(app.count("collections").await, 1);
    assert_eq!(
        app.count("refused_collects WHERE response_code = '-1026'")
            .await,
        1
    );
    assert_eq!(app.flag_kinds().await, vec!["refused_collect"]);
    app.teardown().await;
}

#[tokio::test]
async fn code_2001_for_amounts_above_the_balance_or_not_exact() {
    let app = app_with_bill().await;
    for amount in ["3900.01", "100"] {
        assert_eq!(
            code(&app.skypay(&inquiry(CN, amount)).await),
            "2001",
            "{amount}"
        );
    }
    assert_eq!(
        code(&app.skypay(&collect(CN, "3900.01", "R-1")).await),
        "2001"
    );
    assert_eq!(code(&app.skypay(&collect(CN, "100", "R-2")).await), "2001");
    assert_eq!(app.count("collections").await, 0);
    assert_eq!(
        app.count("refused_collects WHERE response_code = '2001'")
            .await,
        2
    );
    assert_eq!(app.outstanding(CN).await, "3900.00 open");
    app.teardown().await;
}

#[tokio::test]
async fn code_2002_names_the_missing_or_invalid_field() {
    let app = app_with_bill().await;
    let mut body = inquiry(CN, "3900");
    body.as_object_mut().unwrap().remove("phone");
    let answer = app.skypay(&body).await;
    assert_eq!(code(&answer), "2002");
    assert!(
        answer["responseDescription"]
            .as_str()
            .unwrap()
            .contains("phone"),
        "{answer}"
    );

    let mut body = collect(CN, "3900", "R-1");
    body["collectedTime"] = json!("yesterday");
    let answer = app.skypay(&body).await;
    assert_eq!(code(&answer), "2002");
    assert!(
        answer["responseDescription"]
            .as_str()
            .unwrap()
            .contains("collectedTime"),
        "{answer}"
    );
    // The refused collect is kept, without the credential.
    let request: Value = sqlx::query_scalar("SELECT request FROM refused_collects")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(request["receiptNumber"], "R-1");
    assert!(request.get("authentication").is_none());
    assert_eq!(app.flag_kinds().await, vec!["refused_collect"]);
    app.teardown().await;
}

#[tokio::test]
async fn code_2003_for_unsupported_or_mismatched_actions() {
    let app = app_with_bill().await;
    let mut body = inquiry(CN, "3900");
    body["action"] = json!("refundPayment");
    assert_eq!(code(&app.skypay(&body).await), "2003");
    let answer = app
        .post("/skypay/collection-collect", &inquiry(CN, "3900"))
        .await;
    assert_eq!(code(&answer), "2003");
    let answer = app
        .post("/skypay/collection-inquiry", &collect(CN, "3900", "R-1"))
        .await;
    assert_eq!(code(&answer), "2003");
    let answer = app
        .post("/skypay/collection-inquiry", &inquiry(CN, "3900"))
        .await;
    assert_eq!(code(&answer), "1000");
    let answer = app
        .post("/skypay/collection-collect", &collect(CN, "3900", "R-1"))
        .await;
    assert_eq!(code(&answer), "1000");
    app.teardown().await;
}

#[tokio::test]
async fn code_2004_for_collects_on_unknown_or_cancelled_bills() {
    let app = app_with_bill().await;
    assert_eq!(
        code(&app.skypay(&collect("SKY0199999999", "10", "R-1")).await),
        "2004"
    );
    let cancel = app.admin_request(
        reqwest::Method::POST,
        &format!("/internal/bills/{CN}/cancel"),
    );
    assert_eq!(cancel.send().await.unwrap().status(), 200);
    assert_eq!(code(&app.skypay(&collect(CN, "3900", "R-2")).await), "2004");
    assert_eq!(app.count("collections").await, 0);
    assert_eq!(
        app.count("refused_collects WHERE response_code = '2004'")
            .await,
        2
    );
    assert_eq!(
        app.flag_kinds().await,
        vec!["refused_collect", "refused_collect"]
    );
    app.teardown().await;
}

#[tokio::test]
async fn expired_bill_is_still_collected_after_a_successful_inquiry() {
    let app = spawn_app().await;
    let mut body = bill_body("500.00", false);
    body["expiresAt"] = json!("2020-01-01T00:00:00Z");
    let put = app
        .admin_request(reqwest::Method::PUT, &format!("/internal/bills/{CN}"))
        .json(&body);
    assert!(put.send().await.unwrap().status().is_success());
    assert_eq!(code(&app.skypay(&collect(CN, "500", "R-1")).await), "1000");
    app.teardown().await;
}

#[tokio::test]
async fn overpayment_accept_takes_the_cash_and_flags_it() {
    let app = spawn_app_with(&[("OVERPAYMENT", "accept")]).await;
    app.register_bill(CN, "100.00", true).await;
    assert_eq!(code(&app.skypay(&collect(CN, "150", "R-1")).await), "1000");
    assert_eq!(app.outstanding(CN).await, "0.00 paid");
    assert_eq!(code(&app.skypay(&collect(CN, "20", "R-2")).await), "1000");
    assert_eq!(app.flag_kinds().await, vec!["overpayment", "overpayment"]);
    assert_eq!(app.count("outbox").await, 2);
    app.teardown().await;
}

#[tokio::test]
async fn same_amount_within_15_minutes_is_accepted_and_flagged_as_suspected_double_payment() {
    let app = spawn_app().await;
    app.register_bill(CN, "1000.00", true).await;
    assert_eq!(code(&app.skypay(&collect(CN, "100", "R-1")).await), "1000");
    let mut second = collect(CN, "100", "R-2");
    second["collectedTime"] = json!("2026-11-20 10:25:00");
    assert_eq!(code(&app.skypay(&second).await), "1000");
    let mut third = collect(CN, "100", "R-3");
    third["collectedTime"] = json!("2026-11-20 11:30:00");
    assert_eq!(code(&app.skypay(&third).await), "1000");
    assert_eq!(app.flag_kinds().await, vec!["suspected_double_payment"]);
    app.teardown().await;
}
