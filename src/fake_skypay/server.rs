//! The fake's state (switches, credential, book, the report calls it received) and its routes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::book::{Book, BookRow, NewRow};
use super::credential::PartnerCredential;
use super::notices;
use super::report::{self, ReportSwitches};
use super::simulate::{self, SimulateError, SimulateRequest, SimulateSummary, SimulatorTargets};
use crate::skypay::envelope;

/// Every switch: how the report answers, and where the simulator sends its calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Switches {
    pub report: ReportSwitches,
    pub simulator: SimulatorTargets,
}

/// One call of the partner API, as received (`GET /report-calls`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportCall {
    pub caller_name: String,
    pub encrypted: bool,
    /// The opened request without its `authentication`; `None` if it could not be read.
    pub request: Option<Value>,
    /// `page 2: 100 of 250`, `HTTP 503`, `-1001`…
    pub outcome: String,
}

/// The answer to a partner API call: HTTP 200 with SkyPay's JSON (sealed when the request
/// came sealed), or an injected 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReply {
    pub status: u16,
    pub body: String,
    pub encrypted: bool,
}

impl IntoResponse for ReportReply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let content_type = if status != StatusCode::OK || self.encrypted {
            "text/plain; charset=utf-8"
        } else {
            "application/json"
        };
        (status, [(header::CONTENT_TYPE, content_type)], self.body).into_response()
    }
}

/// Report calls remembered for `GET /report-calls`; older ones are forgotten.
const MAX_CALLS: usize = 10_000;

