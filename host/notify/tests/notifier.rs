//! The notifier as the node drives it: routing as keepalived would, a hook's
//! answers, commands in order, retries to a counted failure, reloads.

use std::path::Path;
use std::time::{Duration, Instant};

use baton_notify::{CommandOutcome, Job, Kind, Notice, Notifier, Outgoing, Route};

fn config(extra_notify: &str, instance_extra: &str) -> baton_config::Config {
    let text = format!(
        r#"router_id = "lb01"
[notify]
email = ["ops@example.org"]
email_from = "baton@lb01.example.org"
smtp_server = "192.0.2.25:25"
deadline = "10s"
{extra_notify}
[[notify.webhook]]
name = "pager"
url = "http://192.0.2.80/hook"
[[notify.command]]
name = "to-master"
command = ["/bin/true", "m"]
[[notify.command]]
name = "all"
command = ["/bin/true", "all"]

[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 50
priority = 150
vips = ["192.0.2.3/24"]
notify_master = "to-master"
notify = "all"
{instance_extra}

[[instance]]
name = "VI_2"
interface = "eth0"
vrid = 51
vips = ["192.0.2.4/24"]
smtp_alert = false
"#
    );
    baton_config::parse(&text, Path::new("t.toml")).unwrap_or_else(|d| panic!("{d:?}"))
}

fn transition(inst: &str, from: &str, to: &str) -> Notice {
    let mut n = Notice::transition("lb01", 1, inst, from, to, "master down");
    n.effective_priority = Some(150);
    n
}

/// Starts every job, answering deliveries and commands with success.
fn run_all(n: &mut Notifier, now: Instant) -> Vec<Job> {
    let mut jobs = Vec::new();
    while let Some(j) = n.poll_job(now) {
        match &j {
            Job::Mail(m) => n.handle_delivery(now, "email", m.id, Ok(())),
            Job::Post(p) => n.handle_delivery(now, &p.sink, p.id, Ok(())),
            Job::Command(c) => {
                n.handle_command(&c.run.instance, c.run.id, &c.run.name, CommandOutcome::Exited(0))
            }
            Job::Hook(_) => {}
        }
        jobs.push(j);
    }
    jobs
}

#[test]
fn a_transition_goes_where_keepalived_sends_it() {
    let now = Instant::now();
    let mut n = Notifier::new(&config("", ""));
    n.submit(now, transition("VI_1", "backup", "master"));
    let jobs = run_all(&mut n, now);
    let mail = jobs
        .iter()
        .find_map(|j| if let Job::Mail(m) = j { Some(m) } else { None })
        .expect("mail");
    assert_eq!(mail.subject, "[lb01] VRRP Instance VI_1 - Entering MASTER state");
    assert_eq!(mail.from, "baton@lb01.example.org");
    assert_eq!(mail.to, ["ops@example.org"]);
    assert!(mail.body.contains("reason:     master down"), "{}", mail.body);
    let post = jobs
        .iter()
        .find_map(|j| if let Job::Post(p) = j { Some(p) } else { None })
        .expect("webhook");
    assert!(
        post.payload.contains("\"schema\":\"baton.notice/1\""),
        "{}",
        post.payload
    );
    let argv: Vec<Vec<String>> = jobs
        .iter()
        .filter_map(|j| {
            if let Job::Command(c) = j {
                Some(c.run.argv.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        argv,
        [
            vec!["/bin/true", "m", "INSTANCE", "VI_1", "MASTER", "150"],
            vec!["/bin/true", "all", "INSTANCE", "VI_1", "MASTER", "150"],
        ]
    );
    // smtp_alert = false: the webhook only.
    n.submit(now, transition("VI_2", "backup", "master"));
    let jobs = run_all(&mut n, now);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(matches!(&jobs[0], Job::Post(_)));
    let s = n.status();
    assert_eq!(s.notices, 2);
    let pager = s.sinks.iter().find(|x| x.name == "pager").expect("pager");
    assert_eq!((pager.sent, pager.kind.as_str()), (2, "webhook"));
    assert_eq!(s.commands.succeeded, 2);
}

#[test]
fn commands_of_one_instance_wait_for_each_other() {
    let now = Instant::now();
    let mut n = Notifier::new(&config("", ""));
    n.submit(now, transition("VI_1", "backup", "master"));
    n.submit(now, transition("VI_1", "master", "backup"));
    let mut cmds = Vec::new();
    while let Some(j) = n.poll_job(now) {
        if let Job::Command(c) = j {
            cmds.push(c);
        }
    }
    assert_eq!(cmds.len(), 1, "one at a time: {cmds:?}");
    n.handle_command(
        "VI_1",
        cmds[0].run.id,
        &cmds[0].run.name,
        CommandOutcome::TimedOut,
    );
    let next: Vec<_> = std::iter::from_fn(|| n.poll_job(now)).collect();
    assert!(
        matches!(&next[..], [Job::Command(c)] if c.run.argv[1] == "all"),
        "{next:?}"
    );
    let s = n.status();
    assert_eq!((s.commands.timed_out, s.commands.failed), (1, 1));
    assert!(s.commands.last_error.is_some_and(|w| w.contains("timed out")));
}

#[test]
fn a_failing_sink_retries_then_counts_a_failure() {
    let t0 = Instant::now();
    let mut n = Notifier::new(&config("", ""));
    n.submit(t0, transition("VI_2", "backup", "master"));
    let mut now = t0;
    let mut attempts = 0;
    loop {
        while let Some(j) = n.poll_job(now) {
            if let Job::Post(p) = j {
                attempts += 1;
                n.handle_delivery(now, &p.sink, p.id, Err("connection refused".into()));
            }
        }
        match n.poll_timeout() {
            Some(t) => now = t,
            None => break,
        }
    }
    let s = n.status();
    let pager = s.sinks.iter().find(|x| x.name == "pager").expect("pager");
    assert_eq!((pager.failed, pager.retried, pager.sent), (1, attempts - 1, 0));
    assert!(attempts >= 3, "{attempts}");
    assert!(now - t0 <= Duration::from_secs(10), "gave up by the deadline");
    assert_eq!(pager.last_error.as_deref(), Some("connection refused"));
    assert!(n.idle());
}

#[test]
fn a_hook_routes_in_order_and_an_error_falls_back() {
    let now = Instant::now();
    let mut n = Notifier::new(&config("[notify.hook]\nsource = \"/bin/true\"", ""));
    n.submit(now, transition("VI_1", "backup", "master"));
    n.submit(now, transition("VI_1", "master", "fault"));
    let Some(Job::Hook(h1)) = n.poll_job(now) else {
        panic!("hook first")
    };
    assert!(
        n.poll_job(now).is_none(),
        "the second waits for the first's answer"
    );
    n.handle_hook(
        now,
        h1.id,
        Ok(Route::Send(vec![
            Outgoing {
                sink: "pager".into(),
                subject: None,
                body: Some("{\"page\":true}".into()),
            },
            Outgoing {
                sink: "nowhere".into(),
                subject: None,
                body: None,
            },
        ])),
    );
    // The hook gets the next notice while the first is delivered.
    let jobs: Vec<Job> = std::iter::from_fn(|| n.poll_job(now)).collect();
    let [Job::Hook(h2), Job::Post(p)] = &jobs[..] else {
        panic!("{jobs:?}")
    };
    assert_eq!(p.payload, "{\"page\":true}", "rerouted to the pager");
    n.handle_delivery(now, "pager", p.id, Ok(()));
    assert_eq!(h2.notice.to.as_deref(), Some("fault"));
    n.handle_hook(now, h2.id, Err("deadline exceeded".into()));
    let rest = run_all(&mut n, now);
    assert!(
        rest.iter()
            .any(|j| matches!(j, Job::Mail(m) if m.subject.ends_with("Entering FAULT state")))
    );
    let s = n.status();
    let hook = s.hook.expect("hook status");
    assert_eq!((hook.calls, hook.errors), (2, 1));
    assert_eq!(s.unrouted, 1);
}

#[test]
fn a_reload_keeps_unchanged_sinks_and_drops_removed_ones() {
    let now = Instant::now();
    let cfg = config("", "");
    let mut n = Notifier::new(&cfg);
    n.submit(now, transition("VI_2", "backup", "master"));
    run_all(&mut n, now);
    // A pending message for a sink about to go.
    n.submit(now, transition("VI_2", "master", "backup"));
    let mut smaller = cfg.clone();
    smaller.notify.webhooks.clear();
    n.reconfigure(now, &smaller);
    assert!(n.status().sinks.iter().all(|s| s.name != "pager"));
    assert!(
        n.poll_warning()
            .is_some_and(|w| w.contains("1 message(s) dropped"))
    );
    n.reconfigure(now, &cfg);
    let pager = n
        .status()
        .sinks
        .into_iter()
        .find(|s| s.name == "pager")
        .expect("back");
    assert_eq!(pager.sent, 0, "a new sink starts its counts afresh");
}

#[test]
fn the_stop_runs_notify_stop_and_notify_with_stop() {
    let now = Instant::now();
    let mut n = Notifier::new(&config("", "notify_stop = \"to-master\""));
    n.submit(now, Notice::new(Kind::DaemonStop, "lb01", 5));
    let jobs = run_all(&mut n, now);
    let argv: Vec<Vec<String>> = jobs
        .iter()
        .filter_map(|j| {
            if let Job::Command(c) = j {
                Some(c.run.argv.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        argv,
        [
            vec!["/bin/true", "m", "INSTANCE", "VI_1", "STOP", "150"],
            vec!["/bin/true", "all", "INSTANCE", "VI_1", "STOP", "150"],
        ]
    );
    assert!(n.idle());
}
