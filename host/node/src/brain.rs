//! Split brain, the node's part, per instance: its peers (heard in adverts
//! or configured as unicast peers, each with its last advertised priority
//! and when each path last delivered, remembered after they go silent), who
//! else answers for its VIPs (the probes the net layer makes), probe before
//! claim, and the split-brain policy's evaluations and decisions.
//!
//! A claim is refused when another MAC answers for a VIP and the peer that
//! outranks the others (by its remembered priority, ties by address) also
//! outranks us, or when no peer is known at all: a live holder we cannot
//! place is not ours to displace. A probe that fails lets the claim go on.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use baton_vrrp::instance::addr_gt;

/// How long a probe collects answers.
pub const PROBE_WAIT: Duration = Duration::from_millis(20);

/// The hold and fault cause a split-brain decision raises.
pub const CAUSE: &str = "split-brain";

/// A MAC address.
pub type Mac = [u8; 6];

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_string(m: &Mac) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// What a probe is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbePurpose {
    /// The state machine waits to claim the VIPs.
    Claim,
    /// Evidence for the split-brain policy's next evaluation.
    Evidence,
}

/// Who answered for one VIP (other than this node).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VipAnswer {
    pub vip: IpAddr,
    pub others: Vec<Mac>,
}

/// A path adverts arrive on: an interface, multicast or unicast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerPath {
    pub interface: String,
    pub multicast: bool,
    /// None: expected (a heartbeat path, or the main path of a heartbeat
    /// peer) and never heard.
    pub last: Option<Instant>,
    /// Heard nothing for a Master_Down_Interval while another path of the
    /// same peer delivered.
    pub silent: bool,
}

impl PeerPath {
    /// `eth0 multicast`.
    pub fn name(&self) -> String {
        format!(
            "{} {}",
            self.interface,
            if self.multicast { "multicast" } else { "unicast" }
        )
    }
}

/// One peer as this instance knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// Its last priority other than 0.
    pub last_priority: Option<u8>,
    /// Its last advert was priority 0: it is leaving, not holding on.
    pub resigned: bool,
    pub last_heard: Option<Instant>,
    /// When it was first heard after a Master_Down_Interval of silence
    /// (or ever): its paths are judged from then, so a peer that comes
    /// back is not reported with paths silent.
    pub alive_since: Option<Instant>,
    /// A few at most; looked up without allocating, per advert.
    pub paths: Vec<PeerPath>,
}

/// A path of a peer went silent or came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathNews {
    pub peer: IpAddr,
    /// `hb0 unicast`.
    pub path: String,
    pub silent: bool,
    /// How long it had delivered nothing while the peer was heard when it
    /// was found silent.
    pub silent_for: Option<Duration>,
}

/// A split-brain policy's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Stay,
    Demote(String),
    Fault(String),
    Alert(String),
}

impl Decision {
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Stay => "stay",
            Decision::Demote(_) => "demote",
            Decision::Fault(_) => "fault",
            Decision::Alert(_) => "alert",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Stay => None,
            Decision::Demote(r) | Decision::Fault(r) | Decision::Alert(r) => Some(r),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(r) => write!(f, "{}: {r}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

/// Where an evaluation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Idle,
    Probing,
    Deciding(u64),
}

/// An instance's split-brain state.
#[derive(Clone, Debug)]
pub struct Brain {
    pub peers: BTreeMap<IpAddr, Peer>,
    pub answers: Vec<VipAnswer>,
    pub answered_at: Option<Instant>,
    /// The next evaluation (with a split-brain policy).
    pub(crate) next_at: Option<Instant>,
    pub(crate) phase: Phase,
    pub runs: u64,
    pub last_decision: Option<Decision>,
    pub last_error: Option<String>,
    pub claims_refused: u64,
    pub probe_failures: u64,
    /// When the waiting claim's probe was asked for.
    pub(crate) claim_probe_at: Option<Instant>,
    /// What the last claim waited for its probe: the cost of probe before claim.
    pub last_claim_wait: Option<Duration>,
}

impl Brain {
    /// Configured unicast peers are known, not yet heard.
    pub fn new(unicast_peers: &[IpAddr]) -> Brain {
        Brain {
            peers: unicast_peers.iter().map(|a| (*a, Peer::default())).collect(),
            answers: Vec::new(),
            answered_at: None,
            next_at: None,
            phase: Phase::Idle,
            runs: 0,
            last_decision: None,
            last_error: None,
            claims_refused: 0,
            probe_failures: 0,
            claim_probe_at: None,
            last_claim_wait: None,
        }
    }

