//! The semantic pass: walks the parsed TOML document, checks every key and
//! value, and builds the [`Config`]. Errors are collected, not returned at
//! the first, as (byte offset, message).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use baton_vrrp::{Auth, Family, V3Checksum, Version};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::duration::{format_duration, parse_duration};
use crate::suggest::closest;
use crate::vip::{ifname_problem, parse_vip};
use crate::{
    BUILTIN_POLICIES, Builtin, Check, Config, DEFAULT_SOCKET, Garp, InstanceConfig, Policy, PolicySource,
    Remedy, SplitBrain, Track, Vip,
};

type Value<'i> = Spanned<DeValue<'i>>;
type Errors = Vec<(usize, String)>;

const TOP_KEYS: &[&str] = &[
    "router_id",
    "socket",
    "log_file",
    "garp",
    "policy",
    "check",
    "remedy",
    "instance",
];
const TOP_ALIASES: &[(&str, &str)] = &[
    ("global_defs", "its `router_id` is a top-level key here"),
    ("vrrp_instance", "write each instance as [[instance]]"),
    (
        "vrrp_script",
        "health checks are [[policy]] tables, tracked with [[instance.track]]",
    ),
    ("instances", "write each instance as [[instance]]"),
    ("policies", "write each policy as [[policy]]"),
    ("remedies", "write each remedy as [[remedy]]"),
];
const GARP_KEYS: &[&str] = &["delay", "repeat", "interval", "refresh"];
const GARP_ALIASES: &[(&str, &str)] = &[
    ("vrrp_garp_master_delay", "it is `delay` here"),
    ("vrrp_garp_master_repeat", "it is `repeat` here"),
    ("vrrp_garp_interval", "it is `interval` here"),
    ("vrrp_gna_interval", "it is `interval` here"),
    ("vrrp_garp_master_refresh", "it is `refresh` here"),
];
const POLICY_KEYS: &[&str] = &[
    "name",
    "source",
    "sha256",
    "config",
    "allow",
    "allow_files",
    "remedies",
];
const POLICY_ALIASES: &[(&str, &str)] = &[
    ("script", "a policy is WebAssembly: give its `source`"),
    ("allow_net", "network targets are `allow`"),
    ("allow_file", "it is `allow_files` here"),
    ("remedy", "name the [[remedy]] tables it may run in `remedies`"),
];
const REMEDY_KEYS: &[&str] = &["name", "command", "timeout"];
const REMEDY_ALIASES: &[(&str, &str)] = &[
    ("argv", "it is `command` here"),
    ("cmd", "it is `command` here"),
    (
        "script",
        "give the program and its arguments as `command = [\"systemctl\", \"restart\", \"nginx\"]`",
    ),
];
/// A remedy's default timeout.
const REMEDY_TIMEOUT: Duration = Duration::from_secs(10);
const INSTANCE_KEYS: &[&str] = &[
    "name",
    "interface",
    "vrid",
    "priority",
    "advert_interval",
    "version",
    "preempt",
    "preempt_delay",
    "accept",
    "vips",
    "auth",
    "unicast_src",
    "unicast_peers",
    "track_interfaces",
    "v3_checksum",
    "check_adv_addr",
    "garp",
    "track",
    "split_brain",
];
const INSTANCE_ALIASES: &[(&str, &str)] = &[
    (
        "virtual_router_id",
        "keepalived's `virtual_router_id` is `vrid` here",
    ),
    (
        "advert_int",
        "keepalived's `advert_int` is `advert_interval` here, with a unit: \"1s\"",
    ),
    (
        "virtual_ipaddress",
        "keepalived's `virtual_ipaddress` is `vips` here",
    ),
    ("authentication", "keepalived's `authentication` is `auth` here"),
    (
        "state",
        "there is no `state`: the highest `priority` becomes master, so give the backup a lower one",
    ),
    ("nopreempt", "write `preempt = false`"),
    (
        "unicast_src_ip",
        "keepalived's `unicast_src_ip` is `unicast_src` here",
    ),
    (
        "unicast_peer",
        "keepalived's `unicast_peer` is `unicast_peers` here",
    ),
    (
        "track_interface",
        "keepalived's `track_interface` is `track_interfaces` here",
    ),
    ("track_script", "track a policy with [[instance.track]]"),
    ("vrrp_version", "it is `version` here"),
    ("accept_mode", "it is `accept` here"),
    ("checksum", "it is `v3_checksum` here"),
];
const AUTH_KEYS: &[&str] = &["type", "password"];
const AUTH_ALIASES: &[(&str, &str)] = &[
    ("auth_type", "it is `type` here"),
    ("auth_pass", "it is `password` here"),
    ("pass", "it is `password` here"),
];
const CHECK_KEYS: &[&str] = &["name", "policy", "interval", "timeout", "config"];
const TRACK_KEYS: &[&str] = &[
    "policy",
    "check",
    "interval",
    "timeout",
    "weight",
    "rise",
    "fall",
    "init_fail",
    "config",
];
const SPLIT_BRAIN_KEYS: &[&str] = &["policy", "interval"];

/// Limits not owned by the protocol crate.
const PREEMPT_DELAY_MAX: Duration = Duration::from_secs(1000);
const TRACK_INTERVAL_MIN: Duration = Duration::from_millis(10);
const HOUR: Duration = Duration::from_secs(3600);
const GARP_INTERVAL_MAX: Duration = Duration::from_secs(10);
const GARP_REFRESH_MIN: Duration = Duration::from_secs(1);
const WEIGHT_MAX: i128 = 253;

pub(crate) fn check(text: &str, path: &Path, doc: &DeTable<'_>) -> Result<Config, Errors> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut cx = Cx {
        text,
        dir,
        errs: Vec::new(),
    };
    let config = cx.config(path, doc);
    let mut errs = cx.errs;
    if errs.is_empty() {
        return Ok(config);
    }
    errs.sort_by_key(|(at, _)| *at);
    errs.dedup();
    Err(errs)
}

struct Cx<'t> {
    text: &'t str,
    dir: PathBuf,
    errs: Errors,
}

/// A policy name that instances may refer to: every `[[policy]]` with a
/// name, even one with other errors (so as not to report its uses too).
struct Known {
    name: String,
    /// The builtin it is, when known.
    builtin: Option<Builtin>,
    /// The policy, when it has no errors.
    policy: Option<Policy>,
}

/// A policy's name, the offset of the name, and the builtin it is.
type Named = (String, usize, Option<Builtin>);

/// Where each of a `config` table's settings is.
type SettingsAt = BTreeMap<String, usize>;

/// Where an instance's uniqueness-checked values are.
struct Placed {
    header: usize,
    name_at: usize,
    vrid_at: usize,
    vip_at: Vec<usize>,
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

impl<'t> Cx<'t> {
    fn err(&mut self, at: usize, message: impl Into<String>) {
        self.errs.push((at, message.into()));
    }

