//! baton-config: Baton's configuration as a typed model, its one
//! validation, and its front ends (TOML today; keepalived.conf next). No I/O
//! beyond reading the config file (and looking for the policy files it names).
//!
//! How the parts fit:
//!
//! - The model: [`Config`] and the types it holds, what the daemon runs.
//!   [`Builtin`] names the builtin policies; [`Policy::declared_targets`],
//!   [`Policy::net_grants`] and [`merge_settings`] say what a policy may reach.
//! - The schema (`schema`): every key of every section, declared once: its
//!   name, the kind of value it takes, its default, its range or unit, and
//!   keepalived's name for it. Front ends read keys through it, the
//!   validation takes its ranges from it.
//! - The front ends (`front`): TOML (`front::toml`) checks only what is
//!   about TOML (syntax, the type of each value, unknown keys with
//!   did-you-mean and keepalived hints, values that do not convert into the
//!   model's types), builds a draft of the model, and records where in the
//!   text each place of the model is (`origin`). A keepalived.conf front
//!   end will build the same model and record its own places.
//! - The validation (`validate`): the one semantic check of the model,
//!   whatever its front end: ranges, address families, the VIP rules, names,
//!   VRIDs and VIPs unique across instances, the references between tracks,
//!   checks, policies and remedies, split-brain policies apart from health
//!   checks, heartbeat paths apart from the main path, and a component's `allow` against the targets its settings
//!   name. It reports at places of the model (instance #3 key `vrid`), which
//!   the front end maps back to its line and column.
//! - The emitter (`emit`): the model written back as TOML ([`to_toml`]),
//!   in the layout of the examples, with only the keys that are not their
//!   defaults: what `baton convert` prints for another front end's model.
//! - One home each: durations ([`duration`]), VIP syntax ([`parse_vip`]),
//!   route syntax and `use_vmac` ([`parse_route`], [`Vmac`]: which device
//!   each held address goes on, where adverts go),
//!   network patterns, targets and sha256 digests (`net`: [`NetPattern`],
//!   [`Target`], [`parse_sha256`]), builtin names ([`Builtin`]).
//!
//! Every mistake is an error, never a warning, reported as
//! `FILE:LINE:COL: message` with the 1-based line and column (in characters)
//! of the offending key or value. The parser reports every error it finds, not
//! just the first: all syntax errors toml can recover from, or, when the syntax
//! is good, every semantic error in the file.
//!
//! Relative paths in a config file (`socket`, `log_file`, `policy_cache`, a
//! policy `source`) are relative to the directory of the config file.
//!
//! A policy may come from an OCI registry ([`OciRef`]), by the component's
//! digest or by a tag with a `sha256` pin; it is cached by digest in
//! `policy_cache` (default [`DEFAULT_POLICY_CACHE`]) so the daemon starts
//! without the registry. `insecure_registries` lists the `HOST[:PORT]`s
//! spoken to over plain HTTP.
//!
//! ```toml
//! policy_cache = "/var/cache/baton/policies"
//! insecure_registries = ["127.0.0.1:5000"]
//!
//! [[policy]]
//! name = "web"
//! source = "oci://127.0.0.1:5000/baton/web:1.0"
//! sha256 = "..."                                # required with a tag
//! ```
//!
//! ```toml
//! router_id = "lb01"
//!
//! [[instance]]
//! name = "VI_1"
//! interface = "eth0"
//! vrid = 50
//! priority = 150
//! version = 2
//! vips = ["192.0.2.3/24 dev eth0 label eth0:1"]
//! auth = { type = "pass", password = "1111" }
//! ```
//!
//! Adverts that prove who sent them (HMAC-SHA256, keepalived's `auth_hmac`
//! wire format, v2 and v3), and unicast peers that are the only sources
//! heard:
//!
//! ```toml
//! [[instance]]
//! # ...
//! unicast_peers = ["192.0.2.12"]   # others are dropped (check_unicast_src = true, the default)
//! auth = { type = "hmac", key_file = "/etc/baton/vrrp.key" }   # mode 0600: one hex key, or lines `ID HEX`
//! # with several keys: active = 2; mode = "enforce" | "permissive" | "receive-only";
//! # anti_replay = "time" | "monotonic"; time_window = "5s"
//! # keepalived's `key ID VALUE` lines instead of key_file: keys = ["1 file:/etc/keepalived/vrrp51", "2 hex:.."]
//! ```
//!
//! Health checks are WebAssembly policies, tracked by instances:
//!
//! ```toml
//! [[remedy]]
//! name = "restart-nginx"
//! command = ["systemctl", "restart", "nginx"]   # argv, no shell
//! timeout = "10s"                               # the default
//! user = "www-data"                             # optional, keepalived's script_user
//! group = "www-data"                            # optional; default the user's group
//!
//! [[policy]]
//! name = "web"
//! source = "builtin:http-status"                # or a .wasm file; sha256 = "..." pins it
//! config = { expect = 200 }
//! allow = ["127.0.0.1:80", "192.0.2.0/24:8080"] # what else it may probe
//! allow_files = ["/run/app/weight"]             # what it may read
//! remedies = ["restart-nginx"]                  # what it may run
//!
//! [[instance.track]]                            # inside an [[instance]]
//! policy = "web"
//! interval = "20ms"                             # 10ms at least; after the last run ends
//! timeout = "20ms"                              # the evaluation's budget (default: interval)
//! weight = -60                                  # 0: FAULT while failed
//! rise = 2
//! fall = 1
//! init_fail = false
//! config = { url = "http://127.0.0.1:80/" }     # merged over the policy's config
//! ```
//!
//! `builtin:exec` is keepalived's `vrrp_script` as it was: it runs the
//! remedy its `remedy` setting names and is healthy iff it exits 0. The
//! keepalived.conf front end makes one for a script that matches no other
//! builtin only when [`LoadOptions::allow_exec`] says so (`--allow-exec`;
//! `baton convert` always, since the TOML then states it).
//!
//! A builtin may reach the targets its own settings name (http-status's
//! `url`, tcp-port's `host` and `port`: [`Policy::declared_targets`],
//! [`Policy::net_grants`]) without an `allow`; a component from a file
//! reaches only what its `allow` covers, and `baton check` reports a
//! `url` or `host` and `port` of its settings that the `allow` does not
//! cover. Targets are literal addresses or `localhost`: no DNS.
//!
//! A check declared once for the node, tracked by many instances (like
//! keepalived's `vrrp_script`; evaluated once per interval however many
//! instances track it, each applying it with its own weight, rise and fall):
//!
//! ```toml
//! [[check]]
//! name = "web"
//! policy = "web"
//! interval = "20ms"
//! config = { url = "http://127.0.0.1:80/" }
//!
//! [[instance.track]]                            # in as many instances as like
//! check = "web"
//! weight = -60
//! fall = 2
//! ```
//!
//! Links and sync groups (keepalived's `track_interface`,
//! `dont_track_primary` and `vrrp_sync_group`):
//!
//! ```toml
//! [[instance]]                                  # name = "VI_1", ...
//! track_interfaces = ["eth1", { name = "eth2", weight = -20 }]  # 0 or none: FAULT while down
//! track_primary = false                         # its own interface going down is no FAULT
//!
//! [[sync_group]]                                # its members change state together
//! name = "G1"
//! instances = ["VI_1", "VI_2"]
//! notify_master = "to-master"                   # a [[notify.command]], run once for the group
//! tracking_weight = true                        # members' weights apply (else: an error)
//! ```

