//! `/metrics` changes with what happened.

use std::time::Duration;

use workers::fake_core::Switches;

use crate::stack::*;

/// The value of the first sample line that starts with `prefix` (name plus labels).
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(s: &Stack) -> String {
    let response = s
        .app
        .client
        .get(format!("{}/metrics", s.app.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_requests_outcomes_backlog_queues_and_flags() {
    let s = Stack::start(Switches::default()).await;
    s.app.register_bill("SKY0100000001", "1000.00", true).await;
    let before = scrape(&s).await;
    let ok_collects = r#"collector_skypay_requests_total{action="collectionCollect",code="1000"}"#;
    let start = sample(&before, ok_collects).unwrap_or(0.0);

    let id = s
        .collect("SKY0100000001", "10", "MET-1", "2026-11-20 08:00:00")
        .await;
    s.wait_status(id, "posted").await;
    let mut same = crate::common::api::collect("SKY0100000001", "10", "MET-1");
    same["collectedTime"] = "2026-11-20 08:00:00".into();
    let again = s.app.skypay(&same).await;
    assert_eq!(crate::common::api::code(&again), "-1015");
    let bad = s.app.post_text("/skypay", "not json").await;
    assert!(bad.contains("-1000"));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let after = scrape(&s).await;
    assert_eq!(sample(&after, ok_collects), Some(start + 1.0), "{after}");
    assert_eq!(
        sample(
            &after,
            r#"collector_skypay_requests_total{action="collectionCollect",code="-1015"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &after,
            r#"collector_skypay_requests_total{action="unknown",code="-1000"}"#
        ),
        Some(1.0)
    );
    assert!(
        sample(
            &after,
            r#"collector_skypay_request_duration_seconds_count{action="collectionCollect"}"#
        )
        .unwrap()
            >= 2.0
    );
    assert!(after.contains(r#"collector_skypay_request_duration_seconds_bucket{action="collectionCollect",le="0.1"}"#), "histograms have buckets");
    assert_eq!(
        sample(
            &after,
            r#"collector_worker_outcomes_total{outcome="posted"}"#
        ),
        Some(1.0)
    );
    assert!(sample(&after, "collector_relay_published_total").unwrap() >= 1.0);
    assert_eq!(sample(&after, "collector_outbox_backlog"), Some(0.0));
    assert_eq!(
        sample(&after, "collector_outbox_oldest_unpublished_seconds"),
        Some(0.0)
    );
    assert_eq!(
        sample(&after, r#"collector_open_flags{kind="replay"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&after, r#"collector_collections{status="posted"}"#),
        Some(1.0)
    );
    for queue in s.pipeline.topology.all_queues() {
        let line = format!(r#"collector_queue_depth{{queue="{queue}"}}"#);
        assert_eq!(sample(&after, &line), Some(0.0), "{line} in {after}");
    }
    assert!(
        !after.contains("MET-1") && !after.contains("SKY0100000001"),
        "no receipt or control numbers as labels"
    );

    // A backlog shows when the relay is behind: write an outbox row nobody publishes yet.
    s.pipeline.cancel.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id2 = s
        .collect("SKY0100000001", "10", "MET-2", "2026-11-20 09:00:00")
        .await;
    let lagging = scrape(&s).await;
    assert_eq!(
        sample(&lagging, "collector_outbox_backlog"),
        Some(1.0),
        "{id2}"
    );
    s.stop().await;
}

/// `promtool check metrics` accepts what a process exports: every metric has HELP text and a
/// well-formed name. promtool is a test dependency (`apt-get install prometheus`; `.ci/run`
/// installs it): without it this test fails, saying so, rather than passing unchecked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_check() {
    let s = Stack::start(Switches::default()).await;
    s.app.register_bill("SKY0100000001", "1000.00", true).await;
    let id = s
        .collect("SKY0100000001", "10", "PROM-1", "2026-11-20 08:00:00")
        .await;
    s.wait_status(id, "posted").await;
    let mut same = crate::common::api::collect("SKY0100000001", "10", "PROM-1");
    same["collectedTime"] = "2026-11-20 08:00:00".into();
    s.app.skypay(&same).await;
    let text = scrape(&s).await;
    s.stop().await;

    // Every family has its HELP line (what promtool checks first), and the gauges read from
    // the database say how to aggregate them.
    for family in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
        let name = family.split(' ').next().unwrap();
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "{name} has no HELP text:\n{text}"
        );
    }
    for gauge in ["collector_outbox_backlog", "collector_collections"] {
        let help = text
            .lines()
            .find(|l| l.starts_with(&format!("# HELP {gauge} ")))
            .unwrap_or_else(|| panic!("{gauge} missing:\n{text}"));
        assert!(help.contains("max, not sum"), "{help}");
    }

    let mut child = match std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "promtool is not installed, and this test needs it: install it with \
             `apt-get update && apt-get install -y --no-install-recommends prometheus` \
             (it provides /usr/bin/promtool; .ci/run does this)"
        ),
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- the metrics:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
