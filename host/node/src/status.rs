//! What `baton status` shows: the node's view of every instance, as JSON on
//! the control socket and as a table for people. Built by the node
//! ([`crate::Node::status`]) from what it knows, VIP by VIP.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

pub use crate::vips::VipState;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub router_id: String,
    pub pid: u32,
    pub version: String,
    pub uptime_ms: u64,
    pub instances: Vec<InstanceStatus>,
    /// Packets refused before an instance could be found (bad IP header,
    /// unknown VRID), per socket.
    pub sockets: Vec<SocketStatus>,
    /// Configs applied so far: 1 at start, one more per applied reload.
    #[serde(default)]
    pub generation: u64,
    #[serde(default)]
    pub last_reload: Option<ReloadStatus>,
    /// Reloads tried (applied or refused).
    #[serde(default)]
    pub reloads: u64,
    #[serde(default)]
    pub firewall: FirewallStatus,
    /// The node-level `[[check]]`s, each evaluated once per interval.
    #[serde(default)]
    pub checks: Vec<CheckStatus>,
    /// Mail, webhooks, notify commands and the hook: every outcome counted.
    #[serde(default)]
    pub notify: baton_notify::NotifyStatus,
    /// The `[[sync_group]]`s and the state each is in as a whole.
    #[serde(default)]
    pub sync_groups: Vec<SyncGroupStatus>,
}

/// One sync group.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SyncGroupStatus {
    pub name: String,
    /// FAULT if a member is, MASTER if all are, else BACKUP ("initialize"
    /// before the members start).
    pub state: String,
    pub instances: Vec<String>,
}

/// The last SIGHUP and what came of it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReloadStatus {
    pub ms_ago: u64,
    pub ok: bool,
    /// Why it was refused (nothing changed then).
    pub error: Option<String>,
    /// What it changed.
    pub summary: Option<String>,
}

/// Accept-mode rules (nftables).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct FirewallStatus {
    /// VIPs whose traffic must be dropped.
    pub drop: Vec<String>,
    /// The rules in place are exactly these.
    pub in_force: bool,
    pub failures: u64,
    pub last_error: Option<String>,
}

/// One node-level check.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckStatus {
    pub name: String,
    pub policy: String,
    pub interval_ms: f64,
    /// Instances that track it.
    pub tracked_by: Vec<String>,
    pub runs: u64,
    pub last_healthy: Option<bool>,
    pub last_reason: Option<String>,
    pub last_elapsed_us: u64,
    pub last_cpu_us: u64,
    pub mean_cpu_us: u64,
    pub running: bool,
    /// Evaluations the policy runner turned away (busy) and tried again.
    #[serde(default)]
    pub busy_retries: u64,
}

/// One VIP of an instance, as the host has it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VipStatus {
    /// `ADDR/PREFIX dev DEV [label L]`.
    pub vip: String,
    pub state: VipState,
    pub failures: u32,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: u8,
    pub family: String,
    pub state: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    pub primary_address: String,
    pub master: Option<MasterStatus>,
    pub vips: Vec<String>,
    /// Every VIP is really configured (each one's state is in `vip_states`).
    pub holding_vips: bool,
    #[serde(default)]
    pub vip_states: Vec<VipStatus>,
    /// false: traffic to the VIPs is dropped (Accept_Mode false, not owner).
    #[serde(default = "yes")]
    pub accepts_vip_traffic: bool,
    pub advert_interval_ms: f64,
    pub master_down_interval_ms: f64,
    pub last_transition: Option<TransitionStatus>,
    pub faults: Vec<String>,
    pub counters: CounterStatus,
    /// The instance's `[[instance.track]]`s, in config order.
    #[serde(default)]
    pub tracks: Vec<TrackStatus>,
    /// Every peer heard (or configured), remembered after it goes silent.
    #[serde(default)]
    pub peers: Vec<PeerStatus>,
    /// With a split-brain policy: the evidence and the last decision.
    #[serde(default)]
    pub split_brain: Option<SplitBrainStatus>,
    /// Sources of lying adverts seen lately (see [`crate::spoof`]).
    #[serde(default)]
    pub suspects: Vec<SuspectStatus>,
    /// The links it tracks (its own interface first, unless
    /// `track_primary = false`), each as the host has it.
    #[serde(default)]
    pub links: Vec<LinkStatus>,
    /// The `[[sync_group]]` it is a member of.
    #[serde(default)]
    pub sync_group: Option<String>,
}