mod builtin;
mod cross;
pub mod duration;
mod emit;
mod front;
mod net;
mod notify;
mod oci;
mod origin;
mod schema;
pub mod secret;
mod suggest;
mod targets;
mod validate;
mod vip;
mod vmac;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use baton_vrrp::Family;
use baton_vrrp::{Auth, V3Checksum, Version};

pub use builtin::Builtin;
pub use cross::{Finding, cross_check};
pub use net::{NetPattern, Target, parse_sha256};
pub use notify::{EMAIL_SINK, Hook, InstanceNotify, Notify, NotifyCommand, SmtpServer, SmtpTls, Webhook};
pub use oci::{OciRef, OciTarget, digest_string, parse_registry};
pub use targets::{DeclaredTarget, merge_settings};
pub use vip::parse_vip;
pub use vmac::{Route, Vmac, parse_route, scope_name};

/// Where the control socket lives unless the config or `--socket` say otherwise.
pub const DEFAULT_SOCKET: &str = "/run/baton/baton.sock";

/// Where policies pulled from a registry are kept by digest (`policy_cache`).
pub const DEFAULT_POLICY_CACHE: &str = "/var/cache/baton/policies";

/// The names of the policies built into the binary ([`Builtin::all`]),
/// written `builtin:NAME` in `source`.
pub const BUILTIN_POLICIES: &[&str] = &builtin::NAMES;

/// A validated configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from (as given).
    pub path: PathBuf,
    /// The language it was written in (a reload reads it the same way).
    pub format: Format,
    /// `router_id`, or the host name.
    pub router_id: String,
    pub socket: PathBuf,
    pub log_file: Option<PathBuf>,
    /// `policy_cache`: policies pulled from registries, by digest.
    pub policy_cache: PathBuf,
    /// `startup_delay` (keepalived's `vrrp_startup_delay`): how long the
    /// daemon waits before its instances start (a network slow at boot).
    pub startup_delay: Duration,
    /// `insecure_registries`: registries (`HOST[:PORT]`) spoken to over plain
    /// HTTP instead of HTTPS.
    pub insecure_registries: Vec<String>,
    /// The global `[garp]` defaults (each instance has its own, merged, copy).
    pub garp: Garp,
    pub policies: Vec<Policy>,
    /// `[[check]]`: health checks run once per node, tracked by many instances.
    pub checks: Vec<Check>,
    /// `[[remedy]]`: commands a policy may run by name.
    pub remedies: Vec<Remedy>,
    /// `[notify]`: mail, webhooks, notify commands, the transition hook.
    pub notify: Notify,
    pub instances: Vec<InstanceConfig>,
    /// `[[sync_group]]`: instances that change state together.
    pub sync_groups: Vec<SyncGroup>,
}

