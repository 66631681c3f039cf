//! Slow and oversized requests (slow headers, slow bodies, huge bodies) while real traffic
//! goes on: every connection is dealt with in bounded time and memory, and the real traffic
//! keeps being answered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::harness::*;

/// Opens a connection that sends `head` and then one byte a second, forever; returns when
/// the server closed it (or answered it), with how long that took.
async fn dribble(addr: String, head: String) -> Option<Duration> {
    let start = Instant::now();
    let stream = TcpStream::connect(&addr).await.ok()?;
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if write.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    let mut buf = [0u8; 1024];
    // Anything back (an answer) or EOF means the server is done with this connection.
    let closed = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    writer.abort();
    closed.ok().map(|()| start.elapsed())
}

/// A chunked body that never ends: sent as fast as the server takes it.
async fn endless_body(addr: String) -> Option<String> {
    let mut stream = TcpStream::connect(&addr).await.ok()?;
    let head = "POST /skypay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.ok()?;
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        // Up to 64 MiB, unless the server stops reading first.
        for _ in 0..1024 {
            if write.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), read.read_to_end(&mut answer)).await;
    writer.abort();
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_requests_never_exhaust_the_server() {
    let mut s = Stack::new("slow_input", StackOptions::default()).await;
    let api = s.api();
    s.wait_up(api).await;
    let addr = format!("127.0.0.1:{}", s.procs[api].public_port);
    let slow_headers = if long() { 2000 } else { 300 };
    let slow_bodies = if long() { 500 } else { 100 };
    let endless = if long() { 50 } else { 10 };

    let mut attacks = tokio::task::JoinSet::new();
    for _ in 0..slow_headers {
        let addr = addr.clone();
        attacks.spawn(async move {
            (
                "slow headers",
                dribble(addr, "POST /skypay HTTP/1.1\r\nHost: x\r\nX-Slow: ".into()).await,
            )
        });
    }
    for _ in 0..slow_bodies {
        let addr = addr.clone();
        attacks.spawn(async move {
            let head = "POST /skypay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{";
            ("slow body", dribble(addr, head.into()).await)
        });
    }
    let endless_answers = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..endless {
        let (addr, answers) = (addr.clone(), endless_answers.clone());
        attacks.spawn(async move {
            let answer = endless_body(addr).await;
            answers.lock().await.push(answer.unwrap_or_default());
            ("endless body", Some(Duration::ZERO))
        });
    }

    // Real traffic meanwhile: inquiries, each answered promptly.
    let client = reqwest::Client::new();
    let url = s.procs[api].public_url();
    let mut slowest = Duration::ZERO;
    let real = Instant::now();
    let mut answered = 0;
    while real.elapsed() < Duration::from_secs(12) {
        let body = inquiry_body(&s.bills[answered % s.bills.len()], "10.00");
        let start = Instant::now();
        let code = post_skypay(&client, &url, &body).await.expect("answered");
        assert_eq!(code, "1000");
        slowest = slowest.max(start.elapsed());
        answered += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        slowest < Duration::from_secs(2),
        "real traffic slowed to {slowest:?} under attack"
    );

    let mut longest: std::collections::HashMap<&str, Duration> = Default::default();
    let mut never_closed: std::collections::HashMap<&str, usize> = Default::default();
    while let Some(done) = attacks.join_next().await {
        let (kind, closed) = done.unwrap();
        match closed {
            Some(d) => {
                let e = longest.entry(kind).or_default();
                *e = (*e).max(d);
            }
            None => *never_closed.entry(kind).or_default() += 1,
        }
    }
    assert!(
        never_closed.is_empty(),
        "connections the server never closed (40 s): {never_closed:?}"
    );
    for answer in endless_answers.lock().await.iter() {
        assert!(
            answer.is_empty() || answer.contains("\"-1000\""),
            "an endless body is refused with -1000 (or cut): {answer}"
        );
    }
    let rss = s.procs[api].peak_rss_kib().unwrap_or(0);
    assert!(rss < 100 * 1024, "API peak RSS {rss} KiB");
    let scan = s.grep_logs();
    assert!(scan.found.is_empty(), "{:?}", scan.found);
    let mut f = Figures {
        case: "slow_input".into(),
        requests: answered,
        ..Figures::default()
    };
    f.notes = format!(
        "{slow_headers} slow-header and {slow_bodies} slow-body connections (1 byte/s), {endless} endless chunked bodies; \
         {answered} real inquiries meanwhile, slowest {slowest:?}; longest time to close per kind {longest:?}; API peak RSS {} MiB",
        rss / 1024
    );
    f.record();
    s.teardown().await;
}
