//! The admin listener: bearer token, bills, health.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::api::*;

const CN: &str = "SKY0100000001";

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_and_touches_nothing() {
    let app = spawn_app().await;
    let url = format!("{}/internal/bills/{CN}", app.admin);
    let no_token = app
        .client
        .put(&url)
        .json(&bill_body("100.00", false))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong = app
        .client
        .put(&url)
        .bearer_auth("wrong-token-wrong-token")
        .json(&bill_body("100.00", false))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert!(body["error"].is_string());
    for (method, path) in [
        (Method::GET, format!("/internal/bills/{CN}")),
        (Method::POST, format!("/internal/bills/{CN}/cancel")),
    ] {
        let response = app
            .client
            .request(method, format!("{}{path}", app.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    assert_eq!(app.count("bills").await, 0);
    assert_eq!(app.count("audit_log").await, 0);
    app.teardown().await;
}

#[tokio::test]
async fn bills_are_registered_shown_with_collections_updated_and_cancelled() {
    let app = spawn_app().await;
    let created = app
        .admin_request(Method::PUT, &format!("/internal/bills/{CN}"))
        .header("x-actor", "maria.ops")
        .json(&bill_body("1000.00", true))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let bill: Value = created.json().await.unwrap();
    assert_eq!(bill["outstanding"], "1000.00");
    assert_eq!(
        bill["payer"]["phone"], "09221008333",
        "the payer phone is stored normalised"
    );

    assert_eq!(
        code(&app.skypay(&collect(CN, "250", "ADM-1")).await),
        "1000"
    );
    let shown: Value = app
        .admin_request(Method::GET, &format!("/internal/bills/{CN}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["outstanding"], "750.00");
    assert_eq!(shown["collections"].as_array().unwrap().len(), 1);
    assert_eq!(shown["collections"][0]["receiptNumber"], "ADM-1");
    assert_eq!(shown["collections"][0]["status"], "recorded");

    // Re-registering keeps what was collected: due 1200 less 250 collected.
    let updated = app
        .admin_request(Method::PUT, &format!("/internal/bills/{CN}"))
        .json(&bill_body("1200.00", true))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    assert_eq!(
        updated.json::<Value>().await.unwrap()["outstanding"],
        "950.00"
    );
    let below = app
        .admin_request(Method::PUT, &format!("/internal/bills/{CN}"))
        .json(&bill_body("100.00", true))
        .send()
        .await
        .unwrap();
    assert_eq!(below.status(), 422);

    let cancelled = app
        .admin_request(Method::POST, &format!("/internal/bills/{CN}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "cancelled"
    );
    let again = app
        .admin_request(Method::POST, &format!("/internal/bills/{CN}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let reopen = app
        .admin_request(Method::PUT, &format!("/internal/bills/{CN}"))
        .json(&bill_body("1200.00", true))
        .send()
        .await
        .unwrap();
    assert_eq!(reopen.status(), 409, "a cancelled bill is not reopened");

    let actions: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_log ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let names: Vec<&str> = actions.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(names, ["bill.register", "bill.update", "bill.cancel"]);
    assert_eq!(actions[0].0, "maria.ops");
    app.teardown().await;
}

#[tokio::test]
async fn invalid_bills_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (CN, json!({"amountDue": "12.345"}), "amountDue"),
        (CN, json!({"amountDue": 0}), "amountDue"),
        (
            CN,
            json!({"payer": {"lastName": "X", "firstName": "Y", "address": "A", "phone": "12345"}}),
            "payer.phone",
        ),
        (CN, json!({"loanRef": ""}), "loanRef"),
        ("NOT-A-NUMBER", json!({}), "controlNumber"),
    ];
    for (control, patch, field) in cases {
        let mut body = bill_body("100.00", false);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = app
            .admin_request(Method::PUT, &format!("/internal/bills/{control}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{field}");
        assert_eq!(response.json::<Value>().await.unwrap()["field"], field);
    }
    let broken = app
        .admin_request(Method::PUT, &format!("/internal/bills/{CN}"))
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    assert!(broken.json::<Value>().await.unwrap()["error"].is_string());
    let missing = app
        .admin_request(Method::GET, "/internal/bills/SKY0199999999")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(app.count("bills").await, 0);
    app.teardown().await;
}

#[tokio::test]
async fn health_and_readiness_on_both_listeners() {
    let app = spawn_app().await;
    for base in [&app.base, &app.admin] {
        let health = app
            .client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let ready = app
            .client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 200);
        assert_eq!(ready.json::<Value>().await.unwrap()["database"], "ok");
    }
    app.db.cut().await;
    let ready = app
        .client
        .get(format!("{}/readyz", app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    app.teardown().await;
}

#[tokio::test]
async fn malformed_ids_and_queries_get_a_json_400() {
    let app = spawn_app().await;
    for path in [
        "/internal/dead-letters/not-a-uuid",
        "/internal/flags?limit=many",
        "/internal/collections?channel=ten",
        "/internal/flags/abc/resolve",
    ] {
        let method = if path.ends_with("resolve") {
            Method::POST
        } else {
            Method::GET
        };
        let response = app
            .admin_request(method, path)
            .json(&json!({"note": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|_| panic!("{path}: not JSON"));
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    app.teardown().await;
}

/// Found by schemathesis: values Postgres cannot hold were 500s, and a JSON array was read
/// as a body (`["gone", null, true]` discarded every dead letter). All are 400s now.
#[tokio::test]
async fn nul_characters_out_of_range_values_and_array_bodies_are_a_json_400() {
    let app = spawn_app().await;
    app.register_bill(CN, "5000.00", true).await;
    let mut nul_bill = bill_body("10.00", true);
    nul_bill["loanRef"] = json!("LN-\u{0}");
    let mut ancient = bill_body("10.00", true);
    ancient["expiresAt"] = json!("-5000-01-01T00:00:00Z");
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PUT,
            "/internal/bills/SKY0100000010".into(),
            Some(nul_bill),
        ),
        (
            Method::PUT,
            "/internal/bills/SKY0100000011".into(),
            Some(ancient),
        ),
        (
            Method::POST,
            "/internal/flags/999999/resolve".into(),
            Some(json!({"note": "ok\u{0}"})),
        ),
        (
            Method::GET,
            "/internal/collections?receipt=%00".into(),
            None,
        ),
        (
            Method::GET,
            "/internal/dead-letters?controlNumber=%00".into(),
            None,
        ),
        (
            Method::GET,
            "/internal/dead-letters?olderThan=999999999d".into(),
            None,
        ),
        (
            Method::GET,
            "/internal/dead-letters?olderThan=2500000d".into(),
            None,
        ),
        (
            Method::POST,
            "/internal/dead-letters/replay".into(),
            Some(json!({"filter": {"reason": "\u{0}"}})),
        ),
        (
            Method::POST,
            "/internal/dead-letters/discard".into(),
            Some(json!({"reason": "x", "filter": {"olderThan": "999999999d"}})),
        ),
        (
            Method::POST,
            "/internal/dead-letters/discard".into(),
            Some(json!(["gone", null, true])),
        ),
        (
            Method::PUT,
            format!("/internal/bills/{CN}"),
            Some(json!([])),
        ),
    ];
    for (method, path, body) in cases {
        let mut request = app.admin_request(method.clone(), &path);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(
            status == 400 || status == 422,
            "{method} {path}: {status} {answer}"
        );
        assert!(answer["error"].is_string(), "{answer}");
    }
    assert_eq!(app.outstanding(CN).await, "5000.00 open");
    app.teardown().await;
}