impl Config {
    /// The sync group `instance` is a member of.
    pub fn sync_group_of(&self, instance: &str) -> Option<&SyncGroup> {
        self.sync_groups
            .iter()
            .find(|g| g.instances.iter().any(|i| i == instance))
    }

    pub fn remedy(&self, name: &str) -> Option<&Remedy> {
        self.remedies.iter().find(|r| r.name == name)
    }

    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    pub fn instance(&self, name: &str) -> Option<&InstanceConfig> {
        self.instances.iter().find(|i| i.name == name)
    }
}

/// Gratuitous ARP / unsolicited neighbour advertisement after becoming Master
/// (keepalived's `vrrp_garp_*` settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Garp {
    /// When to send the second burst after becoming Master; zero: no second
    /// burst (`vrrp_garp_master_delay`, default 5 s).
    pub delay: Duration,
    /// Announcements per burst (`vrrp_garp_master_repeat`, default 5).
    pub repeat: u32,
    /// Pause between announcements of a burst (`vrrp_garp_interval`,
    /// `vrrp_gna_interval`, default 0).
    pub interval: Duration,
    /// Re-announce this often while Master; zero: never
    /// (`vrrp_garp_master_refresh`, default 0).
    pub refresh: Duration,
}

impl Default for Garp {
    fn default() -> Garp {
        Garp {
            delay: Duration::from_secs(5),
            repeat: 5,
            interval: Duration::ZERO,
            refresh: Duration::ZERO,
        }
    }
}

/// Where a policy's WebAssembly component comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// `builtin:NAME`: shipped in the binary.
    Builtin(Builtin),
    /// A component file, resolved against the config file's directory.
    Path(PathBuf),
    /// `oci://HOST/REPO@sha256:...` or `oci://HOST/REPO:TAG` (with a
    /// `sha256` pin): a component in an OCI registry, cached by digest.
    Oci(OciRef),
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Builtin(name) => write!(f, "builtin:{name}"),
            PolicySource::Path(p) => write!(f, "{}", p.display()),
            PolicySource::Oci(r) => write!(f, "{r}"),
        }
    }
}

/// A `[[policy]]`: a named WebAssembly policy and the key/values it is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub source: PolicySource,
    /// The digest the component must have, when pinned. (An `oci://` source
    /// at a digest is pinned by it: see [`Policy::pin`].)
    pub sha256: Option<[u8; 32]>,
    /// Integers and booleans are kept in their TOML text form (`80`, `true`).
    pub config: BTreeMap<String, String>,
    /// `allow`: network targets the policy may probe (`127.0.0.1:80`,
    /// `192.0.2.0/24:8080`, `[::1]:*`, `localhost:80`), as written.
    pub allow: Vec<String>,
    /// `allow_files`: absolute paths the policy may read.
    pub allow_files: Vec<String>,
    /// `remedies`: names of `[[remedy]]` tables the policy may run.
    pub remedies: Vec<String>,
}

/// A `[[remedy]]`: a command run without a shell when a policy asks for it by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remedy {
    pub name: String,
    /// Program and arguments (argv; no shell).
    pub command: Vec<String>,
    /// Killed (with its process group) after this long (default 10 s).
    pub timeout: Duration,
    /// Runs as this user (keepalived's `script_user`), supplementary groups
    /// cleared; `None`: as the daemon. Looked up by the daemon at load.
    pub user: Option<String>,
    /// With `user`: this group instead of the user's primary group.
    pub group: Option<String>,
}

/// One virtual address (keepalived `virtual_ipaddress` syntax).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Vip {
    pub addr: IpAddr,
    /// Default /32 (IPv4) or /128 (IPv6), as keepalived.
    pub prefix_len: u8,
    /// The device to configure it on; defaults to the instance's interface.
    pub dev: String,
    /// IPv4 only: the address label (`eth0:1`), which starts with `dev`.
    pub label: Option<String>,
    /// IPv4 only: `brd ADDR`, the broadcast address.
    pub brd: Option<Ipv4Addr>,
    /// `scope S` as a number (global 0 .. nowhere 255); `None`: global.
    pub scope: Option<u8>,
}

impl fmt::Display for Vip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} dev {}", self.addr, self.prefix_len, self.dev)?;
        if let Some(label) = &self.label {
            write!(f, " label {label}")?;
        }
        if let Some(brd) = &self.brd {
            write!(f, " brd {brd}")?;
        }
        if let Some(scope) = self.scope {
            write!(f, " scope {}", scope_name(scope))?;
        }
        Ok(())
    }
}

