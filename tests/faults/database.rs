//! Postgres unreachable: the API answers `-1009` (never `1000`) and recovers by itself; a
//! connection lost during `COMMIT` is resolved, not guessed.

use std::time::{Duration, Instant};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_mid_storm_answers_minus_1009_never_1000_and_recovers() {
    let mut s = Stack::new(
        "postgres_cut",
        StackOptions {
            api_through_proxy: true,
            ..StackOptions::default()
        },
    )
    .await;
    s.api();
    s.relay();
    s.worker();
    s.wait_all_up().await;
    let storm = Storm {
        rate: Some(150),
        ..Storm::new("pgcut", scaled(600))
    }
    .start(s.api_urls(), s.bills.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let proxy = s.proxy.as_ref().unwrap();
    let cut_at = Instant::now();
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(if long() { 10 } else { 3 })).await;
    let restored_at = Instant::now();
    proxy.restore();
    let ledger = storm.finish().await;

    // A 1000 computed before the cut may still be on its way for a moment; after that,
    // nothing can commit, so nothing may be answered 1000.
    let during = ledger.accepted_between(cut_at + Duration::from_millis(200), restored_at);
    assert_eq!(during, 0, "1000 answered while Postgres was unreachable");
    let codes = ledger.codes();
    assert!(
        codes.get("-1009").copied().unwrap_or(0) > 0,
        "the cut was seen: {codes:?}"
    );
    let recovered = ledger
        .first_1000_after(restored_at)
        .expect("collects accepted again after the cut");
    let settle = s.settle(Duration::from_secs(60)).await;
    let mut f = s.check(&ledger).await;
    f.recovery_ms = Some((recovered - restored_at).as_millis() as u64);
    f.settle_ms = settle.as_millis() as u64;
    f.notes = format!(
        "API's Postgres cut for {:?}; answers {codes:?}",
        restored_at - cut_at
    );
    f.record();
    assert_eq!(f.lost, 0);
    s.teardown().await;
}

/// Regression: the connection dropped after Postgres received `COMMIT` but before its answer
/// came back. The collection is committed; answering `-1009` ("nothing recorded") would be a
/// lie, and SkyPay would hand the cash back while we post the payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_during_commit_is_resolved_before_answering() {
    let n = 5;
    let (s, api) = Stack::with_api_behind_proxy("commit_cut").await;
    let client = reqwest::Client::new();
    let url = s.procs[api].public_url();
    for i in 0..n {
        let proxy = s.proxy.as_ref().unwrap();
        let before = proxy.commits_cut();
        proxy.cut_after_next_commit();
        let receipt = format!("COMMITCUT-{i}");
        let body = collect_body(&s.bills[i], "10.00", &receipt);
        let code = post_skypay(&client, &url, &body).await.unwrap();
        assert_eq!(proxy.commits_cut(), before + 1, "the commit was cut");
        let recorded: i64 =
            sqlx::query_scalar("SELECT count(*) FROM collections WHERE receipt_number = $1")
                .bind(&receipt)
                .fetch_one(&s.db.pool)
                .await
                .unwrap();
        assert_eq!(
            recorded, 1,
            "Postgres committed before the cut (answer {code})"
        );
        assert_eq!(
            code, "1000",
            "a committed collect must be answered 1000, not {code}"
        );
    }
    let f = Figures {
        case: "commit_cut".into(),
        sent: n,
        requests: n,
        answered_1000: n,
        notes: format!("{n} collects whose connection was cut after Postgres received COMMIT, before its answer came back: all committed, all answered 1000 (before the fix: -1009, \"nothing recorded\")"),
        ..Figures::default()
    };
    f.record();
    s.teardown().await;
}

/// The same for a group of collects sharing one transaction (`payments::grouped`): the answer
/// to the group's `COMMIT` is lost, the group is resolved as one (it committed whole), and
/// every collect of it is answered `1000`. The group is made by construction: four lone
/// collects wait on bills this test holds locked, taking every turn the API gives groups, so
/// the next collects queue up together; when the first lone collect gives up (lock time-out,
/// a rollback, no `COMMIT`), they run as one group, whose `COMMIT` is the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_commit_answer_is_lost_is_resolved_before_answering() {
    const GROUP: usize = 6;
    const LONE: usize = 4; // `payments::grouped`: groups at once
    let (s, api) = Stack::with_api_behind_proxy("group_commit_cut").await;
    let client = reqwest::Client::new();
    let url = s.procs[api].public_url();
    let post = |body: serde_json::Value| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move { post_skypay(&client, &url, &body).await.unwrap() })
    };
    // Our own connection (not through the proxy) holds the lone collects' bills.
    let held: Vec<String> = s.bills[GROUP..GROUP + LONE].to_vec();
    let mut locks = s.db.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM bills WHERE control_number = ANY($1) FOR UPDATE")
        .bind(&held)
        .execute(&mut *locks)
        .await
        .unwrap();
    let mut lone = Vec::new();
    for (i, bill) in held.iter().enumerate() {
        lone.push(post(collect_body(bill, "10.00", &format!("LONE-{i}"))));
        tokio::time::sleep(Duration::from_millis(300)).await; // each alone
    }
    let proxy = s.proxy.as_ref().unwrap();
    let before = proxy.commits_cut();
    proxy.cut_after_next_commit();
    let receipts: Vec<String> = (0..GROUP).map(|i| format!("GROUPCUT-{i}")).collect();
    let group: Vec<_> = (0..GROUP)
        .map(|i| post(collect_body(&s.bills[i], "10.00", &receipts[i])))
        .collect();
    let mut codes = Vec::new();
    for answer in group {
        codes.push(answer.await.unwrap());
    }
    assert_eq!(
        proxy.commits_cut(),
        before + 1,
        "the group's commit was cut"
    );
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM collections WHERE receipt_number = ANY($1)")
            .bind(&receipts)
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(
        recorded, GROUP as i64,
        "Postgres committed the group before the cut"
    );
    assert!(
        codes.iter().all(|c| c == "1000"),
        "every collect of a committed group must be answered 1000: {codes:?}"
    );
    // The lone collects: -1009 (gave up on the lock, nothing recorded) or 1000 (recorded).
    locks.rollback().await.unwrap();
    let mut lone_codes = Vec::new();
    for answer in lone {
        lone_codes.push(answer.await.unwrap());
    }
    let lone_recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM collections WHERE receipt_number LIKE 'LONE-%'")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert!(
        lone_codes.iter().all(|c| c == "1000" || c == "-1009"),
        "{lone_codes:?}"
    );
    assert_eq!(
        lone_recorded,
        lone_codes.iter().filter(|c| *c == "1000").count() as i64,
        "a lone collect is recorded if and only if it was answered 1000: {lone_codes:?}"
    );
    let f = Figures {
        case: "group_commit_cut".into(),
        sent: GROUP + LONE,
        requests: GROUP + LONE,
        answered_1000: GROUP + lone_recorded as usize,
        notes: format!("a group of {GROUP} collects sharing one transaction, its connection cut after Postgres received COMMIT: all {GROUP} committed and answered 1000; the {LONE} collects held on locked bills meanwhile: {lone_codes:?}"),
        ..Figures::default()
    };
    f.record();
    s.teardown().await;
}
