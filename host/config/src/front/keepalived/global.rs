//! The top level and `global_defs`: what applies to the node and, as
//! defaults, to every instance (keepalived's `vrrp_*` globals).

use std::net::IpAddr;
use std::time::Duration;

use super::Reader;
use super::read::{Arity, split_lines};
use super::tree::Stmt;
use crate::notify::{SmtpServer, default_from};
use crate::origin::{FieldPath, Item};
use crate::schema::{notify, top};
use crate::{Garp, Notify};

/// The top-level blocks Baton reads (and the words that mark a file as keepalived's).
pub(super) const TOP_LEVEL: &[&str] = &[
    "global_defs",
    "vrrp_script",
    "vrrp_track_file",
    "vrrp_track_process",
    "vrrp_instance",
    "vrrp_sync_group",
    "include",
    "virtual_server",
    "virtual_server_group",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "linkbeat_interfaces",
    "bfd_instance",
];

pub(super) const TOP_ARITY: Arity = &[
    ("global_defs", 0),
    ("vrrp_script", 1),
    ("vrrp_track_file", 1),
    ("vrrp_track_process", 1),
    ("vrrp_instance", 1),
    ("vrrp_sync_group", 1),
];

const GLOBAL_ARITY: Arity = &[
    ("router_id", 1),
    ("notification_email", 0),
    ("notification_email_from", 1),
    ("smtp_server", 2),
    ("smtp_connect_timeout", 1),
    ("smtp_helo_name", 1),
    ("vrrp_strict", 0),
    ("vrrp_garp_master_delay", 1),
    ("vrrp_garp_master_repeat", 1),
    ("vrrp_garp_interval", 1),
    ("vrrp_gna_interval", 1),
    ("vrrp_garp_master_refresh", 1),
    ("vrrp_skip_check_adv_addr", 0),
    ("vrrp_version", 1),
    ("vrrp_mcast_group4", 1),
    ("vrrp_mcast_group6", 1),
    ("script_user", 2),
    ("enable_script_security", 0),
    ("max_auto_priority", 1),
    ("vrrp_startup_delay", 1),
    ("vrrp_check_unicast_src", 0),
];

/// What `global_defs` set.
#[derive(Debug, Default)]
pub(super) struct Globals {
    pub router_id: Option<String>,
    pub email: Vec<String>,
    /// Where `notification_email` is.
    pub email_at: Option<usize>,
    pub email_from: Option<String>,
    pub smtp_server: Option<SmtpServer>,
    pub smtp_connect_timeout: Option<Duration>,
    /// `vrrp_strict`: no Accept_Mode unless an instance says `accept`.
    pub strict: bool,
    pub garp: Garp,
    /// `vrrp_gna_interval`: the IPv6 instances' interval, when given.
    pub gna_interval: Option<Duration>,
    pub skip_check_adv_addr: bool,
    /// `vrrp_version`; keepalived's default is 2.
    pub version: Option<u8>,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    pub script_security: bool,
    /// `vrrp_startup_delay`.
    pub startup_delay: Option<Duration>,
}

impl Globals {
    pub(super) fn notify(&self, router_id: &str) -> Notify {
        let mut n = Notify::none(router_id);
        n.email = self.email.clone();
        n.email_from = self.email_from.clone().unwrap_or_else(|| default_from(router_id));
        n.smtp_server = self.smtp_server.clone();
        if let Some(t) = self.smtp_connect_timeout {
            n.smtp_connect_timeout = t;
        }
        n
    }

    /// The `[garp]` of IPv4 instances.
    pub(super) fn garp4(&self) -> Garp {
        self.garp
    }

    /// The GARP/NA settings for an instance of this family.
    pub(super) fn garp_for(&self, v6: bool) -> Garp {
        let mut g = self.garp;
        if let (true, Some(i)) = (v6, self.gna_interval) {
            g.interval = i;
        }
        g
    }
}

