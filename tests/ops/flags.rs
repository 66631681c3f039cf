//! Flags through the admin API: listed by kind and status, resolved with a note, audited.

use reqwest::Method;
use serde_json::json;
use workers::fake_core::Switches;

use crate::stack::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_are_listed_by_kind_and_resolved_with_a_note() {
    let s = Stack::start(Switches::default()).await;
    s.app.register_bill("SKY0100000001", "1000.00", true).await;
    s.collect("SKY0100000001", "10", "FL-1", "2026-11-20 08:00:00")
        .await;
    // The same receipt again: -1015 and a `replay` flag; a refused collect: `refused_collect`.
    let mut same = crate::common::api::collect("SKY0100000001", "10", "FL-1");
    same["collectedTime"] = "2026-11-20 08:00:00".into();
    let again = s.app.skypay(&same).await;
    assert_eq!(crate::common::api::code(&again), "-1015");
    let refused = s
        .app
        .skypay(&crate::common::api::collect("SKY0199999999", "10", "FL-2"))
        .await;
    assert_eq!(crate::common::api::code(&refused), "2004");

    let (status, open) = s.admin_json(Method::GET, "/internal/flags", None).await;
    assert_eq!(status, 200);
    assert_eq!(open.as_array().unwrap().len(), 2, "{open}");
    let (_, replays) = s
        .admin_json(Method::GET, "/internal/flags?kind=replay", None)
        .await;
    assert_eq!(replays.as_array().unwrap().len(), 1);
    let id = replays[0]["id"].as_i64().unwrap();
    assert_eq!(replays[0]["receiptNumber"], "FL-1");
    let (status, _) = s
        .admin_json(Method::GET, "/internal/flags?kind=nonsense", None)
        .await;
    assert_eq!(status, 400);

    let (status, _) = s
        .admin_json(
            Method::POST,
            &format!("/internal/flags/{id}/resolve"),
            Some(json!({"note": "  "})),
        )
        .await;
    assert_eq!(status, 400, "a note is required");
    let (status, resolved) = s
        .admin_json(
            Method::POST,
            &format!("/internal/flags/{id}/resolve"),
            Some(json!({"note": "SkyPay retried after a time-out"})),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolvedBy"], "ops.oncall");
    let (status, _) = s
        .admin_json(
            Method::POST,
            &format!("/internal/flags/{id}/resolve"),
            Some(json!({"note": "again"})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = s
        .admin_json(
            Method::POST,
            "/internal/flags/999999/resolve",
            Some(json!({"note": "x"})),
        )
        .await;
    assert_eq!(status, 404);

    let (_, open) = s
        .admin_json(Method::GET, "/internal/flags?status=open", None)
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (_, all) = s
        .admin_json(Method::GET, "/internal/flags?status=all", None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let audit: (String, String, Option<String>) =
        sqlx::query_as("SELECT actor, action, reason FROM audit_log WHERE action = 'flag.resolve'")
            .fetch_one(&s.app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        audit,
        (
            "ops.oncall".into(),
            "flag.resolve".into(),
            Some("SkyPay retried after a time-out".into())
        )
    );
    s.stop().await;
}
