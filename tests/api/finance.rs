//! SkyPay's `financeNotification` callback: `1000` only once stored, stored once however often
//! it is sent, plain or sealed, on `/skypay` and its own path.

use collector::skypay::envelope::{decrypt, encrypt, EnvelopeKey};
use serde_json::{json, Value};

use crate::common::api::*;

fn notice(reference: &str, amount: i64) -> Value {
    json!({
        "userName": USER, "action": "financeNotification", "authentication": KEY,
        "transctionDate": "2026-11-21 09:30:00", "companyPrefix": "SKY01",
        "companyName": "AppName Lending", "accountNo": "100200300",
        "sourceAccountNo": "SKYPAY-SETTLE", "beneficiaryAccountNo": "BDO-0001",
        "statementType": 4, "signType": "recharge", "amount": amount, "currency": "PHP",
        "referenceNumber": reference
    })
}

async fn post_sealed(app: &TestApp, path: &str, body: &Value) -> Value {
    let key = EnvelopeKey::derive(KEY);
    let text = app
        .post_text(path, encrypt(&key, body.to_string().as_bytes()))
        .await;
    let plain = decrypt(&key, text.as_bytes()).expect("a sealed answer to a sealed notice");
    serde_json::from_slice(&plain).unwrap()
}

#[tokio::test]
async fn a_notice_plain_or_sealed_is_answered_1000_and_stored_once() {
    let app = spawn_app().await;
    let plain = notice("FN-PLAIN-1", 390_000);
    for _ in 0..2 {
        let answer = app.skypay(&plain).await;
        assert_eq!(code(&answer), "1000", "{answer}");
        assert_eq!(answer["responseDescription"], "Success");
    }
    let mut sealed = notice("FN-SEALED-1", 125_050);
    sealed["action"] = "FINANCENOTIFICATION".into();
    sealed["statementType"] = "1".into();
    for path in ["/skypay", "/skypay/finance-notification"] {
        let answer = post_sealed(&app, path, &sealed).await;
        assert_eq!(code(&answer), "1000", "{path}: {answer}");
    }
    assert_eq!(app.count("finance_notifications").await, 2);
    let (via, amount, body): (String, String, Value) = sqlx::query_as(
        "SELECT received_via, amount::text, body FROM finance_notifications \
         WHERE reference_number = 'FN-SEALED-1' AND account_no = '100200300'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(via, "callback");
    assert_eq!(amount, "1250.50", "centavos by default");
    assert!(body.get("authentication").is_none(), "{body}");
    assert_eq!(body["amount"], 125_050, "the body keeps what SkyPay sent");
    assert_eq!(body["companyName"], "AppName Lending");

    // The same reference on another account is another notice.
    let mut other_account = notice("FN-PLAIN-1", 390_000);
    other_account["accountNo"] = "999".into();
    assert_eq!(code(&app.skypay(&other_account).await), "1000");
    assert_eq!(app.count("finance_notifications").await, 3);

    // The admin API lists them, newest first, the settlements with their check.
    let listed: Vec<Value> = app
        .admin_request(
            reqwest::Method::GET,
            "/internal/reconciliation/notices?statementType=4",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:#?}");
    assert_eq!(listed[0]["accountNo"], "999");
    // Nothing is reconciled: the whole amount drifts, over the day before the notice's.
    assert_eq!(listed[1]["drift"], "3900.00");
    assert_eq!(listed[1]["matchedAmount"], "0.00");
    assert_eq!(listed[1]["settlementPeriodStart"], "2026-11-19T16:00:00Z");
    assert_eq!(listed[1]["settlementPeriodEnd"], "2026-11-20T16:00:00Z");
    app.teardown().await;
}

#[tokio::test]
async fn a_notice_without_its_reference_or_with_an_unreadable_field_is_2002_and_not_stored() {
    let app = spawn_app().await;
    let mut missing = notice("x", 1);
    missing.as_object_mut().unwrap().remove("referenceNumber");
    let answer = app.skypay(&missing).await;
    assert_eq!(code(&answer), "2002", "{answer}");
    assert_eq!(
        answer["responseDescription"],
        "missing field referenceNumber: is required"
    );
    let mut bad_amount = notice("FN-BAD", 1);
    bad_amount["amount"] = "-5".into();
    let answer = app.skypay(&bad_amount).await;
    assert_eq!(code(&answer), "2002");
    assert!(
        answer["responseDescription"]
            .as_str()
            .unwrap()
            .contains("amount"),
        "{answer}"
    );
    // Credentials first, as for every call; and another call's path is 2003.
    let mut wrong_key = notice("FN-KEY", 1);
    wrong_key["authentication"] = "NOT-THE-KEY".into();
    assert_eq!(code(&app.skypay(&wrong_key).await), "-1001");
    let answer = app
        .post("/skypay/collection-collect", &notice("FN-PATH", 1))
        .await;
    assert_eq!(code(&answer), "2003");
    // The transctionDate spelling fixed is read too; a notice needs no more than its reference.
    let minimal = json!({"userName": USER, "action": "financeNotification",
        "authentication": KEY, "referenceNumber": "FN-MIN", "transactionDate": "2026-11-21"});
    assert_eq!(code(&app.skypay(&minimal).await), "1000");
    assert_eq!(app.count("finance_notifications").await, 1);
    let date: String = sqlx::query_scalar(
        "SELECT transaction_date FROM finance_notifications WHERE reference_number = 'FN-MIN'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(date, "2026-11-21");
    app.teardown().await;
}

#[tokio::test]
async fn a_notice_that_cannot_be_stored_is_minus_1009_and_stored_once_when_sent_again() {
    let app = spawn_app().await;
    // The settlement check reads recon_items inside the storing transaction: make it fail.
    sqlx::query("ALTER TABLE recon_items RENAME TO recon_items_unavailable")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let answer = app.skypay(&notice("FN-FAIL-1", 390_000)).await;
    assert_eq!(code(&answer), "-1009", "{answer}");
    assert_eq!(
        app.count("finance_notifications").await,
        0,
        "rolled back: SkyPay sends it again"
    );
    sqlx::query("ALTER TABLE recon_items_unavailable RENAME TO recon_items")
        .execute(&app.db.pool)
        .await
        .unwrap();
    // The table itself unavailable: -1009 too.
    sqlx::query("ALTER TABLE finance_notifications RENAME TO fn_unavailable")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let answer = app.skypay(&notice("FN-FAIL-1", 390_000)).await;
    assert_eq!(code(&answer), "-1009", "{answer}");
    sqlx::query("ALTER TABLE fn_unavailable RENAME TO finance_notifications")
        .execute(&app.db.pool)
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            code(&app.skypay(&notice("FN-FAIL-1", 390_000)).await),
            "1000"
        );
    }
    assert_eq!(app.count("finance_notifications").await, 1);
    app.teardown().await;
}
