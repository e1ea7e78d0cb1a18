//! The cross-node check (`baton check lb01.conf lb02.conf ...`): what no
//! single file shows and the seed warns about. The files are taken to be
//! the nodes of one LAN; instances in different files that share a VIP are
//! peers of one virtual router.
//!
//! Errors: peers that differ in VRID, authentication (for HMAC: a signer's
//! key the other lacks, or an enforcing receiver of unsigned adverts),
//! advert interval or VRRP version (their adverts would be dropped or
//! misread); sync groups whose members' priorities cross; two virtual
//! routers sharing a VRID (and family) with different VIP sets; peers whose
//! VIP families differ; a `state MASTER` whose priority does not exceed a
//! `state BACKUP` peer's; unicast peers that do not list each other.
//! Warnings: peers with equal priorities and preemption on (the election
//! falls to the higher address; say so with priorities).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::{InstanceConfig, Placed};

/// One finding, at a key of one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    /// An error (`baton check` fails) or a warning.
    pub error: bool,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.error { "error" } else { "warning" };
        write!(
            f,
            "{}:{}:{}: {kind}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// An instance of one of the files.
struct Inst<'a> {
    node: &'a Placed,
    /// What messages call its file: its name, or its path where two files
    /// of the run share a name.
    file: String,
    i: usize,
    cfg: &'a InstanceConfig,
}

impl Inst<'_> {
    fn vips(&self) -> BTreeSet<IpAddr> {
        self.cfg.vips.iter().map(|v| v.addr).collect()
    }

    /// How messages name it: `VI_1 (lb02.conf)`.
    fn who(&self) -> String {
        format!("{} ({})", self.cfg.name, self.file)
    }

    fn state(&self) -> Option<&str> {
        self.node.states.get(&self.cfg.name).map(String::as_str)
    }
}

/// Every finding across the files, errors and warnings, in file order.
pub fn cross_check(nodes: &[Placed]) -> Vec<Finding> {
    let name = |n: &Placed| {
        let f = n.config.path.file_name().unwrap_or_default();
        f.to_string_lossy().into_owned()
    };
    let label = |n: &Placed| {
        let shared = nodes.iter().filter(|m| name(m) == name(n)).count() > 1;
        if shared {
            n.config.path.display().to_string()
        } else {
            name(n)
        }
    };
    let all: Vec<Inst<'_>> = nodes
        .iter()
        .flat_map(|n| {
            let file = label(n);
            n.config.instances.iter().enumerate().map(move |(i, cfg)| Inst {
                node: n,
                file: file.clone(),
                i,
                cfg,
            })
        })
        .collect();
    let mut out = Vec::new();
    for (a_ix, a) in all.iter().enumerate() {
        for b in &all[a_ix + 1..] {
            if std::ptr::eq(a.node, b.node) {
                continue;
            }
            if a.vips().is_disjoint(&b.vips()) {
                shared_vrid(a, b, &mut out);
            } else {
                peers(a, b, &mut out);
            }
        }
    }
    for (a_ix, a) in nodes.iter().enumerate() {
        for b in &nodes[a_ix + 1..] {
            crossed_groups(&all, a, b, &mut out);
        }
    }
    out.sort_by(|x, y| (&x.path, x.line, x.col).cmp(&(&y.path, y.line, y.col)));
    out.dedup();
    out
}

/// Whether `from`'s adverts pass `to`'s authentication. HMAC's rollout
/// modes may differ between nodes; what matters is that a signed advert
/// carries a key the receiver has, and that an enforcing receiver gets
/// signed adverts.
fn auth_problem(from: &Inst<'_>, to: &Inst<'_>) -> Option<String> {
    use baton_vrrp::{Auth, HmacMode};
    let signer = match &from.cfg.auth {
        Auth::Hmac(h) if h.signs() => Some(h),
        _ => None,
    };
    match (&to.cfg.auth, signer) {
        (Auth::Hmac(g), Some(h)) => {
            let key = h.key(h.active)?;
            (!g.keys.contains(key)).then(|| {
                format!(
                    "{} signs with key {}, which {} does not have (its adverts are dropped: unknown key or bad HMAC)",
                    from.who(),
                    h.active,
                    to.who()
                )
            })
        }
        (Auth::Hmac(g), None) if g.mode == HmacMode::Enforce => Some(format!(
            "{} requires HMAC (mode enforce) and {} sends unsigned adverts (use mode receive-only or permissive while rolling it out)",
            to.who(),
            from.who()
        )),
        (Auth::Hmac(_), None) => None,
        (_, Some(_)) => Some(format!(
            "{} signs its adverts (HMAC) and {} has no auth_hmac: it drops them as too long",
            from.who(),
            to.who()
        )),
        (theirs, None) => match (&from.cfg.auth, theirs) {
            (Auth::Hmac(_), Auth::None) => None,
            (mine, theirs) if mine != theirs => Some("authentication differs (type or password)".to_string()),
            _ => None,
        },
    }
}

