//! The notifier: notices in, jobs out. It routes each notice to its sinks
//! (mail, each webhook, the instance's notify commands) as keepalived would,
//! or as the transition hook says; keeps one [`Outbox`] per mail or webhook
//! sink and one command queue per instance; and counts every outcome.
//!
//! A hook is asked about one notice at a time, in order: a notice waits
//! behind the one the hook is deciding, so sinks still see event order.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton_config::{Config, EMAIL_SINK, InstanceNotify, Notify, SmtpServer, SmtpTls, Webhook};
use serde::{Deserialize, Serialize};

use crate::commands::{CommandRun, Commands, keepalived_args};
use crate::notice::{Kind, Notice};
use crate::outbox::{DeliveryId, Message, Outbox, OutboxConfig, Stats};

/// Where a hook sends one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// `email`, a webhook's or a command's name.
    pub sink: String,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// A hook's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// As without a hook.
    Default,
    /// Exactly these; none: nothing.
    Send(Vec<Outgoing>),
}

/// Mail to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailJob {
    pub id: DeliveryId,
    pub attempt: u32,
    pub server: SmtpServer,
    pub tls: SmtpTls,
    pub connect_timeout: Duration,
    pub ca: Option<PathBuf>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// A webhook POST to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostJob {
    pub sink: String,
    pub id: DeliveryId,
    pub attempt: u32,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub timeout: Duration,
    pub ca: Option<PathBuf>,
    pub payload: String,
}

/// A notify command to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandJob {
    pub run: CommandRun,
    pub timeout: Duration,
}

/// A notice for the hook to route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookJob {
    pub id: u64,
    pub notice: Notice,
}

/// What the notifier wants done; each is answered with its `handle_*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    Mail(MailJob),
    Post(PostJob),
    Command(CommandJob),
    Hook(HookJob),
}

/// How a notify command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandOutcome {
    Exited(i32),
    /// Killed by a signal it was not sent by us.
    Signalled(i32),
    /// Killed (with its process group) at its timeout.
    TimedOut,
    /// Could not be started.
    Failed(String),
}

impl CommandOutcome {
    pub fn ok(&self) -> bool {
        *self == CommandOutcome::Exited(0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Mail {
        server: SmtpServer,
        tls: SmtpTls,
        connect_timeout: Duration,
        from: String,
        to: Vec<String>,
    },
    Webhook(Webhook),
}

#[derive(Debug)]
struct Sink {
    target: Target,
    outbox: Outbox,
    last_error: Option<String>,
}

/// One sink in `baton status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkStatus {
    pub name: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// The SMTP server, or the URL.
    pub target: String,
    /// Waiting, in flight or folded now.
    pub pending: usize,
    pub queued: u64,
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    pub dropped: u64,
    pub coalesced: u64,
    pub digests: u64,
    pub last_error: Option<String>,
}

/// Notify commands in `baton status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandStatus {
    pub queued: usize,
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    /// Found the instance's queue full.
    pub dropped: u64,
    pub last_error: Option<String>,
}

/// The transition hook in `baton status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookStatus {
    pub calls: u64,
    /// Failed calls (the notice then went as without a hook).
    pub errors: u64,
    pub last_error: Option<String>,
    /// Waiting for the hook.
    pub pending: usize,
}

/// Notifications in `baton status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyStatus {
    /// Notices taken in.
    pub notices: u64,
    /// Messages a hook sent to a sink that does not exist.
    pub unrouted: u64,
    pub sinks: Vec<SinkStatus>,
    pub commands: CommandStatus,
    pub hook: Option<HookStatus>,
}

#[derive(Debug, Default)]
struct HookState {
    waiting: VecDeque<Notice>,
    in_flight: Option<(u64, Notice)>,
    next_id: u64,
    status: HookStatus,
}

/// What an instance's notices need from its config.
#[derive(Clone, Debug)]
struct InstanceFacts {
    notify: InstanceNotify,
    priority: u8,
}

