//! Every key of the config, declared once: for each section its keys, with
//! the kind of value each takes, its default, its range or unit, and the
//! other names a reader may try for it (keepalived's). A front end reads a
//! section's keys through these declarations (the unknown-key check, the
//! parsing, the "without `name`" messages), and the validation takes their
//! ranges from here. Key names are the model's: the TOML spelling, which a
//! keepalived.conf front end maps its own names onto.

use std::time::Duration;

use crate::duration::format_duration;

/// A table of the config (`[[instance]]`, `[garp]`, an `auth = { .. }`).
#[derive(Debug)]
pub(crate) struct Section {
    /// How messages name it: `[[instance]]`, `the top level`, `auth`.
    pub what: &'static str,
    /// What its keys are called in messages: `track.` makes `track.weight`.
    pub prefix: &'static str,
    /// What a value of it is, for "expected ..." (a table's).
    pub how: &'static str,
    /// How a missing required key is reported.
    pub missing: Missing,
    pub keys: &'static [Key],
    /// Names that are no key of it but that a reader may try (keepalived's
    /// or other programs'), with what to write instead.
    pub hints: &'static [(&'static str, &'static str)],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Missing {
    /// `[[policy]] without `name``, at the table's header.
    Without,
    /// `auth: missing `type``, at the inline table.
    Inline,
}

/// One key of a section.
#[derive(Debug)]
pub(crate) struct Key {
    pub name: &'static str,
    pub kind: Kind,
    pub need: Need,
    /// Other names for this key, each with its hint.
    pub aliases: &'static [Hint],
}

