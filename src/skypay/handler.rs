//! The HTTP edge of the SkyPay API: source address, body, envelope, action, credentials,
//! then inquiry, collect or a finance notice. Every outcome is HTTP 200 with a contract answer.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::field::Empty;

use super::answer::Answer;
use super::auth::{self, Credential};
use super::envelope::{self, EnvelopeKey};
use super::request::{Action, CollectRequest, InquiryRequest, RawRequest};
use super::state::SkyPayState;
use crate::db::finance::Via;
use crate::domain::FinanceNotice;
use crate::payments::{collect, finance, inquiry};

/// Bodies over 16 KiB are refused with `-1000`.
pub const BODY_LIMIT: usize = 16 * 1024;
/// A body that trickles in slower than this is refused rather than holding a connection.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

type Peer = ConnectInfo<SocketAddr>;

/// `POST /skypay`: routes on the body's `action`.
pub async fn dispatch(
    State(state): State<SkyPayState>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, peer, &headers, body, None).await
}

/// `POST /skypay/collection-inquiry`
pub async fn inquiry_path(
    State(state): State<SkyPayState>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, peer, &headers, body, Some(Action::Inquiry)).await
}

/// `POST /skypay/collection-collect`
pub async fn collect_path(
    State(state): State<SkyPayState>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, peer, &headers, body, Some(Action::Collect)).await
}

/// `POST /skypay/finance-notification`
pub async fn finance_notification_path(
    State(state): State<SkyPayState>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        &state,
        peer,
        &headers,
        body,
        Some(Action::FinanceNotification),
    )
    .await
}

/// Any other method on a SkyPay path still gets a contract answer.
pub async fn wrong_method() -> Response {
    respond(&Answer::invalid_body("use POST"), None)
}

#[tracing::instrument(name = "skypay", skip_all, fields(action = Empty, code = Empty, encrypted = Empty))]
async fn handle(
    state: &SkyPayState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
    path_action: Option<Action>,
) -> Response {
    let started = std::time::Instant::now();
    let cfg = &state.config;
    let mut action = path_action;
    let ip = auth::client_ip(peer, headers, &cfg.trusted_proxies);
    let (answer, key) = if !auth::ip_allowed(cfg.allowed_ips.as_deref(), ip) {
        tracing::warn!(%ip, "source address not in SKYPAY_ALLOWED_IPS");
        (Answer::verification_failed(), None)
    } else {
        match read_body(body).await {
            Err(why) => (Answer::invalid_body(why), None),
            Ok(bytes) => match open(&bytes, &cfg.credentials) {
                None => (
                    Answer::invalid_body("not a JSON object, nor decryptable with any key"),
                    None,
                ),
                Some((_, None)) if cfg.require_encryption => {
                    tracing::warn!("plain body refused: SKYPAY_REQUIRE_ENCRYPTION is on");
                    (Answer::verification_failed(), None)
                }
                Some((raw, key)) => {
                    let (answer, parsed) = answer_request(state, &raw, path_action).await;
                    action = parsed.or(action);
                    (answer, key)
                }
            },
        }
    };
    let span = tracing::Span::current();
    span.record("code", answer.response_code);
    span.record("encrypted", key.is_some());
    let action = action.map_or("unknown", Action::as_str);
    crate::metrics::skypay_answered(action, answer.response_code, started.elapsed());
    tracing::info!(action, code = answer.response_code, "skypay answered");
    respond(&answer, key.as_ref())
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, &'static str> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err("body larger than 16 KiB or unreadable"),
        Err(_) => Err("body not received in time"),
    }
}

/// A body whose first non-blank character is `{` is plain JSON; anything else is Base64
/// ciphertext, opened by the credential whose key yields a JSON object naming that
/// credential's user. Returns the request and, if it was encrypted, the key that opened it.
pub fn open(bytes: &[u8], credentials: &[Credential]) -> Option<(RawRequest, Option<EnvelopeKey>)> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'{' {
        return RawRequest::parse(bytes).map(|raw| (raw, None));
    }
    credentials.iter().find_map(|cred| {
        let plain = envelope::decrypt(cred.envelope_key(), bytes)?;
        let raw = RawRequest::parse(&plain)?;
        let user = raw.string("userName", 50).ok()?;
        (user == cred.user).then(|| (raw, Some(cred.envelope_key().clone())))
    })
}

