//! `vrrp_instance NAME { .. }`: one virtual router, with keepalived's
//! defaults (VRRP version 2 unless `vrrp_version` or `version` say
//! otherwise; Accept_Mode unless `vrrp_strict`).

use std::net::IpAddr;
use std::time::Duration;

use baton_vrrp::{Auth, V3Checksum, Version};

use super::Reader;
use super::read::{Arity, split_lines};
use super::script::{Pending, Plan};
use super::tree::Stmt;
use crate::origin::{FieldPath, Item};
use crate::schema::{Key, instance, track, track_interface};
use crate::suggest::closest;
use crate::{
    Builtin, InstanceConfig, InstanceNotify, NotifyCommand, Policy, PolicySource, SplitBrain, Track,
    TrackInterface, Vip,
};

const INSTANCE_ARITY: Arity = &[
    ("state", 1),
    ("interface", 1),
    ("virtual_router_id", 1),
    ("priority", 1),
    ("advert_int", 1),
    ("nopreempt", 0),
    ("preempt", 0),
    ("preempt_delay", 1),
    ("accept", 0),
    ("no_accept", 0),
    ("authentication", 0),
    ("auth_hmac", 0),
    ("virtual_ipaddress", 0),
    ("virtual_ipaddress_excluded", 0),
    ("unicast_src_ip", 1),
    ("mcast_src_ip", 1),
    ("unicast_peer", 0),
    ("track_interface", 0),
    ("track_script", 0),
    ("track_file", 0),
    ("track_process", 0),
    ("notify_master", usize::MAX),
    ("notify_backup", usize::MAX),
    ("notify_fault", usize::MAX),
    ("notify_stop", usize::MAX),
    ("notify", usize::MAX),
    ("smtp_alert", 1),
    ("version", 1),
    ("use_vmac", 1),
    ("vmac_xmit_base", 0),
    ("virtual_routes", 0),
    ("dont_track_primary", 0),
    ("garp_master_delay", 1),
    ("garp_master_repeat", 1),
    ("garp_master_refresh", 1),
    ("garp_interval", 1),
    ("gna_interval", 1),
    ("skip_check_adv_addr", 0),
    ("check_unicast_src", 0),
];

const AUTH_ARITY: Arity = &[("auth_type", 1), ("auth_pass", 1)];

/// Words of a VIP line other than the address, each taking a value.
const VIP_OPTIONS: &[&str] = &["dev", "label", "brd", "scope"];

