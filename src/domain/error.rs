//! A field that failed to parse, named as SkyPay (or the admin API) spells it.

/// Why a field was refused. `field` is the wire name, so `2002` answers can name it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    /// The same error under another name (the admin API reuses SkyPay's parsers).
    pub fn with_field(self, field: &'static str) -> Self {
        Self { field, ..self }
    }
}
