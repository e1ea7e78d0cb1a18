//! What `baton status` shows: the daemon's view of every instance, as JSON on
//! the control socket and as a table for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

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
    pub holding_vips: bool,
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
}

fn yes() -> bool {
    true
}

/// One tracked policy of an instance.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrackStatus {
    /// The tracker's name (its policy's).
    pub name: String,
    pub policy: String,
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
            if !i.faults.is_empty() {
                let _ = writeln!(s, "{:13}faults: {}", "", i.faults.join(", "));
            }
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
