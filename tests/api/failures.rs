//! No `1000` without a commit: when the database fails part-way through the collect
//! transaction, the answer is `-1009` and nothing of it remains.

use crate::common::api::*;

const CN: &str = "SKY0100000001";

#[tokio::test]
async fn a_failure_after_the_collection_insert_rolls_everything_back() {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", false).await;
    // The outbox insert is the last write of the transaction: make it fail.
    sqlx::query("ALTER TABLE outbox RENAME TO outbox_unavailable")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let answer = app.skypay(&collect(CN, "3900", "FAIL-1")).await;
    assert_eq!(code(&answer), "-1009", "{answer}");
    assert_eq!(
        app.count("collections").await,
        0,
        "the collection insert was rolled back"
    );
    assert_eq!(
        app.outstanding(CN).await,
        "3900.00 open",
        "the bill update was rolled back"
    );
    assert_eq!(app.count("flags").await, 0);
    sqlx::query("ALTER TABLE outbox_unavailable RENAME TO outbox")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.count("outbox").await, 0);

    // SkyPay retries after -1009; with the database back the same receipt is recorded once.
    let answer = app.skypay(&collect(CN, "3900", "FAIL-1")).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    assert_eq!(app.count("collections").await, 1);
    assert_eq!(app.count("outbox").await, 1);
    app.teardown().await;
}

#[tokio::test]
async fn a_locked_bill_times_out_into_minus_1009_not_a_hang() {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", false).await;
    let mut blocker = app.db.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM bills WHERE control_number = $1 FOR UPDATE")
        .bind(CN)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let answer = app.skypay(&collect(CN, "3900", "LOCK-1")).await;
    assert_eq!(code(&answer), "-1009", "{answer}");
    blocker.rollback().await.unwrap();
    assert_eq!(app.count("collections").await, 0);
    assert_eq!(app.count("outbox").await, 0);
    app.teardown().await;
}