/// One tracked link of an instance.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct LinkStatus {
    pub name: String,
    pub up: bool,
    /// Added to the priority while down; 0: FAULT while down.
    pub weight: i32,
}

/// A peer of an instance.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeerStatus {
    pub address: String,
    pub last_priority: Option<u8>,
    pub last_heard_ms_ago: Option<u64>,
    pub paths: Vec<PathStatus>,
}

/// One path a peer's adverts arrive on.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PathStatus {
    /// `eth0 multicast`.
    pub path: String,
    /// None: expected (a heartbeat path) and never heard.
    pub last_heard_ms_ago: Option<u64>,
    /// Nothing for a Master_Down_Interval while another path delivered.
    #[serde(default)]
    pub silent: bool,
}

/// A source of lying adverts.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SuspectStatus {
    pub source: String,
    /// `not_a_peer`, `auth_failed`, `replayed` or `unknown_outranks`.
    pub kind: String,
    /// What its last advert claimed.
    pub priority: u8,
    pub adverts: u64,
    pub first_seen_ms_ago: u64,
    pub last_seen_ms_ago: u64,
}

/// An instance's split-brain state.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SplitBrainStatus {
    pub policy: String,
    pub interval_ms: f64,
    pub runs: u64,
    /// `stay`, `demote`, `fault` or `alert` (none before the first).
    pub decision: Option<String>,
    pub reason: Option<String>,
    /// Held as a listening Backup by a demotion.
    pub held: bool,
    /// VIP -> the other MACs that answered the last probe.
    pub answers: BTreeMap<String, Vec<String>>,
    pub probed_ms_ago: Option<u64>,
    pub claims_refused: u64,
    pub probe_failures: u64,
    /// What the last claim waited for its probe (ms).
    pub last_claim_wait_ms: Option<f64>,
    pub last_error: Option<String>,
}

fn yes() -> bool {
    true
}

