//! How the ops commands speak: a table for people, JSON (`--json`) for scripts; and who is
//! acting, for the audit log.

use serde::Serialize;

/// Who is acting, for the audit log: `--actor`, else `$USER`, else `cli`.
pub fn acting(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .map(|a| a.trim().chars().take(100).collect::<String>())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "cli".into())
}

pub fn print<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", text());
    }
    Ok(())
}