    /// `peer`'s adverts should also arrive on `interface` (a heartbeat
    /// path, or the main path of a peer that has one): a path never heard
    /// can then be reported silent.
    pub fn expect_path(&mut self, peer: IpAddr, interface: &str, multicast: bool) {
        let p = self.peers.entry(peer).or_default();
        if !p
            .paths
            .iter()
            .any(|x| x.multicast == multicast && x.interface == interface)
        {
            p.paths.push(PeerPath {
                interface: interface.to_string(),
                multicast,
                last: None,
                silent: false,
            });
        }
    }

    /// Forgets the expected paths that are no longer configured and were
    /// never heard (a reload removed the heartbeat).
    pub fn unexpect_paths(&mut self, keep: impl Fn(IpAddr, &PeerPath) -> bool) {
        for (a, p) in &mut self.peers {
            p.paths.retain(|x| x.last.is_some() || keep(*a, x));
        }
    }

    /// An advert from `src` with `priority` arrived on `interface`. Returns
    /// what changed on `src`'s paths: a path that delivered nothing for
    /// `silence` while this one delivers went silent; a silent path that
    /// delivers again is back.
    pub fn heard(
        &mut self,
        now: Instant,
        src: IpAddr,
        priority: u8,
        interface: &str,
        multicast: bool,
        silence: Duration,
    ) -> Vec<PathNews> {
        let p = self.peers.entry(src).or_default();
        // Priority 0 is a resignation, not what it would claim with.
        if priority != 0 {
            p.last_priority = Some(priority);
        }
        p.resigned = priority == 0;
        if p.last_heard
            .is_none_or(|t| now.saturating_duration_since(t) >= silence)
        {
            p.alive_since = Some(now);
        }
        p.last_heard = Some(now);
        let alive = p.alive_since.unwrap_or(now);
        let mut news = Vec::new();
        match p
            .paths
            .iter_mut()
            .find(|x| x.multicast == multicast && x.interface == interface)
        {
            Some(x) => {
                x.last = Some(now);
                if std::mem::take(&mut x.silent) {
                    news.push(PathNews {
                        peer: src,
                        path: x.name(),
                        silent: false,
                        silent_for: None,
                    });
                }
            }
            None => p.paths.push(PeerPath {
                interface: interface.to_string(),
                multicast,
                last: Some(now),
                silent: false,
            }),
        }
        for x in p.paths.iter_mut().filter(|x| !x.silent) {
            let since = now.saturating_duration_since(x.last.map_or(alive, |l| l.max(alive)));
            if since >= silence {
                x.silent = true;
                news.push(PathNews {
                    peer: src,
                    path: x.name(),
                    silent: true,
                    silent_for: Some(since),
                });
            }
        }
        news
    }

    /// The peer that outranks the others: highest remembered priority, ties
    /// by the higher address.
    pub fn strongest(&self) -> Option<(IpAddr, u8)> {
        self.peers
            .iter()
            .filter(|(_, p)| !p.resigned)
            .filter_map(|(a, p)| p.last_priority.map(|prio| (*a, prio)))
            .max_by(|(a1, p1), (a2, p2)| {
                p1.cmp(p2).then_with(|| {
                    if addr_gt(*a1, *a2) {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Less
                    }
                })
            })
    }

    /// Whether a claim by us (`ours` at `primary`) may go ahead given the
    /// answers; `None` when it may, else why not. `master`: the Master we
    /// hear now, if any (within a Master_Down_Interval): then it is the
    /// holder, and VRRP has already judged it (we preempt it or it left).
    /// Without one, adverts are not crossing: the holder is taken to be the
    /// peer that outranks the others by what it last advertised.
    pub fn claim_refusal(&self, ours: u8, primary: IpAddr, master: Option<(IpAddr, u8)>) -> Option<String> {
        let taken = self.answers.iter().find(|a| !a.others.is_empty())?;
        let who = mac_string(&taken.others[0]);
        let holder = match master {
            Some(m) => Some(m),
            None => self.strongest(),
        };
        match holder {
            None => Some(format!(
                "{} is answered by {who}, a holder that is no known peer",
                taken.vip
            )),
            Some((addr, prio)) if prio > ours || (prio == ours && addr_gt(addr, primary)) => Some(format!(
                "{} is answered by {who}; peer {addr} (priority {prio}) outranks us ({ours})",
                taken.vip
            )),
            Some(_) => None,
        }
    }
}