/// Action, credentials, fields, then the call itself.
/// The answer, and the action when it was recognised (for metrics).
async fn answer_request(
    state: &SkyPayState,
    raw: &RawRequest,
    path_action: Option<Action>,
) -> (Answer, Option<Action>) {
    let action_text = match raw.string("action", 50) {
        Ok(text) => text,
        Err(e) => return (Answer::invalid_field(&e), None),
    };
    let action = match Action::parse(&action_text) {
        Some(action) if path_action.is_none_or(|p| p == action) => action,
        _ => return (Answer::unsupported_action(&action_text), None),
    };
    tracing::Span::current().record("action", action.as_str());
    (answer_action(state, raw, action).await, Some(action))
}

/// Credentials, fields, then the call.
async fn answer_action(state: &SkyPayState, raw: &RawRequest, action: Action) -> Answer {
    let (user, key) = match (
        raw.string("userName", 50),
        raw.string("authentication", 255),
    ) {
        (Ok(user), Ok(key)) => (user, key),
        (Err(e), _) | (_, Err(e)) => return Answer::invalid_field(&e),
    };
    if !auth::verify(&state.config.credentials, &user, &key) {
        tracing::warn!("credentials do not match any configured SkyPay credential");
        return Answer::verification_failed();
    }
    match action {
        Action::Inquiry => match InquiryRequest::try_from(raw) {
            Ok(req) => match inquiry::inquire(&state.bills, &req).await {
                Ok(outcome) => {
                    Answer::to_inquiry(&outcome, &req.amount, state.config.payer_address_key)
                }
                Err(e) => {
                    tracing::error!(error = %format_args!("{e:#}"), "inquiry failed");
                    Answer::unexpected()
                }
            },
            Err(e) => Answer::invalid_field(&e),
        },
        Action::Collect => match CollectRequest::try_from(raw) {
            Ok(req) => {
                let request = raw.without_credentials();
                let policy = state.config.overpayment;
                match (state.collects)
                    .record(&req, policy, request, Answer::describe_refusal)
                    .await
                {
                    Ok(outcome) => {
                        if let collect::CollectOutcome::Recorded(_) = outcome {
                            state.outbox.written();
                        }
                        tracing::info!(outcome = ?outcome, "collect answered");
                        Answer::to_collect(&outcome, state.config.replayed_answer)
                    }
                    Err(e) => {
                        tracing::error!(error = %format_args!("{e:#}"), "collect failed; answered -1009");
                        Answer::unexpected()
                    }
                }
            }
            Err(e) => {
                // Kept too: the cash may be in the till.
                let answer = Answer::invalid_field(&e);
                let request = raw.without_credentials();
                let (code, reason) = (answer.response_code, &answer.response_description);
                match collect::record_invalid(&state.pool, code, reason, request).await {
                    Ok(()) => answer,
                    Err(err) => {
                        tracing::error!(error = %format_args!("{err:#}"), "could not record a refused collect");
                        Answer::unexpected()
                    }
                }
            }
        },
        // `1000` only once stored; a database failure is `-1009`, so that SkyPay sends it again.
        Action::FinanceNotification => match FinanceNotice::try_from(raw) {
            Ok(notice) => {
                let body = raw.without_credentials();
                let rules = state.config.settlement;
                match finance::record_notice(&state.pool, &notice, body, Via::Callback, rules).await
                {
                    Ok(outcome) => Answer::to_notice(&outcome),
                    Err(e) => {
                        tracing::error!(error = %format_args!("{e:#}"), "finance notice not stored; answered -1009");
                        Answer::unexpected()
                    }
                }
            }
            Err(e) => Answer::invalid_field(&e),
        },
    }
}

/// HTTP 200 always; the answer encrypted with the key that opened the request, if any.
pub fn respond(answer: &Answer, key: Option<&EnvelopeKey>) -> Response {
    let json = answer.to_json();
    match key {
        Some(key) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            envelope::encrypt(key, json.as_bytes()),
        )
            .into_response(),
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json,
        )
            .into_response(),
    }
}
