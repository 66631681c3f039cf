//! SkyPay's encrypted envelope, both ways, and key rotation.

use collector::skypay::envelope::{decrypt, encrypt, EnvelopeKey};
use serde_json::Value;

use crate::common::api::*;

const CN: &str = "SKY0100000001";

async fn post_encrypted(app: &TestApp, key: &str, body: &Value) -> Value {
    let envelope_key = EnvelopeKey::derive(key);
    let ciphertext = encrypt(&envelope_key, body.to_string().as_bytes());
    let text = app.post_text("/skypay", ciphertext).await;
    assert!(
        !text.trim_start().starts_with('{'),
        "an encrypted request gets an encrypted answer: {text}"
    );
    let plain =
        decrypt(&envelope_key, text.as_bytes()).expect("answer opens with the request's key");
    serde_json::from_slice(&plain).unwrap()
}

#[tokio::test]
async fn encrypted_requests_get_encrypted_answers() {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", false).await;
    let answer = post_encrypted(&app, KEY, &inquiry(CN, "3900.00")).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    assert_eq!(answer["payerPhone"], "09221008333");
    let answer = post_encrypted(&app, KEY, &collect(CN, "3900.00", "ENC-1")).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    assert_eq!(app.count("collections").await, 1);
    app.teardown().await;
}

#[tokio::test]
async fn during_a_key_rotation_both_keys_are_accepted() {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", true).await;
    for (i, key) in [KEY, NEW_KEY].into_iter().enumerate() {
        let mut body = inquiry(CN, "10");
        body["authentication"] = key.into();
        assert_eq!(code(&app.skypay(&body).await), "1000", "plain, key {i}");
        assert_eq!(
            code(&post_encrypted(&app, key, &body).await),
            "1000",
            "encrypted, key {i}"
        );
        let mut body = collect(CN, "10", &format!("ROT-{i}"));
        body["authentication"] = key.into();
        body["collectedTime"] = format!("2026-03-0{} 10:00:00", i + 1).into();
        assert_eq!(
            code(&post_encrypted(&app, key, &body).await),
            "1000",
            "collect, key {i}"
        );
    }
    // Encrypted with one key but claiming the other key's credential: opened, then refused.
    let mut body = inquiry(CN, "10");
    body["authentication"] = "NOT-A-KEY".into();
    assert_eq!(code(&post_encrypted(&app, KEY, &body).await), "-1001");
    app.teardown().await;
}

#[tokio::test]
async fn a_body_no_key_opens_is_minus_1000_in_plain_json() {
    let app = spawn_app().await;
    let ciphertext = encrypt(
        &EnvelopeKey::derive("SOME-OTHER-KEY"),
        inquiry(CN, "1").to_string().as_bytes(),
    );
    let answer: Value = serde_json::from_str(&app.post_text("/skypay", ciphertext).await).unwrap();
    assert_eq!(code(&answer), "-1000");
    app.teardown().await;
}

#[tokio::test]
async fn required_encryption_refuses_plain_bodies_with_minus_1001() {
    let app = spawn_app_with(&[("SKYPAY_REQUIRE_ENCRYPTION", "true")]).await;
    app.register_bill(CN, "3900.00", false).await;
    assert_eq!(code(&app.skypay(&inquiry(CN, "3900")).await), "-1001");
    assert_eq!(
        code(&post_encrypted(&app, KEY, &inquiry(CN, "3900")).await),
        "1000"
    );
    app.teardown().await;
}
