//! Security at the process level: wrong credentials and tokens never reach the database
//! (the API's Postgres goes through a proxy that counts every byte), and the IP allow-list
//! with and without trusted proxies.

use std::time::Duration;

use collector::skypay::envelope::{encrypt, EnvelopeKey};
use serde_json::{json, Value};

use crate::harness::*;

async fn skypay_raw(
    client: &reqwest::Client,
    url: &str,
    body: String,
    xff: Option<&str>,
) -> String {
    let mut request = client
        .post(format!("{url}/skypay"))
        .header("content-type", "text/plain")
        .body(body);
    if let Some(xff) = xff {
        request = request.header("x-forwarded-for", xff);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    answer["responseCode"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_and_tokens_never_reach_the_database() {
    let (s, api) = Stack::with_api_behind_proxy("security_credentials").await;
    // Let the readiness probe's connection settle, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let proxy = s.proxy.as_ref().unwrap();
    let before = proxy.bytes_from_clients();
    let client = reqwest::Client::new();
    let url = s.procs[api].public_url();
    let admin = s.procs[api].admin_url();
    let bill = s.bills[0].clone();

    let mut tried = 0;
    let n = scaled(100);
    for i in 0..n {
        let receipt = format!("SEC-{i}");
        let mut wrong_key = collect_body(&bill, "10.00", &receipt);
        wrong_key["authentication"] = json!(format!("{KEY}x"));
        let mut wrong_user = collect_body(&bill, "10.00", &receipt);
        wrong_user["userName"] = json!("someone-else");
        let mut no_key = inquiry_body(&bill, "10.00");
        no_key.as_object_mut().unwrap().remove("authentication");
        let mut empty_key = collect_body(&bill, "10.00", &receipt);
        empty_key["authentication"] = json!("");
        let mut no_key_collect = collect_body(&bill, "10.00", &receipt);
        no_key_collect
            .as_object_mut()
            .unwrap()
            .remove("authentication");
        for body in [wrong_key, wrong_user, no_key, empty_key, no_key_collect] {
            // A missing credential field is a missing field (2002); a wrong one is -1001.
            let code = skypay_raw(&client, &url, body.to_string(), None).await;
            assert!(code == "-1001" || code == "2002", "{code} for {body}");
            tried += 1;
        }
        // An envelope sealed with a key we do not hold cannot even be opened.
        let sealed = encrypt(
            &EnvelopeKey::derive("not-our-key"),
            collect_body(&bill, "10.00", &receipt)
                .to_string()
                .as_bytes(),
        );
        let code = skypay_raw(&client, &url, sealed, None).await;
        assert!(code == "-1000" || code == "-1001", "{code}");
        tried += 1;
        // The admin API: no token, a wrong one, a near miss.
        for token in [
            None,
            Some("wrong"),
            Some(&ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]),
        ] {
            for (method, path) in [
                (
                    reqwest::Method::GET,
                    "/internal/collections?receipt=SEC-1".to_owned(),
                ),
                (reqwest::Method::GET, "/internal/dead-letters".to_owned()),
                (
                    reqwest::Method::POST,
                    "/internal/dead-letters/replay".to_owned(),
                ),
                (reqwest::Method::GET, format!("/internal/bills/{bill}")),
            ] {
                let mut request = client.request(method, format!("{admin}{path}"));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                assert_eq!(request.send().await.unwrap().status(), 401);
                tried += 1;
            }
        }
    }
    let after = proxy.bytes_from_clients();
    assert_eq!(
        after,
        before,
        "{tried} refused requests sent {} bytes to Postgres",
        after - before
    );
    // The counter does count: a good request reaches the database.
    assert_eq!(
        skypay_raw(
            &client,
            &url,
            inquiry_body(&bill, "10.00").to_string(),
            None
        )
        .await,
        "1000"
    );
    assert!(proxy.bytes_from_clients() > after);
    let scan = s.grep_logs();
    assert!(scan.found.is_empty(), "{:?}", scan.found);
    let f = Figures {
        case: "security_credentials".into(),
        requests: tried,
        log_lines: scan.lines,
        notes: format!("{tried} requests with wrong, missing or near-miss SkyPay keys, foreign envelopes and admin tokens: 0 bytes reached Postgres; a good inquiry then did"),
        ..Figures::default()
    };
    f.record();
    s.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_allow_list_with_and_without_trusted_proxies() {
    let mut s = Stack::new(
        "security_allow_list",
        StackOptions {
            api_through_proxy: true,
            ..StackOptions::default()
        },
    )
    .await;
    let direct = s.api_with(&[("SKYPAY_ALLOWED_IPS", "10.9.0.0/16")]);
    let behind = s.api_with(&[
        ("SKYPAY_ALLOWED_IPS", "10.9.0.0/16"),
        ("TRUSTED_PROXIES", "127.0.0.1/32,10.0.0.0/24"),
    ]);
    s.wait_up(direct).await;
    s.wait_up(behind).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    let bill = s.bills[0].clone();
    let inquiry = inquiry_body(&bill, "10.00").to_string();
    let (direct_url, behind_url) = (s.procs[direct].public_url(), s.procs[behind].public_url());
    let proxy = s.proxy.as_ref().unwrap();
    let before = proxy.bytes_from_clients();

    // Without trusted proxies the peer (127.0.0.1) is the caller, whatever the header says.
    let refused_direct = [None, Some("10.9.1.1"), Some("10.9.1.1, 10.9.1.2")];
    for xff in refused_direct {
        assert_eq!(
            skypay_raw(&client, &direct_url, inquiry.clone(), xff).await,
            "-1001",
            "{xff:?}"
        );
    }
    // Behind a trusted proxy: the right-most address that is not a trusted proxy.
    let refused_behind = [
        None,                                 // the proxy itself is not allowed
        Some("10.8.0.5"),                     // outside the allow-list
        Some("10.9.1.1, 10.8.0.5"),           // a spoofed allowed address on the left
        Some("10.9.1.1, 10.8.0.5, 10.0.0.7"), // the same through two proxies
        Some("not-an-ip"),
    ];
    for xff in refused_behind {
        assert_eq!(
            skypay_raw(&client, &behind_url, inquiry.clone(), xff).await,
            "-1001",
            "{xff:?}"
        );
    }
    assert_eq!(
        proxy.bytes_from_clients(),
        before,
        "refused callers never reach Postgres"
    );
    let allowed_behind = [
        Some("10.9.1.1"),
        Some("10.8.0.5, 10.9.1.1"),
        Some("10.9.1.1, 10.0.0.7"),
    ];
    for xff in allowed_behind {
        assert_eq!(
            skypay_raw(&client, &behind_url, inquiry.clone(), xff).await,
            "1000",
            "{xff:?}"
        );
    }
    let scan = s.grep_logs();
    assert!(scan.found.is_empty(), "{:?}", scan.found);
    let f = Figures {
        case: "security_allow_list".into(),
        requests: refused_direct.len() + refused_behind.len() + allowed_behind.len(),
        log_lines: scan.lines,
        notes: "allow-list 10.9.0.0/16: direct callers judged by the peer address whatever X-Forwarded-For says; behind trusted proxies by the right-most untrusted X-Forwarded-For entry (spoofed left entries ignored, garbage refused); refused callers sent 0 bytes to Postgres".into(),
        ..Figures::default()
    };
    f.record();
    s.teardown().await;
}
