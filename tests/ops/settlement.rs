//! Collection settlements through the real interfaces: `fake-skypay` collects through our API
//! and serves its report and its finance notices; the app checks each settlement against the
//! reconciliation run of the day it covers, and catches up notices whose callback never came.

use chrono::{Duration, Utc};
use collector::domain::MANILA;
use collector::fake_skypay::SimulateRequest;
use serde_json::{json, Value};

use crate::common::api::{code, KEY, USER};
use crate::common::skypay::{start, SkyPayApp};

impl SkyPayApp {
    /// Three payments of 1300.00 collected today through our API and booked by SkyPay.
    async fn collect_three(&self) {
        let summary = self
            .fake
            .simulate(&SimulateRequest {
                count: Some(3),
                ..SimulateRequest::default()
            })
            .await
            .unwrap();
        assert_eq!(summary.answered_1000, 3, "{summary:?}");
    }

    /// Reconciles today through the admin API; the run's outcome, three payments matched.
    async fn reconcile_three(&self) -> Value {
        let (status, outcome) = self.reconcile_today().await;
        assert_eq!(status, 200, "{outcome}");
        assert_eq!(outcome["counts"]["byStatus"]["matched"], 3, "{outcome}");
        outcome
    }

    /// `(received_via, amount, matched_amount, drift)` of a stored notice.
    async fn stored(&self, reference: &str) -> (String, String, Option<String>, Option<String>) {
        sqlx::query_as(
            "SELECT received_via, amount::text, matched_amount::text, drift::text \
             FROM finance_notifications WHERE reference_number = $1",
        )
        .bind(reference)
        .fetch_one(&self.app.db.pool)
        .await
        .unwrap()
    }

    async fn send(&self, body: &Value) -> Value {
        self.app.skypay(body).await
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&MANILA).date_naive()
}

/// A collection settlement dated `day` at 09:00 (Manila), `amount` in centavos.
fn settlement(reference: &str, day: chrono::NaiveDate, amount: i64) -> Value {
    json!({
        "transctionDate": format!("{day} 09:00:00"), "companyPrefix": "SKY01",
        "accountNo": "100200300", "statementType": 4, "signType": "recharge",
        "amount": amount, "currency": "PHP", "referenceNumber": reference
    })
}

fn callback(notice: &Value) -> Value {
    let mut body = notice.clone();
    body["userName"] = USER.into();
    body["action"] = "financeNotification".into();
    body["authentication"] = KEY.into();
    body
}