/// One tracked policy of an instance.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrackStatus {
    /// The tracker's name (its check's or its policy's).
    pub name: String,
    pub policy: String,
    /// The node-level `[[check]]` it follows (its runs are the check's).
    #[serde(default)]
    pub check: Option<String>,
    /// The policy component's sha256.
    pub sha256: String,
    /// Good or bad after rise/fall.
    pub good: bool,
    /// "none", "weight -60", "weight +20" or "FAULT".
    pub effect: String,
    /// The weight it adds to the priority now (0 with FAULT).
    pub weight: i32,
    pub configured_weight: i32,
    pub rise: u32,
    pub fall: u32,
    pub interval_ms: f64,
    pub timeout_ms: f64,
    /// Evaluations completed.
    pub runs: u64,
    /// The last evaluation's result (`None` before the first).
    pub last_healthy: Option<bool>,
    /// Why the last evaluation failed (`None` when it was healthy).
    pub last_reason: Option<String>,
    /// Why the last failed evaluation failed, even if healthy since.
    pub last_failure: Option<String>,
    pub last_elapsed_us: u64,
    /// CPU time of the last evaluation, and the mean over all of them.
    #[serde(default)]
    pub last_cpu_us: u64,
    #[serde(default)]
    pub mean_cpu_us: u64,
    /// Evaluations the policy runner turned away (busy) and tried again.
    #[serde(default)]
    pub busy_retries: u64,
    /// Fuel the last evaluation consumed (about one unit per wasm instruction).
    pub last_fuel: u64,
    pub last_ms_ago: Option<u64>,
    /// An evaluation is in flight.
    pub running: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MasterStatus {
    pub address: String,
    pub priority: u8,
    pub is_self: bool,
    pub last_seen_ms_ago: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TransitionStatus {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub ms_ago: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CounterStatus {
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    pub priority_zero_rx: u64,
    pub priority_zero_tx: u64,
    pub became_master: u64,
    pub transitions: u64,
    pub drops: BTreeMap<String, u64>,
    #[serde(default)]
    pub vip_add_failures: u64,
    #[serde(default)]
    pub vip_remove_failures: u64,
    /// Gratuitous ARPs / unsolicited NAs asked for (one per VIP each time).
    #[serde(default)]
    pub announcements: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SocketStatus {
    pub interface: String,
    pub family: String,
    pub source: String,
    pub drops: BTreeMap<String, u64>,
}

impl Status {
    /// A table for a terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "router {}  pid {}  up {:.1}s  baton {}",
            self.router_id,
            self.pid,
            self.uptime_ms as f64 / 1000.0,
            self.version
        );
        let _ = writeln!(
            s,
            "{:<12} {:<8} {:>4} {:<3} {:<8} {:>9} {:<24} {:<6} VIPS",
            "INSTANCE", "IFACE", "VRID", "VER", "STATE", "PRIO", "MASTER", "HELD"
        );
        for i in &self.instances {
            let master = i.master.as_ref().map_or("-".to_string(), |m| {
                if m.is_self {
                    "self".to_string()
                } else {
                    format!("{} ({})", m.address, m.priority)
                }
            });
            let prio = if i.base_priority == i.effective_priority {
                format!("{}", i.effective_priority)
            } else {
                format!("{}/{}", i.effective_priority, i.base_priority)
            };
            let _ = writeln!(
                s,
                "{:<12} {:<8} {:>4} v{:<2} {:<8} {:>9} {:<24} {:<6} {}",
                i.name,
                i.interface,
                i.vrid,
                i.version,
                i.state.to_uppercase(),
                prio,
                master,
                if i.holding_vips { "yes" } else { "no" },
                i.vips.join(", ")
            );
            if !i.accepts_vip_traffic {
                let _ = writeln!(s, "{:13}accept = false: traffic to the VIPs is dropped", "");
            }
            if let Some(t) = &i.last_transition {
                let _ = writeln!(
                    s,
                    "{:13}last: {} -> {} {:.1}s ago: {}",
                    "",
                    t.from,
                    t.to,
                    t.ms_ago as f64 / 1000.0,
                    t.reason
                );
            }
            for v in i.vip_states.iter().filter(|v| v.state != VipState::Held) {
                if v.state == VipState::Absent && !i.holding_vips && v.last_error.is_none() {
                    continue;
                }
                let _ = writeln!(
                    s,
                    "{:13}VIP {}: {:?}{}",
                    "",
                    v.vip,
                    v.state,
                    v.last_error.as_ref().map_or(String::new(), |e| format!(
                        " ({} failures, last: {e})",
                        v.failures
                    ))
                );
            }
            if !i.faults.is_empty() {
                let _ = writeln!(s, "{:13}faults: {}", "", i.faults.join(", "));
            }
            render_links(&mut s, i);
            let c = &i.counters;
            let _ = write!(
                s,
                "{:13}adverts rx {} tx {}, became master {}x",
                "", c.adverts_rx, c.adverts_tx, c.became_master
            );
            if !c.drops.is_empty() {
                let drops: Vec<String> = c.drops.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = write!(s, ", dropped: {}", drops.join(" "));
            }
            let _ = writeln!(s);
            for p in &i.peers {
                let paths: Vec<String> = p
                    .paths
                    .iter()
                    .map(|x| {
                        let when = x.last_heard_ms_ago.map_or("never".to_string(), |ms| {
                            format!("{:.1}s ago", ms as f64 / 1000.0)
                        });
                        format!("{} {when}{}", x.path, if x.silent { " SILENT" } else { "" })
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "{:13}peer {} priority {}: {}",
                    "",
                    p.address,
                    p.last_priority.map_or("-".to_string(), |x| x.to_string()),
                    if paths.is_empty() {
                        "never heard".to_string()
                    } else {
                        paths.join(", ")
                    }
                );
            }
            render_suspects(&mut s, i);
            if let Some(b) = &i.split_brain {
                let answered: Vec<String> = b
                    .answers
                    .iter()
                    .filter(|(_, m)| !m.is_empty())
                    .map(|(v, m)| format!("{v} answered by {}", m.join(" ")))
                    .collect();
                let _ = writeln!(
                    s,
                    "{:13}split brain ({}): {}{}{}; runs {}, claims refused {}{}",
                    "",
                    b.policy,
                    b.decision.as_deref().unwrap_or("not run yet"),
                    b.reason.as_ref().map_or(String::new(), |r| format!(" ({r})")),
                    if b.held {
                        ", held as a listening Backup"
                    } else {
                        ""
                    },
                    b.runs,
                    b.claims_refused,
                    if answered.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", answered.join(", "))
                    }
                );
            }
            for t in &i.tracks {
                let last = match (t.last_healthy, &t.last_reason) {
                    (None, _) => "not run yet".to_string(),
                    (Some(true), _) => "healthy".to_string(),
                    (Some(false), Some(r)) => format!("failed: {r}"),
                    (Some(false), None) => "failed".to_string(),
                };
                let _ = writeln!(
                    s,
                    "{:13}track {} ({}): {}, effect {}, runs {}, last {:.3} ms (CPU {:.3} ms, mean {:.3} ms) {} fuel: {}",
                    "",
                    t.name,
                    if t.good { "good" } else { "bad" },
                    format_args!("rise {} fall {} every {} ms", t.rise, t.fall, t.interval_ms),
                    t.effect,
                    t.runs,
                    t.last_elapsed_us as f64 / 1000.0,
                    t.last_cpu_us as f64 / 1000.0,
                    t.mean_cpu_us as f64 / 1000.0,
                    t.last_fuel,
                    last
                );
            }
        }
        for c in &self.checks {
            let _ = writeln!(
                s,
                "check {} ({}) every {} ms for {} instance(s): runs {}, last {}, CPU {:.3} ms (mean {:.3} ms)",
                c.name,
                c.policy,
                c.interval_ms,
                c.tracked_by.len(),
                c.runs,
                match (c.last_healthy, &c.last_reason) {
                    (None, _) => "not run yet".to_string(),
                    (Some(true), _) => "healthy".to_string(),
                    (Some(false), r) => format!("failed: {}", r.as_deref().unwrap_or("failed")),
                },
                c.last_cpu_us as f64 / 1000.0,
                c.mean_cpu_us as f64 / 1000.0,
            );
        }
        if !self.firewall.drop.is_empty() || self.firewall.last_error.is_some() {
            let _ = writeln!(
                s,
                "accept = false rules: {} VIP(s), {}{}",
                self.firewall.drop.len(),
                if self.firewall.in_force {
                    "in force"
                } else {
                    "NOT in force"
                },
                self.firewall
                    .last_error
                    .as_ref()
                    .map_or(String::new(), |e| format!(" (last error: {e})"))
            );
        }
        if let Some(r) = &self.last_reload {
            let what = match (&r.error, &r.summary) {
                (Some(e), _) => format!("refused: {e}"),
                (None, Some(sum)) => format!("applied: {sum}"),
                (None, None) => "applied".to_string(),
            };
            let _ = writeln!(
                s,
                "config generation {}; last reload {:.1}s ago {what}",
                self.generation,
                r.ms_ago as f64 / 1000.0
            );
        }
        render_notify(&mut s, &self.notify);
        for g in &self.sync_groups {
            let _ = writeln!(
                s,
                "sync group {}: {} ({})",
                g.name,
                g.state.to_uppercase(),
                g.instances.join(", ")
            );
        }
        for sock in self.sockets.iter().filter(|s| !s.drops.is_empty()) {
            let drops: Vec<String> = sock.drops.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                s,
                "socket {} {} {}: dropped before demux: {}",
                sock.interface,
                sock.family,
                sock.source,
                drops.join(" ")
            );
        }
        s
    }
}

