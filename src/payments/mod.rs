//! What SkyPay asks of us, as use cases between the wire and the database: each takes a
//! validated request (`domain::payment`, `domain::finance`) and returns an outcome; `skypay`
//! turns the outcome into an answer. The rules inquiry and collect apply are the bill's
//! (`domain::bill`); `finance` stores SkyPay's finance notices and checks its settlements.

pub mod collect;
pub mod finance;
pub mod grouped;
pub mod inquiry;
