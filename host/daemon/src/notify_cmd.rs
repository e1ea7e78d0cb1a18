//! `baton notify test`: sends a test notice through every sink the config
//! sets up (mail, each webhook, each notify command, with `TEST` as its
//! argument), one attempt each, from this process, with the daemon's own
//! sinks, and prints each result. The hook is not asked: every sink is tried.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use baton_config::EMAIL_SINK;
use baton_notify::{DeliveryId, Job, Kind, Notice, Notifier};
use tokio::sync::mpsc;

use crate::io::Input;
use crate::sinks::{Done, Sinks};

#[derive(clap::Args, Debug)]
pub struct NotifyTestArgs {
    #[arg(long, short)]
    pub config: PathBuf,
}

pub fn test_command(args: &NotifyTestArgs) -> ExitCode {
    let mut cfg = match crate::config::load(&args.config) {
        Ok(c) => c,
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            return ExitCode::from(2);
        }
    };
    if cfg.notify.sink_names().is_empty() {
        eprintln!(
            "{}: [notify] sets up no mail, webhook or command",
            args.config.display()
        );
        return ExitCode::from(2);
    }
    // One attempt each: a failure is reported, not retried.
    cfg.notify.hook = None;
    cfg.notify.deadline = Duration::from_millis(1);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("baton: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let failures = rt.block_on(send_all(&cfg));
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A job, to match its outcome.
#[derive(Debug, PartialEq, Eq, Hash)]
enum JobKey {
    Delivery(String, DeliveryId),
    Command(u64),
}

/// Sends the test notice; returns how many sinks failed.
async fn send_all(cfg: &crate::config::Config) -> usize {
    let mut notifier = Notifier::new(cfg);
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
    let mut failures = 0;
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
        let Some((what, t0)) = started.remove(&key) else {
            continue;
        };
        match result {
            Ok(()) => println!("{what}: ok ({:?})", t0.elapsed()),
            Err(e) => {
                failures += 1;
                println!("{what}: FAILED: {e}");
            }
        }
    }
    failures
}