/// SkyPay, faked: its partner API over its book, and its simulator toward our API.
pub struct FakeSkyPay {
    credential: Mutex<PartnerCredential>,
    switches: Mutex<Switches>,
    book: Mutex<Book>,
    /// SkyPay's finance notices, for `notificationInquiry` (each a callback's fields).
    notices: Mutex<Vec<Map<String, Value>>>,
    /// Answer every `notificationInquiry` with this `responseCode` (`PUT /control`
    /// `noticesErrorCode`): the report still answers.
    notices_error: Mutex<Option<String>>,
    calls: Mutex<Vec<ReportCall>>,
    /// 503s answered since the report switches were last set (`failPages`).
    pages_failed: AtomicU64,
    client: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeSkyPay {
    pub fn new(credential: PartnerCredential, switches: Switches) -> Arc<Self> {
        Arc::new(Self {
            credential: Mutex::new(credential),
            switches: Mutex::new(switches),
            book: Mutex::new(Book::default()),
            notices: Mutex::new(Vec::new()),
            notices_error: Mutex::new(None),
            calls: Mutex::new(Vec::new()),
            pages_failed: AtomicU64::new(0),
            client: reqwest::Client::new(),
        })
    }

    pub fn switches(&self) -> Switches {
        lock(&self.switches).clone()
    }

    /// Replaces every switch; `failPages` counts again from zero.
    pub fn set(&self, switches: Switches) {
        *lock(&self.switches) = switches;
        self.pages_failed.store(0, Ordering::Relaxed);
    }

    /// Replaces the report switches; `failPages` counts again from zero.
    pub fn set_report(&self, report: ReportSwitches) {
        lock(&self.switches).report = report;
        self.pages_failed.store(0, Ordering::Relaxed);
    }

    pub fn set_targets(&self, targets: SimulatorTargets) {
        lock(&self.switches).simulator = targets;
    }

    pub fn credential(&self) -> PartnerCredential {
        lock(&self.credential).clone()
    }

    /// A new partner credential (a key rotation at SkyPay).
    pub fn set_credential(&self, credential: PartnerCredential) {
        *lock(&self.credential) = credential;
    }

    /// Books `rows`; returns the book's size.
    pub fn add_rows(&self, rows: impl IntoIterator<Item = BookRow>) -> usize {
        let mut book = lock(&self.book);
        for row in rows {
            book.add(row);
        }
        book.len()
    }

    /// The book, in booking order.
    pub fn book(&self) -> Vec<BookRow> {
        lock(&self.book).rows().to_vec()
    }

    pub fn clear_book(&self) {
        lock(&self.book).clear();
    }

    /// Lists each notice (a callback's fields, `referenceNumber` required); one with the
    /// `referenceNumber` and `accountNo` of a listed notice replaces it. Nothing is listed if
    /// any is invalid. Returns how many are listed.
    pub fn add_notices(&self, notices: impl IntoIterator<Item = Value>) -> Result<usize, String> {
        let checked = notices
            .into_iter()
            .enumerate()
            .map(|(i, n)| notices::checked(n).map_err(|why| format!("notice {}: {why}", i + 1)))
            .collect::<Result<Vec<_>, String>>()?;
        let mut list = lock(&self.notices);
        for notice in checked {
            let key = notices::key(&notice);
            match list.iter_mut().find(|n| notices::key(n) == key) {
                Some(listed) => *listed = notice,
                None => list.push(notice),
            }
        }
        Ok(list.len())
    }

    /// Every `notificationInquiry` answered with `code` (`-1032`, `-9999`…), or normally again
    /// with `None`.
    pub fn set_notices_error(&self, code: Option<String>) {
        *lock(&self.notices_error) = code.filter(|c| !c.trim().is_empty());
    }

    /// The finance notices, in listing order.
    pub fn notices(&self) -> Vec<Value> {
        lock(&self.notices)
            .iter()
            .map(|n| Value::Object(n.clone()))
            .collect()
    }

    pub fn clear_notices(&self) {
        lock(&self.notices).clear();
    }

    /// Lists `notice` and sends it to our API as a `financeNotification` callback (`POST
    /// /notify`), sealed with the credential's key unless `plain`; our answer, opened.
    pub async fn notify(&self, notice: Value, plain: bool) -> Result<Value, String> {
        let notice = notices::checked(notice)?;
        let api_url = self
            .switches()
            .simulator
            .api_url
            .ok_or_else(|| "no apiUrl: set it with PUT /control".to_owned())?;
        self.add_notices([Value::Object(notice.clone())])?;
        let credential = self.credential();
        notices::push(&self.client, &api_url, &credential, &notice, plain).await
    }

    /// The partner API calls received, oldest first.
    pub fn report_calls(&self) -> Vec<ReportCall> {
        lock(&self.calls).clone()
    }

    pub fn clear_report_calls(&self) {
        lock(&self.calls).clear();
    }

    /// 503s answered since the report switches were last set.
    pub fn pages_failed(&self) -> u64 {
        self.pages_failed.load(Ordering::Relaxed)
    }

    fn log_call(&self, call: ReportCall) {
        let mut calls = lock(&self.calls);
        if calls.len() >= MAX_CALLS {
            calls.remove(0);
        }
        calls.push(call);
    }

    /// Answers one partner API call (`POST /services/{callerName}`) without the delay
    /// (`pageDelayMs` is the handler's). In order: an injected 503 (`failPages`); the envelope
    /// (a body our key does not open is `-1001`, in plain JSON; one that is not a JSON object
    /// `-1000`); an injected `errorCode`; the credential (`-1001`); the action (`-1032`); the
    /// query's fields (`-1032`); then the page, and, unless it is the last,
    /// `insertBetweenPages` new rows.
    pub fn report(&self, caller_name: &str, body: &[u8]) -> ReportReply {
        let switches = self.switches().report;
        let mut call = ReportCall {
            caller_name: caller_name.to_owned(),
            encrypted: false,
            request: None,
            outcome: String::new(),
        };
        let limit = u64::from(switches.fail_pages);
        if self
            .pages_failed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok()
        {
            call.outcome = "HTTP 503".to_owned();
            self.log_call(call);
            return ReportReply {
                status: 503,
                body: "Service Unavailable (injected by fake-skypay)".to_owned(),
                encrypted: false,
            };
        }
        let credential = self.credential();
        let (reply, outcome) = self.answer(&credential, &switches, body, &mut call);
        call.outcome = outcome;
        self.log_call(call);
        reply
    }

    fn answer(
        &self,
        credential: &PartnerCredential,
        switches: &ReportSwitches,
        body: &[u8],
        call: &mut ReportCall,
    ) -> (ReportReply, String) {
        let key = credential.envelope_key();
        let plain_body = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let opened = if plain_body {
            body.to_vec()
        } else if let Some(opened) = envelope::decrypt(key, body) {
            call.encrypted = true;
            opened
        } else {
            let text = report::error_answer("-1001", report::describe("-1001"));
            return (
                plain_reply(text),
                "-1001 (not opened by our key)".to_owned(),
            );
        };
        let encrypted = call.encrypted;
        let reply = |text: String| ReportReply {
            status: 200,
            body: if encrypted {
                envelope::encrypt(key, text.as_bytes())
            } else {
                text
            },
            encrypted,
        };
        let refuse = |code: &str, why: Option<&str>| {
            let description = match why {
                Some(why) => format!("{}: {why}", report::describe(code)),
                None => report::describe(code).to_owned(),
            };
            (
                reply(report::error_answer(code, &description)),
                code.to_owned(),
            )
        };
        let request: Map<String, Value> = match serde_json::from_slice(&opened) {
            Ok(Value::Object(request)) => request,
            _ => return refuse("-1000", Some("not a JSON object")),
        };
        let mut shown = request.clone();
        shown.remove("authentication");
        call.request = Some(Value::Object(shown));
        if let Some(code) = &switches.error_code {
            return refuse(code, None);
        }
        let text = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or("");
        if !credential.verifies(text("userName"), text("authentication")) {
            return refuse("-1001", None);
        }
        let action = text("action");
        if action.eq_ignore_ascii_case(notices::NOTIFICATION_INQUIRY) {
            if let Some(code) = lock(&self.notices_error).clone() {
                return refuse(&code, None);
            }
            let query = match notices::parse_query(&request) {
                Ok(query) => query,
                Err(why) => return refuse("-1032", Some(&why)),
            };
            let selected = notices::select(&lock(&self.notices), &query);
            let outcome = format!("notices: {}", selected.len());
            return (reply(notices::write_answer(selected)), outcome);
        }
        if !switches.action_spellings.iter().any(|a| a == action) {
            return refuse("-1032", Some(&format!("unsupported action `{action}`")));
        }
        let query = match report::parse_query(&request) {
            Ok(query) => query,
            Err(why) => return refuse("-1032", Some(&why)),
        };
        let mut book = lock(&self.book);
        let page = report::page(&book, &query);
        let text = report::write_page(&page, switches);
        let outcome = format!(
            "page {}: {} of {}{}",
            query.pagination,
            page.rows.len(),
            page.total,
            if page.last_page { ", last" } else { "" }
        );
        if !page.last_page && switches.insert_between_pages > 0 {
            let tag = book.len();
            for row in report::rows_to_insert(&book, &query, switches.insert_between_pages, tag) {
                book.add(row);
            }
        }
        (reply(text), outcome)
    }

    /// Runs the simulator (`POST /simulate`) with the current targets and credential,
    /// booking what SkyPay would.
    pub async fn simulate(
        &self,
        request: &SimulateRequest,
    ) -> Result<SimulateSummary, SimulateError> {
        let targets = self.switches().simulator;
        let credential = self.credential();
        simulate::run(&self.client, &credential, &targets, request, |row| {
            self.add_rows([row]);
        })
        .await
    }
}

fn plain_reply(body: String) -> ReportReply {
    ReportReply {
        status: 200,
        body,
        encrypted: false,
    }
}

/// `GET /control`: the switches, the credential's user, never its key or the admin token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlView {
    pub user: String,
    pub report: ReportSwitches,
    pub simulator: TargetsView,
    pub pages_failed: u64,
    pub notices_error_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetsView {
    pub api_url: Option<String>,
    pub admin_url: Option<String>,
    pub admin_token_set: bool,
}

/// `PUT /control`: each part present is applied, the others stay. `report` replaces the
/// report switches whole (a field left out takes its default); `simulator`'s fields each
/// replace theirs (an empty string unsets); `credential` is `user:key`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlUpdate {
    pub report: Option<ReportSwitches>,
    pub simulator: Option<TargetsUpdate>,
    pub credential: Option<String>,
    /// Answer every `notificationInquiry` with this `responseCode`; an empty string stops.
    pub notices_error_code: Option<String>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetsUpdate {
    pub api_url: Option<String>,
    pub admin_url: Option<String>,
    pub admin_token: Option<String>,
}

impl std::fmt::Debug for TargetsUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetsUpdate")
            .field("api_url", &self.api_url)
            .field("admin_url", &self.admin_url)
            .field("admin_token_set", &self.admin_token.is_some())
            .finish()
    }
}