#[derive(Debug)]
pub struct Notifier {
    notify: Notify,
    instances: BTreeMap<String, InstanceFacts>,
    /// Each sync group's own notify keys.
    groups: BTreeMap<String, InstanceNotify>,
    sinks: BTreeMap<String, Sink>,
    commands: Commands,
    command_status: CommandStatus,
    ready: VecDeque<Job>,
    hook: Option<HookState>,
    warnings: VecDeque<String>,
    notices: u64,
    unrouted: u64,
}

fn outbox_config(n: &Notify) -> OutboxConfig {
    OutboxConfig {
        capacity: n.queue,
        deadline: n.deadline,
        burst: n.flap_burst,
        window: n.flap_window,
        ..OutboxConfig::default()
    }
}

fn targets(n: &Notify) -> Vec<(String, Target)> {
    let mut v = Vec::new();
    if let (Some(server), false) = (&n.smtp_server, n.email.is_empty()) {
        v.push((
            EMAIL_SINK.to_string(),
            Target::Mail {
                server: server.clone(),
                tls: n.smtp_tls,
                connect_timeout: n.smtp_connect_timeout,
                from: n.email_from.clone(),
                to: n.email.clone(),
            },
        ));
    }
    v.extend(
        n.webhooks
            .iter()
            .map(|w| (w.name.clone(), Target::Webhook(w.clone()))),
    );
    v
}

impl Notifier {
    pub fn new(cfg: &Config) -> Notifier {
        let mut n = Notifier {
            notify: cfg.notify.clone(),
            instances: BTreeMap::new(),
            groups: BTreeMap::new(),
            sinks: BTreeMap::new(),
            commands: Commands::default(),
            command_status: CommandStatus::default(),
            ready: VecDeque::new(),
            hook: None,
            warnings: VecDeque::new(),
            notices: 0,
            unrouted: 0,
        };
        n.apply(cfg);
        n
    }

    /// Takes a new config: a sink whose destination and limits are the same
    /// keeps its queue and counts; one removed or changed drops what it
    /// held (counted). Queued commands still run.
    pub fn reconfigure(&mut self, now: Instant, cfg: &Config) {
        for n in self.apply(cfg) {
            self.route_default(now, n);
        }
    }

    /// Takes `cfg`; returns the notices that waited for a hook it no longer has.
    fn apply(&mut self, cfg: &Config) -> Vec<Notice> {
        let limits_same = outbox_config(&self.notify) == outbox_config(&cfg.notify);
        let mut old = std::mem::take(&mut self.sinks);
        for (name, target) in targets(&cfg.notify) {
            let sink = match old.remove(&name) {
                Some(s) if s.target == target && limits_same => s,
                _ => Sink {
                    target,
                    outbox: Outbox::new(outbox_config(&cfg.notify)),
                    last_error: None,
                },
            };
            self.sinks.insert(name, sink);
        }
        for (name, mut s) in old {
            if s.outbox.pending() > 0 {
                self.warnings.push_back(format!(
                    "notify sink {name} removed: {} message(s) dropped",
                    s.outbox.pending()
                ));
            }
            s.outbox.drop_all();
        }
        self.instances = cfg
            .instances
            .iter()
            .map(|i| {
                (
                    i.name.clone(),
                    InstanceFacts {
                        notify: i.notify.clone(),
                        priority: i.priority,
                    },
                )
            })
            .collect();
        self.groups = cfg
            .sync_groups
            .iter()
            .map(|g| (g.name.clone(), g.notify.clone()))
            .collect();
        match (cfg.notify.hook.is_some(), self.hook.take()) {
            (true, Some(h)) => self.hook = Some(h),
            (true, None) => self.hook = Some(HookState::default()),
            // Notices waiting for a hook that is gone go as without one.
            (false, Some(mut h)) => {
                self.notify = cfg.notify.clone();
                return h
                    .in_flight
                    .take()
                    .map(|(_, n)| n)
                    .into_iter()
                    .chain(h.waiting)
                    .collect();
            }
            (false, None) => {}
        }
        self.notify = cfg.notify.clone();
        Vec::new()
    }