impl Reader<'_> {
    pub(super) fn global_defs(&mut self, s: &Stmt) {
        self.no_more(s, 0);
        let Some(b) = self.block(s) else { return };
        for g in split_lines(&b.stmts, GLOBAL_ARITY) {
            self.global(&g);
        }
    }

    fn global(&mut self, s: &Stmt) {
        let key = s.key.text.as_str();
        match key {
            "router_id" => self.globals.router_id = self.one(s).map(|w| w.text.clone()),
            "notification_email" => {
                self.globals.email_at = Some(s.key.at);
                self.origins.place(FieldPath::item(Item::Notify), s.key.at);
                self.origins
                    .place(FieldPath::key(Item::Notify, &notify::EMAIL), s.key.at);
                self.origins
                    .name(FieldPath::key(Item::Notify, &notify::EMAIL), "notification_email");
                let items: Vec<(String, usize)> = self
                    .items(s)
                    .iter()
                    .map(|i| (i.key.text.clone(), i.key.at))
                    .collect();
                for (addr, at) in items {
                    let path = FieldPath::index(Item::Notify, &notify::EMAIL, self.globals.email.len());
                    self.origins.place(path.clone(), at);
                    self.origins.name(path, "notification_email");
                    self.globals.email.push(addr);
                }
            }
            "notification_email_from" => {
                let path = FieldPath::key(Item::Notify, &notify::EMAIL_FROM);
                self.globals.email_from = self.one(s).map(|w| {
                    self.origins.place(path.clone(), w.at);
                    w.text.clone()
                });
                self.origins.name(path, "notification_email_from");
            }
            "smtp_server" => self.smtp_server(s),
            "smtp_connect_timeout" => {
                self.globals.smtp_connect_timeout =
                    self.int_of(s, 1, 3600).map(|n| Duration::from_secs(n as u64));
            }
            "vrrp_strict" => {
                self.flag(s);
                self.globals.strict = true;
                self.note(
                    Item::Top,
                    "vrrp_strict: instances drop traffic to their VIPs unless they own them (accept = false)",
                );
            }
            "vrrp_garp_master_delay" => {
                if let Some(n) = self.int_of(s, 0, 1000) {
                    self.globals.garp.delay = Duration::from_secs(n as u64);
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(n) = self.int_of(s, 1, 255) {
                    self.globals.garp.repeat = n as u32;
                }
            }
            "vrrp_garp_interval" => {
                if let Some(d) = self.timer_of(s, Duration::from_secs(1)) {
                    self.globals.garp.interval = d;
                }
            }
            "vrrp_gna_interval" => self.globals.gna_interval = self.timer_of(s, Duration::from_secs(1)),
            "vrrp_garp_master_refresh" => {
                if let Some(n) = self.int_of(s, 0, 86_400) {
                    self.globals.garp.refresh = Duration::from_secs(n as u64);
                }
            }
            "vrrp_skip_check_adv_addr" => {
                self.flag(s);
                self.globals.skip_check_adv_addr = true;
            }
            "vrrp_version" => self.globals.version = self.int_of(s, 2, 3).map(|n| n as u8),
            "vrrp_mcast_group4" | "vrrp_mcast_group6" => self.mcast_group(s),
            "script_user" => self.script_user(s),
            "enable_script_security" => {
                self.flag(s);
                self.globals.script_security = true;
            }
            "max_auto_priority" => {
                self.no_block(s);
                self.no_more(s, 1);
                self.note(
                    Item::Top,
                    "max_auto_priority: Baton keeps the scheduling it is started with \
                     (its timers run on their own thread; set the priority with systemd's CPUSchedulingPolicy)",
                );
            }
            "vrrp_startup_delay" => {
                if let Some(w) = s.args.first() {
                    self.place(Item::Top, &top::STARTUP_DELAY, w.at, "vrrp_startup_delay");
                }
                self.globals.startup_delay = self.timer_of(s, Duration::from_secs(3600));
            }
            "vrrp_check_unicast_src" => self.flag(s),
            "smtp_helo_name" => {
                self.one(s);
                self.note(Item::Top, "smtp_helo_name: Baton greets with its router_id");
            }
            _ => self.unknown(s, "global_defs", GLOBAL_ARITY),
        }
    }

    /// `smtp_server ADDR [PORT]`.
    fn smtp_server(&mut self, s: &Stmt) {
        self.no_block(s);
        self.no_more(s, 2);
        let Some(host) = s.arg(0) else {
            self.err(s.key.at, "`smtp_server` needs an address");
            return;
        };
        let port = match s.arg(1) {
            Some(p) => self.int(p, "smtp_server", 1, 65_535).map(|n| n as u16),
            None => Some(25),
        };
        let text = host.text.trim_start_matches('[').trim_end_matches(']');
        if text.parse::<IpAddr>().is_err() && !is_host_name(text) {
            self.err(
                host.at,
                format!("smtp_server: `{}` is no address or host name", host.text),
            );
            return;
        }
        if let Some(port) = port {
            self.globals.smtp_server = Some(SmtpServer {
                host: text.to_string(),
                port,
            });
        }
    }

    /// Only the standard groups: Baton does not move adverts to another.
    fn mcast_group(&mut self, s: &Stmt) {
        let Some(w) = self.one(s) else { return };
        let standard = if s.key.text == "vrrp_mcast_group4" {
            "224.0.0.18"
        } else {
            "ff02::12"
        };
        let same = w.text.parse::<IpAddr>().ok() == standard.parse::<IpAddr>().ok();
        if !same {
            self.err(
                w.at,
                format!(
                    "`{}`: Baton sends adverts to the standard group {standard} only",
                    s.key.text
                ),
            );
        }
    }

    fn script_user(&mut self, s: &Stmt) {
        self.no_block(s);
        self.no_more(s, 2);
        match s.arg(0) {
            Some(u) => self.globals.script_user = Some((u.text.clone(), s.arg(1).map(|g| g.text.clone()))),
            None => self.err(s.key.at, "`script_user` needs a user name"),
        }
    }

    /// A top-level block Baton does not read.
    pub(super) fn top_level_refusal(&mut self, s: &Stmt) {
        let why = match s.key.text.as_str() {
            "virtual_server" | "virtual_server_group" => "LVS is not part of Baton (it does VRRP only)",
            "static_ipaddress" | "static_routes" | "static_rules" => {
                "Baton configures only the addresses of its instances (configure static ones with the system)"
            }
            "linkbeat_interfaces" => "Baton watches links through netlink; there is nothing to configure",
            "bfd_instance" => "BFD is not part of Baton",
            _ => {
                self.unknown(s, "the top level", TOP_ARITY);
                return;
            }
        };
        self.err(s.key.at, format!("`{}`: {why}", s.key.text));
    }
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
