//! The worker pool: evaluations off the caller's thread; a full queue answers busy.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use baton_policy::{EvalContext, EvalError, PolicyRunner, Submit};
use common::{facts, hostile};

#[test]
fn full_queue_is_busy_at_once() {
    let runner = PolicyRunner::new(1, 1).unwrap();
    let p = hostile("infinite-loop");
    let ctx = EvalContext::new(facts()).with_budget(Duration::from_millis(200));
    let (tx, rx) = mpsc::channel();
    let t0 = Instant::now();
    let mut results = Vec::new();
    for i in 0..4 {
        let tx = tx.clone();
        results.push(runner.submit(p.clone(), ctx.clone(), move |ev| {
            let _ = tx.send((i, ev));
        }));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        t0.elapsed() < Duration::from_millis(100),
        "submit blocked: {:?}",
        t0.elapsed()
    );
    assert_eq!(
        results,
        [Submit::Queued, Submit::Queued, Submit::Busy, Submit::Busy]
    );
    drop(tx);
    let mut got: Vec<_> = rx.iter().collect();
    got.sort_by_key(|(i, _)| *i);
    assert_eq!(got.len(), 4);
    assert!(matches!(got[0].1.outcome, Err(EvalError::DeadlineExceeded(_))));
    assert!(matches!(got[1].1.outcome, Err(EvalError::DeadlineExceeded(_))));
    assert_eq!(got[2].1.outcome, Err(EvalError::Busy));
    assert_eq!(got[3].1.outcome, Err(EvalError::Busy));
}

#[test]
fn results_on_a_channel_from_several_workers() {
    let runner = PolicyRunner::new(2, 16).unwrap();
    let p = common::builtin("interface-up");
    let ctx = EvalContext::new(facts()).with_settings([("interface", "lo")]);
    let rxs: Vec<_> = (0..8)
        .map(|_| runner.submit_channel(p.clone(), ctx.clone()))
        .collect();
    for rx in rxs {
        let ev = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(ev.is_healthy(), "{ev:?}");
    }
}