impl Reader<'_> {
    pub(super) fn instance(&mut self, s: &Stmt) {
        let i = self.instances.len();
        let item = Item::Instance(i);
        let name = self.named(s, item, &instance::NAME);
        let mut inst = InstanceConfig {
            name,
            interface: String::new(),
            vrid: 0,
            priority: 100,
            advert_interval: Duration::from_secs(1),
            version: if self.globals.version == Some(3) {
                Version::V3
            } else {
                Version::V2
            },
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept: !self.globals.strict,
            vips: Vec::new(),
            auth: Auth::None,
            auth_keys: None,
            unicast_src: None,
            unicast_peers: Vec::new(),
            check_unicast_src: true,
            track_interfaces: Vec::new(),
            v3_checksum: V3Checksum::PseudoHeader,
            check_adv_addr: !self.globals.skip_check_adv_addr,
            garp: self.globals.garp4(),
            tracks: Vec::new(),
            split_brain: None,
            heartbeat: Vec::new(),
            notify: InstanceNotify::default(),
            track_primary: true,
            excluded_vips: Vec::new(),
            routes: Vec::new(),
            vmac: None,
        };
        let Some(b) = self.block(s) else {
            self.instances.push(inst);
            return;
        };
        let stmts = split_lines(&b.stmts, INSTANCE_ARITY);
        // The interface first: VIPs default to it.
        for k in stmts.iter().filter(|k| k.key.text == "interface") {
            if let Some(w) = self.one(k) {
                inst.interface = w.text.clone();
                self.place(item, &instance::INTERFACE, w.at, "interface");
            }
        }
        let mut garp = GarpGiven::default();
        for k in &stmts {
            self.instance_key(k, i, &mut inst, &mut garp);
        }
        // After the VRID, which names it by default.
        inst.vmac = self.vmac(&stmts, i, inst.vrid);
        self.auth_hmac(&stmts, i, &mut inst);
        inst.garp = self
            .globals
            .garp_for(inst.vips.first().is_some_and(|v| v.addr.is_ipv6()));
        garp.apply(&mut inst.garp);
        self.instances.push(inst);
    }

    /// Records where a key of an item is and what the text calls it.
    /// A named block (`vrrp_instance NAME {`): where its item is, and its
    /// name, placed as `key` under keepalived's word for the block.
    pub(super) fn named(&mut self, s: &Stmt, item: Item, key: &Key) -> String {
        self.origins.place(FieldPath::item(item), s.key.at);
        let name = self.one_name(s).unwrap_or_default();
        if let Some(w) = s.arg(0) {
            self.place(item, key, w.at, &s.key.text);
        }
        name
    }

    pub(super) fn place(&mut self, item: Item, key: &Key, at: usize, name: &str) {
        let path = FieldPath::key(item, key);
        self.origins.place(path.clone(), at);
        self.origins.name(path, name);
    }

    fn instance_key(&mut self, k: &Stmt, i: usize, inst: &mut InstanceConfig, garp: &mut GarpGiven) {
        let item = Item::Instance(i);
        let key = k.key.text.as_str();
        let at = k.args.first().map_or(k.key.at, |w| w.at);
        match key {
            "interface" => {}
            "state" => {
                if let Some(w) = self.one(k) {
                    if w.text != "MASTER" && w.text != "BACKUP" {
                        self.err(w.at, format!("state: `{}` is not MASTER or BACKUP", w.text));
                    }
                    self.states.insert(inst.name.clone(), w.text.clone());
                    self.note(
                        item,
                        format!(
                            "{}: `state {}` is only where keepalived starts; the highest priority becomes master",
                            inst.name, w.text
                        ),
                    );
                }
            }
            "virtual_router_id" => {
                self.place(item, &instance::VRID, at, key);
                inst.vrid = self.int_of(k, 1, 255).unwrap_or_default() as u8;
            }
            "priority" => {
                self.place(item, &instance::PRIORITY, at, key);
                inst.priority = self.int_of(k, 1, 255).unwrap_or(100) as u8;
            }
            "advert_int" => {
                self.place(item, &instance::ADVERT_INTERVAL, at, key);
                inst.advert_interval = self
                    .timer_of(k, Duration::from_secs(255))
                    .unwrap_or(inst.advert_interval);
            }
            "version" => {
                self.place(item, &instance::VERSION, at, key);
                inst.version = match self.int_of(k, 2, 3) {
                    Some(3) => Version::V3,
                    _ => Version::V2,
                };
            }
            "nopreempt" | "preempt" => {
                self.flag(k);
                self.place(item, &instance::PREEMPT, k.key.at, key);
                inst.preempt = key == "preempt";
            }
            "preempt_delay" => {
                self.place(item, &instance::PREEMPT_DELAY, at, key);
                inst.preempt_delay = self.timer_of(k, Duration::from_secs(1000)).unwrap_or_default();
            }
            "accept" | "no_accept" => {
                self.flag(k);
                self.place(item, &instance::ACCEPT, k.key.at, key);
                inst.accept = key == "accept";
            }
            "authentication" => inst.auth = self.authentication(k, i),
            "virtual_ipaddress" => inst.vips = self.vips(k, i, &inst.interface, &instance::VIPS),
            "virtual_ipaddress_excluded" => {
                inst.excluded_vips = self.vips(k, i, &inst.interface, &instance::EXCLUDED_VIPS)
            }
            "virtual_routes" => inst.routes = self.routes(k, i),
            "use_vmac" | "vmac_xmit_base" | "auth_hmac" => {}
            "unicast_src_ip" | "mcast_src_ip" => {
                self.place(item, &instance::UNICAST_SRC, at, key);
                inst.unicast_src = self.one(k).and_then(|w| self.addr(w, key));
            }
            "unicast_peer" => inst.unicast_peers = self.peers(k, i),
            "track_interface" => inst.track_interfaces = self.track_interfaces(k, i),
            "track_script" | "track_file" | "track_process" => self.tracks(k, i, inst),
            "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify" => {
                self.notify_script(k, inst)
            }
            "smtp_alert" => {
                self.place(item, &instance::SMTP_ALERT, k.key.at, key);
                inst.notify.smtp_alert = self.opt_bool(k);
            }
            "garp_master_delay"
            | "garp_master_repeat"
            | "garp_master_refresh"
            | "garp_interval"
            | "gna_interval" => garp.read(self, k, inst.vips.first().is_some_and(|v| v.addr.is_ipv6())),
            "skip_check_adv_addr" => {
                self.flag(k);
                inst.check_adv_addr = false;
            }
            // Baton's default already; keepalived's is off.
            "check_unicast_src" => self.flag(k),
            "dont_track_primary" => {
                self.flag(k);
                self.place(item, &instance::TRACK_PRIMARY, k.key.at, key);
                inst.track_primary = false;
            }
            _ => self.unknown(k, "vrrp_instance", INSTANCE_ARITY),
        }
    }

    fn addr(&mut self, w: &super::lex::Word, key: &str) -> Option<IpAddr> {
        match w.text.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(w.at, format!("{key}: `{}` is not an IP address", w.text));
                None
            }
        }
    }

    /// `authentication { auth_type PASS; auth_pass SECRET }`.
    fn authentication(&mut self, k: &Stmt, i: usize) -> Auth {
        self.no_more(k, 0);
        self.place(Item::Instance(i), &instance::AUTH, k.key.at, "authentication");
        self.origins.place(FieldPath::item(Item::Auth(i)), k.key.at);
        let Some(b) = self.block(k) else { return Auth::None };
        let (mut kind, mut pass) = (None, None);
        for a in split_lines(&b.stmts, AUTH_ARITY) {
            match a.key.text.as_str() {
                "auth_type" => kind = self.one(&a).cloned(),
                "auth_pass" => pass = self.one(&a).cloned(),
                _ => self.unknown(&a, "authentication", AUTH_ARITY),
            }
        }
        match (kind, pass) {
            (Some(t), Some(p)) if t.text == "PASS" => match Auth::pass(&p.text) {
                Ok(a) => a,
                Err(_) if p.text.is_empty() => {
                    self.err(p.at, "auth_pass: cannot be empty (1 to 8 bytes)");
                    Auth::None
                }
                Err(_) => {
                    let cut = String::from_utf8_lossy(&p.text.as_bytes()[..8]).into_owned();
                    self.err(
                        p.at,
                        format!(
                            "auth_pass: {} bytes; VRRPv2 carries at most 8 (keepalived silently uses only {cut:?}: write that)",
                            p.text.len()
                        ),
                    );
                    Auth::None
                }
            },
            (Some(t), _) if t.text == "AH" => {
                self.err(
                    t.at,
                    "auth_type AH is not supported (RFC 3768 removed it; use PASS)",
                );
                Auth::None
            }
            (Some(t), _) if t.text != "PASS" => {
                self.err(t.at, format!("auth_type: `{}` is not PASS or AH", t.text));
                Auth::None
            }
            (Some(_), None) => {
                self.err(k.key.at, "authentication: auth_type PASS without auth_pass");
                Auth::None
            }
            (None, _) => {
                self.err(k.key.at, "authentication: without auth_type");
                Auth::None
            }
            _ => Auth::None,
        }
    }

    /// `use_vmac [NAME]` and `vmac_xmit_base`, wherever they are in the block.
    fn vmac(&mut self, stmts: &[Stmt], i: usize, vrid: u8) -> Option<crate::Vmac> {
        let mut out: Option<crate::Vmac> = None;
        let mut xmit_base = None;
        for k in stmts {
            match k.key.text.as_str() {
                "use_vmac" => {
                    self.no_block(k);
                    self.no_more(k, 1);
                    self.place(Item::Instance(i), &instance::USE_VMAC, k.key.at, "use_vmac");
                    let name = match k.args.first() {
                        None => crate::Vmac::default_name(vrid),
                        Some(w) => match crate::vip::ifname_problem(&w.text) {
                            None => w.text.clone(),
                            Some(p) => {
                                self.err(w.at, format!("use_vmac: {p}"));
                                continue;
                            }
                        },
                    };
                    out = Some(crate::Vmac {
                        name,
                        xmit_base: false,
                    });
                }
                "vmac_xmit_base" => {
                    self.flag(k);
                    self.place(
                        Item::Instance(i),
                        &instance::VMAC_XMIT_BASE,
                        k.key.at,
                        "vmac_xmit_base",
                    );
                    xmit_base = Some(k.key.at);
                }
                _ => {}
            }
        }
        match (&mut out, xmit_base) {
            (Some(v), Some(_)) => v.xmit_base = true,
            (None, Some(at)) => self.err(
                at,
                "`vmac_xmit_base` without `use_vmac`: there is no macvlan to bypass",
            ),
            _ => {}
        }
        out
    }

    /// `virtual_routes { [src ADDR] [to] PREFIX [via ADDR] [dev IF] .. }`.
    fn routes(&mut self, k: &Stmt, i: usize) -> Vec<crate::Route> {
        let item = Item::Instance(i);
        self.place(item, &instance::ROUTES, k.key.at, "virtual_routes");
        let mut out = Vec::new();
        for line in self.items(k) {
            let text: Vec<&str> = std::iter::once(&line.key)
                .chain(&line.args)
                .map(|w| w.text.as_str())
                .collect();
            match crate::parse_route(&text.join(" ")) {
                Ok(r) => {
                    let path = FieldPath::index(item, &instance::ROUTES, out.len());
                    self.origins.place(path.clone(), line.key.at);
                    self.origins.name(path, "virtual_routes");
                    out.push(r);
                }
                Err(e) => self.err(line.key.at, format!("virtual_routes: {e}")),
            }
        }
        out
    }

    /// `virtual_ipaddress { ADDR[/LEN] [dev IF] [label L] [brd B] [scope S] }`
    /// (and `virtual_ipaddress_excluded`, the same lines).
    fn vips(&mut self, k: &Stmt, i: usize, interface: &str, key: &Key) -> Vec<Vip> {
        let item = Item::Instance(i);
        let name = k.key.text.clone();
        self.place(item, key, k.key.at, &name);
        let mut out = Vec::new();
        for line in self.items(k) {
            let mut words = vec![line.key.clone()];
            words.extend(line.args.iter().cloned());
            let mut kept = vec![words[0].text.clone()];
            let mut j = 1;
            while j < words.len() {
                let opt = words[j].text.as_str();
                let Some(value) = words.get(j + 1) else {
                    self.err(words[j].at, format!("{name}: `{opt}` needs a value"));
                    break;
                };
                match opt {
                    "dev" | "label" | "brd" | "broadcast" | "scope" => {
                        kept.extend([opt.to_string(), value.text.clone()])
                    }
                    _ => {
                        let near = closest(opt, VIP_OPTIONS)
                            .map(|n| format!(" (did you mean `{n}`?)"))
                            .unwrap_or_default();
                        self.err(
                            words[j].at,
                            format!("{name}: `{opt}` is no option of an address{near}"),
                        );
                    }
                }
                j += 2;
            }
            let path = FieldPath::index(item, key, out.len());
            match crate::parse_vip(&kept.join(" "), interface) {
                Ok(v) => {
                    self.origins.place(path.clone(), line.key.at);
                    self.origins.name(path, &name);
                    out.push(v);
                }
                Err((_, e)) => self.err(line.key.at, format!("{name}: {e}")),
            }
        }
        out
    }

    fn peers(&mut self, k: &Stmt, i: usize) -> Vec<IpAddr> {
        let item = Item::Instance(i);
        self.place(item, &instance::UNICAST_PEERS, k.key.at, "unicast_peer");
        let mut out = Vec::new();
        for line in self.items(k) {
            self.no_more(line, 0);
            if let Some(a) = self.addr(&line.key, "unicast_peer") {
                let path = FieldPath::index(item, &instance::UNICAST_PEERS, out.len());
                self.origins.place(path.clone(), line.key.at);
                self.origins.name(path, "unicast_peer");
                out.push(a);
            }
        }
        out
    }

    /// `track_interface { eth1 [weight N] .. }`: each link placed at its
    /// line, a weight at its number.
    pub(super) fn track_interfaces(&mut self, k: &Stmt, i: usize) -> Vec<TrackInterface> {
        self.place(
            Item::Instance(i),
            &instance::TRACK_INTERFACES,
            k.key.at,
            "track_interface",
        );
        let mut out = Vec::new();
        for line in self.items(k) {
            let weight = match line.args.first().map(|w| w.text.as_str()) {
                None => 0,
                Some("weight") => {
                    self.no_more(line, 2);
                    let Some(w) = line.args.get(1) else {
                        self.err(line.key.at, "weight: needs a number");
                        continue;
                    };
                    let item = Item::TrackInterface(i, out.len());
                    self.place(item, &track_interface::WEIGHT, w.at, "weight");
                    let Some(n) = self.int(w, "weight", -254, 254) else {
                        continue;
                    };
                    n as i32
                }
                Some(other) => {
                    self.err(
                        line.args[0].at,
                        format!("`{other}`: expected `weight N` after the interface"),
                    );
                    continue;
                }
            };
            let path = FieldPath::index(Item::Instance(i), &instance::TRACK_INTERFACES, out.len());
            self.origins.place(path.clone(), line.key.at);
            self.origins.name(path, "track_interface");
            out.push(TrackInterface {
                name: line.key.text.clone(),
                weight,
            });
        }
        out
    }

    /// `track_script { NAME [weight N] .. }` (and track_file, track_process).
    pub(super) fn tracks(&mut self, k: &Stmt, i: usize, inst: &mut InstanceConfig) {
        let kind = k.key.text.clone();
        for line in self.items(k) {
            let name = line.key.text.clone();
            let Some(t) = self.scripts.by_name.get(&name).cloned() else {
                let names: Vec<&str> = self.scripts.order.iter().map(String::as_str).collect();
                let near = closest(&name, &names)
                    .map(|n| format!(" (did you mean `{n}`?)"))
                    .unwrap_or_default();
                let decl = kind.replace("track_", "vrrp_");
                let decl = if decl == "vrrp_script" {
                    decl
                } else {
                    format!("vrrp_track_{}", &kind[6..])
                };
                self.err(line.key.at, format!("{kind} `{name}` names no {decl}{near}"));
                continue;
            };
            let weight = self.track_weight(line).unwrap_or(t.weight);
            if let Some(Plan::SplitBrain { peer, port, vip }) = &t.plan {
                // Placed once every instance is read (`node_wide_scripts`).
                self.pending.push(Pending::Brain {
                    name: name.clone(),
                    peer: peer.clone(),
                    port: *port,
                    vip: *vip,
                    every: t.interval,
                    by: i,
                    at: line.key.at,
                });
                continue;
            }
            let Some(_) = self.check_for(&name) else { continue };
            let faults = matches!(t.plan, Some(Plan::Health { faults: true, .. }));
            let weight = if faults && weight != 0 {
                self.note(
                    Item::Track(i, inst.tracks.len()),
                    format!(
                        "{name}: the script stops keepalived when it fails, so every instance of this node goes \
                         to FAULT (its weight {weight} does not apply: stopping keepalived gives the VIPs up \
                         whatever the weight)"
                    ),
                );
                0
            } else {
                weight
            };
            let j = inst.tracks.len();
            self.origins
                .place(FieldPath::item(Item::Track(i, j)), line.key.at);
            self.origins
                .place(FieldPath::key(Item::Track(i, j), &track::CHECK), line.key.at);
            let track = Track {
                policy: name.clone(),
                check: Some(name),
                interval: t.interval,
                timeout: t.timeout.unwrap_or(t.interval),
                weight,
                rise: t.rise,
                fall: t.fall,
                init_fail: t.init_fail,
                config: Default::default(),
            };
            if faults {
                self.pending.push(Pending::Fault {
                    track: track.clone(),
                    by: i,
                    at: line.key.at,
                });
            }
            inst.tracks.push(track);
        }
    }

    /// What the seed's scripts decide for the whole node (they stop
    /// keepalived), once every instance is read: a FAULT track goes to every
    /// instance, and check_brain.sh to the instances holding the VIP it
    /// watches (else to the instance that tracks it).
    pub(super) fn node_wide_scripts(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Fault { track, by, at } => self.fault_everywhere(&track, by, at),
                Pending::Brain {
                    name,
                    peer,
                    port,
                    vip,
                    every,
                    by,
                    at,
                } => {
                    let holding: Vec<usize> = (0..self.instances.len())
                        .filter(|&j| vip.is_some_and(|v| self.instances[j].vips.iter().any(|x| x.addr == v)))
                        .collect();
                    let targets = if holding.is_empty() { vec![by] } else { holding };
                    for j in targets {
                        if self.instances[j].split_brain.is_some() {
                            continue;
                        }
                        let mut inst = self.instances[j].clone();
                        let moved = (j != by).then(|| (self.instances[by].name.clone(), vip));
                        self.split_brain(j, &mut inst, &name, &peer, port, every, at, moved);
                        self.instances[j] = inst;
                    }
                }
            }
        }
    }

    /// `track` (a FAULT track of instance `by`) on every other instance too.
    fn fault_everywhere(&mut self, track: &Track, by: usize, at: usize) {
        let name = track.name().to_string();
        for j in 0..self.instances.len() {
            if j == by || self.instances[j].tracks.iter().any(|t| t.name() == name) {
                continue;
            }
            let k = self.instances[j].tracks.len();
            self.origins.place(FieldPath::item(Item::Track(j, k)), at);
            self.origins
                .place(FieldPath::key(Item::Track(j, k), &track::CHECK), at);
            self.instances[j].tracks.push(track.clone());
            let note = format!(
                "{name}: tracked by {} in the file; the script stops keepalived when it fails, which gives up \
                 this instance's VIPs too: FAULT here as well",
                self.instances[by].name
            );
            self.note(Item::Track(j, k), note);
        }
    }

    /// A `weight N` after a tracked name overrides the tracker's.
    fn track_weight(&mut self, line: &Stmt) -> Option<i32> {
        match line.args.first().map(|w| w.text.as_str()) {
            None => None,
            Some("weight") => {
                self.no_more(line, 2);
                let w = line.args.get(1);
                match w {
                    Some(w) => self.int(w, "weight", -253, 253).map(|n| n as i32),
                    None => {
                        self.err(line.key.at, "weight: needs a number");
                        None
                    }
                }
            }
            Some(other) => {
                self.err(
                    line.args[0].at,
                    format!("`{other}`: expected `weight N` after the name"),
                );
                None
            }
        }
    }

    /// `moved`: the instance that tracks the script and the VIP it watches,
    /// when the policy goes to another instance (the one with that VIP).
    #[allow(clippy::too_many_arguments)]
    fn split_brain(
        &mut self,
        i: usize,
        inst: &mut InstanceConfig,
        name: &str,
        peer: &str,
        port: u16,
        every: Duration,
        at: usize,
        moved: Option<(String, Option<IpAddr>)>,
    ) {
        let p = self.policies.len();
        self.origins.place(FieldPath::item(Item::Policy(p)), at);
        let policy = format!("{}-{name}", inst.name);
        self.policies.push(Policy {
            name: policy.clone(),
            source: PolicySource::Builtin(Builtin::SplitBrainPeerHttp),
            sha256: None,
            config: [("port".to_string(), port.to_string())].into(),
            allow: vec![format!("{peer}:{port}")],
            allow_files: Vec::new(),
            remedies: Vec::new(),
        });
        self.origins.place(FieldPath::item(Item::SplitBrain(i)), at);
        inst.split_brain = Some(SplitBrain {
            policy,
            interval: every,
        });
        let here = match moved {
            Some((by, Some(vip))) => {
                format!(" (tracked by {by} in the file; it watches {vip}, a VIP of this instance)")
            }
            _ => String::new(),
        };
        self.note(
            Item::SplitBrain(i),
            format!(
                "{name}: the seed's check_brain.sh (stop keepalived when the peer at {peer}:{port} still serves \
                 while this node holds the VIP) is builtin:split-brain-peer-http, which demotes this instance \
                 instead{here}"
            ),
        );
    }

    /// `notify_master "/path/script args"`: a `[[notify.command]]` the
    /// instance names.
    fn notify_script(&mut self, k: &Stmt, inst: &mut InstanceConfig) {
        let i = self.instances.len();
        self.notify_command(k, Item::Instance(i), &inst.name, &mut inst.notify);
    }

    /// A `notify_*` script of an instance or a sync group (`item`, named
    /// `owner`): a `[[notify.command]]` named `OWNER-KEY`, set in `notify`.
    pub(super) fn notify_command(&mut self, k: &Stmt, item: Item, owner: &str, notify: &mut InstanceNotify) {
        self.no_block(k);
        let key = k.key.text.as_str();
        let Some(first) = k.args.first() else {
            self.err(k.key.at, format!("`{key}` needs a script"));
            return;
        };
        let text: Vec<&str> = k.args.iter().map(|w| w.text.as_str()).collect();
        let argv = match super::script::split_script(&text.join(" ")) {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => return self.err(first.at, format!("{key}: empty")),
            Err(why) => return self.err(first.at, format!("{key}: {why}")),
        };
        let name = format!("{owner}-{key}");
        let c = self.commands.len();
        self.origins
            .place(FieldPath::item(Item::NotifyCommand(c)), first.at);
        self.commands.push(NotifyCommand {
            name: name.clone(),
            command: argv,
            timeout: Duration::from_secs(10),
        });
        let (slot, schema_key) = match key {
            "notify_master" => (&mut notify.master, &instance::NOTIFY_MASTER),
            "notify_backup" => (&mut notify.backup, &instance::NOTIFY_BACKUP),
            "notify_fault" => (&mut notify.fault, &instance::NOTIFY_FAULT),
            "notify_stop" => (&mut notify.stop, &instance::NOTIFY_STOP),
            _ => (&mut notify.any, &instance::NOTIFY),
        };
        *slot = Some(name);
        self.place(item, schema_key, first.at, key);
    }
}