/// One `[[instance]]`: a virtual router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceConfig {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub priority: u8,
    pub advert_interval: Duration,
    pub version: Version,
    pub preempt: bool,
    pub preempt_delay: Duration,
    /// Accept_Mode. Default true (keepalived without `vrrp_strict`); false
    /// drops traffic to the VIPs unless this node is their owner (priority
    /// 255), with an nftables table (`inet baton`).
    pub accept: bool,
    /// At least one, all of one family.
    pub vips: Vec<Vip>,
    pub auth: Auth,
    /// Where HMAC keys were read from; read again at every reload.
    pub auth_keys: Option<KeySource>,
    /// Source address of adverts; `None`: the interface's primary address.
    pub unicast_src: Option<IpAddr>,
    /// Send adverts to these instead of the multicast group (when not empty).
    pub unicast_peers: Vec<IpAddr>,
    /// With unicast peers, drop adverts from any other source (default
    /// true; keepalived's `check_unicast_src`, which is off there).
    pub check_unicast_src: bool,
    /// Links tracked besides `interface` itself (not repeated here): a
    /// down one means FAULT, or moves the priority by its weight.
    pub track_interfaces: Vec<TrackInterface>,
    pub v3_checksum: V3Checksum,
    pub check_adv_addr: bool,
    /// `[garp]` with this instance's `garp` overrides applied.
    pub garp: Garp,
    pub tracks: Vec<Track>,
    pub split_brain: Option<SplitBrain>,
    /// Extra advert paths (`[[instance.heartbeat]]`), Baton's own extension.
    pub heartbeat: Vec<Heartbeat>,
    /// `smtp_alert` and the `notify_*` commands.
    pub notify: InstanceNotify,
    /// Whether its own interface going down means FAULT (keepalived's
    /// `dont_track_primary` is `false`). Default true.
    pub track_primary: bool,
    /// Configured with the VIPs but not carried in adverts (keepalived's
    /// `virtual_ipaddress_excluded`): any number, any family.
    pub excluded_vips: Vec<Vip>,
    /// Routes held while Master (keepalived's `virtual_routes`).
    pub routes: Vec<Route>,
    /// `use_vmac`: a macvlan with the virtual MAC that holds the VIPs.
    pub vmac: Option<Vmac>,
}

/// Where an instance's HMAC keys come from, to write them back and to read
/// them again at a reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `key_file`: Baton's keyring (one hex key, or lines `ID HEX`).
    Keyring(PathBuf),
    /// keepalived's `key ID VALUE` lines (TOML `keys = ["ID VALUE", ..]`).
    Each(Vec<KeyLine>),
}

/// One `key ID VALUE` of keepalived's `auth_hmac`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLine {
    pub id: u8,
    pub value: KeyValue,
}

/// A key's VALUE: `file:PATH` (a private file holding the key), or the
/// key itself (`hex:HEX`, or its bytes as text) in a config file that must
/// then be private too.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyValue {
    File(PathBuf),
    Inline { text: String, file: PathBuf },
}

impl std::fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyValue::File(p) => write!(f, "File({p:?})"),
            KeyValue::Inline { file, .. } => write!(f, "Inline {{ in: {file:?} }}"),
        }
    }
}

impl KeySource {
    /// The config files holding a key inline: they must be private.
    pub fn inline_in(&self) -> impl Iterator<Item = &Path> {
        let lines = match self {
            KeySource::Each(lines) => lines.as_slice(),
            KeySource::Keyring(_) => &[],
        };
        lines.iter().filter_map(|l| match &l.value {
            KeyValue::Inline { file, .. } => Some(file.as_path()),
            KeyValue::File(_) => None,
        })
    }
}

/// One `track_interfaces` link: while it is down the instance is in FAULT
/// (weight 0), or its priority moves by `weight` (keepalived's
/// `track_interface { eth1 weight -20 }`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrackInterface {
    pub name: String,
    pub weight: i32,
}

impl TrackInterface {
    /// A link whose loss means FAULT.
    pub fn fault(name: &str) -> TrackInterface {
        TrackInterface {
            name: name.to_string(),
            weight: 0,
        }
    }
}

/// `[[sync_group]]` (keepalived's `vrrp_sync_group`): instances that change
/// state together. One in FAULT puts all in FAULT; one that becomes Backup
/// makes the others leave Master; they become Master only when all would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncGroup {
    pub name: String,
    /// Instance names: at least two, each in no other group.
    pub instances: Vec<String>,
    /// Run when the group as a whole changes state, and at the stop.
    pub notify: InstanceNotify,
    /// Members' weighted tracks move their priorities (keepalived's
    /// `sync_group_tracking_weight`). Without it a weight is an error: as
    /// keepalived, a member's failed track faults the whole group.
    pub tracking_weight: bool,
}

