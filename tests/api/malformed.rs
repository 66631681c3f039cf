//! Random and malformed bodies: always HTTP 200 and a JSON answer, never a panic.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::common::api::*;

/// Bodies that look almost right: the fields SkyPay sends, with values of every kind.
fn near_miss() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(Value::Null),
        Just(json!([])),
        Just(json!({})),
        "[0-9]{1,12}(\\.[0-9]{0,4})?".prop_map(Value::from),
    ];
    let field = prop_oneof![
        Just("userName"),
        Just("action"),
        Just("authentication"),
        Just("controlNumber"),
        Just("contractNumber"),
        Just("amount"),
        Just("phone"),
        Just("receiptNumber"),
        Just("collectedTime"),
        Just("payChannel"),
    ];
    (
        proptest::collection::vec((field, value), 0..10),
        any::<bool>(),
    )
        .prop_map(|(fields, collect)| {
            let mut body = if collect {
                crate::common::api::collect("SKY0100000001", "1", "FZ-1")
            } else {
                inquiry("SKY0100000001", "1")
            };
            for (k, v) in fields {
                body[k] = v;
            }
            body.to_string()
        })
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        any::<String>().prop_map(String::into_bytes),
        near_miss().prop_map(String::into_bytes),
        "[A-Za-z0-9+/=\\s]{0,200}".prop_map(String::into_bytes),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bodies_always_get_http_200_and_a_json_answer() {
    let app = spawn_app().await;
    app.register_bill("SKY0100000001", "100.00", true).await;
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let paths = [
        "/skypay",
        "/skypay/collection-inquiry",
        "/skypay/collection-collect",
    ];
    let result = tokio::task::block_in_place(|| {
        runner.run(&(any_body(), 0..3usize), |(body, path)| {
            let text = handle.block_on(app.post_text(paths[path], body.clone()));
            let answer: Value = serde_json::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            let code = answer["responseCode"]
                .as_str()
                .ok_or_else(|| TestCaseError::fail(text.clone()))?;
            prop_assert!(
                ["1000", "-1000", "-1001", "-1015", "-1026", "2001", "2002", "2003", "2004"]
                    .contains(&code),
                "unexpected code {code} for {:?}",
                String::from_utf8_lossy(&body)
            );
            prop_assert!(
                answer["responseTime"].is_string() && answer["responseDescription"].is_string()
            );
            Ok(())
        })
    });
    result.unwrap();
    // A wrong method still gets a contract answer.
    let response = app
        .client
        .get(format!("{}/skypay", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(code(&answer), "-1000");
    app.teardown().await;
}