/// An instance's own garp_* settings, applied over the globals'.
#[derive(Default)]
struct GarpGiven {
    delay: Option<Duration>,
    repeat: Option<u32>,
    refresh: Option<Duration>,
    interval: Option<Duration>,
}

impl GarpGiven {
    fn read(&mut self, rd: &mut Reader<'_>, k: &Stmt, v6: bool) {
        match k.key.text.as_str() {
            "garp_master_delay" => self.delay = rd.int_of(k, 0, 1000).map(|n| Duration::from_secs(n as u64)),
            "garp_master_repeat" => self.repeat = rd.int_of(k, 1, 255).map(|n| n as u32),
            "garp_master_refresh" => {
                self.refresh = rd.int_of(k, 0, 86_400).map(|n| Duration::from_secs(n as u64))
            }
            // The family's own interval wins: garp_ for IPv4, gna_ for IPv6.
            "garp_interval" => {
                let d = rd.timer_of(k, Duration::from_secs(1));
                if !v6 {
                    self.interval = d;
                }
            }
            _ => {
                let d = rd.timer_of(k, Duration::from_secs(1));
                if v6 {
                    self.interval = d;
                }
            }
        }
    }

    fn apply(&self, g: &mut crate::Garp) {
        if let Some(d) = self.delay {
            g.delay = d;
        }
        if let Some(r) = self.repeat {
            g.repeat = r;
        }
        if let Some(r) = self.refresh {
            g.refresh = r;
        }
        if let Some(i) = self.interval {
            g.interval = i;
        }
    }
}
