//! Batching many concurrent callers' database calls into one: callers send their input and
//! wait; one task takes whatever has queued up (up to a limit), runs one call for all of it
//! (up to `in_flight` such calls at once), and answers each caller. Under load the batches
//! grow by themselves (group commit).
//!
//! **Batch statements are planned each time** (`.persistent(false)` on `= ANY($1)` and
//! `unnest($1)` statements over growing tables). A prepared statement's generic plan assumes
//! ten array elements and is kept by the connection until the table's statistics change. One
//! made while `collections` was nearly empty is a sequential scan, and without an ANALYZE
//! (this machine's Postgres runs with autovacuum off) the connection kept scanning the whole,
//! growing table for every batch: the soak of 2026-11-29 measured 82 scans/s reading 4.2
//! million rows/s after three minutes at 300 collects/s, and posting fell behind the API. An
//! unnamed statement is planned for its actual arguments and the table's current size. That
//! costs the workers 20–35 µs of Postgres CPU per message (BENCHMARKS.md, "Workers").

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Semaphore};

type Item<I, O> = (I, oneshot::Sender<Result<O, String>>);

pub struct Batcher<I, O> {
    tx: mpsc::Sender<Item<I, O>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// `run` gets the inputs of one batch and returns one output per input, in order. Up to
    /// `in_flight` batches run at once; while they all run, callers queue up for the next
    /// one, so under load batches grow by themselves, and a lone caller never waits for a
    /// batch to fill. The task stops when the last clone of the batcher is dropped.
    pub fn spawn<F, Fut>(max_batch: usize, in_flight: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Vec<O>>> + Send + 'static,
    {
        let max_batch = max_batch.max(1);
        let slots = Arc::new(Semaphore::new(in_flight.max(1)));
        let (tx, mut rx) = mpsc::channel::<Item<I, O>>(max_batch * 4);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(item) => batch.push(item),
                        Err(_) => break,
                    }
                }
                let (inputs, replies): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
                let call = run(inputs);
                tokio::spawn(async move {
                    match call.await {
                        Ok(outputs) if outputs.len() == replies.len() => {
                            for (reply, output) in replies.into_iter().zip(outputs) {
                                let _ = reply.send(Ok(output));
                            }
                        }
                        Ok(_) => {
                            reply_all(replies, "batch returned the wrong number of results".into())
                        }
                        Err(e) => reply_all(replies, format!("{e:#}")),
                    }
                    drop(slot);
                });
            }
        });
        Self { tx }
    }

    /// Queues `input` and waits for its batch's answer.
    pub async fn call(&self, input: I) -> anyhow::Result<O> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((input, reply))
            .await
            .map_err(|_| anyhow::anyhow!("batcher stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("batcher stopped"))?
            .map_err(|e| anyhow::anyhow!(e))
    }
}

fn reply_all<O>(replies: Vec<oneshot::Sender<Result<O, String>>>, error: String) {
    for reply in replies {
        let _ = reply.send(Err(error.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_caller_gets_its_own_answer_and_batches_form_under_load() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        let batcher = Batcher::spawn(64, 1, move |inputs: Vec<u32>| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                Ok(inputs.iter().map(|i| i * 2).collect())
            }
        });
        let answers = futures::future::join_all((0..200u32).map(|i| {
            let b = batcher.clone();
            async move { b.call(i).await.unwrap() }
        }))
        .await;
        assert_eq!(answers, (0..200u32).map(|i| i * 2).collect::<Vec<_>>());
        assert!(
            calls.load(std::sync::atomic::Ordering::SeqCst) < 50,
            "200 callers shared fewer calls"
        );
    }

    #[tokio::test]
    async fn an_error_reaches_every_caller_of_the_batch() {
        let batcher: Batcher<u32, u32> =
            Batcher::spawn(8, 2, |_: Vec<u32>| async { anyhow::bail!("database down") });
        let err = batcher.call(1).await.unwrap_err();
        assert!(err.to_string().contains("database down"));
    }

    #[tokio::test]
    async fn at_most_in_flight_batches_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (r, p) = (running.clone(), peak.clone());
        let batcher = Batcher::spawn(4, 2, move |inputs: Vec<u32>| {
            let (r, p) = (r.clone(), p.clone());
            async move {
                p.fetch_max(r.fetch_add(1, SeqCst) + 1, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                r.fetch_sub(1, SeqCst);
                Ok(inputs.iter().map(|i| i + 1).collect())
            }
        });
        let answers = futures::future::join_all((0..100u32).map(|i| {
            let b = batcher.clone();
            async move { b.call(i).await.unwrap() }
        }))
        .await;
        assert_eq!(answers, (1..=100u32).collect::<Vec<_>>());
        assert_eq!(
            peak.load(SeqCst),
            2,
            "two batches ran side by side, never three"
        );
    }
}