    /// The offset of byte `inner` of a string value's content, when the source
    /// spells the string without escapes; else the value's start.
    fn str_pos(&self, v: &Value<'_>, inner: usize) -> usize {
        let span = v.span();
        let raw = &self.text[span.clone()];
        match v.get_ref() {
            DeValue::String(s)
                if raw.len() == s.len() + 2
                    && (raw.starts_with('"') || raw.starts_with('\''))
                    && inner <= s.len() =>
            {
                span.start + 1 + inner
            }
            _ => span.start,
        }
    }

    /// Reports keys of `t` that are not in `known`.
    fn known_keys(&mut self, t: &DeTable<'_>, known: &[&str], what: &str, aliases: &[(&str, &str)]) {
        for (k, _) in t.iter() {
            let key: &str = k.get_ref();
            if known.contains(&key) {
                continue;
            }
            let hint = if let Some((_, h)) = aliases.iter().find(|(a, _)| *a == key) {
                format!(" ({h})")
            } else if let Some(s) = closest(key, known) {
                format!(" (did you mean `{s}`?)")
            } else {
                format!(" (expected one of: {})", known.join(", "))
            };
            self.err(k.span().start, format!("unknown key `{key}` in {what}{hint}"));
        }
    }

    fn string<'v>(&mut self, v: &'v Value<'_>, key: &str) -> Option<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                self.err(
                    v.span().start,
                    format!("{key}: expected a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// A string that is not empty and has no control characters or spaces.
    fn word<'v>(&mut self, v: &'v Value<'_>, key: &str) -> Option<&'v str> {
        let s = self.string(v, key)?;
        if s.is_empty() {
            self.err(v.span().start, format!("{key}: cannot be empty"));
            return None;
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            self.err(
                v.span().start,
                format!("{key}: {s:?} contains {c:?}; use a single word"),
            );
            return None;
        }
        Some(s)
    }

    fn int(&mut self, v: &Value<'_>, key: &str, range: RangeInclusive<i128>) -> Option<i128> {
        let n = match v.get_ref() {
            DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
            other => {
                let hint = match other {
                    DeValue::String(s) if s.trim().parse::<i128>().is_ok() => {
                        format!(" (write it without quotes: {})", s.trim())
                    }
                    _ => String::new(),
                };
                self.err(
                    v.span().start,
                    format!("{key}: expected an integer, found {}{hint}", type_name(other)),
                );
                return None;
            }
        };
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                let shown = match v.get_ref() {
                    DeValue::Integer(i) => i.to_string(),
                    _ => String::new(),
                };
                let (lo, hi) = (range.start(), range.end());
                let expect = if *hi >= i128::from(u32::MAX) {
                    format!("at least {lo}")
                } else {
                    format!("{lo}..={hi}")
                };
                self.err(
                    v.span().start,
                    format!("{key}: {shown} is out of range (must be {expect})"),
                );
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value<'_>, key: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                let hint = match other {
                    DeValue::String(s) if s.as_ref() == "true" || s.as_ref() == "false" => {
                        format!(" (write it without quotes: {s})")
                    }
                    _ => String::new(),
                };
                self.err(
                    v.span().start,
                    format!("{key}: expected true or false, found {}{hint}", type_name(other)),
                );
                None
            }
        }
    }

    fn duration(&mut self, v: &Value<'_>, key: &str, min: Duration, max: Duration) -> Option<Duration> {
        let d = match v.get_ref() {
            DeValue::String(s) => match parse_duration(s) {
                Ok(d) => d,
                Err(e) => {
                    self.err(v.span().start, format!("{key}: {e}"));
                    return None;
                }
            },
            DeValue::Integer(i) => {
                self.err(
                    v.span().start,
                    format!("{key}: a duration is a string with a unit (us, ms, s, m, h), e.g. \"{i}s\""),
                );
                return None;
            }
            other => {
                self.err(
                    v.span().start,
                    format!(
                        "{key}: expected a duration string such as \"1s\", found {}",
                        type_name(other)
                    ),
                );
                return None;
            }
        };
        if d < min || d > max {
            self.err(
                v.span().start,
                format!(
                    "{key}: {} is out of range (must be {} to {})",
                    format_duration(d),
                    format_duration(min),
                    format_duration(max)
                ),
            );
            return None;
        }
        Some(d)
    }

    fn table<'v, 'i>(&mut self, v: &'v Value<'i>, key: &str, how: &str) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.err(
                    v.span().start,
                    format!("{key}: expected {how}, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn array<'v, 'i>(&mut self, v: &'v Value<'i>, key: &str, how: &str) -> Option<&'v [Value<'i>]> {
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            other => {
                self.err(
                    v.span().start,
                    format!("{key}: expected {how}, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn ip(&mut self, v: &Value<'_>, key: &str) -> Option<IpAddr> {
        let s = self.string(v, key)?;
        match s.parse::<IpAddr>() {
            Ok(a) if a.is_unspecified() || a.is_multicast() => {
                self.err(v.span().start, format!("{key}: {a} is not a unicast address"));
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                let hint = if s.contains('/') {
                    " (no prefix length here)"
                } else {
                    ""
                };
                self.err(
                    v.span().start,
                    format!("{key}: `{s}` is not an IPv4 or IPv6 address{hint}"),
                );
                None
            }
        }
    }

    fn config(&mut self, path: &Path, doc: &DeTable<'_>) -> Config {
        self.known_keys(doc, TOP_KEYS, "the top level", TOP_ALIASES);
        let router_id = match doc.get("router_id") {
            Some(v) => self.word(v, "router_id").map(str::to_string),
            None => None,
        }
        .unwrap_or_else(crate::hostname);
        let socket = doc
            .get("socket")
            .and_then(|v| self.path(v, "socket"))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET));
        let log_file = doc.get("log_file").and_then(|v| self.path(v, "log_file"));
        let garp = match doc.get("garp") {
            Some(v) => match self.table(v, "garp", "a table ([garp])") {
                Some(t) => self.garp(t, Garp::default(), "[garp]", "garp"),
                None => Garp::default(),
            },
            None => Garp::default(),
        };

        let mut remedies: Vec<Remedy> = Vec::new();
        if let Some(v) = doc.get("remedy")
            && let Some(items) = self.array_of_tables(v, "remedy")
        {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for item in items {
                let Some((remedy, name_at)) = self.remedy(item) else {
                    continue;
                };
                if let Some(first) = seen.get(&remedy.name) {
                    let line = self.line_of(*first);
                    self.err(
                        name_at,
                        format!(
                            "duplicate remedy name `{}` (first defined at line {line})",
                            remedy.name
                        ),
                    );
                } else {
                    seen.insert(remedy.name.clone(), name_at);
                    remedies.push(remedy);
                }
            }
        }
        let remedy_names: Vec<String> = match doc.get("remedy") {
            // Every remedy with a name, even one with other errors, may be named.
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .filter_map(|i| match i.get_ref() {
                        DeValue::Table(t) => match t.get("name").map(|n| n.get_ref()) {
                            Some(DeValue::String(n)) => Some(n.to_string()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        };

        let mut policies = Vec::new();
        let mut known: Vec<Known> = Vec::new();
        if let Some(v) = doc.get("policy")
            && let Some(items) = self.array_of_tables(v, "policy")
        {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for item in items {
                let (policy, named) = self.policy(item, &remedy_names);
                if let Some((name, name_at, builtin)) = named {
                    let policy = policy.clone();
                    if let Some(first) = seen.get(&name) {
                        let line = self.line_of(*first);
                        self.err(
                            name_at,
                            format!("duplicate policy name `{name}` (first defined at line {line})"),
                        );
                    } else {
                        seen.insert(name.clone(), name_at);
                        known.push(Known {
                            name,
                            builtin,
                            policy,
                        });
                    }
                }
                policies.extend(policy);
            }
        }

        let mut checks: Vec<Check> = Vec::new();
        if let Some(v) = doc.get("check")
            && let Some(items) = self.array_of_tables(v, "check")
        {
            let mut seen: HashMap<String, usize> = HashMap::new();
            for item in items {
                let Some((check, name_at)) = self.check_table(item, &known) else {
                    continue;
                };
                if let Some(first) = seen.get(&check.name) {
                    let line = self.line_of(*first);
                    self.err(
                        name_at,
                        format!(
                            "duplicate check name `{}` (first defined at line {line})",
                            check.name
                        ),
                    );
                } else {
                    seen.insert(check.name.clone(), name_at);
                    checks.push(check);
                }
            }
        }

        let mut instances = Vec::new();
        let mut placed: Vec<Placed> = Vec::new();
        match doc.get("instance") {
            None => self.err(0, "no [[instance]]: a config needs at least one virtual router"),
            Some(v) => {
                if let Some(items) = self.array_of_tables(v, "instance") {
                    if items.is_empty() {
                        self.err(
                            v.span().start,
                            "no [[instance]]: a config needs at least one virtual router",
                        );
                    }
                    for item in items {
                        if let Some((i, p)) = self.instance(item, &known, &checks, &garp) {
                            instances.push(i);
                            placed.push(p);
                        }
                    }
                }
            }
        }
        self.across_instances(&instances, &placed);

        Config {
            path: path.to_path_buf(),
            router_id,
            socket,
            log_file,
            garp,
            policies,
            checks,
            remedies,
            instances,
        }
    }

    /// One `[[check]]`, and where its name is.
    fn check_table(&mut self, v: &Value<'_>, policies: &[Known]) -> Option<(Check, usize)> {
        let DeValue::Table(t) = v.get_ref() else {
            return None;
        };
        let before = self.errs.len();
        self.known_keys(
            t,
            CHECK_KEYS,
            "[[check]]",
            &[(
                "weight",
                "weight, rise and fall belong to each [[instance.track]] that tracks the check",
            )],
        );
        let name = match t.get("name") {
            Some(nv) => self
                .word(nv, "check.name")
                .map(|n| (n.to_string(), nv.span().start)),
            None => {
                self.err(v.span().start, "[[check]] without `name`");
                None
            }
        };
        let policy = match t.get("policy") {
            Some(pv) => self.policy_ref(pv, "check.policy", policies, false),
            None => {
                self.err(v.span().start, "[[check]] without `policy`");
                None
            }
        };
        let known = policy
            .as_ref()
            .and_then(|name| policies.iter().find(|p| &p.name == name)?.policy.clone());
        let interval = t.get("interval").map_or(Some(Duration::from_secs(1)), |iv| {
            self.duration(iv, "check.interval", TRACK_INTERVAL_MIN, HOUR)
        });
        let timeout = match t.get("timeout") {
            None => interval,
            Some(tv) => self.duration(tv, "check.timeout", Duration::from_millis(1), HOUR),
        };
        let config = t
            .get("config")
            .map(|cv| self.settings(cv, "check.config"))
            .unwrap_or_default();
        self.merged_targets(known.as_ref(), &config, "check.config");
        let config = config.0;
        if self.errs.len() != before {
            return None;
        }
        let ((name, at), policy, interval, timeout) = (name?, policy?, interval?, timeout?);
        Some((
            Check {
                name,
                policy,
                interval,
                timeout,
                config,
            },
            at,
        ))
    }

    fn line_of(&self, at: usize) -> usize {
        self.text[..at.min(self.text.len())].matches('\n').count() + 1
    }

    fn path(&mut self, v: &Value<'_>, key: &str) -> Option<PathBuf> {
        let s = self.string(v, key)?;
        if s.is_empty() {
            self.err(v.span().start, format!("{key}: cannot be empty"));
            return None;
        }
        Some(self.dir.join(s))
    }

    /// `[[key]]`, or an inline array of inline tables.
    fn array_of_tables<'v, 'i>(&mut self, v: &'v Value<'i>, key: &str) -> Option<&'v [Value<'i>]> {
        let items = match v.get_ref() {
            DeValue::Array(a) => a,
            DeValue::Table(_) => {
                self.err(
                    v.span().start,
                    format!("{key}: write [[{key}]] (an array of tables), not [{key}]"),
                );
                return None;
            }
            other => {
                self.err(
                    v.span().start,
                    format!("{key}: expected [[{key}]] tables, found {}", type_name(other)),
                );
                return None;
            }
        };
        let mut ok = true;
        for item in items.iter() {
            if !matches!(item.get_ref(), DeValue::Table(_)) {
                self.err(
                    item.span().start,
                    format!("{key}: expected a table, found {}", type_name(item.get_ref())),
                );
                ok = false;
            }
        }
        ok.then_some(&items[..])
    }

    /// `what` names the table in messages; `key` prefixes value messages.
    fn garp(&mut self, t: &DeTable<'_>, base: Garp, what: &str, key: &str) -> Garp {
        self.known_keys(t, GARP_KEYS, what, GARP_ALIASES);
        let mut g = base;
        if let Some(v) = t.get("delay") {
            g.delay = self
                .duration(v, &format!("{key}.delay"), Duration::ZERO, HOUR)
                .unwrap_or(g.delay);
        }
        if let Some(v) = t.get("repeat") {
            g.repeat = self
                .int(v, &format!("{key}.repeat"), 1..=255)
                .map_or(g.repeat, |n| n as u32);
        }
        if let Some(v) = t.get("interval") {
            g.interval = self
                .duration(v, &format!("{key}.interval"), Duration::ZERO, GARP_INTERVAL_MAX)
                .unwrap_or(g.interval);
        }
        if let Some(v) = t.get("refresh") {
            let k = format!("{key}.refresh");
            if let Some(d) = self.duration(v, &k, Duration::ZERO, Duration::from_secs(86_400)) {
                if d != Duration::ZERO && d < GARP_REFRESH_MIN {
                    self.err(
                        v.span().start,
                        format!(
                            "{k}: {} is too often (0s for off, or at least 1s)",
                            format_duration(d)
                        ),
                    );
                } else {
                    g.refresh = d;
                }
            }
        }
        g
    }

    /// The policy if it is valid, and its name, the name's offset and the
    /// builtin it is, if it has a valid name.
    fn policy(&mut self, v: &Value<'_>, remedy_names: &[String]) -> (Option<Policy>, Option<Named>) {
        let DeValue::Table(t) = v.get_ref() else {
            return (None, None);
        };
        let before = self.errs.len();
        let header = v.span().start;
        self.known_keys(t, POLICY_KEYS, "[[policy]]", POLICY_ALIASES);
        let name = match t.get("name") {
            Some(nv) => self.word(nv, "name").map(|n| (n.to_string(), nv.span().start)),
            None => {
                self.err(header, "[[policy]] without `name`");
                None
            }
        };
        let source = match t.get("source") {
            Some(sv) => self.policy_source(sv),
            None => {
                self.err(
                    header,
                    "[[policy]] without `source` (e.g. \"builtin:http-status\" or a .wasm file)",
                );
                None
            }
        };
        let sha256 = t.get("sha256").and_then(|hv| {
            let s = self.string(hv, "sha256")?;
            match crate::parse_sha256(s).ok() {
                Some(d) => Some(d),
                None => {
                    self.err(hv.span().start, "sha256: expected 64 hexadecimal digits");
                    None
                }
            }
        });
        let (config, config_at) = t
            .get("config")
            .map(|cv| self.settings(cv, "config"))
            .unwrap_or_default();
        let mut allow = Vec::new();
        if let Some(av) = t.get("allow")
            && let Some(items) = self.array(av, "allow", "an array of \"ADDR:PORT\" targets")
        {
            for item in items {
                let Some(s) = self.string(item, "allow") else {
                    continue;
                };
                match crate::NetPattern::parse(s) {
                    Ok(_) if allow.iter().any(|a| a == s) => {
                        self.err(item.span().start, format!("allow: `{s}` is listed twice"));
                    }
                    Ok(_) => allow.push(s.to_string()),
                    Err(_) => self.err(
                        item.span().start,
                        format!(
                            "allow: `{s}` is not ADDR:PORT (a literal address or CIDR block and a port or *: \"127.0.0.1:80\", \"192.0.2.0/24:8080\", \"[::1]:*\", \"localhost:80\")"
                        ),
                    ),
                }
            }
        }
        let mut allow_files = Vec::new();
        if let Some(av) = t.get("allow_files")
            && let Some(items) = self.array(av, "allow_files", "an array of absolute paths")
        {
            for item in items {
                let Some(s) = self.string(item, "allow_files") else {
                    continue;
                };
                if !s.starts_with('/') || s.split('/').any(|c| c == ".." || c == ".") || s.contains('\0') {
                    self.err(
                        item.span().start,
                        format!("allow_files: `{s}` must be an absolute path without . or .."),
                    );
                } else if allow_files.iter().any(|a| a == s) {
                    self.err(item.span().start, format!("allow_files: `{s}` is listed twice"));
                } else {
                    allow_files.push(s.to_string());
                }
            }
        }
        let mut remedies: Vec<String> = Vec::new();
        if let Some(rv) = t.get("remedies")
            && let Some(items) = self.array(rv, "remedies", "an array of [[remedy]] names")
        {
            for item in items {
                let Some(s) = self.string(item, "remedies") else {
                    continue;
                };
                if !remedy_names.iter().any(|r| r == s) {
                    let names: Vec<&str> = remedy_names.iter().map(String::as_str).collect();
                    let hint = match closest(s, &names) {
                        Some(c) => format!(" (did you mean `{c}`?)"),
                        None if names.is_empty() => " (define it as a top-level [[remedy]])".to_string(),
                        None => format!(" (remedies: {})", names.join(", ")),
                    };
                    self.err(
                        item.span().start,
                        format!("remedies: no [[remedy]] named `{s}`{hint}"),
                    );
                } else if remedies.iter().any(|r| r == s) {
                    self.err(item.span().start, format!("remedies: `{s}` is listed twice"));
                } else {
                    remedies.push(s.to_string());
                }
            }
        }
        let builtin = match &source {
            Some(PolicySource::Builtin(b)) => Some(*b),
            _ => None,
        };
        let Some((name, name_at)) = name else {
            return (None, None);
        };
        let named = Some((name.clone(), name_at, builtin));
        let Some(source) = source else {
            return (None, named);
        };
        let policy = Policy {
            name,
            source,
            sha256,
            config,
            allow,
            allow_files,
            remedies,
        };
        self.targets(&policy, &policy.config, &config_at, "config");
        if self.errs.len() == before {
            (Some(policy), named)
        } else {
            (None, named)
        }
    }

    /// A table of settings for a policy: strings, integers and booleans, kept
    /// as text (`80`, `true`). `key` prefixes messages (`config`, `track.config`).
    fn settings(&mut self, v: &Value<'_>, key: &str) -> (BTreeMap<String, String>, SettingsAt) {
        let mut config = BTreeMap::new();
        let mut at = SettingsAt::new();
        let Some(ct) = self.table(v, key, "a table of keys and values") else {
            return (config, at);
        };
        for (k, val) in ct.iter() {
            let text = match val.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                DeValue::Boolean(b) => Some(b.to_string()),
                DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
                    .ok()
                    .map(|n| n.to_string()),
                other => {
                    self.err(
                        val.span().start,
                        format!(
                            "{key}.{}: values are strings, integers or booleans, found {} (quote it)",
                            k.get_ref(),
                            type_name(other)
                        ),
                    );
                    None
                }
            };
            if let Some(text) = text {
                config.insert(k.get_ref().to_string(), text);
                at.insert(k.get_ref().to_string(), val.span().start);
            }
        }
        (config, at)
    }

    /// Reports the network targets `settings` name that cannot be reached
    /// (a host name: no DNS) or that a component's `allow` does not cover.
    /// Only targets made of a setting of this table (`own`, with where each
    /// is) are reported, at that setting; `key` names the table
    /// (`config`, `track.config`, `check.config`).
    fn targets(&mut self, p: &Policy, settings: &BTreeMap<String, String>, own: &SettingsAt, key: &str) {
        let builtin = matches!(p.source, PolicySource::Builtin(_));
        let patterns: Vec<crate::NetPattern> = p
            .allow
            .iter()
            .filter_map(|a| crate::NetPattern::parse(a).ok())
            .collect();
        for t in p.declared_targets(settings) {
            let Some((setting, at)) = t.keys.iter().find_map(|k| own.get(*k).map(|at| (*k, *at))) else {
                continue;
            };
            match &t.target {
                Err(why) => self.err(at, format!("{key}.{setting}: {why}")),
                Ok(target) if !builtin && !patterns.iter().any(|a| a.covers(target)) => {
                    let pat = target.pattern();
                    let message = if key == "config" {
                        format!(
                            "policy {}: config {} names {pat}, which its `allow` does not cover; add allow = [\"{pat}\"]",
                            p.name, t.named
                        )
                    } else {
                        format!(
                            "{key}: {} names {pat}, which the `allow` of policy `{}` does not cover; add \"{pat}\" to it",
                            t.named, p.name
                        )
                    };
                    self.err(at, message);
                }
                Ok(_) => {}
            }
        }
    }

    /// The targets of a track's or check's `config` merged over its policy's.
    fn merged_targets(
        &mut self,
        policy: Option<&Policy>,
        own: &(BTreeMap<String, String>, SettingsAt),
        key: &str,
    ) {
        if let Some(p) = policy {
            let merged = crate::merge_settings(&p.config, &own.0);
            self.targets(p, &merged, &own.1, key);
        }
    }

    /// A `[[remedy]]` and the offset of its name.
    fn remedy(&mut self, v: &Value<'_>) -> Option<(Remedy, usize)> {
        let DeValue::Table(t) = v.get_ref() else {
            return None;
        };
        let before = self.errs.len();
        let header = v.span().start;
        self.known_keys(t, REMEDY_KEYS, "[[remedy]]", REMEDY_ALIASES);
        let name = match t.get("name") {
            Some(nv) => self.word(nv, "name").map(|n| (n.to_string(), nv.span().start)),
            None => {
                self.err(header, "[[remedy]] without `name`");
                None
            }
        };
        let command = match t.get("command") {
            None => {
                self.err(
                    header,
                    "[[remedy]] without `command` (e.g. command = [\"systemctl\", \"restart\", \"nginx\"])",
                );
                None
            }
            Some(cv) => match cv.get_ref() {
                DeValue::String(s) => {
                    let words: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
                    self.err(
                        cv.span().start,
                        format!(
                            "command: an array of program and arguments, run without a shell (e.g. [{}])",
                            words.join(", ")
                        ),
                    );
                    None
                }
                _ => self
                    .array(cv, "command", "an array of program and arguments")
                    .and_then(|items| {
                        if items.is_empty() {
                            self.err(cv.span().start, "command: cannot be empty");
                            return None;
                        }
                        let mut argv = Vec::new();
                        for (i, item) in items.iter().enumerate() {
                            let s = self.string(item, "command")?;
                            if i == 0 && s.trim().is_empty() {
                                self.err(item.span().start, "command: the program cannot be empty");
                                return None;
                            }
                            if s.contains('\0') {
                                self.err(item.span().start, "command: contains a NUL character");
                                return None;
                            }
                            argv.push(s.to_string());
                        }
                        Some(argv)
                    }),
            },
        };
        let timeout = t.get("timeout").map_or(Some(REMEDY_TIMEOUT), |tv| {
            self.duration(tv, "timeout", Duration::from_millis(1), HOUR)
        });
        if self.errs.len() != before {
            return None;
        }
        let ((name, name_at), command, timeout) = (name?, command?, timeout?);
        Some((
            Remedy {
                name,
                command,
                timeout,
            },
            name_at,
        ))
    }

    fn policy_source(&mut self, v: &Value<'_>) -> Option<PolicySource> {
        let s = self.string(v, "source")?;
        if let Some(name) = s.strip_prefix("builtin:") {
            if let Some(b) = Builtin::from_name(name) {
                return Some(PolicySource::Builtin(b));
            }
            let hint = match closest(name, BUILTIN_POLICIES) {
                Some(c) => format!("did you mean `builtin:{c}`?"),
                None => format!("builtins: {}", BUILTIN_POLICIES.join(", ")),
            };
            self.err(
                self.str_pos(v, 8),
                format!("source: no builtin policy `{name}` ({hint})"),
            );
            return None;
        }
        if s.is_empty() {
            self.err(v.span().start, "source: cannot be empty");
            return None;
        }
        let path = self.dir.join(s);
        if !path.is_file() {
            self.err(
                v.span().start,
                format!(
                    "source: policy file {} not found (a builtin is written \"builtin:NAME\")",
                    path.display()
                ),
            );
            return None;
        }
        Some(PolicySource::Path(path))
    }

    fn instance(
        &mut self,
        v: &Value<'_>,
        policies: &[Known],
        checks: &[Check],
        global_garp: &Garp,
    ) -> Option<(InstanceConfig, Placed)> {
        let DeValue::Table(t) = v.get_ref() else {
            return None;
        };
        let before = self.errs.len();
        let header = v.span().start;
        self.known_keys(t, INSTANCE_KEYS, "[[instance]]", INSTANCE_ALIASES);

        let required = |cx: &mut Self, key: &str, example: &str| -> Option<&Value<'_>> {
            let found = t.get(key);
            if found.is_none() {
                cx.err(
                    header,
                    format!("[[instance]] without `{key}` (e.g. {key} = {example})"),
                );
            }
            found
        };
        let name = required(self, "name", "\"VI_1\"")
            .and_then(|nv| self.word(nv, "name").map(|n| (n.to_string(), nv.span().start)));
        let interface = required(self, "interface", "\"eth0\"").and_then(|iv| {
            let s = self.string(iv, "interface")?;
            match ifname_problem(s) {
                Some(p) => {
                    self.err(iv.span().start, format!("interface: {p}"));
                    None
                }
                None => Some(s.to_string()),
            }
        });
        let vrid_v = required(self, "vrid", "50");
        let vrid = vrid_v
            .and_then(|vv| self.int(vv, "vrid", 1..=255))
            .map(|n| n as u8);
        let vips_v = required(self, "vips", "[\"192.0.2.3/24\"]");

        let version_v = t.get("version");
        let version = match version_v {
            None => Some(Version::V3),
            Some(vv) => match self.int(vv, "version", i128::MIN..=i128::MAX) {
                Some(2) => Some(Version::V2),
                Some(3) => Some(Version::V3),
                Some(n) => {
                    self.err(
                        vv.span().start,
                        format!("version: {n} is not a VRRP version (2 or 3)"),
                    );
                    None
                }
                None => None,
            },
        };
        let priority = t
            .get("priority")
            .map_or(Some(100), |pv| self.int(pv, "priority", 1..=255).map(|n| n as u8));
        let advert_interval = match t.get("advert_interval") {
            None => Some(Duration::from_secs(1)),
            Some(av) => self
                .duration(av, "advert_interval", Duration::ZERO, Duration::MAX)
                .and_then(|d| self.advert_interval(av, d, version)),
        };
        let preempt = t
            .get("preempt")
            .map_or(Some(true), |pv| self.boolean(pv, "preempt"));
        let preempt_delay = t.get("preempt_delay").map_or(Some(Duration::ZERO), |pv| {
            self.duration(pv, "preempt_delay", Duration::ZERO, PREEMPT_DELAY_MAX)
        });
        // keepalived's default without vrrp_strict: a Master that is not the
        // address owner still serves its VIPs (what a load balancer is for).
        let accept = t
            .get("accept")
            .map_or(Some(true), |av| self.boolean(av, "accept"));

        // The addresses, their family and where each is.
        let mut vips: Vec<Vip> = Vec::new();
        let mut vip_at: Vec<usize> = Vec::new();
        let mut family: Option<Family> = None;
        if let Some(vv) = vips_v
            && let Some(items) = self.array(vv, "vips", "an array of addresses")
        {
            if items.is_empty() {
                self.err(vv.span().start, "vips: at least one virtual address is needed");
            }
            if items.len() > 255 {
                self.err(
                    vv.span().start,
                    format!("vips: {} addresses; one advert carries at most 255", items.len()),
                );
            }
            let dev = interface.as_deref().unwrap_or("");
            for item in items {
                let Some(s) = self.string(item, "vips") else {
                    continue;
                };
                let vip = match parse_vip(s, dev) {
                    Ok(vip) => vip,
                    Err((off, msg)) => {
                        let at = self.str_pos(item, off);
                        self.err(at, format!("vips: {msg}"));
                        continue;
                    }
                };
                let f = Family::of(&vip.addr);
                match family {
                    None => family = Some(f),
                    Some(first) if first != f => {
                        self.err(
                            item.span().start,
                            format!(
                                "vips: {} is {}, but the first address is {}: an instance's addresses are all of one family",
                                vip.addr,
                                family_name(f),
                                family_name(first)
                            ),
                        );
                        continue;
                    }
                    Some(_) => {}
                }
                if let Some(i) = vips.iter().position(|x| x.addr == vip.addr) {
                    let first = vip_at[i];
                    self.err(
                        item.span().start,
                        format!(
                            "vips: {} is listed twice (also at line {})",
                            vip.addr,
                            self.line_of(first)
                        ),
                    );
                    continue;
                }
                vips.push(vip);
                vip_at.push(item.span().start);
            }
        }
        if let (Some(Version::V2), Some(Family::V6)) = (version, family) {
            let at = version_v.map_or(header, |vv| vv.span().start);
            self.err(
                at,
                "version: VRRPv2 is IPv4 only; use version = 3 for IPv6 addresses",
            );
        }

        let auth = match t.get("auth") {
            None => Some(Auth::None),
            Some(av) => self.auth(av, version, version_v.is_some()),
        };

        let unicast_src = t.get("unicast_src").and_then(|uv| {
            let a = self.ip(uv, "unicast_src")?;
            self.unicast_addr(uv, "unicast_src", a, family, &vips)
        });
        let mut unicast_peers: Vec<IpAddr> = Vec::new();
        if let Some(pv) = t.get("unicast_peers")
            && let Some(items) = self.array(pv, "unicast_peers", "an array of addresses")
        {
            for item in items {
                let Some(a) = self.ip(item, "unicast_peers") else {
                    continue;
                };
                let Some(a) = self.unicast_addr(item, "unicast_peers", a, family, &vips) else {
                    continue;
                };
                if unicast_peers.contains(&a) {
                    self.err(item.span().start, format!("unicast_peers: {a} is listed twice"));
                } else if Some(a) == unicast_src {
                    self.err(
                        item.span().start,
                        format!("unicast_peers: {a} is this router's own unicast_src"),
                    );
                } else {
                    unicast_peers.push(a);
                }
            }
        }

        let mut track_interfaces: Vec<String> = Vec::new();
        if let Some(tv) = t.get("track_interfaces")
            && let Some(items) = self.array(tv, "track_interfaces", "an array of interface names")
        {
            for item in items {
                let Some(s) = self.string(item, "track_interfaces") else {
                    continue;
                };
                if let Some(p) = ifname_problem(s) {
                    self.err(item.span().start, format!("track_interfaces: {p}"));
                } else if track_interfaces.iter().any(|x| x == s) {
                    self.err(
                        item.span().start,
                        format!("track_interfaces: `{s}` is listed twice"),
                    );
                } else if interface.as_deref() != Some(s) {
                    // The instance's own interface is always tracked.
                    track_interfaces.push(s.to_string());
                }
            }
        }

        let v3_checksum = match t.get("v3_checksum") {
            None => Some(V3Checksum::PseudoHeader),
            Some(cv) => self.string(cv, "v3_checksum").and_then(|s| match s {
                "pseudo-header" => Some(V3Checksum::PseudoHeader),
                "no-pseudo-header" => {
                    if version == Some(Version::V2) || family == Some(Family::V6) {
                        self.err(
                            cv.span().start,
                            "v3_checksum: \"no-pseudo-header\" only applies to VRRPv3 over IPv4",
                        );
                        None
                    } else {
                        Some(V3Checksum::NoPseudoHeader)
                    }
                }
                other => {
                    self.err(
                        cv.span().start,
                        format!("v3_checksum: `{other}` is not \"pseudo-header\" or \"no-pseudo-header\""),
                    );
                    None
                }
            }),
        };
        let check_adv_addr = t
            .get("check_adv_addr")
            .map_or(Some(true), |cv| self.boolean(cv, "check_adv_addr"));

        let garp = match t.get("garp") {
            None => *global_garp,
            Some(gv) => match self.table(gv, "garp", "a table such as { delay = \"5s\", repeat = 5 }") {
                Some(gt) => self.garp(gt, *global_garp, "the instance's garp", "garp"),
                None => *global_garp,
            },
        };

        let mut tracks: Vec<Track> = Vec::new();
        if let Some(tv) = t.get("track")
            && let Some(items) = self.array_of_tables(tv, "instance.track")
        {
            let mut seen: Vec<(String, usize)> = Vec::new();
            for item in items {
                if let Some((tr, at)) = self.track(item, policies, checks) {
                    if let Some((_, first)) = seen.iter().find(|(p, _)| p == tr.name()) {
                        let line = self.line_of(*first);
                        let key = if tr.check.is_some() {
                            "track.check"
                        } else {
                            "track.policy"
                        };
                        self.err(
                            at,
                            format!(
                                "{key}: `{}` is already tracked by this instance (line {line})",
                                tr.name()
                            ),
                        );
                        continue;
                    }
                    seen.push((tr.name().to_string(), at));
                    tracks.push(tr);
                }
            }
        }
        let split_brain = t.get("split_brain").and_then(|sv| {
            let st = self.table(sv, "split_brain", "a table ([instance.split_brain])")?;
            self.split_brain(sv, st, policies)
        });

        if self.errs.len() != before {
            return None;
        }
        let (Some((name, name_at)), Some(interface), Some(vrid), Some(vrid_v)) =
            (name, interface, vrid, vrid_v)
        else {
            return None;
        };
        let (
            Some(version),
            Some(priority),
            Some(advert_interval),
            Some(preempt),
            Some(preempt_delay),
            Some(accept),
        ) = (version, priority, advert_interval, preempt, preempt_delay, accept)
        else {
            return None;
        };
        let (Some(auth), Some(v3_checksum), Some(check_adv_addr)) = (auth, v3_checksum, check_adv_addr)
        else {
            return None;
        };
        let inst = InstanceConfig {
            name,
            interface,
            vrid,
            priority,
            advert_interval,
            version,
            preempt,
            preempt_delay,
            accept,
            vips,
            auth,
            unicast_src,
            unicast_peers,
            track_interfaces,
            v3_checksum,
            check_adv_addr,
            garp,
            tracks,
            split_brain,
        };
        // Nothing the protocol core refuses may pass.
        if let Err(e) = inst.vrrp_config(inst.placeholder_primary()).validate() {
            self.err(header, format!("instance `{}`: {e}", inst.name));
            return None;
        }
        Some((
            inst,
            Placed {
                header,
                name_at,
                vrid_at: vrid_v.span().start,
                vip_at,
            },
        ))
    }

    fn advert_interval(&mut self, v: &Value<'_>, d: Duration, version: Option<Version>) -> Option<Duration> {
        let shown = format_duration(d);
        let problem = match version {
            Some(Version::V2) if d.subsec_nanos() != 0 || d.as_secs() == 0 || d.as_secs() > 255 => {
                "VRRPv2 takes whole seconds from 1s to 255s"
            }
            Some(Version::V3)
                if !d.as_nanos().is_multiple_of(10_000_000)
                    || d < Duration::from_millis(10)
                    || d > Duration::from_millis(40_950) =>
            {
                "VRRPv3 takes multiples of 10ms from 10ms to 40.95s"
            }
            _ => return Some(d),
        };
        let hint = if version == Some(Version::V2) {
            " (version 3 allows 10ms steps)"
        } else {
            ""
        };
        self.err(
            v.span().start,
            format!("advert_interval: {problem}, got {shown}{hint}"),
        );
        None
    }

    fn auth(&mut self, v: &Value<'_>, version: Option<Version>, explicit_version: bool) -> Option<Auth> {
        let t = self.table(
            v,
            "auth",
            "a table such as { type = \"pass\", password = \"1111\" }",
        )?;
        self.known_keys(t, AUTH_KEYS, "auth", AUTH_ALIASES);
        let Some(tv) = t.get("type") else {
            self.err(v.span().start, "auth: missing `type` (\"pass\" or \"none\")");
            return None;
        };
        let kind = self.string(tv, "auth.type")?;
        let password = t.get("password");
        match kind {
            "none" => {
                if let Some(pv) = password {
                    self.err(pv.span().start, "auth.password: not used with type = \"none\"");
                    return None;
                }
                Some(Auth::None)
            }
            "pass" => {
                if version == Some(Version::V3) {
                    let why = if explicit_version { "" } else { " (the default)" };
                    self.err(
                        v.span().start,
                        format!(
                            "auth: VRRPv3{why} has no authentication (RFC 9568 §9); set version = 2 to use a password"
                        ),
                    );
                    return None;
                }
                let Some(pv) = password else {
                    self.err(
                        v.span().start,
                        "auth: type = \"pass\" needs a `password` (1 to 8 bytes)",
                    );
                    return None;
                };
                let p = self.string(pv, "auth.password")?;
                match Auth::pass(p) {
                    Ok(a) => Some(a),
                    Err(_) if p.is_empty() => {
                        self.err(pv.span().start, "auth.password: cannot be empty (1 to 8 bytes)");
                        None
                    }
                    Err(_) => {
                        let cut: String = String::from_utf8_lossy(&p.as_bytes()[..8]).into_owned();
                        self.err(
                            pv.span().start,
                            format!(
                                "auth.password: {} bytes; VRRPv2 carries at most 8 (keepalived would silently use only {cut:?})",
                                p.len()
                            ),
                        );
                        None
                    }
                }
            }
            other => {
                let hint = match other.to_ascii_lowercase().as_str() {
                    "pass" | "none" => {
                        format!(" (write it in lower case: \"{}\")", other.to_ascii_lowercase())
                    }
                    "ah" => " (IPsec AH is not supported)".to_string(),
                    _ => String::new(),
                };
                self.err(
                    tv.span().start,
                    format!("auth.type: `{other}` is not \"pass\" or \"none\"{hint}"),
                );
                None
            }
        }
    }

    fn unicast_addr(
        &mut self,
        v: &Value<'_>,
        key: &str,
        a: IpAddr,
        family: Option<Family>,
        vips: &[Vip],
    ) -> Option<IpAddr> {
        if let Some(f) = family
            && Family::of(&a) != f
        {
            self.err(
                v.span().start,
                format!(
                    "{key}: {a} is {}, but the instance's addresses are {}",
                    family_name(Family::of(&a)),
                    family_name(f)
                ),
            );
            return None;
        }
        if vips.iter().any(|x| x.addr == a) {
            self.err(
                v.span().start,
                format!("{key}: {a} is one of the instance's virtual addresses"),
            );
            return None;
        }
        Some(a)
    }

    fn policy_ref(
        &mut self,
        v: &Value<'_>,
        key: &str,
        policies: &[Known],
        split_brain: bool,
    ) -> Option<String> {
        let name = self.string(v, key)?;
        let Some(p) = policies.iter().find(|p| p.name == name) else {
            let names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
            let hint = match closest(name, &names) {
                Some(c) => format!(" (did you mean `{c}`?)"),
                None => String::new(),
            };
            self.err(
                v.span().start,
                format!("{key}: no [[policy]] named `{name}`{hint}"),
            );
            return None;
        };
        if let Some(b) = &p.builtin {
            if split_brain && !b.is_split_brain() {
                self.err(
                    v.span().start,
                    format!(
                        "{key}: policy `{name}` (builtin:{b}) is a health check, not a split-brain policy"
                    ),
                );
                return None;
            }
            if !split_brain && b.is_split_brain() {
                self.err(
                    v.span().start,
                    format!(
                        "{key}: policy `{name}` (builtin:{b}) is a split-brain policy: use it in [instance.split_brain]"
                    ),
                );
                return None;
            }
        }
        Some(name.to_string())
    }

    /// A track and the offset of its policy name.
    fn track(&mut self, v: &Value<'_>, policies: &[Known], checks: &[Check]) -> Option<(Track, usize)> {
        let DeValue::Table(t) = v.get_ref() else {
            return None;
        };
        let before = self.errs.len();
        self.known_keys(
            t,
            TRACK_KEYS,
            "[[instance.track]]",
            &[
                ("script", "name a [[policy]] with `policy`"),
                ("settings", "per-instance settings are `config`"),
            ],
        );
        if let Some(cv) = t.get("check") {
            return self.check_track(t, cv, checks, before);
        }
        let policy = match t.get("policy") {
            Some(pv) => self
                .policy_ref(pv, "track.policy", policies, false)
                .map(|p| (p, pv.span().start)),
            None => {
                self.err(
                    v.span().start,
                    "[[instance.track]] without `policy` (its own check) or `check` (a [[check]] of the node)",
                );
                None
            }
        };
        let interval = t.get("interval").map_or(Some(Duration::from_secs(1)), |iv| {
            self.duration(iv, "track.interval", TRACK_INTERVAL_MIN, HOUR)
        });
        let timeout = match t.get("timeout") {
            None => interval,
            Some(tv) => self.duration(tv, "track.timeout", Duration::from_millis(1), HOUR),
        };
        let (weight, rise, fall, init_fail) = self.tracker_settings(t);
        let config = t
            .get("config")
            .map(|cv| self.settings(cv, "track.config"))
            .unwrap_or_default();
        if let Some((name, _)) = &policy {
            let known = policies
                .iter()
                .find(|p| &p.name == name)
                .and_then(|p| p.policy.clone());
            self.merged_targets(known.as_ref(), &config, "track.config");
        }
        let config = config.0;
        if self.errs.len() != before {
            return None;
        }
        let ((policy, at), interval, timeout, weight, rise, fall, init_fail) =
            (policy?, interval?, timeout?, weight?, rise?, fall?, init_fail?);
        Some((
            Track {
                policy,
                check: None,
                interval,
                timeout,
                weight: weight as i32,
                rise: rise as u32,
                fall: fall as u32,
                init_fail,
                config,
            },
            at,
        ))
    }

    /// A track that follows a node-level `[[check]]`: weight, rise, fall and
    /// init_fail are its own; the rest is the check's.
    fn check_track(
        &mut self,
        t: &DeTable<'_>,
        cv: &Value<'_>,
        checks: &[Check],
        before: usize,
    ) -> Option<(Track, usize)> {
        for key in ["policy", "interval", "timeout", "config"] {
            if let Some((k, _)) = t.get_key_value(key) {
                self.err(
                    k.span().start,
                    format!("track.{key}: a track with `check` takes its {key} from the [[check]]"),
                );
            }
        }
        let check = self.string(cv, "track.check").and_then(|name| {
            let found = checks.iter().find(|c| c.name == name);
            if found.is_none() {
                let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
                let hint = match closest(name, &names) {
                    Some(c) => format!(" (did you mean `{c}`?)"),
                    None => String::new(),
                };
                self.err(
                    cv.span().start,
                    format!("track.check: no [[check]] named `{name}`{hint}"),
                );
            }
            found.cloned()
        });
        let (weight, rise, fall, init_fail) = self.tracker_settings(t);
        if self.errs.len() != before {
            return None;
        }
        let (check, weight, rise, fall, init_fail) = (check?, weight?, rise?, fall?, init_fail?);
        Some((
            Track {
                policy: check.policy.clone(),
                check: Some(check.name.clone()),
                interval: check.interval,
                timeout: check.timeout,
                weight: weight as i32,
                rise: rise as u32,
                fall: fall as u32,
                init_fail,
                config: BTreeMap::new(),
            },
            cv.span().start,
        ))
    }

    /// A track's weight, rise, fall and init_fail, with their defaults.
    fn tracker_settings(
        &mut self,
        t: &DeTable<'_>,
    ) -> (Option<i128>, Option<i128>, Option<i128>, Option<bool>) {
        let weight = t.get("weight").map_or(Some(0), |wv| {
            self.int(wv, "track.weight", -WEIGHT_MAX..=WEIGHT_MAX)
        });
        let rise = t
            .get("rise")
            .map_or(Some(1), |rv| self.int(rv, "track.rise", 1..=i128::from(u32::MAX)));
        let fall = t
            .get("fall")
            .map_or(Some(1), |fv| self.int(fv, "track.fall", 1..=i128::from(u32::MAX)));
        let init_fail = t
            .get("init_fail")
            .map_or(Some(false), |bv| self.boolean(bv, "track.init_fail"));
        (weight, rise, fall, init_fail)
    }

    fn split_brain(&mut self, v: &Value<'_>, t: &DeTable<'_>, policies: &[Known]) -> Option<SplitBrain> {
        self.known_keys(t, SPLIT_BRAIN_KEYS, "[instance.split_brain]", &[]);
        let policy = match t.get("policy") {
            Some(pv) => self.policy_ref(pv, "split_brain.policy", policies, true),
            None => {
                self.err(v.span().start, "[instance.split_brain] without `policy`");
                None
            }
        };
        let interval = t.get("interval").map_or(Some(Duration::from_secs(1)), |iv| {
            self.duration(iv, "split_brain.interval", TRACK_INTERVAL_MIN, HOUR)
        });
        Some(SplitBrain {
            policy: policy?,
            interval: interval?,
        })
    }

    fn across_instances(&mut self, instances: &[InstanceConfig], placed: &[Placed]) {
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut vrids: HashMap<(&str, Family, u8), (usize, &str)> = HashMap::new();
        let mut addrs: HashMap<IpAddr, (usize, &str)> = HashMap::new();
        for (inst, at) in instances.iter().zip(placed) {
            if let Some(first) = names.get(inst.name.as_str()) {
                let line = self.line_of(*first);
                self.err(
                    at.name_at,
                    format!(
                        "name: another [[instance]] is named `{}` (line {line})",
                        inst.name
                    ),
                );
            } else {
                names.insert(&inst.name, at.name_at);
            }
            let key = (inst.interface.as_str(), inst.family(), inst.vrid);
            if let Some((first, other)) = vrids.get(&key) {
                let line = self.line_of(*first);
                self.err(
                    at.vrid_at,
                    format!(
                        "vrid: {} on {} ({}) is already used by instance `{other}` (line {line}); each (interface, family, vrid) needs its own",
                        inst.vrid,
                        inst.interface,
                        family_name(inst.family())
                    ),
                );
            } else {
                vrids.insert(key, (at.header, &inst.name));
            }
            for (vip, vat) in inst.vips.iter().zip(&at.vip_at) {
                if let Some((first, other)) = addrs.get(&vip.addr) {
                    let line = self.line_of(*first);
                    self.err(
                        *vat,
                        format!(
                            "vips: {} is also a virtual address of instance `{other}` (line {line})",
                            vip.addr
                        ),
                    );
                } else {
                    addrs.insert(vip.addr, (*vat, &inst.name));
                }
            }
        }
    }
}
