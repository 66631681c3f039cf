//! The two things SkyPay asks of us, as use cases between the wire and the database: each takes
//! a validated request (`domain::payment`) and returns an outcome; `skypay` turns the outcome
//! into an answer. The rules they apply are the bill's (`domain::bill`).

pub mod collect;
pub mod inquiry;
