//! `baton notify test`: sends a test notice through every sink a config sets
//! up (mail, each webhook, each notify command, with `TEST` as its
//! argument), one attempt each, with the daemon's own sinks, and prints each
//! result. Without `--config` the running daemon does it (over the control
//! socket) with the config it runs; with one, this process does, so a config
//! can be tried before it is deployed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use baton_config::EMAIL_SINK;
use baton_notify::{DeliveryId, Job, Kind, Notice, Notifier};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::io::Input;
use crate::sinks::{Done, Sinks};

#[derive(clap::Args, Debug)]
pub struct NotifyTestArgs {
    /// Send with this config from this process; without it, the running
    /// daemon sends with the config it runs.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The daemon's control socket (without `--config`).
    #[arg(long, default_value = crate::DEFAULT_SOCKET)]
    pub socket: PathBuf,
}

/// One sink's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// `email via HOST:PORT to ...`, `webhook NAME (URL)`, `command NAME (ARGV)`.
    pub sink: String,
    pub ok: bool,
    /// Why it failed.
    pub error: Option<String>,
    pub elapsed_ms: f64,
}

pub fn test_command(args: &NotifyTestArgs) -> ExitCode {
    let results = match &args.config {
        Some(path) => match from_config(path) {
            Ok(r) => r,
            Err(code) => return code,
        },
        None => match crate::control::query_notify_test(&args.socket) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("baton: {e:#}");
                return ExitCode::FAILURE;
            }
        },
    };
    if results.is_empty() {
        eprintln!("baton: [notify] sets up no mail, webhook or command");
        return ExitCode::from(2);
    }
    for r in &results {
        match &r.error {
            None => println!("{}: ok ({:.1} ms)", r.sink, r.elapsed_ms),
            Some(e) => println!("{}: FAILED: {e}", r.sink),
        }
    }
    if results.iter().all(|r| r.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn from_config(path: &std::path::Path) -> Result<Vec<TestResult>, ExitCode> {
    let cfg = crate::config::load(path).map_err(|diags| {
        for d in diags {
            eprintln!("{d}");
        }
        ExitCode::from(2)
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("baton: starting the runtime: {e}");
            ExitCode::FAILURE
        })?;
    Ok(rt.block_on(send_all(&cfg)))
}

/// A job, to match its outcome.
#[derive(Debug, PartialEq, Eq, Hash)]
enum JobKey {
    Delivery(String, DeliveryId),
    Command(u64),
}

/// Sends a test notice through every sink of `cfg`, one attempt each (the
/// hook is not asked: every sink is tried); each sink's outcome, in the
/// order they ended.
pub async fn send_all(cfg: &crate::config::Config) -> Vec<TestResult> {
    let mut cfg = cfg.clone();
    cfg.notify.hook = None;
    cfg.notify.deadline = Duration::from_millis(1);
    let mut notifier = Notifier::new(&cfg);
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut notice = Notice::new(Kind::Test, &cfg.router_id, ms);
    notice.detail = Some(format!(
        "a test notification from `baton notify test` ({})",
        cfg.path.display()
    ));
    notifier.submit(Instant::now(), notice);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut sinks = Sinks::new(tx, None);
    let mut started: HashMap<JobKey, (String, Instant)> = HashMap::new();
    let mut results = Vec::new();
    loop {
        while let Some(job) = notifier.poll_job(Instant::now()) {
            let (key, what) = match &job {
                Job::Mail(m) => (
                    JobKey::Delivery(EMAIL_SINK.to_string(), m.id),
                    format!("email via {} to {}", m.server, m.to.join(", ")),
                ),
                Job::Post(p) => (
                    JobKey::Delivery(p.sink.clone(), p.id),
                    format!("webhook {} ({})", p.sink, p.url),
                ),
                Job::Command(c) => (
                    JobKey::Command(c.run.id),
                    format!("command {} ({})", c.run.name, c.run.argv.join(" ")),
                ),
                Job::Hook(_) => continue,
            };
            started.insert(key, (what, Instant::now()));
            sinks.start(job, Vec::new);
        }
        if started.is_empty() {
            break;
        }
        let Some(Input::Notify(done)) = rx.recv().await else {
            break;
        };
        let now = Instant::now();
        let (key, result) = match *done {
            Done::Delivery { sink, id, result } => {
                notifier.handle_delivery(now, &sink, id, result.clone());
                (JobKey::Delivery(sink, id), result)
            }
            Done::Command {
                instance,
                id,
                name,
                outcome,
            } => {
                let r = if outcome.ok() {
                    Ok(())
                } else {
                    Err(format!("{outcome:?}"))
                };
                notifier.handle_command(&instance, id, &name, outcome);
                (JobKey::Command(id), r)
            }
            Done::Hook { .. } => continue,
        };
        let Some((sink, t0)) = started.remove(&key) else {
            continue;
        };
        results.push(TestResult {
            sink,
            ok: result.is_ok(),
            error: result.err(),
            elapsed_ms: t0.elapsed().as_secs_f64() * 1e3,
        });
    }
    results
}