#[tokio::test]
async fn a_settlement_after_the_run_of_its_day_stores_its_drift() {
    let s = start(&[]).await;
    s.collect_three().await;
    s.reconcile_three().await;
    // SETTLEMENT_PERIOD=previous-day: tomorrow's settlement covers today.
    let tomorrow = today() + Duration::days(1);
    let exact = s
        .send(&callback(&settlement("FN-EXACT", tomorrow, 390_000)))
        .await;
    assert_eq!(code(&exact), "1000", "{exact}");
    let over = s
        .send(&callback(&settlement("FN-OVER", tomorrow, 390_100)))
        .await;
    assert_eq!(code(&over), "1000", "{over}");
    assert_eq!(
        s.stored("FN-EXACT").await,
        (
            "callback".into(),
            "3900.00".into(),
            Some("3900.00".into()),
            Some("0.00".into())
        )
    );
    assert_eq!(
        s.stored("FN-OVER").await,
        (
            "callback".into(),
            "3901.00".into(),
            Some("3900.00".into()),
            Some("1.00".into())
        )
    );
    // Today's own settlement covers yesterday, not reconciled: the whole amount drifts.
    let early = s
        .send(&callback(&settlement("FN-TODAY", today(), 390_000)))
        .await;
    assert_eq!(code(&early), "1000");
    assert_eq!(s.stored("FN-TODAY").await.3.as_deref(), Some("3900.00"));
    // The drift is a metric.
    let metrics = s
        .app
        .client
        .get(format!("{}/metrics", s.app.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("# HELP collector_settlement_drift_pesos"),
        "{metrics}"
    );
    s.teardown().await;
}

#[tokio::test]
async fn a_settlement_that_came_before_the_run_is_checked_again_by_it() {
    let s = start(&[("SETTLEMENT_PERIOD", "same-day")]).await;
    s.collect_three().await;
    // fake-skypay pushes the callback, sealed, before anything is reconciled.
    let pushed = s
        .fake
        .notify(settlement("FN-EARLY", today(), 390_000), false)
        .await
        .unwrap();
    assert_eq!(pushed["responseCode"], "1000", "{pushed}");
    assert_eq!(s.stored("FN-EARLY").await.3.as_deref(), Some("3900.00"));
    let outcome = s.reconcile_three().await;
    let notices = &outcome["notices"];
    assert_eq!(
        notices["rechecked"],
        json!([{ "referenceNumber": "FN-EARLY", "drift": "0.00" }]),
        "{outcome}"
    );
    // notificationInquiry lists it too: stored before, not again.
    assert_eq!(notices["fetched"], 1, "{outcome}");
    assert_eq!(notices["repeated"], 1, "{outcome}");
    assert_eq!(
        s.stored("FN-EARLY").await,
        (
            "callback".into(),
            "3900.00".into(),
            Some("3900.00".into()),
            Some("0.00".into())
        )
    );
    assert_eq!(s.app.count("finance_notifications").await, 1);
    s.teardown().await;
}

#[tokio::test]
async fn the_run_catches_up_the_notices_skypay_holds() {
    let s = start(&[("SETTLEMENT_PERIOD", "same-day")]).await;
    s.collect_three().await;
    // SkyPay holds a settlement whose callback never reached us, a notice of another type,
    // and one of another day.
    s.fake
        .add_notices([
            settlement("FN-MISSED", today(), 390_000),
            json!({"referenceNumber": "FN-RECHARGE", "statementType": 1, "signType": "recharge",
                   "transctionDate": format!("{} 10:00:00", today()), "amount": 100}),
            settlement("FN-OLD", today() - Duration::days(5), 1),
        ])
        .unwrap();
    // First its notificationInquiry fails: the run still succeeds, and says so.
    s.fake.set_notices_error(Some("-1032".into()));
    let outcome = s.reconcile_three().await;
    let error = outcome["notices"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("-1032"), "{outcome}");
    assert_eq!(s.app.count("finance_notifications").await, 0);
    // Then it answers: the next run records the settlement, checked.
    s.fake.set_notices_error(None);
    let outcome = s.reconcile_three().await;
    let notices = &outcome["notices"];
    assert_eq!(notices["fetched"], 1, "{outcome}");
    assert_eq!(notices["recorded"], 1, "{outcome}");
    assert!(notices["error"].is_null(), "{outcome}");
    assert_eq!(
        s.stored("FN-MISSED").await,
        (
            "inquiry".into(),
            "3900.00".into(),
            Some("3900.00".into()),
            Some("0.00".into())
        )
    );
    // A run again finds it stored; the callback arriving late is answered 1000, stored once.
    let outcome = s.reconcile_three().await;
    assert_eq!(outcome["notices"]["repeated"], 1, "{outcome}");
    let late = s
        .send(&callback(&settlement("FN-MISSED", today(), 390_000)))
        .await;
    assert_eq!(code(&late), "1000");
    assert_eq!(s.app.count("finance_notifications").await, 1);
    // What fake-skypay was asked: the day and the next (not begun yet: today only), type 4.
    let asked = s
        .fake
        .report_calls()
        .into_iter()
        .filter_map(|c| c.request)
        .find(|r| r["action"] == "notificationInquiry")
        .unwrap();
    assert_eq!(asked["statementTypes"], json!([4]));
    assert_eq!(asked["startDate"], today().to_string());
    assert_eq!(asked["endDate"], today().to_string());
    s.teardown().await;
}
