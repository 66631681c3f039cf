//! The OpenAPI document is true to the routers: every documented operation is routed on its
//! listener, and the document parses as OpenAPI 3.

use serde_json::Value;

use crate::common::api::{spawn_app, ADMIN_TOKEN};

#[tokio::test]
async fn every_documented_operation_is_served_by_its_listener() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc, collector::http::openapi::document());
    let operations = collector::http::openapi::operations();
    assert!(operations.len() >= 18, "{operations:?}");
    for (listener, method, path) in operations {
        let concrete = path.replace("{controlNumber}", "SKY0100000001").replace(
            "{id}",
            if path.contains("dead-letters") {
                "0190a1b2-0000-7000-8000-000000000000"
            } else {
                "1"
            },
        );
        let bases: Vec<&str> = match listener {
            "public" => vec![&app.base],
            "admin" => vec![&app.admin],
            _ => vec![&app.base, &app.admin],
        };
        for base in bases {
            let method: reqwest::Method = method.parse().unwrap();
            let response = app
                .client
                .request(method.clone(), format!("{base}{concrete}"))
                .bearer_auth(ADMIN_TOKEN)
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert_ne!(
                status, 405,
                "{method} {path} on {base}: not routed for this method"
            );
            assert!(
                !(status == 404 && body.contains(r#""error":"not found""#)),
                "{method} {path} on {base}: fell through to the fallback"
            );
        }
    }
    // And what is not documented is not served.
    let response = app
        .client
        .get(format!("{}/internal/undocumented", app.admin))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .client
        .get(format!("{}/internal/bills/SKY0100000001", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        404,
        "admin routes are not on the SkyPay listener"
    );
    app.teardown().await;
}