impl Policy {
    /// The digest the component must have: the `sha256` pin, else the
    /// digest its `oci://` source names.
    pub fn pin(&self) -> Option<[u8; 32]> {
        match &self.source {
            PolicySource::Oci(r) => self.sha256.or_else(|| r.digest()),
            _ => self.sha256,
        }
    }
}

impl Track {
    /// What it goes by in status, logs and weight sources: its check's name,
    /// or its policy's.
    pub fn name(&self) -> &str {
        self.check.as_deref().unwrap_or(&self.policy)
    }
}

impl InstanceConfig {
    /// Whether traffic to the VIPs is delivered: Accept_Mode, or the owner.
    pub fn accepts_vip_traffic(&self) -> bool {
        self.accept || self.priority == 255
    }

    /// The VIPs this node must not accept traffic for (Accept_Mode false,
    /// not the owner).
    pub fn no_accept_vips(&self) -> Vec<IpAddr> {
        if self.accepts_vip_traffic() {
            return Vec::new();
        }
        self.vips.iter().map(|v| v.addr).collect()
    }

    /// The family of its addresses.
    pub fn family(&self) -> Family {
        self.vips.first().map_or(Family::V4, |v| Family::of(&v.addr))
    }

    /// The protocol config, given the primary address chosen at run time.
    pub fn vrrp_config(&self, primary: IpAddr) -> baton_vrrp::Config {
        baton_vrrp::Config {
            vrid: self.vrid,
            version: self.version,
            priority: self.priority,
            advert_interval: self.advert_interval,
            preempt: self.preempt,
            preempt_delay: self.preempt_delay,
            accept_mode: self.accept,
            vips: self.vips.iter().map(|v| v.addr).collect(),
            primary_addr: primary,
            auth: self.auth.clone(),
            v3_ipv4_checksum: self.v3_checksum,
            check_adv_addr: self.check_adv_addr,
            // A split-brain policy asks who else answers for the VIPs first.
            probe_before_claim: self.split_brain.is_some(),
            allowed_sources: if self.check_unicast_src {
                self.unicast_peers.clone()
            } else {
                Vec::new()
            },
        }
    }

    /// A stand-in primary address of the right family, for validating the
    /// protocol config before the real one is known.
    pub fn placeholder_primary(&self) -> IpAddr {
        match self.family() {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254)),
            Family::V6 => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
        }
    }
}

/// `[[check]]`: a health policy evaluated once per `interval` for the whole
/// node, however many instances track it (keepalived's `vrrp_script`). Its
/// evaluations see no instance facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// Names a [`Policy`].
    pub policy: String,
    pub interval: Duration,
    pub timeout: Duration,
    /// Merged over the policy's `config`.
    pub config: BTreeMap<String, String>,
}

/// `[[instance.track]]`: a health policy run periodically for this instance
/// (`policy = ...`), or a node-level [`Check`] it follows (`check = ...`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// Names a [`Policy`] (a check's policy when `check` is set).
    pub policy: String,
    /// The [`Check`] this track follows; `None`: the instance runs its own.
    /// With a check, `interval`, `timeout` and `config` are the check's.
    pub check: Option<String>,
    pub interval: Duration,
    pub timeout: Duration,
    /// Added to the priority while failed; 0: FAULT while failed.
    pub weight: i32,
    /// Successes in a row to count as up again.
    pub rise: u32,
    /// Failures in a row to count as down.
    pub fall: u32,
    /// Start as failed until `rise` successes (keepalived's `init_fail`).
    pub init_fail: bool,
    /// Per-instance settings, merged over the policy's `config`.
    pub config: BTreeMap<String, String>,
}

/// `[instance.split_brain]`: the split-brain policy and how often to ask it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitBrain {
    pub policy: String,
    pub interval: Duration,
}

/// `[[instance.heartbeat]]`: one more path for the instance's adverts, to
/// one peer, by unicast over another interface (a crossover cable, a second
/// switch). Each advert the instance sends also goes this way; an advert the
/// peer sends this way counts as if it came on the main path, from the
/// peer's main-path address. Baton's own extension: a keepalived peer sees
/// only the main path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// Where the path leaves; not the instance's own interface.
    pub interface: String,
    /// The peer's address on this path.
    pub peer: IpAddr,
    /// The same peer's address on the main path, which it is known by (ties,
    /// status, split brain). Default: the instance's only unicast peer.
    pub primary: IpAddr,
    /// Source of adverts on this path; `None`: the interface's primary
    /// address.
    pub source: Option<IpAddr>,
}

/// One error in a config file, at a 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl std::error::Error for Diagnostic {}

/// Parses and validates a config file's text; `path` names it in diagnostics
/// and anchors its relative paths. Returns every error found, in file order.
pub fn parse(text: &str, path: &Path) -> Result<Config, Vec<Diagnostic>> {
    front::toml::parse(text, path).map_err(|errs| {
        let index = origin::LineIndex::new(text);
        diagnostics(errs, |at| {
            let (line, col) = index.line_col(at);
            (path.to_path_buf(), line, col)
        })
    })
}