/// One line per sink, then the commands and the hook.
/// `links: eth0 up, eth1 DOWN (weight -20)` and the sync group.
fn render_suspects(s: &mut String, i: &InstanceStatus) {
    for x in &i.suspects {
        let _ = writeln!(
            s,
            "{:13}SUSPECT {} ({}): {} adverts at priority {}, first {:.1}s ago, last {:.1}s ago",
            "",
            x.source,
            x.kind,
            x.adverts,
            x.priority,
            x.first_seen_ms_ago as f64 / 1000.0,
            x.last_seen_ms_ago as f64 / 1000.0
        );
    }
}

/// Suspects not yet forgotten (they are only expired as adverts arrive).
fn suspects_status(inst: &NodeInstance, now: Instant) -> Vec<SuspectStatus> {
    let quiet = crate::spoof::forget_after(inst.vrrp.master_down_interval());
    inst.suspects
        .iter()
        .filter(|(_, s)| now.saturating_duration_since(s.last_seen) < quiet)
        .map(|(a, s)| SuspectStatus {
            source: a.to_string(),
            kind: s.kind.as_str().to_string(),
            priority: s.priority,
            adverts: s.adverts,
            first_seen_ms_ago: ago(now, s.first_seen),
            last_seen_ms_ago: ago(now, s.last_seen),
        })
        .collect()
}

