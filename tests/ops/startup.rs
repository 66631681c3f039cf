//! Start-up through the real binary: bad settings stop it before it does anything, naming the
//! variable; a refused Postgres role is called that; errors are printed once; logs written to
//! a pipe carry no colour codes.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::common::pipeline::amqp_url;

/// The Postgres server the tests use (as `tests/common`), and `db` on it.
fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn database_url(db: &str) -> String {
    let url = server_url();
    let (scheme, rest) = url.split_once("://").expect("DATABASE_URL has a scheme");
    let host = rest.split('/').next().unwrap();
    format!("{scheme}://{host}/{db}")
}

/// `url` with its user (and password) replaced by `user`.
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

/// The binary with a clean environment for the settings these tests care about, run in a
/// directory without a `.env`.
fn collector(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_collector"));
    command.args(args).current_dir(std::env::temp_dir());
    for var in [
        "DATABASE_URL",
        "AMQP_URL",
        "AMQP_PREFIX",
        "ADMIN_TOKEN",
        "SKYPAY_CREDENTIALS",
        "CORE_LOAN_URL",
        "WORKER_PREFETCH",
        "RUST_LOG",
        "LOG_FORMAT",
        "NO_COLOR",
        "METRICS_ADDR",
    ] {
        command.env_remove(var);
    }
    command
}

/// Runs `command` to its end, killing it after `limit` (a start-up check that is missing lets
/// a process run on).
fn run_bounded(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run collector");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let err = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            panic!("collector still ran after {limit:?} ({status}); stderr: {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn database_exists(name: &str) -> bool {
    let mut admin = PgConnection::connect(&server_url()).await.expect("admin");
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .unwrap()
}

async fn drop_database(name: &str) {
    let mut admin = PgConnection::connect(&server_url()).await.expect("admin");
    let _ = sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await;
}

#[tokio::test]
async fn collector_all_checks_every_setting_before_creating_the_database() {
    let name = format!("collector_test_{}", uuid::Uuid::new_v4().simple());
    let mut command = collector(&["all"]);
    command
        .env("DATABASE_URL", database_url(&name))
        .env("AMQP_URL", amqp_url())
        .env(
            "AMQP_PREFIX",
            format!("test-{}", uuid::Uuid::new_v4().simple()),
        )
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("ADMIN_LISTEN_ADDR", "127.0.0.1:0")
        .env("FAKE_CORE_ADDR", "127.0.0.1:0");
    let out = run_bounded(command, Duration::from_secs(30));
    let created = database_exists(&name).await;
    drop_database(&name).await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("ADMIN_TOKEN"), "{stderr}");
    assert!(
        !created,
        "`collector all` created (and migrated) the database before finding ADMIN_TOKEN unset"
    );
}

#[tokio::test]
async fn worker_prefetch_0_is_refused_naming_the_variable() {
    let mut command = collector(&["worker"]);
    command
        .env("DATABASE_URL", server_url())
        .env("AMQP_URL", amqp_url())
        .env(
            "AMQP_PREFIX",
            format!("test-{}", uuid::Uuid::new_v4().simple()),
        )
        .env("CORE_LOAN_URL", "http://127.0.0.1:9")
        .env("WORKER_PREFETCH", "0");
    let out = run_bounded(command, Duration::from_secs(15));
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("WORKER_PREFETCH") && stderr.contains("1 to 65535"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_malformed_rust_log_stops_start_up_naming_it() {
    let name = format!("collector_test_{}", uuid::Uuid::new_v4().simple());
    let mut command = collector(&["migrate"]);
    command
        .env("DATABASE_URL", database_url(&name))
        .env("RUST_LOG", "info,collector=chatty");
    let out = run_bounded(command, Duration::from_secs(30));
    let created = database_exists(&name).await;
    drop_database(&name).await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("RUST_LOG") && stderr.contains("collector=chatty"),
        "{stderr}"
    );
    assert!(!created, "migrate ran with a RUST_LOG it could not read");
}

#[tokio::test]
async fn a_refused_postgres_role_is_called_that_once() {
    let role = format!("no_such_role_{}", uuid::Uuid::new_v4().simple());
    for args in [&["migrate"][..], &["dlq", "list"], &["flags", "list"]] {
        let mut command = collector(args);
        command.env("DATABASE_URL", with_user(&server_url(), &role));
        let out = run_bounded(command, Duration::from_secs(30));
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains("authentication") && stderr.contains(&role),
            "{args:?} must say the role was refused: {stderr}"
        );
        assert!(
            !stderr.contains("Failed to reach"),
            "{args:?} called a refused role unreachable: {stderr}"
        );
        // Once: one line, the role's name once in it, nothing on stdout.
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert_eq!(stderr.matches(&role).count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("collector: error: "),
            "{args:?}: {stderr}"
        );
        assert!(
            !stdout.contains(&role),
            "{args:?} printed it twice: {stdout}"
        );
    }
}

#[tokio::test]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let name = format!("collector_test_{}", uuid::Uuid::new_v4().simple());
    let mut command = collector(&["migrate"]);
    command
        .env("DATABASE_URL", database_url(&name))
        .env("RUST_LOG", "info");
    let out = run_bounded(command, Duration::from_secs(60));
    drop_database(&name).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("migrations applied"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "escape codes in a log that is not a terminal: {stdout:?}"
    );
}
