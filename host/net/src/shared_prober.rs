//! One [`NeighProber`] shared by concurrent probes: a task owns it (its sockets
//! have one reader) and hands every answer to each probe still listening, so a
//! claim never waits behind another instance's or a policy's probe.

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::neigh::{NeighProber, NeighRecvError, VipAnswers, record, unanswered};

type Reply = oneshot::Sender<io::Result<Vec<VipAnswers>>>;

struct Request {
    vips: Vec<IpAddr>,
    wait: Duration,
    reply: Reply,
}

/// A probe listening until its deadline.
struct Listener {
    answers: Vec<VipAnswers>,
    deadline: Instant,
    reply: Reply,
}

/// A handle to a prober task; clones share it, and the task ends with the
/// last handle.
#[derive(Clone, Debug)]
pub struct SharedProber {
    requests: mpsc::UnboundedSender<Request>,
    ifindex: u32,
}

impl SharedProber {
    /// Moves `prober` to a task of its own. Needs a tokio runtime.
    pub fn spawn(prober: NeighProber) -> SharedProber {
        let (requests, rx) = mpsc::unbounded_channel();
        let ifindex = prober.ifindex();
        tokio::spawn(serve(prober, rx));
        SharedProber { requests, ifindex }
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// As [`NeighProber::probe`]: probes `vips` now and reports who answered
    /// within `wait`, whatever other probes are in flight. Answers heard
    /// before this call (for another probe) are not counted: they may predate
    /// a change this probe is asked to see.
    pub async fn probe(&self, vips: &[IpAddr], wait: Duration) -> io::Result<Vec<VipAnswers>> {
        let (reply, answer) = oneshot::channel();
        let gone = || io::Error::other("the neighbour prober task has ended");
        self.requests
            .send(Request {
                vips: vips.to_vec(),
                wait,
                reply,
            })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn serve(prober: NeighProber, mut requests: mpsc::UnboundedReceiver<Request>) {
    let mut listening: Vec<Listener> = Vec::new();
    loop {
        let next = listening.iter().map(|l| l.deadline).min();
        tokio::select! {
            req = requests.recv() => match req {
                Some(req) => start(&prober, &mut listening, req).await,
                None => break,
            },
            event = prober.recv(), if !listening.is_empty() => match event {
                Ok(event) => {
                    for l in &mut listening {
                        record(&mut l.answers, &event);
                    }
                }
                // Malformed frames answer nothing.
                Err(NeighRecvError::Arp(_) | NeighRecvError::Nd(_)) => {}
                Err(NeighRecvError::Io(e)) => {
                    for l in listening.drain(..) {
                        let _ = l.reply.send(Err(io::Error::new(e.kind(), e.to_string())));
                    }
                }
            },
            _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {}
        }
        let now = Instant::now();
        let (done, rest): (Vec<_>, Vec<_>) = listening.into_iter().partition(|l| l.deadline <= now);
        listening = rest;
        for l in done {
            let _ = l.reply.send(Ok(l.answers));
        }
    }
}

/// Sends `req`'s probes and listens for it. With nobody listening, what has
/// queued since answers no one and is dropped first.
async fn start(prober: &NeighProber, listening: &mut Vec<Listener>, req: Request) {
    let deadline = Instant::now() + req.wait;
    if listening.is_empty() {
        prober.drain();
    }
    for vip in &req.vips {
        if let Err(e) = prober.send_probe(*vip).await {
            let _ = req.reply.send(Err(e));
            return;
        }
    }
    listening.push(Listener {
        answers: unanswered(&req.vips),
        deadline,
        reply: req.reply,
    });
}