fn render_links(s: &mut String, i: &InstanceStatus) {
    let weighted = i.links.iter().any(|l| l.weight != 0 || !l.up);
    if weighted || i.links.len() > 1 {
        let links: Vec<String> = i
            .links
            .iter()
            .map(|l| {
                let state = if l.up { "up" } else { "DOWN" };
                match l.weight {
                    0 => format!("{} {state}", l.name),
                    w => format!("{} {state} (weight {w:+})", l.name),
                }
            })
            .collect();
        let _ = writeln!(s, "{:13}links: {}", "", links.join(", "));
    }
    if let Some(g) = &i.sync_group {
        let _ = writeln!(s, "{:13}sync group: {g}", "");
    }
}

fn render_notify(s: &mut String, n: &baton_notify::NotifyStatus) {
    for k in &n.sinks {
        let _ = writeln!(
            s,
            "notify {} ({} {}): sent {}, retried {}, failed {}, dropped {}, coalesced {} into {} digest(s), pending {}{}",
            k.name,
            k.kind,
            k.target,
            k.sent,
            k.retried,
            k.failed,
            k.dropped,
            k.coalesced,
            k.digests,
            k.pending,
            k.last_error
                .as_ref()
                .map_or(String::new(), |e| format!("; last error: {e}"))
        );
    }
    let c = &n.commands;
    if c.started > 0 || c.queued > 0 || c.dropped > 0 {
        let _ = writeln!(
            s,
            "notify commands: started {}, ok {}, failed {} ({} timed out), dropped {}, queued {}{}",
            c.started,
            c.succeeded,
            c.failed,
            c.timed_out,
            c.dropped,
            c.queued,
            c.last_error
                .as_ref()
                .map_or(String::new(), |e| format!("; last: {e}"))
        );
    }
    if let Some(h) = &n.hook {
        let _ = writeln!(
            s,
            "transition hook: {} call(s), {} error(s), {} pending{}",
            h.calls,
            h.errors,
            h.pending,
            h.last_error
                .as_ref()
                .map_or(String::new(), |e| format!("; last error: {e}"))
        );
    }
    if n.unrouted > 0 {
        let _ = writeln!(s, "notify: {} message(s) sent by the hook to no sink", n.unrouted);
    }
}

// ---------------------------------------------------------------------------
// Building it from the node.

use std::time::{Duration, Instant};

use baton_vrrp::{DropCounters, State};

use crate::effect::{CheckKey, family_name};
use crate::instance::NodeInstance;
use crate::node::Node;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ago(now: Instant, t: Instant) -> u64 {
    now.saturating_duration_since(t).as_millis() as u64
}

fn drops_map(d: &DropCounters) -> BTreeMap<String, u64> {
    d.iter().map(|(r, n)| (r.as_str().to_string(), n)).collect()
}

