//! Dead letters through the admin API: list with filters, show, replay that really posts once
//! the core recovers, discard that really stops posting, the queue kept in line, the audit.

use reqwest::Method;
use serde_json::json;
use workers::fake_core::{ErrorMix, Switches};

use crate::stack::*;

fn rejecting() -> Switches {
    Switches {
        error_rate: 1.0,
        mix: ErrorMix {
            client_error: 1,
            ..ErrorMix::default()
        },
        ..Switches::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_replayed_discarded_and_audited() {
    let s = Stack::start(rejecting()).await;
    s.app.register_bill("SKY0100000001", "1000.00", true).await;
    s.app.register_bill("SKY0100000002", "1000.00", true).await;
    let a = s
        .collect("SKY0100000001", "10", "DL-A", "2026-11-20 08:00:00")
        .await;
    let b = s
        .collect("SKY0100000001", "20", "DL-B", "2026-11-20 09:00:00")
        .await;
    let c = s
        .collect("SKY0100000002", "30", "DL-C", "2026-11-20 10:00:00")
        .await;
    for id in [a, b, c] {
        s.wait_status(id, "dead_lettered").await;
    }
    crate::pipeline_depth(&s.pipeline, 3).await;

    let (status, all) = s
        .admin_json(Method::GET, "/internal/dead-letters", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert!(all[0]["reason"].as_str().unwrap().contains("422"), "{all}");
    let (_, by_control) = s
        .admin_json(
            Method::GET,
            "/internal/dead-letters?controlNumber=SKY0100000002",
            None,
        )
        .await;
    assert_eq!(by_control.as_array().unwrap().len(), 1);
    assert_eq!(by_control[0]["receiptNumber"], "DL-C");
    let (_, by_reason) = s
        .admin_json(
            Method::GET,
            "/internal/dead-letters?reason=injected%20rejection",
            None,
        )
        .await;
    assert_eq!(by_reason.as_array().unwrap().len(), 3);
    let (_, old) = s
        .admin_json(Method::GET, "/internal/dead-letters?olderThan=1h", None)
        .await;
    assert_eq!(old.as_array().unwrap().len(), 0);
    let (status, one) = s
        .admin_json(Method::GET, &format!("/internal/dead-letters/{a}"), None)
        .await;
    assert_eq!((status, one["receiptNumber"].as_str()), (200, Some("DL-A")));

    // The core recovers; replay one.
    s.core.core.set(Switches::default());
    let (status, report) = s
        .admin_json(
            Method::POST,
            &format!("/internal/dead-letters/{a}/replay"),
            Some(json!({"reason": "core fixed"})),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["done"], json!([a]));
    s.wait_status(a, "posted").await;

    // Discard another: it must never reach the core.
    let (status, _) = s
        .admin_json(
            Method::POST,
            &format!("/internal/dead-letters/{b}/discard"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400, "a reason is required");
    let (status, report) = s
        .admin_json(
            Method::POST,
            &format!("/internal/dead-letters/{b}/discard"),
            Some(json!({"reason": "refunded at the counter"})),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(s.status(b).await, "discarded");

    // Bulk replay needs a filter or all: true.
    let (status, _) = s
        .admin_json(
            Method::POST,
            "/internal/dead-letters/replay",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, report) = s
        .admin_json(
            Method::POST,
            "/internal/dead-letters/replay",
            Some(json!({"all": true, "perSecond": 50})),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["done"],
        json!([c]),
        "only what is still dead-lettered"
    );
    s.wait_status(c, "posted").await;

    let keys: Vec<String> = s
        .core
        .core
        .posted()
        .into_iter()
        .map(|p| p.idempotency_key)
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.contains(&a.to_string()) && keys.contains(&c.to_string()));
    assert!(
        !keys.contains(&b.to_string()),
        "a discarded collection is never posted"
    );
    // The dead-letter queue matches the database: nothing left in it.
    crate::pipeline_depth(&s.pipeline, 0).await;

    let audit: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, action, subject FROM audit_log WHERE action LIKE 'dead_letter.%' ORDER BY id")
            .fetch_all(&s.app.db.pool)
            .await
            .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(_, a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "dead_letter.replay",
            "dead_letter.discard",
            "dead_letter.replay"
        ]
    );
    assert!(audit.iter().all(|(actor, _, _)| actor == "ops.oncall"));

    // The history tells the story.
    let (_, found) = s
        .admin_json(Method::GET, "/internal/collections?receipt=DL-A", None)
        .await;
    // Every publication is in it, even when the worker finishes before the relay's mark.
    let events: Vec<&str> = found[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "recorded",
            "published",
            "dead_lettered",
            "replayed",
            "published",
            "posted"
        ],
        "{found}"
    );
    assert_eq!(found[0]["history"][3]["actor"], "ops.oncall");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_refuse_a_missing_or_wrong_token() {
    let s = Stack::start(Switches::default()).await;
    let id = uuid::Uuid::new_v4();
    let calls = [
        (Method::GET, "/internal/dead-letters".to_owned()),
        (Method::GET, format!("/internal/dead-letters/{id}")),
        (Method::POST, format!("/internal/dead-letters/{id}/replay")),
        (Method::POST, format!("/internal/dead-letters/{id}/discard")),
        (Method::POST, "/internal/dead-letters/replay".to_owned()),
        (Method::POST, "/internal/dead-letters/discard".to_owned()),
        (Method::GET, "/internal/flags".to_owned()),
        (Method::POST, "/internal/flags/1/resolve".to_owned()),
        (Method::GET, "/internal/collections?receipt=X".to_owned()),
    ];
    for (method, path) in calls {
        let url = format!("{}{path}", s.app.admin);
        let none = s
            .app
            .client
            .request(method.clone(), &url)
            .json(&json!({"all": true, "reason": "x", "note": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(none.status(), 401, "{method} {path}");
        let wrong = s
            .app
            .client
            .request(method.clone(), &url)
            .bearer_auth("not-the-token-at-all")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{method} {path}");
    }
    assert_eq!(s.app.count("audit_log").await, 0);
    s.stop().await;
}