/// The config as a TOML file that [`parse`] reads back into the same model
/// (but for `path`), when the file is in `dir`: paths under `dir` are
/// written relative to it. Only keys whose value is not their default are
/// written (and `router_id`).
pub fn to_toml(config: &Config, dir: &Path) -> String {
    emit::emit(config, dir, &[])
}

/// The language of a config file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Toml,
    /// keepalived.conf, read with this config id (what `@ID` lines match),
    /// and whether scripts that match no builtin ran through `builtin:exec`
    /// (`--allow-exec`).
    Keepalived { config_id: String, allow_exec: bool },
}

/// How to read a config file: its language (`None`: recognised by its
/// content) and, for keepalived.conf, the config id (`None`: the host name
/// up to its first dot, as keepalived's default) and `allow_exec`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    pub keepalived: Option<bool>,
    pub config_id: Option<String>,
    /// keepalived.conf: a `vrrp_script` that matches no builtin runs as
    /// keepalived ran it, through `builtin:exec` (`--allow-exec`), instead
    /// of being refused. A TOML file states `builtin:exec` itself.
    pub allow_exec: bool,
}

impl LoadOptions {
    /// Read the file the way `format` says (a reload of the same file).
    pub fn of(format: &Format) -> LoadOptions {
        match format {
            Format::Toml => LoadOptions {
                keepalived: Some(false),
                config_id: None,
                allow_exec: false,
            },
            Format::Keepalived {
                config_id,
                allow_exec,
            } => LoadOptions {
                keepalived: Some(true),
                config_id: Some(config_id.clone()),
                allow_exec: *allow_exec,
            },
        }
    }

    fn config_id(&self) -> String {
        self.config_id.clone().unwrap_or_else(default_config_id)
    }
}

/// keepalived's default config id: the host name up to its first dot.
pub fn default_config_id() -> String {
    hostname().split('.').next().unwrap_or_default().to_string()
}

/// Whether a config file's text is keepalived.conf rather than TOML.
pub fn looks_like_keepalived(text: &str) -> bool {
    front::keepalived::looks_like_keepalived(text)
}

fn cannot_read(path: &Path, e: impl fmt::Display) -> Vec<Diagnostic> {
    vec![Diagnostic {
        path: path.to_path_buf(),
        line: 1,
        col: 1,
        message: format!("cannot read: {e}"),
    }]
}

/// Reads and parses a config file, TOML or keepalived.conf (recognised by
/// its content). A file that cannot be read is one diagnostic at 1:1.
pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    load_with(path, &LoadOptions::default())
}

/// [`load`], in the language and with the config id `opts` say.
pub fn load_with(path: &Path, opts: &LoadOptions) -> Result<Config, Vec<Diagnostic>> {
    load_placed(path, opts).map(|p| p.config)
}

/// [`load_with`] for `baton run` and its reloads: every file read (the
/// main one and keepalived.conf's includes) must be root's or the running
/// user's, and no one else may write it: a config runs commands and names
/// keys. (Key files are checked to be private as they are read.)
pub fn load_for_run(path: &Path, opts: &LoadOptions) -> Result<Config, Vec<Diagnostic>> {
    let placed = load_placed(path, opts)?;
    let problems: Vec<Diagnostic> = placed
        .files
        .iter()
        .filter_map(|f| {
            secret::check_owner_and_mode(f, "config file", false)
                .err()
                .map(|e| (f, e))
        })
        .map(|(f, message)| Diagnostic {
            path: f.clone(),
            line: 1,
            col: 1,
            message,
        })
        .collect();
    if problems.is_empty() {
        Ok(placed.config)
    } else {
        Err(problems)
    }
}

/// A config read for `baton check`: the config, where its instances' keys
/// are, (for keepalived.conf) each instance's `state`, and the notes
/// `baton check` prints after `FILE: ok` (message `note: ...`): each
/// keepalived.conf script that runs through builtin:exec.
#[derive(Debug)]
pub struct Placed {
    pub config: Config,
    /// Per instance: key (`vrid`, `priority`, ...) to its FILE:LINE:COL.
    places: Vec<std::collections::HashMap<&'static str, (PathBuf, usize, usize)>>,
    /// keepalived's `state MASTER|BACKUP`, by instance name.
    pub states: std::collections::HashMap<String, String>,
    pub notes: Vec<Diagnostic>,
    /// Every file read: the main one, then keepalived.conf's includes.
    pub files: Vec<PathBuf>,
}

impl Placed {
    /// Where instance `i`'s `key` is (its instance's place when not given).
    pub fn at(&self, i: usize, key: &str) -> (PathBuf, usize, usize) {
        let p = self.places.get(i);
        p.and_then(|m| m.get(key).or_else(|| m.get("name")))
            .cloned()
            .unwrap_or_else(|| (self.config.path.clone(), 1, 1))
    }
}

