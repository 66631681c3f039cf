//! The clap side of the settings: the value parser that names the variable in every error,
//! and the walks over the command line's arguments that the README's table and
//! `Settings::from_lookup` use.

use std::ffi::OsStr;

use clap::builder::TypedValueParser;
use clap::{Arg, Command};

use super::error::ConfigError;

/// Every argument of `command` and its subcommands that an environment variable can set, once
/// per variable (the first definition met), in the order of the definitions.
pub fn env_args(command: &Command) -> Vec<&Arg> {
    fn walk<'a>(command: &'a Command, out: &mut Vec<&'a Arg>) {
        for arg in command.get_arguments() {
            if let Some(var) = arg.get_env() {
                if !out.iter().any(|seen| seen.get_env() == Some(var)) {
                    out.push(arg);
                }
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(command, &mut out);
    out
}

/// `command` (and its subcommands) with no argument read from the process environment: for
/// parsing a command line alone ([`Settings::from_lookup`], tests).
pub fn without_env(command: Command) -> Command {
    command
        .mut_args(|arg| arg.env(None::<&'static str>))
        .mut_subcommands(without_env)
}

/// The value parser of every setting: trims the value, parses it with `parse` (which says
/// what is wrong), and names the setting's variable in the error, a [`ConfigError`] that
/// [`ConfigError::from_clap`] gets back out of clap's error. The variable is the argument's
/// `env`, or else its `value_name`.
pub fn setting<T>(parse: fn(&str) -> Result<T, String>) -> Setting<T> {
    Setting(parse)
}

/// See [`setting`].
pub struct Setting<T>(fn(&str) -> Result<T, String>);

impl<T> Clone for Setting<T> {
    fn clone(&self) -> Self {
        Self(self.0)
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Setting<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let var = variable(arg);
        let parse = self.0;
        // `try_map` makes clap's value-validation error, with the `ConfigError` as its source.
        let named = move |value: std::ffi::OsString| {
            let raw = value
                .to_str()
                .ok_or_else(|| ConfigError::new(var.clone(), "is not valid UTF-8"))?;
            parse(raw.trim()).map_err(|reason| ConfigError::new(var.clone(), reason))
        };
        clap::builder::OsStringValueParser::new()
            .try_map(named)
            .parse_ref(cmd, arg, value)
    }
}

fn variable(arg: Option<&Arg>) -> String {
    let Some(arg) = arg else {
        return "(unnamed setting)".to_owned();
    };
    arg.get_env()
        .and_then(OsStr::to_str)
        .or_else(|| arg.get_value_names()?.first().map(|name| name.as_str()))
        .unwrap_or_else(|| arg.get_id().as_str())
        .to_owned()
}