impl Node {
    /// What `baton status` shows. `pid` and `version` are the caller's to fill.
    pub fn status(&self, now: Instant) -> Status {
        let cfg = self.config();
        let checks = cfg
            .checks
            .iter()
            .filter_map(|c| {
                let s = self.checks.get(&CheckKey::Node(c.name.clone()))?;
                Some(CheckStatus {
                    name: c.name.clone(),
                    policy: c.policy.clone(),
                    interval_ms: ms(c.interval),
                    tracked_by: self
                        .instances()
                        .filter(|i| i.cfg.tracks.iter().any(|t| t.check.as_deref() == Some(&c.name)))
                        .map(|i| i.cfg.name.clone())
                        .collect(),
                    runs: s.stats.runs,
                    last_healthy: s.stats.last_healthy,
                    last_reason: s.stats.last_reason.clone(),
                    last_elapsed_us: s.stats.last_elapsed.as_micros() as u64,
                    last_cpu_us: s.stats.last_cpu.as_micros() as u64,
                    mean_cpu_us: (s.stats.cpu_total.as_micros() / u128::from(s.stats.runs.max(1))) as u64,
                    running: s.is_running(),
                    busy_retries: s.stats.busy_retries,
                })
            })
            .collect();
        Status {
            router_id: cfg.router_id.clone(),
            pid: 0,
            version: String::new(),
            uptime_ms: self.started_at.map_or(0, |t| ago(now, t)),
            instances: self.instances().map(|i| self.instance_status(i, now)).collect(),
            sockets: self
                .sockets
                .iter()
                .map(|(k, s)| SocketStatus {
                    interface: k.interface.clone(),
                    family: family_name(k.family).into(),
                    source: k.source.to_string(),
                    drops: drops_map(&s.drops),
                })
                .collect(),
            sync_groups: self
                .sync
                .iter()
                .map(|g| SyncGroupStatus {
                    name: g.name.clone(),
                    state: g.state.map_or("initialize", |s| s.as_str()).to_string(),
                    instances: g.members.clone(),
                })
                .collect(),
            generation: self.generation,
            reloads: self.reloads,
            last_reload: self.last_reload.as_ref().map(|r| ReloadStatus {
                ms_ago: ago(now, r.at),
                ok: r.result.is_ok(),
                error: r.result.as_ref().err().cloned(),
                summary: r.result.as_ref().ok().cloned(),
            }),
            firewall: FirewallStatus {
                drop: self.firewall.wanted().iter().map(ToString::to_string).collect(),
                in_force: self.firewall.in_force(),
                failures: self.firewall.failures,
                last_error: self.firewall.last_error.clone(),
            },
            checks,
            notify: self.notifier.status(),
        }
    }