/// [`load_with`], keeping where each instance's keys are and the notes.
/// A file holding an HMAC key inline must be as private as a key file.
pub fn load_placed(path: &Path, opts: &LoadOptions) -> Result<Placed, Vec<Diagnostic>> {
    let placed = read_placed(path, opts)?;
    let mut problems = Vec::new();
    for (i, inst) in placed.config.instances.iter().enumerate() {
        let inline = inst.auth_keys.iter().flat_map(KeySource::inline_in);
        for file in inline {
            if let Err(e) = secret::check_owner_and_mode(file, "config file", true) {
                let (path, line, col) = placed.at(i, schema::instance::AUTH.name);
                let message = format!("{e}: it holds an HMAC key (or give the key as file:PATH)");
                problems.push(Diagnostic {
                    path,
                    line,
                    col,
                    message,
                });
            }
        }
    }
    problems.dedup_by(|a, b| a.message == b.message);
    match problems.is_empty() {
        true => Ok(placed),
        false => Err(problems),
    }
}

fn read_placed(path: &Path, opts: &LoadOptions) -> Result<Placed, Vec<Diagnostic>> {
    let bytes = std::fs::read(path).map_err(|e| cannot_read(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Everything before the bad byte is valid UTF-8.
            let before = String::from_utf8_lossy(valid);
            let (line, col) = origin::LineIndex::new(&before).line_col(before.len());
            return Err(vec![Diagnostic {
                path: path.to_path_buf(),
                line,
                col,
                message: "invalid UTF-8: a config file must be UTF-8 text".to_string(),
            }]);
        }
    };
    if opts.keepalived.unwrap_or_else(|| looks_like_keepalived(&text)) {
        let parsed = front::keepalived::parse(
            &Preloaded { path, text },
            path,
            &opts.config_id(),
            opts.allow_exec,
        );
        let sources = &parsed.sources;
        let places = parsed
            .places
            .iter()
            .map(|m| m.iter().map(|(k, at)| (*k, sources.locate(*at))).collect())
            .collect();
        let states = parsed.states.clone();
        let files = sources.paths();
        return keepalived_result(parsed).map(|(config, _, notes)| Placed {
            config,
            places,
            states,
            notes,
            files,
        });
    }
    let (result, places) = front::toml::parse_placed(&text, path);
    let index = origin::LineIndex::new(&text);
    let locate = |at: usize| {
        let (line, col) = index.line_col(at);
        (path.to_path_buf(), line, col)
    };
    match result {
        Ok(config) => Ok(Placed {
            config,
            places: places
                .iter()
                .map(|m| m.iter().map(|(k, at)| (*k, locate(*at))).collect())
                .collect(),
            states: Default::default(),
            notes: Vec::new(),
            files: vec![path.to_path_buf()],
        }),
        Err(errs) => Err(diagnostics(errs, locate)),
    }
}

/// A front end's errors (offset, message) at their FILE:LINE:COL.
fn diagnostics(
    errs: Vec<(usize, String)>,
    locate: impl Fn(usize) -> (PathBuf, usize, usize),
) -> Vec<Diagnostic> {
    errs.into_iter()
        .map(|(at, message)| {
            let (path, line, col) = locate(at);
            Diagnostic {
                path,
                line,
                col,
                message,
            }
        })
        .collect()
}

/// The main file, already read; its includes from the disk.
struct Preloaded<'a> {
    path: &'a Path,
    text: String,
}

impl front::keepalived::source::Files for Preloaded<'_> {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        if path == self.path {
            return Ok(self.text.clone());
        }
        front::keepalived::source::Disk.read(path)
    }

    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        front::keepalived::source::Disk.glob(pattern)
    }
}

/// A config, the converter's notes on it, and the check's notes at
/// FILE:LINE:COL.
type Converted = (Config, Vec<(origin::Item, String)>, Vec<Diagnostic>);

/// A keepalived.conf read: the config and its notes, or the errors at
/// FILE:LINE:COL in file order.
fn keepalived_result(parsed: front::keepalived::Parsed) -> Result<Converted, Vec<Diagnostic>> {
    let sources = &parsed.sources;
    let locate = |at: usize| sources.locate(at);
    match parsed.result {
        Ok(c) => Ok((c, parsed.notes, diagnostics(parsed.check_notes, locate))),
        Err(errs) => Err(diagnostics(errs, locate)),
    }
}

/// Parses a keepalived.conf's text; `path` names it and anchors its
/// includes (read from the disk).
pub fn parse_keepalived(text: &str, path: &Path, config_id: &str) -> Result<Config, Vec<Diagnostic>> {
    let opts = LoadOptions {
        config_id: Some(config_id.to_string()),
        ..LoadOptions::default()
    };
    parse_keepalived_with(text, path, &opts).map(|(c, _)| c)
}

