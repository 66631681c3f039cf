//! `fake-skypay`: a stand-in for SkyPay, for development, docker-compose and tests. It plays
//! SkyPay in two roles.
//!
//! - **SkyPay's partner API**, which our reconciliation calls:
//!   `POST /services/{callerName}` with `getReportCollection` (or its published misspelling
//!   `getRerpotCollection`), in SkyPay's AES envelope keyed by the partner key, or plain JSON
//!   (answered plain). It reports the rows of its book whose `payTime` (`dateType`
//!   `CollectedTime`) or `createDate` (`CreateDate`) falls on `startDate..=endDate` (Manila
//!   days), newest first, `pageSize` rows per `pagination` (1-based), `lastPage` on the last.
//!   Amounts are JSON numbers with the book's exact digits (`1300.0`, `1300.25`). A wrong user
//!   or key is `-1001`; an action not accepted or a bad field `-1032` (`Parameter error: …`);
//!   a body that is not a JSON object `-1000`.
//! - **SkyPay toward our API**, a simulator: `POST /simulate` registers fresh bills through
//!   our admin API (or takes the control numbers given), sends `collectionInquiry` then
//!   `collectionCollect` to our SkyPay listener as SkyPay would, and books what SkyPay counts
//!   as collected: a collect answered `1000`, one the network drops before it reaches us
//!   (`dropRate`), one not answered in time (`timeoutMs`).
//!
//! - **SkyPay's finance notices** (settlements…): `POST /notices` lists one or several (the
//!   callback's fields, `referenceNumber` required), `GET /notices` shows them, `DELETE
//!   /notices` forgets them. The partner API answers `notificationInquiry` (any case) from
//!   them: those whose `transctionDate` falls on `startDate..=endDate`, of `statementTypes`
//!   (every type when absent), as `{"result":[…]}` (the shape this service assumes; SkyPay
//!   has not published it). `POST /notify[?plain=true]` with a notice lists it and sends it
//!   to our API (`{apiUrl}/skypay`) as SkyPay's `financeNotification` callback, sealed with
//!   the credential's key, and answers `{"answer": <our answer>}`. `PUT /control`
//!   `{"noticesErrorCode": "-1032"}` answers every `notificationInquiry` with that code (the
//!   report's `errorCode` and `failPages` apply to it too); `""` stops it.
//!
//! The book: `POST /book` adds rows, `GET /book` lists them, `DELETE /book` empties it.
//!
//! Failure injection for the report, set at start or at run time through `PUT /control`
//! (`{"report": {…}}`, [`ReportSwitches`]): which action spellings are accepted, an error code
//! answered to every call, numbers as strings, trailing commas, a delay per page, rows booked
//! between pages (they shift the pages under the reader), the first N calls answered 503.
//! `PUT /control` also sets the simulator's targets (`{"simulator": {"apiUrl", "adminUrl",
//! "adminToken"}}`) and the credential (`{"credential": "user:key"}`).
//!
//! Read-back: `GET /control` (the switches and the credential's user, never its key nor the
//! admin token), `GET /report-calls` (each partner API call: the request without its
//! `authentication`, and the outcome; `DELETE` forgets them), `GET /healthz`.

mod book;
mod credential;
mod notices;
mod report;
mod server;
mod simulate;

#[cfg(test)]
mod tests;

pub use book::{parse_manila, Book, BookRow, DateType, NewRow, TIME_FORMAT};
pub use credential::PartnerCredential;
pub use notices::{NoticeQuery, FINANCE_NOTIFICATION, NOTIFICATION_INQUIRY};
pub use report::{
    page, parse_query, write_page, Page, ReportQuery, ReportSwitches, ACTION, ACTION_MISSPELT,
};
pub use server::{
    router, serve, ControlUpdate, ControlView, FakeSkyPay, ReportCall, ReportReply, Switches,
    TargetsUpdate, TargetsView,
};
pub use simulate::{
    fresh_control_number, receipt_number, SimulateError, SimulateRequest, SimulateSummary,
    SimulatorTargets,
};
