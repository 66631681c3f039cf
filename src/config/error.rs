//! The one error of configuration: a variable and what is wrong with its value.

/// A configuration problem, naming the variable at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration error: {var}: {reason}")]
pub struct ConfigError {
    pub var: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            var: var.into(),
            reason: reason.into(),
        }
    }

    /// The configuration error behind a clap error: a value that a setting refused (see
    /// [`setting`](super::setting)). `None` for clap's own errors (an unknown flag, `--help`, …).
    pub fn from_clap(error: &clap::Error) -> Option<Self> {
        std::error::Error::source(error)?
            .downcast_ref::<ConfigError>()
            .cloned()
    }
}