/// [`parse_keepalived`] with `opts`' config id and `allow_exec`, and the
/// check's notes ([`Placed::notes`]).
pub fn parse_keepalived_with(
    text: &str,
    path: &Path,
    opts: &LoadOptions,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let files = Preloaded {
        path,
        text: text.to_string(),
    };
    let parsed = front::keepalived::parse(&files, path, &opts.config_id(), opts.allow_exec);
    keepalived_result(parsed).map(|(c, _, checked)| (c, checked))
}

/// `baton convert`: a keepalived.conf as the equivalent TOML, with comments
/// where meaning moved. The TOML is meant to live beside the original:
/// paths under its directory are written relative to it. A script that
/// matches no builtin always becomes builtin:exec (whatever
/// `opts.allow_exec`): the TOML states that policy, which is its opt-in.
pub fn convert_keepalived(path: &Path, opts: &LoadOptions) -> Result<String, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| cannot_read(path, e))?;
    let parsed = front::keepalived::parse(&Preloaded { path, text }, path, &opts.config_id(), true);
    let (config, notes, _) = keepalived_result(parsed)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(emit::emit(&config, dir, &notes))
}

/// For the fuzzer: parses a keepalived.conf's text with no file system (an
/// `include` matches nothing). Never panics, whatever the text.
#[doc(hidden)]
pub fn parse_keepalived_isolated(text: &str) -> Result<Config, Vec<Diagnostic>> {
    struct Nothing<'a>(&'a str);
    impl front::keepalived::source::Files for Nothing<'_> {
        fn read(&self, path: &Path) -> std::io::Result<String> {
            if path == Path::new("/fuzz/keepalived.conf") {
                return Ok(self.0.to_string());
            }
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no files"))
        }

        fn glob(&self, _: &str) -> Result<Vec<PathBuf>, String> {
            Ok(Vec::new())
        }

        fn read_key(&self, path: &Path) -> Result<String, String> {
            Err(format!("key file {}: no files", path.display()))
        }
    }
    let path = Path::new("/fuzz/keepalived.conf");
    keepalived_result(front::keepalived::parse(&Nothing(text), path, "fuzz", false)).map(|(c, _, _)| c)
}

/// `baton check FILE...`: prints each diagnostic to stderr and `FILE: ok` for
/// each good file to stdout, then its notes; with several good files, the
/// cross-node check's findings ([`cross_check`]) to stderr. True when every
/// file is good and the files have no error between them (warnings pass).
pub fn check_files(paths: &[PathBuf], opts: &LoadOptions) -> bool {
    check_files_with(paths, opts, &|_| Vec::new())
}

/// [`check_files`], with `more` checks of a good config that need the
/// system (the daemon's: users and groups looked up as at load); each of
/// their errors is printed as `FILE: message` and fails the file.
pub fn check_files_with(
    paths: &[PathBuf],
    opts: &LoadOptions,
    more: &dyn Fn(&Config) -> Vec<String>,
) -> bool {
    let mut all_ok = true;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut placed = Vec::new();
    for arg in paths {
        // `FILE@ID`: one keepalived.conf shared by the nodes, read as each.
        let (path, id) = split_config_id(arg);
        let mut opts = opts.clone();
        if id.is_some() {
            opts.config_id = id;
        }
        let path = &path;
        match load_placed(path, &opts) {
            Ok(p) => {
                let errs = more(&p.config);
                if !errs.is_empty() {
                    all_ok = false;
                    let mut err = stderr.lock();
                    for e in errs {
                        let _ = writeln!(err, "{}: {e}", arg.display());
                    }
                    continue;
                }
                let mut out = stdout.lock();
                let _ = writeln!(out, "{}: ok", arg.display());
                for n in &p.notes {
                    let _ = writeln!(out, "{n}");
                }
                placed.push(p);
            }
            Err(diags) => {
                all_ok = false;
                let mut err = stderr.lock();
                for d in diags {
                    let _ = writeln!(err, "{d}");
                }
            }
        }
    }
    // Across the nodes, once each file is good on its own.
    if all_ok && placed.len() > 1 {
        let mut err = stderr.lock();
        for f in cross_check(&placed) {
            all_ok &= !f.error;
            let _ = writeln!(err, "{f}");
        }
    }
    all_ok
}

/// `FILE@ID` (when no file is named so): the file, read with config id
/// `ID` (keepalived's `-i`).
pub fn split_config_id(arg: &Path) -> (PathBuf, Option<String>) {
    if arg.exists() {
        return (arg.to_path_buf(), None);
    }
    let s = arg.to_string_lossy();
    match s.rsplit_once('@') {
        Some((file, id)) if !file.is_empty() && !id.is_empty() && !id.contains('/') => {
            (PathBuf::from(file), Some(id.to_string()))
        }
        _ => (arg.to_path_buf(), None),
    }
}

/// The host name, for `router_id`'s default.
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
