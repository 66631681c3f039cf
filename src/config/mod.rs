//! Settings: one clap definition per setting, read from its environment variable or its flag.
//!
//! [`Settings`] is a clap [`Args`] struct that `collector::cli::Cli` flattens (global, so a flag
//! may follow the subcommand too). Each field names its variable (`env`), its default and its
//! help, which is also what README.md's configuration table shows (`collector config-table`
//! prints it; a test checks the README against it). Every value goes through [`setting`]: it
//! is trimmed, checked, and a bad one stops start-up with a [`ConfigError`] that names the
//! variable. A missing value that the chosen command needs is reported the same way by the
//! `require_*` accessors. A variable set to an empty value counts as unset. Secrets
//! (`ADMIN_TOKEN`, SkyPay keys, `CORE_LOAN_TOKEN`) are wrapped so that `Debug` never prints
//! them, and `--help` never shows their values.

pub mod error;
pub mod setting;
pub mod settings;
pub mod value;

pub use crate::skypay::answer::{PayerAddressKey, ReplayedAnswer};
pub use error::ConfigError;
pub use setting::{env_args, setting, without_env, Setting};
pub use settings::{ReconArgs, Settings, SweeperArgs};
pub use value::*;
