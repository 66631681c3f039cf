//! Tolerant parsing (docs/skypay-contract.md, "Request fields"), the refusals of bad fields, the response
//! formats, and the two seed examples verbatim.

use serde_json::{json, Value};

use crate::common::api::*;

const CN: &str = "SKY0100000001";

#[tokio::test]
async fn the_seed_examples_work_verbatim() {
    let app = spawn_app().await;
    app.register_bill(CN, "3900.00", false).await;
    let inquiry: Value = serde_json::from_str(
        r#"{"userName":"AppName@skypay","action":"collectionIcnquiry",
            "authentication":"30AC21B2-9EAA-4503-B0F0-7BE5C277ED75",
            "controlNumber":"SKY0100000001","amount":"3900.00","phone":"6392210083333"}"#,
    )
    .unwrap();
    let answer = app.skypay(&inquiry).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    assert_eq!(answer["amount"], "3900.00");
    let response_time = answer["responseTime"].as_str().unwrap();
    assert_eq!(
        response_time.len(),
        "2018-06-18 17:52:10.5211".len(),
        "{response_time}"
    );
    assert!(chrono::NaiveDateTime::parse_from_str(response_time, "%Y-%m-%d %H:%M:%S%.f").is_ok());
    let now_manila =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    assert_eq!(
        &response_time[..10],
        now_manila.format("%Y-%m-%d").to_string(),
        "responseTime is Philippine time"
    );

    let collect: Value = serde_json::from_str(
        r#"{"userName":"AppName@skypay","action":"collectionCollect",
            "authentication":"30AC21B2-9EAA-4503-B0F0-7BE5C277ED75",
            "controlNumber":"SKY0100000001","amount":"3900.00","phone":"6392210083333",
            "receiptNumber":"B6C13B76E4BF","collectedTime":"2018-06-18 17:52:10","payChannel":"1"}"#,
    )
    .unwrap();
    let answer = app.skypay(&collect).await;
    assert_eq!(code(&answer), "1000", "{answer}");
    let (phone, channel, at): (String, i32, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT phone, pay_channel, collected_at FROM collections")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        phone, "6392210083333",
        "a phone that is not a mobile form is kept as sent"
    );
    assert_eq!(channel, 1);
    assert_eq!(at.to_rfc3339(), "2018-06-18T09:52:10+00:00");
    app.teardown().await;
}

#[tokio::test]
async fn amounts_as_strings_or_numbers_are_parsed_exactly() {
    let app = spawn_app().await;
    app.register_bill(CN, "5000.00", true).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!("3900"), "3900.00"),
        (json!(3900), "3900.00"),
        (json!("3900.5"), "3900.50"),
        (json!(0.1), "0.10"),
        (json!(" 12.34 "), "12.34"),
    ];
    for (amount, shown) in cases {
        let answer = app.skypay(&inquiry(CN, amount.clone())).await;
        assert_eq!(code(&answer), "1000", "{amount}: {answer}");
        assert_eq!(answer["amount"], shown, "{amount}");
    }
    // A number with more digits than an f64 holds is refused, not rounded to 12.34.
    let body = inquiry(CN, 0)
        .to_string()
        .replace("\"amount\":0", "\"amount\":12.3400000000000000001");
    let answer: Value = serde_json::from_str(&app.post_text("/skypay", body).await).unwrap();
    assert_eq!(code(&answer), "2002", "{answer}");
    app.teardown().await;
}

#[tokio::test]
async fn bad_fields_are_refused_with_2002_naming_the_field() {
    let app = spawn_app().await;
    app.register_bill(CN, "5000.00", true).await;
    let cases: Vec<(&str, Value)> = vec![
        ("amount", json!("3900.123")),
        ("amount", json!("-1")),
        ("amount", json!("1e3")),
        ("amount", json!("")),
        ("amount", json!(0)),
        ("amount", json!("100000000.00")),
        ("amount", json!(true)),
        ("controlNumber", json!("SKY01")),
        ("controlNumber", json!("SKY01ABCDEFGH")),
        ("controlNumber", json!(1234567890123_i64)),
        ("phone", json!("")),
        ("phone", json!("0".repeat(51))),
        ("receiptNumber", json!("")),
        ("receiptNumber", json!("R".repeat(51))),
        ("collectedTime", json!("2018/06/18 17:52:10")),
        ("collectedTime", json!("2018-02-30 10:00:00")),
        ("payChannel", json!("GCash")),
        ("payChannel", json!(-1)),
        ("payChannel", json!(1.5)),
        ("userName", json!("u".repeat(51))),
        ("authentication", json!(12345)),
    ];
    for (field, value) in cases {
        let mut body = collect(CN, "100", "R-1");
        body[field] = value.clone();
        let answer = app.skypay(&body).await;
        assert_eq!(code(&answer), "2002", "{field}={value}: {answer}");
        let description = answer["responseDescription"].as_str().unwrap();
        assert!(
            description.contains(field),
            "{field}={value}: {description}"
        );
    }
    assert_eq!(app.count("collections").await, 0);
    app.teardown().await;
}

#[tokio::test]
async fn missing_fields_are_2002_for_each_required_field() {
    let app = spawn_app().await;
    app.register_bill(CN, "5000.00", true).await;
    for field in [
        "userName",
        "authentication",
        "controlNumber",
        "amount",
        "phone",
        "receiptNumber",
        "collectedTime",
        "payChannel",
    ] {
        let mut body = collect(CN, "100", "R-1");
        body.as_object_mut().unwrap().remove(field);
        let answer = app.skypay(&body).await;
        assert_eq!(code(&answer), "2002", "{field}: {answer}");
        assert!(answer["responseDescription"]
            .as_str()
            .unwrap()
            .contains(field));
    }
    let mut body = collect(CN, "100", "R-1");
    body.as_object_mut().unwrap().remove("action");
    assert_eq!(code(&app.skypay(&body).await), "2002");
    app.teardown().await;
}

