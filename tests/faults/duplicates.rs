//! Duplicate storms: one receipt sent 50 times at once, many receipts sent several times at
//! once, and the same storm replayed: one collection and one posting per receipt.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::harness::*;

/// Receipts whose copies are in flight together: a storm of duplicates, not a flood of
/// connections (12,000 requests at once only measure the client's and the pool's limits).
const WAVE: usize = 100;

/// Sends every `(receipt, body)` `copies` times, all copies at once, `WAVE` receipts at a
/// time, into `ledger`.
async fn burst(urls: &[String], bodies: &[(String, Value)], copies: usize, ledger: &Arc<Ledger>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let urls = Arc::new(urls.to_vec());
    for (w, wave) in bodies.chunks(WAVE).enumerate() {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (receipt, body)) in wave.iter().enumerate() {
            for copy in 0..copies {
                let (client, urls, ledger) = (client.clone(), urls.clone(), ledger.clone());
                let (receipt, body) = (receipt.clone(), body.clone());
                let seed = w * WAVE + i + copy;
                tasks.spawn(async move {
                    send_until_answered(
                        &client,
                        &urls,
                        seed,
                        &receipt,
                        &body,
                        &ledger,
                        Duration::from_secs(60),
                    )
                    .await;
                });
            }
        }
        while tasks.join_next().await.is_some() {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_storms_record_and_post_each_receipt_once() {
    let mut s = Stack::new("duplicate_storms", StackOptions::default()).await;
    s.api();
    s.api();
    s.relay();
    s.worker();
    s.wait_all_up().await;
    let urls = s.api_urls();
    let ledger = Arc::new(Ledger::default());

    // One receipt, 50 copies at once, over two API processes; then the same again.
    let one = vec![(
        "DUP-ONE".to_owned(),
        collect_body(&s.bills[0], "10.00", "DUP-ONE"),
    )];
    burst(&urls, &one, 50, &ledger).await;
    let first = ledger.codes();
    assert_eq!(first.get("1000"), Some(&1), "{first:?}");
    assert_eq!(first.get("-1015"), Some(&49), "{first:?}");
    burst(&urls, &one, 50, &ledger).await;
    assert_eq!(ledger.codes().get("-1015"), Some(&99));

    // Many receipts, each sent 4 times at once; then the whole storm replayed.
    let n = scaled(300);
    let many: Vec<(String, Value)> = (0..n)
        .map(|i| {
            let receipt = format!("DUP-{i:06}");
            let body = collect_body(&s.bills[i % s.bills.len()], "10.00", &receipt)
                .with_collected_time(i / s.bills.len());
            (receipt, body)
        })
        .collect();
    burst(&urls, &many, 4, &ledger).await;
    burst(&urls, &many, 4, &ledger).await;
    let codes = ledger.codes();
    assert_eq!(codes.get("1000"), Some(&(n + 1)), "{codes:?}");
    assert_eq!(codes.get("-1015"), Some(&(99 + n * 7)), "{codes:?}");
    let replays: i64 = sqlx::query_scalar("SELECT count(*) FROM flags WHERE kind = 'replay'")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(
        replays as usize,
        99 + n * 7,
        "every repeat is flagged for ops"
    );
    s.finish(
        &ledger,
        None,
        format!("1 receipt x50 at once, twice; {n} receipts x4 at once ({WAVE} receipts at a time), twice (2 APIs); answers {codes:?}; {replays} replay flags"),
    )
    .await;
}
