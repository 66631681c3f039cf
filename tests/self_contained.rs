//! The repository stands alone: no file in it may send its reader to documents that live
//! outside it. What the project needs from its specification is in its own docs
//! (docs/skypay-contract.md, docs/core-loan-contract.md, docs/decisions.md); point there instead.

use std::path::Path;
use std::process::Command;

/// What must not appear in any file, each built from parts so that this file does not
/// match itself.
fn forbidden() -> Vec<String> {
    vec![
        ["..", "/shared"].concat(),
        ["CONTRACT", ".md"].concat(),
        ["PRODUCT", ".md"].concat(),
        ["STYLE", ".md"].concat(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_file_refers_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Tracked files, and new ones not ignored yet (so a file is caught before its commit).
    let listed = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .expect("this check runs `git ls-files`: is git installed?");
    assert!(
        listed.status.success(),
        "git ls-files failed (is {} a git work tree?): {}",
        root.display(),
        String::from_utf8_lossy(&listed.stderr)
    );
    let forbidden = forbidden();
    let mut checked = 0;
    let mut found = Vec::new();
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        // Deleted in the work tree but still in the index, or a submodule: nothing to read.
        let Ok(bytes) = std::fs::read(root.join(&*name)) else {
            continue;
        };
        checked += 1;
        for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
            for needle in &forbidden {
                if contains(line, needle.as_bytes()) {
                    found.push(format!("{name}:{}: mentions `{needle}`", n + 1));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} files listed: not the whole repository?"
    );
    assert!(
        found.is_empty(),
        "files refer to documents outside the repository; point to docs/skypay-contract.md, \
         docs/core-loan-contract.md or docs/decisions.md instead:\n{}",
        found.join("\n")
    );
}
