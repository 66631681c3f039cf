//! README.md's configuration table, from the command line's own definitions: every argument
//! that an environment variable sets, once, with its flag, default and help
//! (`collector config-table` prints it). A test holds the README to it.

use std::fmt::Write;

use clap::Arg;

use crate::config;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub var: String,
    pub flag: String,
    /// `None`: no default (unset unless given).
    pub default: Option<String>,
    pub help: String,
}

impl Row {
    fn of(arg: &Arg) -> Self {
        let default = arg.get_default_values();
        Self {
            var: arg
                .get_env()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            flag: arg.get_long().map(|l| format!("--{l}")).unwrap_or_default(),
            default: (!default.is_empty()).then(|| {
                default
                    .iter()
                    .map(|d| d.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            help: arg.get_help().map(ToString::to_string).unwrap_or_default(),
        }
    }

    /// The default column: `` `value` ``, "empty", or "—" for none.
    pub fn default_cell(&self) -> String {
        match self.default.as_deref() {
            None => "—".to_owned(),
            Some("") => "empty".to_owned(),
            Some(value) => format!("`{value}`"),
        }
    }
}

/// Every setting of `command` (the whole command line, `Cli::command()`), subcommands'
/// included, in the order of the definitions.
pub fn rows(command: &clap::Command) -> Vec<Row> {
    config::env_args(command).into_iter().map(Row::of).collect()
}

pub const HEADER: &str = "| variable | flag | default | meaning |\n|---|---|---|---|\n";

/// The table, in markdown.
pub fn render(command: &clap::Command) -> String {
    let mut out = HEADER.to_owned();
    for row in rows(command) {
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            row.var,
            row.flag,
            row.default_cell(),
            row.help.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::*;

    const README: &str = include_str!("../../README.md");

    /// The table under README.md's `## Configuration`: its lines, header included.
    fn readme_table() -> String {
        let section = README
            .split("\n## Configuration\n")
            .nth(1)
            .expect("README.md has a `## Configuration` section");
        let section = section.split("\n## ").next().unwrap();
        let mut lines = section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .peekable();
        assert!(lines.peek().is_some(), "no table under ## Configuration");
        lines.map(|l| format!("{l}\n")).collect()
    }

    /// The cells of a table row.
    fn cells(line: &str) -> Vec<&str> {
        line.trim()
            .trim_matches('|')
            .split(" | ")
            .map(str::trim)
            .collect()
    }

    /// `(variable, default cell)` of each row of the README's table, by the header's names.
    fn readme_rows() -> Vec<(String, String)> {
        let table = readme_table();
        let mut lines = table.lines();
        let header = cells(lines.next().unwrap());
        let column = |name: &str| {
            header
                .iter()
                .position(|h| *h == name)
                .unwrap_or_else(|| panic!("README.md's configuration table has no `{name}` column"))
        };
        let (var, default) = (column("variable"), column("default"));
        lines
            .skip(1)
            .map(|line| {
                let cells = cells(line);
                assert_eq!(cells.len(), header.len(), "not a row of the table: {line}");
                (
                    cells[var].trim_matches('`').to_owned(),
                    cells[default].to_owned(),
                )
            })
            .collect()
    }

    const REGENERATE: &str =
        "replace the table under README.md's `## Configuration` with `cargo run -q -- config-table`";

    #[test]
    fn the_readme_lists_every_variable_and_only_those() {
        let known: BTreeSet<String> = rows(&Cli::command()).into_iter().map(|r| r.var).collect();
        let listed: BTreeSet<String> = readme_rows().into_iter().map(|(var, _)| var).collect();
        let missing: Vec<_> = known.difference(&listed).collect();
        let unknown: Vec<_> = listed.difference(&known).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "README.md's configuration table lacks {missing:?} and lists {unknown:?}, \
             which the command line does not know: {REGENERATE}"
        );
    }

    #[test]
    fn the_readme_defaults_are_the_command_lines() {
        let rows = rows(&Cli::command());
        for (var, readme_default) in readme_rows() {
            let Some(row) = rows.iter().find(|r| r.var == var) else {
                continue; // the test above names it
            };
            assert_eq!(
                readme_default,
                row.default_cell(),
                "README.md's default of {var} is not the command line's: {REGENERATE}"
            );
        }
    }

    #[test]
    fn the_readme_table_is_the_rendered_one() {
        assert_eq!(
            readme_table(),
            render(&Cli::command()),
            "README.md's configuration table is not `collector config-table`'s: {REGENERATE}"
        );
    }

    #[test]
    fn a_variable_defined_twice_is_defined_alike() {
        fn walk(command: &clap::Command, out: &mut Vec<Row>) {
            out.extend(
                command
                    .get_arguments()
                    .filter(|a| a.get_env().is_some())
                    .map(Row::of),
            );
            command.get_subcommands().for_each(|sub| walk(sub, out));
        }
        let mut all = Vec::new();
        walk(&Cli::command(), &mut all);
        for row in rows(&Cli::command()) {
            for other in all.iter().filter(|o| o.var == row.var) {
                assert_eq!(other, &row, "{} is defined twice, differently", row.var);
            }
        }
    }

    #[test]
    fn every_setting_has_one_paragraph_of_help() {
        for row in rows(&Cli::command()) {
            assert!(!row.help.is_empty(), "{} has no help", row.var);
            assert!(
                !row.help.contains('\n'),
                "{}'s help is one paragraph",
                row.var
            );
        }
    }
}