/// Sync groups of two nodes whose members are peers, with the higher
/// priority on one node for one member and on the other for another: a
/// group is Master on one node as a whole, so the nodes would take it from
/// each other.
fn crossed_groups(all: &[Inst<'_>], a: &Placed, b: &Placed, out: &mut Vec<Finding>) {
    let of = |n: &Placed, name: &str| all.iter().find(|i| std::ptr::eq(i.node, n) && i.cfg.name == name);
    for ga in &a.config.sync_groups {
        for gb in &b.config.sync_groups {
            let pairs: Vec<(&Inst<'_>, &Inst<'_>)> = ga
                .instances
                .iter()
                .filter_map(|m| of(a, m))
                .filter_map(|x| {
                    let peer = gb
                        .instances
                        .iter()
                        .filter_map(|m| of(b, m))
                        .find(|y| !x.vips().is_disjoint(&y.vips()))?;
                    Some((x, peer))
                })
                .collect();
            let higher = pairs.iter().find(|(x, y)| x.cfg.priority > y.cfg.priority);
            let lower = pairs.iter().find(|(x, y)| x.cfg.priority < y.cfg.priority);
            if let (Some((x1, y1)), Some((x2, y2))) = (higher, lower) {
                out.push(finding(
                    y2,
                    "priority",
                    true,
                    format!(
                        "sync groups {} ({}) and {} ({}) cross: {} is higher on {} ({} > {}) but {} on {} ({} > {}); \
                         a group is Master on one node as a whole, so the nodes would take it from each other \
                         (give one node the higher priority for every member)",
                        ga.name,
                        x1.file,
                        gb.name,
                        y1.file,
                        x1.cfg.name,
                        x1.file,
                        x1.cfg.priority,
                        y1.cfg.priority,
                        y2.cfg.name,
                        y2.file,
                        y2.cfg.priority,
                        x2.cfg.priority
                    ),
                ));
            }
        }
    }
}

fn finding(at: &Inst<'_>, key: &str, error: bool, message: String) -> Finding {
    let (path, line, col) = at.node.at(at.i, key);
    Finding {
        path,
        line,
        col,
        error,
        message,
    }
}

/// Two routers with different VIPs: they must not share a VRID (of a family).
fn shared_vrid(a: &Inst<'_>, b: &Inst<'_>, out: &mut Vec<Finding>) {
    if a.cfg.vrid == b.cfg.vrid && a.cfg.family() == b.cfg.family() {
        out.push(finding(
            b,
            "vrid",
            true,
            format!(
                "{} and {} use VRID {} for different VIPs: on one LAN their adverts collide (give each group its own VRID)",
                a.who(),
                b.who(),
                a.cfg.vrid
            ),
        ));
    }
}

/// Two peers of one router: what must agree, and the priorities.
fn peers(a: &Inst<'_>, b: &Inst<'_>, out: &mut Vec<Finding>) {
    let (x, y) = (a.cfg, b.cfg);
    let pair = format!("{} and {}, peers for {}", a.who(), b.who(), list(&a.vips()));
    let mut mismatch = |key: &str, what: String| out.push(finding(b, key, true, format!("{pair}: {what}")));
    if x.vrid != y.vrid {
        mismatch("vrid", format!("VRID {} and {}", x.vrid, y.vrid));
    }
    if x.family() != y.family() {
        mismatch(
            "vips",
            "VIP families mixed (one router is IPv4 or IPv6, not both)".to_string(),
        );
    }
    if x.version != y.version {
        mismatch("version", format!("VRRP versions {} and {}", ver(x), ver(y)));
    }
    if x.advert_interval != y.advert_interval {
        mismatch(
            "advert_interval",
            format!(
                "advert intervals {:?} and {:?}",
                x.advert_interval, y.advert_interval
            ),
        );
    }
    if let Some(what) = auth_problem(a, b).or_else(|| auth_problem(b, a)) {
        mismatch("auth", what);
    }
    if a.vips() != b.vips() {
        mismatch(
            "vips",
            format!("VIP sets differ: {} and {}", list(&a.vips()), list(&b.vips())),
        );
    }
    priorities(a, b, out);
    unicast(a, b, out);
    unicast(b, a, out);
}

fn priorities(a: &Inst<'_>, b: &Inst<'_>, out: &mut Vec<Finding>) {
    let (x, y) = (a.cfg, b.cfg);
    for (m, k) in [(a, b), (b, a)] {
        if m.state() == Some("MASTER") && k.state() == Some("BACKUP") && m.cfg.priority <= k.cfg.priority {
            out.push(finding(
                m,
                "priority",
                true,
                format!(
                    "{} is `state MASTER` with priority {}, not above its BACKUP {}'s {}: the BACKUP wins the election",
                    m.who(),
                    m.cfg.priority,
                    k.who(),
                    k.cfg.priority
                ),
            ));
        }
    }
    if x.priority == y.priority && (x.preempt || y.preempt) {
        out.push(finding(
            b,
            "priority",
            false,
            format!(
                "{} and {} have the same priority {}: the higher primary address wins, and a returning node preempts \
                 only by address (give the intended master a higher priority, or nopreempt to both)",
                a.who(),
                b.who(),
                x.priority
            ),
        ));
    }
}

/// `a` sends to unicast peers: they must include `b`'s address, if known.
fn unicast(a: &Inst<'_>, b: &Inst<'_>, out: &mut Vec<Finding>) {
    if a.cfg.unicast_peers.is_empty() {
        return;
    }
    let Some(src) = b.cfg.unicast_src else {
        if b.cfg.unicast_peers.is_empty() {
            out.push(finding(
                b,
                "unicast_peers",
                true,
                format!(
                    "{} sends adverts by unicast but {} by multicast: they never hear each other",
                    a.who(),
                    b.who()
                ),
            ));
        }
        return;
    };
    if !a.cfg.unicast_peers.contains(&src) {
        out.push(finding(
            a,
            "unicast_peers",
            true,
            format!(
                "{}'s unicast peers do not list {}'s address {src}",
                a.who(),
                b.who()
            ),
        ));
    }
}

fn ver(i: &InstanceConfig) -> u8 {
    match i.version {
        baton_vrrp::Version::V2 => 2,
        baton_vrrp::Version::V3 => 3,
    }
}

fn list(vips: &BTreeSet<IpAddr>) -> String {
    let v: Vec<String> = vips.iter().map(ToString::to_string).collect();
    v.join(", ")
}