/// The kind of value a key takes.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A name: a string without spaces or control characters.
    Word,
    /// Any string.
    Text,
    /// A file path, relative to the config file's directory.
    Path,
    Bool,
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// A duration string (`"1s"`, see [`crate::duration`]) in `min..=max`.
    Duration {
        min: Duration,
        max: Duration,
    },
    /// The VRRP version: 2 or 3.
    Version,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An IPv4 or IPv6 address (unicast).
    Addr,
    /// A Linux interface name.
    Ifname,
    /// An array of values of one kind.
    List(&'static Kind),
    /// A virtual address: `ADDR[/PREFIX] [dev IF] [label LABEL]` ([`crate::parse_vip`]).
    Vip,
    /// An `allow` pattern ([`crate::NetPattern`]).
    NetPattern,
    /// A policy's component: `builtin:NAME`, a `.wasm` file or an
    /// `oci://` reference ([`crate::OciRef`]).
    Source,
    /// A sha256 digest: 64 hexadecimal digits ([`crate::parse_sha256`]).
    Sha256,
    /// A program and its arguments, run without a shell.
    Argv,
    /// Settings handed to a policy: strings, integers and booleans.
    Settings,
    /// An inline or `[key]` table.
    Table(&'static Section),
    /// An array of tables (`[[key]]`).
    Tables(&'static Section),
}

/// Whether a key must be given, and its value when not.
#[derive(Debug)]
pub(crate) enum Need {
    /// `note` ends the "without `key`" message: ` (e.g. name = "VI_1")`.
    Required(&'static str),
    /// Nothing when not given.
    Optional,
    Default(Def),
}

/// A default value.
#[derive(Debug)]
pub(crate) enum Def {
    Bool(bool),
    Int(i64),
    Duration(Duration),
    Text(&'static str),
    /// The host name.
    HostName,
    /// The table's `interval`.
    Interval,
    /// What the table overrides (an instance's `garp`: `[garp]`'s).
    Base,
}

/// Another name for a key, and what to write.
#[derive(Debug)]
pub(crate) struct Hint {
    pub name: &'static str,
    pub says: Says,
}

#[derive(Debug)]
pub(crate) enum Says {
    /// keepalived's `NAME` is `KEY` here.
    Keepalived,
    /// it is `KEY` here.
    ItIs,
    Text(&'static str),
}

impl Section {
    pub(crate) fn key(&self, name: &str) -> Option<&'static Key> {
        self.keys.iter().find(|k| k.name == name)
    }

    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.name).collect()
    }

    /// The hint for `name`, which is no key of this section.
    pub(crate) fn hint(&self, name: &str) -> Option<String> {
        for k in self.keys {
            if let Some(h) = k.aliases.iter().find(|h| h.name == name) {
                return Some(match h.says {
                    Says::Keepalived => format!("keepalived's `{name}` is `{}` here", k.name),
                    Says::ItIs => format!("it is `{}` here", k.name),
                    Says::Text(t) => t.to_string(),
                });
            }
        }
        self.hints
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
    }

    /// The key as messages name it: `track.weight`.
    pub(crate) fn label(&self, key: &Key) -> String {
        format!("{}{}", self.prefix, key.name)
    }

    /// The message for a required key that is not given.
    pub(crate) fn missing(&self, key: &Key) -> String {
        let note = match key.need {
            Need::Required(note) => note,
            _ => "",
        };
        match self.missing {
            Missing::Without => format!("{} without `{}`{note}", self.what, key.name),
            Missing::Inline => format!("{}: missing `{}`{note}", self.what, key.name),
        }
    }
}

impl Key {
    /// Why `n` is outside the key's range, if it is.
    pub(crate) fn int_problem(&self, label: &str, n: i128, shown: &str) -> Option<String> {
        let Kind::Int { min, max } = self.kind else {
            return None;
        };
        if (i128::from(min)..=i128::from(max)).contains(&n) {
            return None;
        }
        let expect = if max >= i64::from(u32::MAX) {
            format!("at least {min}")
        } else {
            format!("{min}..={max}")
        };
        Some(format!("{label}: {shown} is out of range (must be {expect})"))
    }

    /// Why `d` is outside the key's range, if it is.
    pub(crate) fn duration_problem(&self, label: &str, d: Duration) -> Option<String> {
        let Kind::Duration { min, max } = self.kind else {
            return None;
        };
        (d < min || d > max).then(|| {
            format!(
                "{label}: {} is out of range (must be {} to {})",
                format_duration(d),
                format_duration(min),
                format_duration(max)
            )
        })
    }

    /// The values a `OneOf` key takes, as messages list them: `"pass" or "none"`.
    pub(crate) fn choices(&self) -> String {
        let Kind::OneOf(values) = self.kind else {
            return String::new();
        };
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        quoted.join(" or ")
    }

    pub(crate) fn default_bool(&self) -> bool {
        matches!(self.need, Need::Default(Def::Bool(true)))
    }

    pub(crate) fn default_int(&self) -> Option<i64> {
        match self.need {
            Need::Default(Def::Int(n)) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn default_duration(&self) -> Option<Duration> {
        match self.need {
            Need::Default(Def::Duration(d)) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn default_text(&self) -> Option<&'static str> {
        match self.need {
            Need::Default(Def::Text(t)) => Some(t),
            _ => None,
        }
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const MS: Duration = Duration::from_millis(1);

const fn key(name: &'static str, kind: Kind, need: Need) -> Key {
    Key {
        name,
        kind,
        need,
        aliases: &[],
    }
}

const fn aka(name: &'static str, kind: Kind, need: Need, aliases: &'static [Hint]) -> Key {
    Key {
        name,
        kind,
        need,
        aliases,
    }
}

/// An optional `[key]` or inline table.
const fn table(name: &'static str, section: &'static Section) -> Key {
    key(name, Kind::Table(section), Need::Optional)
}

/// Optional `[[key]]` tables.
const fn tables(name: &'static str, section: &'static Section) -> Key {
    key(name, Kind::Tables(section), Need::Optional)
}

const fn hint(name: &'static str, text: &'static str) -> Hint {
    Hint {
        name,
        says: Says::Text(text),
    }
}

const fn it_is(name: &'static str) -> Hint {
    Hint {
        name,
        says: Says::ItIs,
    }
}

const fn keepalived(name: &'static str) -> Hint {
    Hint {
        name,
        says: Says::Keepalived,
    }
}

/// The top level of the file.
pub(crate) mod top {
    use super::*;

    pub(crate) const ROUTER_ID: Key = key("router_id", Kind::Word, Need::Default(Def::HostName));
    pub(crate) const SOCKET: Key = key(
        "socket",
        Kind::Path,
        Need::Default(Def::Text(crate::DEFAULT_SOCKET)),
    );
    pub(crate) const LOG_FILE: Key = key("log_file", Kind::Path, Need::Optional);
    pub(crate) const STARTUP_DELAY: Key = aka(
        "startup_delay",
        Kind::Duration {
            min: Duration::ZERO,
            max: HOUR,
        },
        Need::Default(Def::Duration(Duration::ZERO)),
        &[it_is("vrrp_startup_delay")],
    );
    pub(crate) const POLICY_CACHE: Key = key(
        "policy_cache",
        Kind::Path,
        Need::Default(Def::Text(crate::DEFAULT_POLICY_CACHE)),
    );
    /// `HOST[:PORT]` each ([`crate::parse_registry`], checked by the validation).
    pub(crate) const INSECURE_REGISTRIES: Key =
        key("insecure_registries", Kind::List(&Kind::Text), Need::Optional);
    pub(crate) const GARP: Key = table("garp", &super::garp::SECTION);
    pub(crate) const POLICY: Key = tables("policy", &super::policy::SECTION);
    pub(crate) const CHECK: Key = tables("check", &super::check::SECTION);
    pub(crate) const REMEDY: Key = tables("remedy", &super::remedy::SECTION);
    pub(crate) const NOTIFY: Key = table("notify", &super::notify::SECTION);
    /// At least one: the validation says so.
    pub(crate) const INSTANCE: Key = tables("instance", &super::instance::SECTION);
    pub(crate) const SYNC_GROUP: Key = tables("sync_group", &super::sync_group::SECTION);

    pub(crate) const SECTION: Section = Section {
        what: "the top level",
        how: "a table",
        prefix: "",
        missing: Missing::Without,
        keys: &[
            ROUTER_ID,
            SOCKET,
            LOG_FILE,
            STARTUP_DELAY,
            POLICY_CACHE,
            INSECURE_REGISTRIES,
            GARP,
            POLICY,
            CHECK,
            REMEDY,
            NOTIFY,
            INSTANCE,
            SYNC_GROUP,
        ],
        hints: &[
            ("global_defs", "its `router_id` is a top-level key here"),
            ("vrrp_instance", "write each instance as [[instance]]"),
            ("vrrp_sync_group", "write each sync group as [[sync_group]]"),
            (
                "vrrp_script",
                "health checks are [[policy]] tables, tracked with [[instance.track]]",
            ),
            ("instances", "write each instance as [[instance]]"),
            ("policies", "write each policy as [[policy]]"),
            ("remedies", "write each remedy as [[remedy]]"),
            ("notification_email", "it is `email` in [notify]"),
            ("notification_email_from", "it is `email_from` in [notify]"),
            ("smtp_server", "it is `smtp_server` in [notify]"),
            ("smtp_connect_timeout", "it is `smtp_connect_timeout` in [notify]"),
        ],
    };
}

/// `[garp]` and an instance's `garp = { .. }` (keepalived's `vrrp_garp_*`);
/// their defaults are [`crate::Garp::default`], then `[garp]`'s.
pub(crate) mod garp {
    use super::*;

    pub(crate) const DELAY: Key = aka(
        "delay",
        Kind::Duration {
            min: Duration::ZERO,
            max: HOUR,
        },
        Need::Default(Def::Base),
        &[it_is("vrrp_garp_master_delay")],
    );
    pub(crate) const REPEAT: Key = aka(
        "repeat",
        Kind::Int { min: 1, max: 255 },
        Need::Default(Def::Base),
        &[it_is("vrrp_garp_master_repeat")],
    );
    pub(crate) const INTERVAL: Key = aka(
        "interval",
        Kind::Duration {
            min: Duration::ZERO,
            max: Duration::from_secs(10),
        },
        Need::Default(Def::Base),
        &[it_is("vrrp_garp_interval"), it_is("vrrp_gna_interval")],
    );
    /// Zero (never), or at least [`REFRESH_MIN`].
    pub(crate) const REFRESH: Key = aka(
        "refresh",
        Kind::Duration {
            min: Duration::ZERO,
            max: Duration::from_secs(86_400),
        },
        Need::Default(Def::Base),
        &[it_is("vrrp_garp_master_refresh")],
    );
    pub(crate) const REFRESH_MIN: Duration = Duration::from_secs(1);

    const KEYS: &[Key] = &[DELAY, REPEAT, INTERVAL, REFRESH];

    pub(crate) const SECTION: Section = Section {
        what: "[garp]",
        how: "a table ([garp])",
        prefix: "garp.",
        missing: Missing::Without,
        keys: KEYS,
        hints: &[],
    };

    pub(crate) const IN_INSTANCE: Section = Section {
        what: "the instance's garp",
        how: "a table such as { delay = \"5s\", repeat = 5 }",
        ..SECTION
    };
}

/// `[[policy]]`.
pub(crate) mod policy {
    use super::*;

    /// Also a remedy's and a check's.
    pub(crate) const NAME: Key = key("name", Kind::Word, Need::Required(""));
    pub(crate) const SOURCE: Key = key(
        "source",
        Kind::Source,
        Need::Required(" (e.g. \"builtin:http-status\", a .wasm file or oci://HOST/REPO@sha256:...)"),
    );
    pub(crate) const SHA256: Key = key("sha256", Kind::Sha256, Need::Optional);
    /// Also a track's and a check's, merged over the policy's.
    pub(crate) const CONFIG: Key = key("config", Kind::Settings, Need::Optional);
    pub(crate) const ALLOW: Key = aka(
        "allow",
        Kind::List(&Kind::NetPattern),
        Need::Optional,
        &[hint("allow_net", "network targets are `allow`")],
    );
    pub(crate) const ALLOW_FILES: Key = aka(
        "allow_files",
        Kind::List(&Kind::Text),
        Need::Optional,
        &[it_is("allow_file")],
    );
    pub(crate) const REMEDIES: Key = key("remedies", Kind::List(&Kind::Word), Need::Optional);

    pub(crate) const SECTION: Section = Section {
        what: "[[policy]]",
        how: "a table",
        prefix: "",
        missing: Missing::Without,
        keys: &[NAME, SOURCE, SHA256, CONFIG, ALLOW, ALLOW_FILES, REMEDIES],
        hints: &[
            ("script", "a policy is WebAssembly: give its `source`"),
            ("remedy", "name the [[remedy]] tables it may run in `remedies`"),
        ],
    };
}

/// `[[remedy]]`.
pub(crate) mod remedy {
    use super::*;

    pub(crate) use super::policy::NAME;
    pub(crate) const COMMAND: Key = aka(
        "command",
        Kind::Argv,
        Need::Required(" (e.g. command = [\"systemctl\", \"restart\", \"nginx\"])"),
        &[it_is("argv"), it_is("cmd")],
    );
    pub(crate) const TIMEOUT: Key = key(
        "timeout",
        Kind::Duration { min: MS, max: HOUR },
        Need::Default(Def::Duration(Duration::from_secs(10))),
    );
    /// keepalived's `script_user USER [GROUP]`: looked up when the daemon
    /// loads the config, not here (no I/O beyond the config's files).
    pub(crate) const USER: Key = key("user", Kind::Word, Need::Optional);
    /// Default: the user's primary group.
    pub(crate) const GROUP: Key = key("group", Kind::Word, Need::Optional);

    pub(crate) const SECTION: Section = Section {
        what: "[[remedy]]",
        how: "a table",
        prefix: "",
        missing: Missing::Without,
        keys: &[NAME, COMMAND, TIMEOUT, USER, GROUP],
        hints: &[(
            "script",
            "give the program and its arguments as `command = [\"systemctl\", \"restart\", \"nginx\"]`",
        )],
    };
}

/// `[[check]]`.
pub(crate) mod check {
    use super::*;

    pub(crate) use super::policy::NAME;
    /// Also a split-brain table's.
    pub(crate) const POLICY: Key = key("policy", Kind::Word, Need::Required(""));

    pub(crate) const SECTION: Section = Section {
        what: "[[check]]",
        how: "a table",
        prefix: "check.",
        missing: Missing::Without,
        keys: &[
            NAME,
            POLICY,
            super::track::INTERVAL,
            super::track::TIMEOUT,
            super::policy::CONFIG,
        ],
        hints: &[(
            "weight",
            "weight, rise and fall belong to each [[instance.track]] that tracks the check",
        )],
    };
}

/// `[[instance]]`.
pub(crate) mod instance {
    use super::*;

    pub(crate) const NAME: Key = key("name", Kind::Word, Need::Required(" (e.g. name = \"VI_1\")"));
    pub(crate) const INTERFACE: Key = key(
        "interface",
        Kind::Ifname,
        Need::Required(" (e.g. interface = \"eth0\")"),
    );
    pub(crate) const VRID: Key = aka(
        "vrid",
        Kind::Int { min: 1, max: 255 },
        Need::Required(" (e.g. vrid = 50)"),
        &[keepalived("virtual_router_id")],
    );
    pub(crate) const PRIORITY: Key = key(
        "priority",
        Kind::Int { min: 1, max: 255 },
        Need::Default(Def::Int(100)),
    );
    /// Within the range of its version: validated with it.
    pub(crate) const ADVERT_INTERVAL: Key = aka(
        "advert_interval",
        Kind::Duration {
            min: Duration::ZERO,
            max: Duration::MAX,
        },
        Need::Default(Def::Duration(Duration::from_secs(1))),
        &[hint(
            "advert_int",
            "keepalived's `advert_int` is `advert_interval` here, with a unit: \"1s\"",
        )],
    );
    pub(crate) const VERSION: Key = aka(
        "version",
        Kind::Version,
        Need::Default(Def::Int(3)),
        &[it_is("vrrp_version")],
    );
    pub(crate) const PREEMPT: Key = aka(
        "preempt",
        Kind::Bool,
        Need::Default(Def::Bool(true)),
        &[hint("nopreempt", "write `preempt = false`")],
    );
    pub(crate) const PREEMPT_DELAY: Key = key(
        "preempt_delay",
        Kind::Duration {
            min: Duration::ZERO,
            max: Duration::from_secs(1000),
        },
        Need::Default(Def::Duration(Duration::ZERO)),
    );
    /// keepalived's default without vrrp_strict: a Master that is not the
    /// address owner still serves its VIPs (what a load balancer is for).
    pub(crate) const ACCEPT: Key = aka(
        "accept",
        Kind::Bool,
        Need::Default(Def::Bool(true)),
        &[it_is("accept_mode")],
    );
    /// 1 to [`VIPS_MAX`], all of one family.
    pub(crate) const VIPS: Key = aka(
        "vips",
        Kind::List(&Kind::Vip),
        Need::Required(" (e.g. vips = [\"192.0.2.3/24\"])"),
        &[keepalived("virtual_ipaddress")],
    );
    /// What one advert carries.
    pub(crate) const VIPS_MAX: usize = 255;
    /// Default: none.
    pub(crate) const AUTH: Key = aka(
        "auth",
        Kind::Table(&super::auth::SECTION),
        Need::Optional,
        &[keepalived("authentication")],
    );
    pub(crate) const UNICAST_SRC: Key = aka(
        "unicast_src",
        Kind::Addr,
        Need::Optional,
        &[keepalived("unicast_src_ip")],
    );
    pub(crate) const UNICAST_PEERS: Key = aka(
        "unicast_peers",
        Kind::List(&Kind::Addr),
        Need::Optional,
        &[keepalived("unicast_peer")],
    );
    /// Default on, unlike keepalived's `check_unicast_src`.
    pub(crate) const CHECK_UNICAST_SRC: Key =
        key("check_unicast_src", Kind::Bool, Need::Default(Def::Bool(true)));
    pub(crate) const TRACK_INTERFACES: Key = aka(
        "track_interfaces",
        Kind::List(&Kind::Ifname),
        Need::Optional,
        &[keepalived("track_interface")],
    );
    pub(crate) const PSEUDO_HEADER: &str = "pseudo-header";
    pub(crate) const NO_PSEUDO_HEADER: &str = "no-pseudo-header";
    pub(crate) const V3_CHECKSUM: Key = aka(
        "v3_checksum",
        Kind::OneOf(&[PSEUDO_HEADER, NO_PSEUDO_HEADER]),
        Need::Default(Def::Text(PSEUDO_HEADER)),
        &[it_is("checksum")],
    );
    pub(crate) const CHECK_ADV_ADDR: Key = key("check_adv_addr", Kind::Bool, Need::Default(Def::Bool(true)));
    pub(crate) const GARP: Key = key(
        "garp",
        Kind::Table(&super::garp::IN_INSTANCE),
        Need::Default(Def::Base),
    );
    pub(crate) const TRACK: Key = aka(
        "track",
        Kind::Tables(&super::track::SECTION),
        Need::Optional,
        &[hint("track_script", "track a policy with [[instance.track]]")],
    );
    pub(crate) const SPLIT_BRAIN: Key = table("split_brain", &super::split_brain::SECTION);
    /// Baton's own extension: at most [`HEARTBEAT_MAX`] more advert paths.
    pub(crate) const HEARTBEAT: Key = tables("heartbeat", &super::heartbeat::SECTION);
    /// Heartbeat paths per instance.
    pub(crate) const HEARTBEAT_MAX: usize = 8;
    /// Default: whether `[notify]` has `email`.
    pub(crate) const SMTP_ALERT: Key = key("smtp_alert", Kind::Bool, Need::Optional);
    /// `[[notify.command]]` names, run on entering that state.
    pub(crate) const NOTIFY_MASTER: Key = key("notify_master", Kind::Word, Need::Optional);
    pub(crate) const NOTIFY_BACKUP: Key = key("notify_backup", Kind::Word, Need::Optional);
    pub(crate) const NOTIFY_FAULT: Key = key("notify_fault", Kind::Word, Need::Optional);
    /// Run when the instance stops (the daemon stops, or a reload removes it).
    pub(crate) const NOTIFY_STOP: Key = key("notify_stop", Kind::Word, Need::Optional);
    /// Run on every transition, after the state's own.
    pub(crate) const NOTIFY: Key = key("notify", Kind::Word, Need::Optional);
    /// Whether its own interface going down means FAULT.
    pub(crate) const TRACK_PRIMARY: Key = aka(
        "track_primary",
        Kind::Bool,
        Need::Default(Def::Bool(true)),
        &[hint(
            "dont_track_primary",
            "keepalived's `dont_track_primary` is `track_primary = false` here",
        )],
    );
    /// Addresses held with the VIPs, not in adverts: any number, any family.
    pub(crate) const EXCLUDED_VIPS: Key = aka(
        "excluded_vips",
        Kind::List(&Kind::Vip),
        Need::Optional,
        &[keepalived("virtual_ipaddress_excluded")],
    );
    /// `[src ADDR] [to] PREFIX [via ADDR] [dev IF] [scope S] [table T] [metric M]`
    /// or `blackhole PREFIX` ([`crate::parse_route`]).
    pub(crate) const ROUTES: Key = aka(
        "routes",
        Kind::List(&Kind::Text),
        Need::Optional,
        &[keepalived("virtual_routes")],
    );
    /// `true` (named `vrrp.VRID`) or the macvlan's name.
    pub(crate) const USE_VMAC: Key = key("use_vmac", Kind::Ifname, Need::Optional);
    pub(crate) const VMAC_XMIT_BASE: Key = key("vmac_xmit_base", Kind::Bool, Need::Default(Def::Bool(false)));

    pub(crate) const SECTION: Section = Section {
        what: "[[instance]]",
        how: "a table",
        prefix: "",
        missing: Missing::Without,
        keys: &[
            NAME,
            INTERFACE,
            VRID,
            PRIORITY,
            ADVERT_INTERVAL,
            VERSION,
            PREEMPT,
            PREEMPT_DELAY,
            ACCEPT,
            VIPS,
            AUTH,
            UNICAST_SRC,
            UNICAST_PEERS,
            CHECK_UNICAST_SRC,
            TRACK_INTERFACES,
            V3_CHECKSUM,
            CHECK_ADV_ADDR,
            GARP,
            TRACK,
            SPLIT_BRAIN,
            HEARTBEAT,
            SMTP_ALERT,
            NOTIFY_MASTER,
            NOTIFY_BACKUP,
            NOTIFY_FAULT,
            NOTIFY_STOP,
            NOTIFY,
            TRACK_PRIMARY,
            EXCLUDED_VIPS,
            ROUTES,
            USE_VMAC,
            VMAC_XMIT_BASE,
        ],
        hints: &[(
            "state",
            "there is no `state`: the highest `priority` becomes master, so give the backup a lower one",
        )],
    };
}

/// One `track_interfaces` element written as a table: `{ name = "eth1",
/// weight = -20 }` (a plain string is a weight-0 link).
pub(crate) mod track_interface {
    use super::*;

    pub(crate) const NAME: Key = key("name", Kind::Ifname, Need::Required(" (e.g. name = \"eth1\")"));
    /// keepalived's range; 0: FAULT while the link is down.
    pub(crate) const WEIGHT: Key = key(
        "weight",
        Kind::Int { min: -254, max: 254 },
        Need::Default(Def::Int(0)),
    );

    pub(crate) const SECTION: Section = Section {
        what: "track_interfaces",
        how: "an interface name or a table { name = .., weight = .. }",
        prefix: "track_interfaces.",
        missing: Missing::Inline,
        keys: &[NAME, WEIGHT],
        hints: &[],
    };
}

/// `[[sync_group]]` (keepalived's `vrrp_sync_group`).
pub(crate) mod sync_group {
    use super::*;

    pub(crate) const NAME: Key = key("name", Kind::Word, Need::Required(" (e.g. name = \"G1\")"));
    pub(crate) const INSTANCES: Key = aka(
        "instances",
        Kind::List(&Kind::Word),
        Need::Required(" (e.g. instances = [\"VI_1\", \"VI_2\"])"),
        &[hint(
            "group",
            "keepalived's `group { .. }` is `instances = [..]` here",
        )],
    );
    pub(crate) const TRACKING_WEIGHT: Key = aka(
        "tracking_weight",
        Kind::Bool,
        Need::Default(Def::Bool(false)),
        &[keepalived("sync_group_tracking_weight")],
    );

    pub(crate) const SECTION: Section = Section {
        what: "[[sync_group]]",
        how: "a table",
        prefix: "sync_group.",
        missing: Missing::Without,
        keys: &[
            NAME,
            INSTANCES,
            super::instance::SMTP_ALERT,
            super::instance::NOTIFY_MASTER,
            super::instance::NOTIFY_BACKUP,
            super::instance::NOTIFY_FAULT,
            super::instance::NOTIFY_STOP,
            super::instance::NOTIFY,
            TRACKING_WEIGHT,
        ],
        hints: &[
            (
                "track_script",
                "track in each member instance: a sync group's members fault together anyway",
            ),
            (
                "track_interface",
                "track in each member instance: a sync group's members fault together anyway",
            ),
        ],
    };
}

/// An instance's `auth = { type = .., password = .. }`.
pub(crate) mod auth {
    use super::*;

    pub(crate) const PASS: &str = "pass";
    pub(crate) const NONE: &str = "none";
    pub(crate) const HMAC: &str = "hmac";
    pub(crate) const TYPE: Key = aka(
        "type",
        Kind::OneOf(&[PASS, HMAC, NONE]),
        Need::Required(" (\"pass\", \"hmac\" or \"none\")"),
        &[it_is("auth_type")],
    );
    /// HMAC: the keys, root's alone (mode 0600): one hex key (id 1), or
    /// lines `ID HEX` for several.
    pub(crate) const KEY_FILE: Key = key("key_file", Kind::Path, Need::Optional);
    /// HMAC, instead of `key_file`: keepalived's `key ID VALUE` lines as
    /// `"ID VALUE"`, VALUE `file:PATH` (a private file holding one key,
    /// `hex:HEX` or its bytes) or the key itself (then this config file
    /// must be private).
    pub(crate) const KEYS: Key = key("keys", Kind::List(&Kind::Text), Need::Optional);
    /// HMAC: the id of the key that signs; default: the only one.
    pub(crate) const ACTIVE: Key = aka(
        "active",
        Kind::Int { min: 1, max: 255 },
        Need::Optional,
        &[it_is("active_key")],
    );
    pub(crate) const ENFORCE: &str = "enforce";
    pub(crate) const PERMISSIVE: &str = "permissive";
    pub(crate) const RECEIVE_ONLY: &str = "receive-only";
    pub(crate) const MODE: Key = key(
        "mode",
        Kind::OneOf(&[ENFORCE, PERMISSIVE, RECEIVE_ONLY]),
        Need::Default(Def::Text(ENFORCE)),
    );
    pub(crate) const TIME: &str = "time";
    pub(crate) const MONOTONIC: &str = "monotonic";
    pub(crate) const ANTI_REPLAY: Key = key(
        "anti_replay",
        Kind::OneOf(&[TIME, MONOTONIC]),
        Need::Default(Def::Text(TIME)),
    );
    /// Default: three advert intervals, at least 5 s.
    pub(crate) const TIME_WINDOW: Key = key(
        "time_window",
        Kind::Duration {
            min: Duration::from_secs(1),
            max: Duration::from_secs(300),
        },
        Need::Optional,
    );
    /// 1 to 8 bytes (VRRPv2).
    pub(crate) const PASSWORD: Key = aka(
        "password",
        Kind::Text,
        Need::Optional,
        &[it_is("auth_pass"), it_is("pass")],
    );

    pub(crate) const SECTION: Section = Section {
        what: "auth",
        how: "a table such as { type = \"hmac\", key_file = \"/etc/baton/vrrp.key\" }",
        prefix: "auth.",
        missing: Missing::Inline,
        keys: &[
            TYPE,
            PASSWORD,
            KEY_FILE,
            KEYS,
            ACTIVE,
            MODE,
            ANTI_REPLAY,
            TIME_WINDOW,
        ],
        hints: &[],
    };
}

/// `[[instance.track]]`: `policy` (its own check) or `check` (a
/// `[[check]]`), one of the two.
pub(crate) mod track {
    use super::*;

    pub(crate) const POLICY: Key = key("policy", Kind::Word, Need::Optional);
    pub(crate) const CHECK: Key = key("check", Kind::Word, Need::Optional);
    /// Also a check's and a split-brain policy's.
    pub(crate) const INTERVAL: Key = key(
        "interval",
        Kind::Duration {
            min: Duration::from_millis(10),
            max: HOUR,
        },
        Need::Default(Def::Duration(Duration::from_secs(1))),
    );
    /// Also a check's.
    pub(crate) const TIMEOUT: Key = key(
        "timeout",
        Kind::Duration { min: MS, max: HOUR },
        Need::Default(Def::Interval),
    );
    pub(crate) const WEIGHT: Key = key(
        "weight",
        Kind::Int { min: -253, max: 253 },
        Need::Default(Def::Int(0)),
    );
    /// Results in a row.
    const STREAK: Kind = Kind::Int {
        min: 1,
        max: u32::MAX as i64,
    };
    pub(crate) const RISE: Key = key("rise", STREAK, Need::Default(Def::Int(1)));
    pub(crate) const FALL: Key = key("fall", STREAK, Need::Default(Def::Int(1)));
    pub(crate) const INIT_FAIL: Key = key("init_fail", Kind::Bool, Need::Default(Def::Bool(false)));
    /// A track's settings, merged over its policy's `config`.
    pub(crate) const CONFIG: Key = aka(
        "config",
        Kind::Settings,
        Need::Optional,
        &[hint("settings", "per-instance settings are `config`")],
    );
    /// What a track with `check` takes from the check.
    pub(crate) const FROM_CHECK: [&Key; 4] = [&POLICY, &INTERVAL, &TIMEOUT, &CONFIG];

    pub(crate) const SECTION: Section = Section {
        what: "[[instance.track]]",
        how: "a table",
        prefix: "track.",
        missing: Missing::Without,
        keys: &[
            POLICY, CHECK, INTERVAL, TIMEOUT, WEIGHT, RISE, FALL, INIT_FAIL, CONFIG,
        ],
        hints: &[("script", "name a [[policy]] with `policy`")],
    };
}

/// `[instance.split_brain]`.
pub(crate) mod split_brain {
    use super::*;

    pub(crate) use super::check::POLICY;

    pub(crate) const SECTION: Section = Section {
        what: "[instance.split_brain]",
        how: "a table ([instance.split_brain])",
        prefix: "split_brain.",
        missing: Missing::Without,
        keys: &[POLICY, super::track::INTERVAL],
        hints: &[],
    };
}

/// `[[instance.heartbeat]]`: one more path for the instance's adverts, to
/// one peer by unicast over another interface (Baton's own extension).
pub(crate) mod heartbeat {
    use super::*;

    /// Not the instance's own interface.
    pub(crate) const INTERFACE: Key = key(
        "interface",
        Kind::Ifname,
        Need::Required(" (the interface the path leaves by, e.g. interface = \"hb0\")"),
    );
    /// The peer's address on this path: adverts go there by unicast.
    pub(crate) const PEER: Key = aka(
        "peer",
        Kind::Addr,
        Need::Required(" (the peer's address on this path, e.g. peer = \"198.51.100.12\")"),
        &[it_is("unicast_peer"), it_is("unicast_peers")],
    );
    /// The same peer's address on the main path, by which it is known.
    /// Default: the instance's unicast peer when it has exactly one (else
    /// required: the front end says so).
    pub(crate) const PRIMARY: Key = key("primary", Kind::Addr, Need::Optional);
    /// Source of adverts on this path. Default: the interface's primary
    /// address, resolved by the daemon.
    pub(crate) const SOURCE: Key = aka(
        "source",
        Kind::Addr,
        Need::Optional,
        &[it_is("unicast_src"), it_is("src")],
    );

    pub(crate) const SECTION: Section = Section {
        what: "[[instance.heartbeat]]",
        how: "a table",
        prefix: "heartbeat.",
        missing: Missing::Without,
        keys: &[INTERFACE, PEER, PRIMARY, SOURCE],
        hints: &[],
    };
}

/// `[notify]` (keepalived's `global_defs` mail settings, and more).
pub(crate) mod notify {
    use super::*;

    pub(crate) const EMAIL: Key = aka(
        "email",
        Kind::List(&Kind::Text),
        Need::Optional,
        &[keepalived("notification_email")],
    );
    /// Default: `baton@ROUTER_ID`.
    pub(crate) const EMAIL_FROM: Key = aka(
        "email_from",
        Kind::Text,
        Need::Optional,
        &[keepalived("notification_email_from")],
    );
    /// `host[:port]`, port 25 by default.
    pub(crate) const SMTP_SERVER: Key = key("smtp_server", Kind::Text, Need::Optional);
    pub(crate) const SMTP_CONNECT_TIMEOUT: Key = key(
        "smtp_connect_timeout",
        Kind::Duration { min: MS, max: HOUR },
        Need::Default(Def::Duration(Duration::from_secs(30))),
    );
    pub(crate) const TLS_NONE: &str = "none";
    pub(crate) const TLS_STARTTLS: &str = "starttls";
    pub(crate) const SMTP_TLS: Key = aka(
        "smtp_tls",
        Kind::OneOf(&[TLS_NONE, TLS_STARTTLS]),
        Need::Default(Def::Text(TLS_NONE)),
        &[it_is("starttls")],
    );
    /// PEM certificates trusted besides the public roots (STARTTLS, https webhooks).
    pub(crate) const CA: Key = key("ca", Kind::Path, Need::Optional);
    /// Messages each sink holds before it folds them into a digest.
    pub(crate) const QUEUE: Key = key(
        "queue",
        Kind::Int { min: 1, max: 100_000 },
        Need::Default(Def::Int(64)),
    );
    /// How long a message is retried before it counts as failed.
    pub(crate) const DEADLINE: Key = key(
        "deadline",
        Kind::Duration {
            min: MS,
            max: Duration::from_secs(86_400),
        },
        Need::Default(Def::Duration(Duration::from_secs(300))),
    );
    /// Transitions per instance per `flap_window` before they are folded.
    pub(crate) const FLAP_BURST: Key = key(
        "flap_burst",
        Kind::Int { min: 1, max: 10_000 },
        Need::Default(Def::Int(3)),
    );
    pub(crate) const FLAP_WINDOW: Key = key(
        "flap_window",
        Kind::Duration { min: MS, max: HOUR },
        Need::Default(Def::Duration(Duration::from_secs(60))),
    );
    pub(crate) const WEBHOOK: Key = tables("webhook", &super::webhook::SECTION);
    pub(crate) const COMMAND: Key = tables("command", &super::notify_command::SECTION);
    pub(crate) const HOOK: Key = table("hook", &super::hook::SECTION);

    pub(crate) const SECTION: Section = Section {
        what: "[notify]",
        how: "a table ([notify])",
        prefix: "notify.",
        missing: Missing::Without,
        keys: &[
            EMAIL,
            EMAIL_FROM,
            SMTP_SERVER,
            SMTP_CONNECT_TIMEOUT,
            SMTP_TLS,
            CA,
            QUEUE,
            DEADLINE,
            FLAP_BURST,
            FLAP_WINDOW,
            WEBHOOK,
            COMMAND,
            HOOK,
        ],
        hints: &[("smtp_alert", "`smtp_alert` is a key of each [[instance]]")],
    };
}

/// `[[notify.webhook]]`.
pub(crate) mod webhook {
    use super::*;

    /// Default: `webhook`, then `webhook-2`, ...
    pub(crate) const NAME: Key = key("name", Kind::Word, Need::Optional);
    pub(crate) const URL: Key = key(
        "url",
        Kind::Text,
        Need::Required(" (e.g. url = \"https://hooks.example.org/baton\")"),
    );
    pub(crate) const HEADERS: Key = key("headers", Kind::Settings, Need::Optional);
    pub(crate) const TIMEOUT: Key = key(
        "timeout",
        Kind::Duration { min: MS, max: HOUR },
        Need::Default(Def::Duration(Duration::from_secs(10))),
    );

    pub(crate) const SECTION: Section = Section {
        what: "[[notify.webhook]]",
        how: "a table",
        prefix: "webhook.",
        missing: Missing::Without,
        keys: &[NAME, URL, HEADERS, TIMEOUT],
        hints: &[("header", "it is `headers`, a table")],
    };
}

/// `[[notify.command]]`: what an instance's `notify_*` keys name.
pub(crate) mod notify_command {
    use super::*;

    pub(crate) use super::policy::NAME;
    pub(crate) use super::remedy::{COMMAND, TIMEOUT};

    pub(crate) const SECTION: Section = Section {
        what: "[[notify.command]]",
        how: "a table",
        prefix: "command.",
        missing: Missing::Without,
        keys: &[NAME, COMMAND, TIMEOUT],
        hints: &[(
            "script",
            "give the program and its arguments as `command = [\"/usr/local/bin/notify.sh\"]`; keepalived's arguments are appended",
        )],
    };
}

/// `[notify.hook]`: the transition-hook component.
pub(crate) mod hook {
    use super::*;

    pub(crate) use super::policy::{CONFIG, SHA256};
    pub(crate) const SOURCE: Key = key(
        "source",
        Kind::Source,
        Need::Required(" (a .wasm component of the transition-hook world)"),
    );
    pub(crate) const TIMEOUT: Key = key(
        "timeout",
        Kind::Duration {
            min: MS,
            max: Duration::from_secs(10),
        },
        Need::Default(Def::Duration(Duration::from_millis(200))),
    );

    pub(crate) const SECTION: Section = Section {
        what: "[notify.hook]",
        how: "a table ([notify.hook])",
        prefix: "hook.",
        missing: Missing::Without,
        keys: &[SOURCE, SHA256, CONFIG, TIMEOUT],
        hints: &[],
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections() -> Vec<&'static Section> {
        vec![
            &top::SECTION,
            &garp::SECTION,
            &garp::IN_INSTANCE,
            &policy::SECTION,
            &remedy::SECTION,
            &check::SECTION,
            &instance::SECTION,
            &auth::SECTION,
            &track::SECTION,
            &split_brain::SECTION,
            &heartbeat::SECTION,
            &notify::SECTION,
            &webhook::SECTION,
            &notify_command::SECTION,
            &hook::SECTION,
            &track_interface::SECTION,
            &sync_group::SECTION,
        ]
    }

    #[test]
    fn each_name_means_one_thing_in_its_section() {
        for s in sections() {
            let mut names: Vec<&str> = s.names();
            for k in s.keys {
                names.extend(k.aliases.iter().map(|h| h.name));
            }
            names.extend(s.hints.iter().map(|(n, _)| *n));
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count, "{}", s.what);
            for k in s.keys {
                assert!(s.hint(k.name).is_none(), "{}: {}", s.what, k.name);
                assert!(std::ptr::eq(s.key(k.name).expect("key"), k));
            }
        }
    }

    #[test]
    fn ranges_and_hints_read_as_messages() {
        let k = &instance::VRID;
        assert_eq!(k.int_problem("vrid", 50, "50"), None);
        assert_eq!(
            k.int_problem("vrid", 0, "0").as_deref(),
            Some("vrid: 0 is out of range (must be 1..=255)")
        );
        assert_eq!(
            track::RISE.int_problem("track.rise", 0, "0").as_deref(),
            Some("track.rise: 0 is out of range (must be at least 1)")
        );
        assert_eq!(
            instance::SECTION.hint("virtual_router_id").as_deref(),
            Some("keepalived's `virtual_router_id` is `vrid` here")
        );
        assert_eq!(
            auth::SECTION.hint("pass").as_deref(),
            Some("it is `password` here")
        );
        assert_eq!(
            instance::SECTION.missing(&instance::VRID),
            "[[instance]] without `vrid` (e.g. vrid = 50)"
        );
        assert_eq!(
            auth::SECTION.missing(&auth::TYPE),
            "auth: missing `type` (\"pass\", \"hmac\" or \"none\")"
        );
        assert_eq!(check::SECTION.label(&track::INTERVAL), "check.interval");
    }
}
