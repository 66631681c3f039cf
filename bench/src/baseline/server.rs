//! `bare-server`: a bare axum + sqlx server answering inquiries with the same SQL and nothing
//! else (no envelope, auth, validation, tracing or metrics): the ceiling of the stack the API
//! is built on.

pub async fn bare_server(database: &str, listen: &str) -> anyhow::Result<()> {
    use axum::extract::State;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .test_before_acquire(false)
        .connect(database)
        .await?;
    async fn inquiry(State(pool): State<sqlx::PgPool>, body: axum::body::Bytes) -> String {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let control = request["controlNumber"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let row: Option<(String, rust_decimal::Decimal)> = sqlx::query(
            "SELECT control_number, loan_ref, amount_due, outstanding, allow_partial, status, expires_at, payer_last_name, \
             payer_first_name, payer_middle_name, payer_suffix, payer_address, payer_phone FROM bills WHERE control_number = $1",
        )
        .bind(control)
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten()
        .map(|r: sqlx::postgres::PgRow| {
            use sqlx::Row;
            (r.get::<String, _>("control_number"), r.get::<rust_decimal::Decimal, _>("outstanding"))
        });
        match row {
            Some(_) => r#"{"responseCode":"1000","responseDescription":"Success"}"#.to_owned(),
            None => r#"{"responseCode":"-1015","responseDescription":"unknown"}"#.to_owned(),
        }
    }
    let app = axum::Router::new()
        .route("/skypay", axum::routing::post(inquiry))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
