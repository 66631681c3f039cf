//! What an ops operation can refuse, in the operation's own terms. The admin API turns it into
//! an HTTP status (`admin::AdminError`), the CLI into a message and a non-zero exit.

use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Nothing by that id, control number or receipt.
    #[error("{0}")]
    NotFound(String),
    /// The request itself is wrong (a filter, a missing reason).
    #[error("{0}")]
    BadRequest(String),
    /// A field of the input is invalid; names the field.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The state forbids it (a paid bill changed, a flag already resolved).
    #[error("{0}")]
    Conflict(String),
    /// The database or the broker failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
