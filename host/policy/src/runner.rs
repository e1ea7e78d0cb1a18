//! [`PolicyRunner`]: a small fixed pool of worker threads with a bounded queue, so
//! that whoever drives VRRP timers never waits for a policy.
//!
//! `submit` never blocks: when the queue is full the callback is called at once, on
//! the caller's thread, with a [`EvalError::Busy`] evaluation (and `submit` returns
//! [`Submit::Busy`]). The callback of an accepted job runs on a worker thread when the
//! evaluation ends; it should be quick (send on a channel, wake a task).

use std::fmt;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::context::{EvalContext, EvalError, Evaluation};
use crate::worlds::health::LoadedPolicy;

type Callback = Box<dyn FnOnce(Evaluation) + Send + 'static>;

struct Job {
    policy: Arc<LoadedPolicy>,
    ctx: EvalContext,
    done: Callback,
}

/// Whether a submission was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submit {
    Queued,
    /// The queue was full (or the runner is shutting down): the callback already ran
    /// with a `Busy` evaluation.
    Busy,
}

/// Fixed worker pool for evaluations. Dropping it lets queued jobs finish and joins
/// the workers.
pub struct PolicyRunner {
    tx: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
    queue: usize,
}

impl fmt::Debug for PolicyRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyRunner")
            .field("workers", &self.workers.len())
            .field("queue", &self.queue)
            .finish()
    }
}

/// Worker stack: guest code runs on it (wasm stack is capped at 512 KiB by default).
const WORKER_STACK: usize = 4 << 20;

impl PolicyRunner {
    /// `workers` threads (at least 1) sharing a queue of `queue` pending jobs.
    pub fn new(workers: usize, queue: usize) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::new();
        for i in 0..workers.max(1) {
            let rx: Arc<Mutex<Receiver<Job>>> = rx.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("baton-policy-{i}"))
                    .stack_size(WORKER_STACK)
                    .spawn(move || {
                        loop {
                            let job = {
                                let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
                                rx.recv()
                            };
                            let Ok(job) = job else { break };
                            let ev = job.policy.evaluate(job.ctx);
                            (job.done)(ev);
                        }
                    })?,
            );
        }
        Ok(PolicyRunner {
            tx: Some(tx),
            workers: handles,
            queue,
        })
    }

    /// Queues one evaluation; `done` gets its result. Never blocks.
    pub fn submit(
        &self,
        policy: Arc<LoadedPolicy>,
        ctx: EvalContext,
        done: impl FnOnce(Evaluation) + Send + 'static,
    ) -> Submit {
        let job = Job {
            policy,
            ctx,
            done: Box::new(done),
        };
        let Some(tx) = &self.tx else {
            (job.done)(Evaluation::failed(EvalError::Busy));
            return Submit::Busy;
        };
        match tx.try_send(job) {
            Ok(()) => Submit::Queued,
            Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                (job.done)(Evaluation::failed(EvalError::Busy));
                Submit::Busy
            }
        }
    }

    /// Like [`submit`](Self::submit), with the result on a channel.
    pub fn submit_channel(&self, policy: Arc<LoadedPolicy>, ctx: EvalContext) -> Receiver<Evaluation> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(policy, ctx, move |ev| {
            let _ = tx.send(ev);
        });
        rx
    }
}

impl Drop for PolicyRunner {
    fn drop(&mut self) {
        self.tx.take();
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}