    fn instance_status(&self, inst: &NodeInstance, now: Instant) -> InstanceStatus {
        let v = &inst.vrrp;
        let c = v.counters();
        InstanceStatus {
            name: inst.cfg.name.clone(),
            interface: inst.cfg.interface.clone(),
            vrid: inst.cfg.vrid,
            version: inst.cfg.version.number(),
            family: family_name(inst.cfg.family()).to_string(),
            state: v.state().as_str().to_string(),
            base_priority: v.config().priority,
            effective_priority: v.effective_priority(),
            primary_address: inst.primary.to_string(),
            master: v.master().map(|m| MasterStatus {
                address: m.addr.to_string(),
                priority: m.priority,
                is_self: m.addr == inst.primary && v.state() == State::Master,
                last_seen_ms_ago: ago(now, m.last_seen),
            }),
            vips: inst.vip_strings(),
            holding_vips: inst.vips.all_held(),
            vip_states: inst
                .vips
                .entries()
                .map(|e| VipStatus {
                    vip: e.vip.to_string(),
                    state: e.state,
                    failures: e.failures,
                    last_error: e.last_error.clone(),
                })
                .collect(),
            accepts_vip_traffic: inst.cfg.accepts_vip_traffic(),
            advert_interval_ms: ms(inst.cfg.advert_interval),
            master_down_interval_ms: ms(v.master_down_interval()),
            last_transition: v.last_transition().map(|t| TransitionStatus {
                from: t.from.as_str().into(),
                to: t.to.as_str().into(),
                reason: t.reason.to_string(),
                ms_ago: ago(now, t.at),
            }),
            faults: inst.faults.iter().map(ToString::to_string).collect(),
            tracks: inst.tracks.iter().map(|t| self.track_status(t, now)).collect(),
            peers: inst
                .brain
                .peers
                .iter()
                .map(|(a, p)| PeerStatus {
                    address: a.to_string(),
                    last_priority: p.last_priority,
                    last_heard_ms_ago: p.last_heard.map(|t| ago(now, t)),
                    paths: p
                        .paths
                        .iter()
                        .map(|x| PathStatus {
                            path: x.name(),
                            last_heard_ms_ago: x.last.map(|t| ago(now, t)),
                            silent: x.silent,
                        })
                        .collect(),
                })
                .collect(),
            suspects: suspects_status(inst, now),
            split_brain: inst.cfg.split_brain.as_ref().map(|sb| {
                let b = &inst.brain;
                SplitBrainStatus {
                    policy: sb.policy.clone(),
                    interval_ms: ms(sb.interval),
                    runs: b.runs,
                    decision: b.last_decision.as_ref().map(|d| d.kind().to_string()),
                    reason: b
                        .last_decision
                        .as_ref()
                        .and_then(|d| d.reason().map(str::to_string)),
                    held: inst.vrrp.held(),
                    answers: b
                        .answers
                        .iter()
                        .map(|a| {
                            (
                                a.vip.to_string(),
                                a.others.iter().map(crate::brain::mac_string).collect(),
                            )
                        })
                        .collect(),
                    probed_ms_ago: b.answered_at.map(|t| ago(now, t)),
                    claims_refused: b.claims_refused,
                    probe_failures: b.probe_failures,
                    last_claim_wait_ms: b.last_claim_wait.map(ms),
                    last_error: b.last_error.clone(),
                }
            }),
            counters: CounterStatus {
                adverts_rx: c.adverts_rx,
                adverts_tx: c.adverts_tx,
                priority_zero_rx: c.priority_zero_rx,
                priority_zero_tx: c.priority_zero_tx,
                became_master: c.became_master,
                transitions: c.transitions,
                drops: drops_map(&c.drops),
                vip_add_failures: inst.vips.add_failures,
                vip_remove_failures: inst.vips.remove_failures,
                announcements: inst.counters.announcements,
            },
            links: inst
                .tracked_links()
                .map(|(name, weight)| LinkStatus {
                    name: name.to_string(),
                    up: self.link_up(name),
                    weight,
                })
                .collect(),
            sync_group: self.cfg.sync_group_of(&inst.cfg.name).map(|g| g.name.clone()),
        }
    }

    fn track_status(&self, t: &crate::instance::InstTrack, now: Instant) -> TrackStatus {
        let effect = t.tracker.effect();
        let sched = self.checks.get(&t.key);
        let st = sched.map(|s| s.stats.clone()).unwrap_or_default();
        TrackStatus {
            name: t.cfg.name().to_string(),
            policy: t.cfg.policy.clone(),
            check: t.cfg.check.clone(),
            sha256: String::new(),
            good: t.tracker.is_good(),
            effect: crate::effect::effect_text(effect),
            weight: match effect {
                baton_vrrp::track::Effect::Weight(w) => w,
                baton_vrrp::track::Effect::Fault => 0,
            },
            configured_weight: t.cfg.weight,
            rise: t.cfg.rise,
            fall: t.cfg.fall,
            interval_ms: ms(t.cfg.interval),
            timeout_ms: ms(t.cfg.timeout),
            runs: st.runs,
            last_healthy: st.last_healthy,
            last_reason: st.last_reason.clone(),
            last_failure: t.tracker.last_reason().map(String::from),
            last_elapsed_us: st.last_elapsed.as_micros() as u64,
            last_cpu_us: st.last_cpu.as_micros() as u64,
            mean_cpu_us: (st.cpu_total.as_micros() / u128::from(st.runs.max(1))) as u64,
            busy_retries: st.busy_retries,
            last_fuel: st.last_fuel,
            last_ms_ago: st.last_at.map(|a| ago(now, a)),
            running: sched.is_some_and(|s| s.is_running()),
        }
    }
}