impl FakeSkyPay {
    pub fn control_view(&self) -> ControlView {
        let switches = self.switches();
        ControlView {
            user: self.credential().user().to_owned(),
            report: switches.report,
            simulator: TargetsView {
                api_url: switches.simulator.api_url,
                admin_url: switches.simulator.admin_url,
                admin_token_set: switches.simulator.admin_token.is_some(),
            },
            pages_failed: self.pages_failed(),
            notices_error_code: lock(&self.notices_error).clone(),
        }
    }

    /// Applies a `PUT /control`; nothing changes if any part is invalid.
    pub fn apply(&self, update: ControlUpdate) -> Result<(), String> {
        let credential = update
            .credential
            .as_deref()
            .map(PartnerCredential::parse)
            .transpose()?;
        if let Some(credential) = credential {
            tracing::info!(user = credential.user(), "fake-skypay credential changed");
            self.set_credential(credential);
        }
        if let Some(report) = update.report {
            tracing::info!(?report, "fake-skypay report switches changed");
            self.set_report(report);
        }
        if let Some(patch) = update.simulator {
            let mut switches = lock(&self.switches);
            let targets = &mut switches.simulator;
            let set = |slot: &mut Option<String>, value: Option<String>| {
                if let Some(value) = value {
                    let value = value.trim().trim_end_matches('/').to_owned();
                    *slot = (!value.is_empty()).then_some(value);
                }
            };
            set(&mut targets.api_url, patch.api_url);
            set(&mut targets.admin_url, patch.admin_url);
            set(&mut targets.admin_token, patch.admin_token);
            tracing::info!(?targets, "fake-skypay simulator targets changed");
        }
        if let Some(code) = update.notices_error_code {
            tracing::info!(code, "fake-skypay notificationInquiry error code changed");
            self.set_notices_error(Some(code));
        }
        Ok(())
    }
}