    /// Takes a notice in.
    pub fn submit(&mut self, now: Instant, notice: Notice) {
        self.notices += 1;
        match &mut self.hook {
            // The transition-hook world has no words for these yet: they go
            // as without a hook.
            Some(_) if !notice.kind.hook_knows() => self.route(now, notice, Route::Default),
            Some(h) => {
                h.waiting.push_back(notice);
                self.next_hook();
            }
            None => self.route(now, notice, Route::Default),
        }
    }

    fn next_hook(&mut self) {
        let Some(h) = &mut self.hook else { return };
        if h.in_flight.is_some() {
            return;
        }
        if let Some(notice) = h.waiting.pop_front() {
            h.next_id += 1;
            h.in_flight = Some((h.next_id, notice.clone()));
            self.ready.push_back(Job::Hook(HookJob {
                id: h.next_id,
                notice,
            }));
        }
    }

    /// The hook's answer about notice `id`; an error sends it as without a hook.
    pub fn handle_hook(&mut self, now: Instant, id: u64, result: Result<Route, String>) {
        let Some(h) = &mut self.hook else { return };
        let Some((_, notice)) = h.in_flight.take_if(|(i, _)| *i == id) else {
            return;
        };
        h.status.calls += 1;
        let route = match result {
            Ok(r) => r,
            Err(e) => {
                h.status.errors += 1;
                h.status.last_error = Some(e.clone());
                self.warnings
                    .push_back(format!("transition hook failed ({e}); sending as without a hook"));
                Route::Default
            }
        };
        self.route(now, notice, route);
        self.next_hook();
    }

    fn route(&mut self, now: Instant, notice: Notice, route: Route) {
        match route {
            Route::Default => self.route_default(now, notice),
            Route::Send(out) => {
                for o in out {
                    self.send_to(now, &notice, o);
                }
            }
        }
    }

    /// Sends as keepalived would: mail for the transitions of instances
    /// with `smtp_alert`, every notice to every webhook, the instance's
    /// notify commands.
    fn route_default(&mut self, now: Instant, notice: Notice) {
        let mails = match notice.kind {
            Kind::Transition | Kind::SplitBrain | Kind::Heartbeat | Kind::Spoof => notice
                .instance
                .as_ref()
                .and_then(|i| self.instances.get(i))
                .is_some_and(|f| f.notify.mails(&self.notify)),
            Kind::SyncGroup => notice
                .instance
                .as_ref()
                .and_then(|g| self.groups.get(g))
                .is_some_and(|n| n.mails(&self.notify)),
            Kind::Test => true,
            _ => false,
        };
        for sink in self.sinks.values_mut() {
            let wants = match sink.target {
                Target::Mail { .. } => mails,
                Target::Webhook(_) => true,
            };
            if wants {
                sink.outbox.push(now, notice.clone());
            }
        }
        self.default_commands(&notice);
    }

    /// Each sync group's stop commands: keepalived's GROUP NAME STOP 0.
    fn group_stops(&mut self) {
        let stops: Vec<(String, Vec<String>)> = self
            .groups
            .iter()
            .map(|(g, n)| {
                (
                    g.clone(),
                    n.commands_for("stop").into_iter().map(str::to_string).collect(),
                )
            })
            .collect();
        for (group, names) in stops {
            let args = [
                "GROUP".to_string(),
                group.clone(),
                "STOP".to_string(),
                "0".to_string(),
            ];
            for name in names {
                self.queue_command(&group, &name, &args);
            }
        }
    }