#[tokio::test]
async fn tolerant_spellings_are_accepted_and_stored_normalised() {
    let app = spawn_app().await;
    app.register_bill(CN, "100000.00", true).await;
    // (field, value as sent, column, value stored)
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("phone", json!("0922-100-8333"), "phone", "09221008333"),
        ("phone", json!("9221008333"), "phone", "09221008333"),
        ("phone", json!("639221008333"), "phone", "09221008333"),
        ("phone", json!("+63 922 100 8333"), "phone", "09221008333"),
        ("phone", json!("(02) 8123 4567"), "phone", "(02) 8123 4567"),
        (
            "collectedTime",
            json!("2018-06-18T17:52:10"),
            "to_char(collected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')",
            "2018-06-18 09:52:10.000",
        ),
        (
            "collectedTime",
            json!("2018-06-18 17:52:10.25"),
            "to_char(collected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')",
            "2018-06-18 09:52:10.250",
        ),
        (
            "collectedTime",
            json!("2018-06-18T17:52:10Z"),
            "to_char(collected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')",
            "2018-06-18 17:52:10.000",
        ),
        (
            "collectedTime",
            json!("2018-06-18 17:52:10+07:00"),
            "to_char(collected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')",
            "2018-06-18 10:52:10.000",
        ),
        ("payChannel", json!("6"), "pay_channel::text", "6"),
        ("payChannel", json!(41), "pay_channel::text", "41"),
        ("payChannel", json!(777), "pay_channel::text", "777"),
        (
            "controlNumber",
            json!("  sky0100000001 "),
            "control_number",
            CN,
        ),
    ];
    for (i, (field, sent, column, stored)) in cases.into_iter().enumerate() {
        let receipt = format!("TOL-{i}");
        let mut body = collect(CN, "1", &receipt);
        body[field] = sent.clone();
        // Spread the collects out so that none of them is a suspected double payment.
        if field != "collectedTime" {
            body["collectedTime"] = json!(format!("2026-01-{:02} 10:00:00", i + 1));
        }
        let answer = app.skypay(&body).await;
        assert_eq!(code(&answer), "1000", "{field}={sent}: {answer}");
        let value: String = sqlx::query_scalar(&format!(
            "SELECT {column} FROM collections WHERE receipt_number = $1"
        ))
        .bind(&receipt)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(value, stored, "{field}={sent}");
    }
    app.teardown().await;
}

#[tokio::test]
async fn contract_number_and_action_aliases_are_accepted() {
    let app = spawn_app().await;
    app.register_bill(CN, "1000.00", true).await;
    for action in [
        "collectionInquiry",
        "COLLECTIONINQUIRY",
        "collectionIcnquiry",
    ] {
        let mut body = inquiry(CN, "10");
        body["action"] = json!(action);
        assert_eq!(code(&app.skypay(&body).await), "1000", "{action}");
    }
    for (i, action) in [
        "collectionCollect",
        "generate711Barcode",
        "CollectionCollect",
    ]
    .iter()
    .enumerate()
    {
        let mut body = collect(CN, "10", &format!("A-{i}"));
        body["action"] = json!(action);
        body["collectedTime"] = json!(format!("2026-02-0{} 10:00:00", i + 1));
        let object = body.as_object_mut().unwrap();
        let control = object.remove("controlNumber").unwrap();
        object.insert("contractNumber".into(), control);
        object.insert("unknownExtraField".into(), json!({"ignored": true}));
        assert_eq!(code(&app.skypay(&body).await), "1000", "{action}");
    }
    assert_eq!(app.count("collections").await, 3);
    app.teardown().await;
}

#[tokio::test]
async fn payer_name_drops_trailing_empty_parts_only() {
    let app = spawn_app().await;
    let mut body = bill_body("100.00", false);
    body["payer"]["middleName"] = json!(null);
    body["payer"]["suffix"] = json!("Jr.");
    let put = app
        .admin_request(reqwest::Method::PUT, &format!("/internal/bills/{CN}"))
        .json(&body);
    assert!(put.send().await.unwrap().status().is_success());
    let answer = app.skypay(&inquiry(CN, "100")).await;
    assert_eq!(answer["payerName"], "Dela Cruz,Juan,,Jr.");
    app.teardown().await;
}

/// Found by schemathesis: a NUL in a field reached Postgres, which refused it, so the collect
/// was answered `-1009` and its refusal was neither kept nor flagged (SkyPay would retry it
/// forever). Now it is a `2002` naming the field, and the refusal is kept.
#[tokio::test]
async fn a_nul_character_is_a_2002_and_the_refusal_is_kept() {
    let app = spawn_app().await;
    app.register_bill(CN, "5000.00", true).await;
    let mut body = collect(CN, "100.00", "R\u{0}1");
    body["extra\u{0}field"] = json!("x\u{0}y");
    let answer = app.skypay(&body).await;
    assert_eq!(code(&answer), "2002", "{answer}");
    assert!(
        answer["responseDescription"]
            .as_str()
            .unwrap()
            .contains("receiptNumber"),
        "{answer}"
    );
    assert_eq!(app.count("refused_collects").await, 1);
    assert_eq!(app.count("flags WHERE kind = 'refused_collect'").await, 1);
    assert_eq!(app.count("collections").await, 0);
    let mut inquiry = inquiry(CN, "100.00");
    inquiry["phone"] = json!("0922\u{0}1008333");
    assert_eq!(code(&app.skypay(&inquiry).await), "2002");
    app.teardown().await;
}