pub fn router(fake: Arc<FakeSkyPay>) -> Router {
    Router::new()
        .route("/services/{caller_name}", post(services))
        .route("/book", get(show_book).post(add_book).delete(forget_book))
        .route(
            "/notices",
            get(show_notices).post(add_notices).delete(forget_notices),
        )
        .route("/notify", post(notify))
        .route("/report-calls", get(show_calls).delete(forget_calls))
        .route("/simulate", post(run_simulation))
        .route("/control", get(show_control).put(set_control))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .with_state(fake)
}

async fn services(
    State(fake): State<Arc<FakeSkyPay>>,
    Path(caller_name): Path<String>,
    body: Bytes,
) -> ReportReply {
    let delay = fake.switches().report.page_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    fake.report(&caller_name, &body)
}

async fn show_book(State(fake): State<Arc<FakeSkyPay>>) -> Json<Vec<BookRow>> {
    Json(fake.book())
}

async fn add_book(State(fake): State<Arc<FakeSkyPay>>, Json(rows): Json<Vec<NewRow>>) -> Response {
    let rows: Result<Vec<BookRow>, String> = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            row.into_row()
                .map_err(|why| format!("row {}: {why}", i + 1))
        })
        .collect();
    match rows {
        Ok(rows) => {
            let added = rows.len();
            let total = fake.add_rows(rows);
            (
                StatusCode::CREATED,
                Json(json!({ "added": added, "total": total })),
            )
                .into_response()
        }
        Err(why) => unprocessable(why),
    }
}

async fn forget_book(State(fake): State<Arc<FakeSkyPay>>) -> StatusCode {
    fake.clear_book();
    StatusCode::NO_CONTENT
}

async fn show_notices(State(fake): State<Arc<FakeSkyPay>>) -> Json<Vec<Value>> {
    Json(fake.notices())
}

/// `POST /notices`: one notice (an object) or several (an array).
async fn add_notices(State(fake): State<Arc<FakeSkyPay>>, Json(body): Json<Value>) -> Response {
    let list = match body {
        Value::Array(list) => list,
        one => vec![one],
    };
    let added = list.len();
    match fake.add_notices(list) {
        Ok(total) => (
            StatusCode::CREATED,
            Json(json!({ "added": added, "total": total })),
        )
            .into_response(),
        Err(why) => unprocessable(why),
    }
}

async fn forget_notices(State(fake): State<Arc<FakeSkyPay>>) -> StatusCode {
    fake.clear_notices();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NotifyQuery {
    /// Send plain JSON instead of SkyPay's envelope.
    plain: bool,
}

/// `POST /notify[?plain=true]` with a notice: listed, then sent to our API as SkyPay's
/// `financeNotification` callback; answers `{"answer": <our answer>}`.
async fn notify(
    State(fake): State<Arc<FakeSkyPay>>,
    axum::extract::Query(query): axum::extract::Query<NotifyQuery>,
    Json(notice): Json<Value>,
) -> Response {
    match fake.notify(notice, query.plain).await {
        Ok(answer) => Json(json!({ "answer": answer })).into_response(),
        Err(why) => unprocessable(why),
    }
}

async fn show_calls(State(fake): State<Arc<FakeSkyPay>>) -> Json<Vec<ReportCall>> {
    Json(fake.report_calls())
}

async fn forget_calls(State(fake): State<Arc<FakeSkyPay>>) -> StatusCode {
    fake.clear_report_calls();
    StatusCode::NO_CONTENT
}

async fn run_simulation(
    State(fake): State<Arc<FakeSkyPay>>,
    Json(request): Json<SimulateRequest>,
) -> Response {
    match fake.simulate(&request).await {
        Ok(summary) => {
            tracing::info!(?summary, "fake-skypay simulation done");
            Json(summary).into_response()
        }
        Err(SimulateError::Invalid(why)) => unprocessable(why),
    }
}

async fn show_control(State(fake): State<Arc<FakeSkyPay>>) -> Json<ControlView> {
    Json(fake.control_view())
}

async fn set_control(
    State(fake): State<Arc<FakeSkyPay>>,
    Json(update): Json<ControlUpdate>,
) -> Response {
    match fake.apply(update) {
        Ok(()) => Json(fake.control_view()).into_response(),
        Err(why) => unprocessable(why),
    }
}

fn unprocessable(why: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": why })),
    )
        .into_response()
}

/// Serves the fake SkyPay on `listener` until `shutdown` fires.
pub async fn serve(
    listener: tokio::net::TcpListener,
    fake: Arc<FakeSkyPay>,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(fake))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