    fn default_commands(&mut self, notice: &Notice) {
        match notice.kind {
            Kind::SyncGroup => {
                let (Some(group), Some(to)) = (&notice.instance, &notice.to) else {
                    return;
                };
                let names: Vec<String> = self
                    .groups
                    .get(group)
                    .map(|n| n.commands_for(to).into_iter().map(str::to_string).collect())
                    .unwrap_or_default();
                let args = keepalived_args(notice);
                for name in names {
                    self.queue_command(group, &name, &args);
                }
            }
            Kind::Transition => {
                let (Some(inst), Some(to)) = (&notice.instance, &notice.to) else {
                    return;
                };
                let names: Vec<String> = self
                    .instances
                    .get(inst)
                    .map(|f| {
                        f.notify
                            .commands_for(to)
                            .into_iter()
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let args = keepalived_args(notice);
                for name in names {
                    self.queue_command(inst, &name, &args);
                }
            }
            Kind::DaemonStop => {
                let stops: Vec<(String, Vec<String>, Vec<String>)> = self
                    .instances
                    .iter()
                    .map(|(inst, f)| {
                        let args = vec![
                            "INSTANCE".to_string(),
                            inst.clone(),
                            "STOP".to_string(),
                            f.priority.to_string(),
                        ];
                        let names = f
                            .notify
                            .commands_for("stop")
                            .into_iter()
                            .map(str::to_string)
                            .collect();
                        (inst.clone(), names, args)
                    })
                    .collect();
                for (inst, names, args) in stops {
                    for name in names {
                        self.queue_command(&inst, &name, &args);
                    }
                }
                self.group_stops();
            }
            Kind::Test => {
                let names: Vec<String> = self.notify.commands.iter().map(|c| c.name.clone()).collect();
                for name in names {
                    self.queue_command("-", &name, &["TEST".to_string()]);
                }
            }
            _ => {}
        }
    }

    fn send_to(&mut self, now: Instant, notice: &Notice, o: Outgoing) {
        if let Some(sink) = self.sinks.get_mut(&o.sink) {
            sink.outbox.push_message(
                now,
                Message::Custom {
                    notice: notice.clone(),
                    subject: o.subject,
                    body: o.body,
                },
            );
        } else if self.notify.command(&o.sink).is_some() {
            let inst = notice.instance.clone().unwrap_or_else(|| "-".to_string());
            self.queue_command(&inst, &o.sink, &keepalived_args(notice));
        } else {
            self.unrouted += 1;
            self.warnings.push_back(format!(
                "transition hook sent a message to `{}`, which is no sink (sinks: {})",
                o.sink,
                self.notify.sink_names().join(", ")
            ));
        }
    }

    fn queue_command(&mut self, instance: &str, name: &str, args: &[String]) {
        let Some(cmd) = self.notify.command(name) else {
            return;
        };
        if self.commands.queued_for(instance) >= self.notify.queue {
            self.command_status.dropped += 1;
            self.warnings.push_back(format!(
                "notify command {name} for {instance} dropped: {} already queued",
                self.notify.queue
            ));
            return;
        }
        let mut argv = cmd.command.clone();
        argv.extend(args.iter().cloned());
        self.commands.push(instance, name, argv);
    }

    /// The next job to start now.
    pub fn poll_job(&mut self, now: Instant) -> Option<Job> {
        if let Some(j) = self.ready.pop_front() {
            return Some(j);
        }
        for (name, sink) in &mut self.sinks {
            if let Some(d) = sink.outbox.poll_delivery(now) {
                let m = &d.message;
                let ca = self.notify.ca.clone();
                let job = match &sink.target {
                    Target::Mail {
                        server,
                        tls,
                        connect_timeout,
                        from,
                        to,
                    } => Job::Mail(MailJob {
                        id: d.id,
                        attempt: d.attempt,
                        server: server.clone(),
                        tls: *tls,
                        connect_timeout: *connect_timeout,
                        ca,
                        from: from.clone(),
                        to: to.clone(),
                        subject: m.subject(),
                        body: m.body(),
                    }),
                    Target::Webhook(w) => Job::Post(PostJob {
                        sink: name.clone(),
                        id: d.id,
                        attempt: d.attempt,
                        url: w.url.clone(),
                        headers: w.headers.clone(),
                        timeout: w.timeout,
                        ca,
                        payload: m.payload(),
                    }),
                };
                return Some(job);
            }
        }
        for run in self.commands.poll_runs() {
            let timeout = self
                .notify
                .command(&run.name)
                .map_or(Duration::from_secs(10), |c| c.timeout);
            self.ready.push_back(Job::Command(CommandJob { run, timeout }));
        }
        self.ready.pop_front()
    }

    /// A mail's (`sink` = `email`) or a webhook's delivery outcome.
    pub fn handle_delivery(&mut self, now: Instant, sink: &str, id: DeliveryId, result: Result<(), String>) {
        let Some(s) = self.sinks.get_mut(sink) else { return };
        if let Err(e) = &result {
            s.last_error = Some(e.clone());
        }
        let failed_before = s.outbox.stats().failed;
        s.outbox.handle_result(now, id, result.clone());
        if let Err(e) = result {
            let given_up = s.outbox.stats().failed > failed_before;
            self.warnings.push_back(if given_up {
                format!(
                    "notify {sink}: {e}; given up (deadline {:?})",
                    self.notify.deadline
                )
            } else {
                format!("notify {sink}: {e}; will retry")
            });
        }
    }

    /// A notify command ended.
    pub fn handle_command(&mut self, instance: &str, id: u64, name: &str, outcome: CommandOutcome) {
        let ok = outcome.ok();
        self.commands.done(instance, id, ok);
        let what = match &outcome {
            CommandOutcome::Exited(0) => None,
            CommandOutcome::Exited(c) => Some(format!("exited with {c}")),
            CommandOutcome::Signalled(s) => Some(format!("killed by signal {s}")),
            CommandOutcome::TimedOut => {
                self.command_status.timed_out += 1;
                Some("timed out and was killed".to_string())
            }
            CommandOutcome::Failed(e) => Some(format!("could not start: {e}")),
        };
        // The executor logs every exit with its stderr; status keeps the last failure.
        if let Some(w) = what {
            self.command_status.last_error = Some(format!("notify command {name} for {instance} {w}"));
        }
    }

    /// A warning to log (a failed delivery, a hook error, a dropped command).
    pub fn poll_warning(&mut self) -> Option<String> {
        self.warnings.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sinks.values().filter_map(|s| s.outbox.poll_timeout()).min()
    }

    /// Nothing waiting, in flight, queued or folded.
    pub fn idle(&self) -> bool {
        self.ready.is_empty()
            && self.commands.idle()
            && self.sinks.values().all(|s| s.outbox.pending() == 0)
            && self
                .hook
                .as_ref()
                .is_none_or(|h| h.in_flight.is_none() && h.waiting.is_empty())
    }

    /// Gives up everything still pending (the daemon stops): counted as dropped.
    pub fn drop_pending(&mut self) {
        for s in self.sinks.values_mut() {
            s.outbox.drop_all();
        }
        self.command_status.dropped += self.commands.clear_queued() as u64;
    }

    pub fn status(&self) -> NotifyStatus {
        let sinks = self
            .sinks
            .iter()
            .map(|(name, s)| {
                let Stats {
                    queued,
                    sent,
                    retried,
                    failed,
                    coalesced,
                    digests,
                    dropped,
                } = s.outbox.stats();
                let (kind, target) = match &s.target {
                    Target::Mail { server, .. } => ("email", server.to_string()),
                    Target::Webhook(w) => ("webhook", w.url.clone()),
                };
                SinkStatus {
                    name: name.clone(),
                    kind: kind.to_string(),
                    target,
                    pending: s.outbox.pending(),
                    queued,
                    sent,
                    retried,
                    failed,
                    dropped,
                    coalesced,
                    digests,
                    last_error: s.last_error.clone(),
                }
            })
            .collect();
        NotifyStatus {
            notices: self.notices,
            unrouted: self.unrouted,
            sinks,
            commands: CommandStatus {
                queued: self.commands.queued(),
                started: self.commands.started,
                succeeded: self.commands.succeeded,
                failed: self.commands.failed,
                ..self.command_status.clone()
            },
            hook: self.hook.as_ref().map(|h| HookStatus {
                pending: h.waiting.len() + usize::from(h.in_flight.is_some()),
                ..h.status.clone()
            }),
        }
    }
}
