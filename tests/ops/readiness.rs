//! `/readyz` tells the truth about the broker: a wrong AMQP password makes every process
//! not ready, and is logged as a refused password, never as an unreachable broker, and never
//! quoting the password.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::api::spawn_app_with;
use crate::common::pipeline::{amqp_url, TestDb};

const REFUSED: &str = "RabbitMQ refused the credentials in AMQP_URL (ACCESS_REFUSED)";

/// `url` with its user's password replaced.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("AMQP_URL has a scheme");
    let (userinfo, host) = rest.rsplit_once('@').expect("AMQP_URL names a user");
    let user = userinfo.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

/// A password no broker accepts, easy to find in a log.
fn wrong_password() -> String {
    format!("wrong-pw-{}", uuid::Uuid::new_v4().simple())
}

async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value, String) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apis_readyz_names_refused_credentials_and_passes_with_the_right_ones() {
    let password = wrong_password();
    let wrong = with_password(&amqp_url(), &password);
    let app = spawn_app_with(&[("AMQP_URL", wrong.as_str())]).await;
    for base in [&app.base, &app.admin] {
        let (status, body, text) = get_json(&app.client, &format!("{base}/readyz")).await;
        assert_eq!(status, 503, "{text}");
        assert_eq!(body["status"], "not ready", "{text}");
        assert_eq!(body["database"], "ok", "{text}");
        let broker = body["broker"].as_str().unwrap_or_default();
        assert!(broker.starts_with(REFUSED), "{text}");
        assert!(!text.contains(&password), "the password leaked: {text}");
    }
    app.teardown().await;

    let right = amqp_url();
    let app = spawn_app_with(&[("AMQP_URL", right.as_str())]).await;
    for base in [&app.base, &app.admin] {
        let (status, body, text) = get_json(&app.client, &format!("{base}/readyz")).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(body["status"], "ready", "{text}");
        assert_eq!(body["broker"], "ok", "{text}");
    }
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_or_worker_with_a_wrong_password_says_so_and_is_not_ready() {
    let db = TestDb::new().await;
    let client = reqwest::Client::new();
    for command in ["worker", "relay"] {
        let password = wrong_password();
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
            .args([command, "--metrics-addr", &addr.to_string()])
            .env("DATABASE_URL", &db.url)
            .env("AMQP_URL", with_password(&amqp_url(), &password))
            .env(
                "AMQP_PREFIX",
                format!("test-{}", uuid::Uuid::new_v4().simple()),
            )
            .env("CORE_LOAN_URL", "http://127.0.0.1:9")
            .env("RUST_LOG", "info,sqlx=warn,lapin=warn")
            .env_remove("LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read the log as it comes, so a full pipe never blocks the child.
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));

        let start = Instant::now();
        let (status, body, text) = loop {
            if let Ok(response) = client.get(format!("http://{addr}/readyz")).send().await {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                break (status, serde_json::from_str::<Value>(&text).unwrap(), text);
            }
            if let Some(exit) = child.try_wait().unwrap() {
                panic!(
                    "collector {command} exited ({exit}): {}",
                    stderr.join().unwrap()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "collector {command}'s /readyz never answered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(status, 503, "{command}: {text}");
        assert_eq!(body["database"], "ok", "{command}: {text}");
        let broker = body["broker"].as_str().unwrap_or_default();
        assert!(broker.starts_with(REFUSED), "{command}: {text}");
        assert!(
            !text.contains(&password),
            "{command}'s /readyz leaked it: {text}"
        );
        // Alive all the same, and saying so in JSON as the API does.
        let (status, body, text) = get_json(&client, &format!("http://{addr}/healthz")).await;
        assert_eq!(
            (status, &body["status"]),
            (200, &Value::from("ok")),
            "{text}"
        );

        // A few back-off steps (100, 200, 400 ms...), then a clean stop.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let stopped = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if stopped.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("collector {command} did not stop on SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = stdout.join().unwrap() + &stderr.join().unwrap();
        let refusals: Vec<&str> = log.lines().filter(|l| l.contains(REFUSED)).collect();
        assert!(
            refusals.len() >= 2,
            "{command} logs the refusal once per back-off step:\n{log}"
        );
        assert!(
            refusals.iter().all(|l| l.contains("ERROR")),
            "{command} logs a refusal as an error:\n{log}"
        );
        assert!(
            !log.contains("RabbitMQ unreachable"),
            "{command} called a refused password unreachable:\n{log}"
        );
        assert!(
            !log.contains(&password),
            "{command}'s log leaked the password:\n{log}"
        );
    }
    db.drop_database().await;
}
