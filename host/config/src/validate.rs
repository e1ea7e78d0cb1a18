//! The one semantic validation, over the model whatever its front end:
//! ranges (from [`crate::schema`]), address families, the VIP rules, names,
//! VRIDs and VIPs unique across instances, the references between tracks,
//! checks, policies and remedies, split-brain policies apart from health
//! checks, heartbeat paths apart from the main path, and whether a component's `allow` covers the targets its settings
//! name. Problems are reported at a [`FieldPath`], which the front end maps
//! to its own line and column; about a value the front end could not take
//! (bad in its [`Origins`]) nothing more is said.
//!
//! An item with errors of its own is not compared with the others (a broken
//! instance's VRID is not reported as a duplicate), and a policy or check
//! with a name can be referred to even when it has errors (they are reported
//! once, where they are, not at each use).

mod sync;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use baton_vrrp::{Auth, Family, V3Checksum, Version};

use crate::duration::format_duration;
use crate::net::NetPattern;
use crate::notify::{address_problem, header_problem, url_problem};
use crate::origin::{FieldPath, Item, Origins};
use crate::schema::{
    self, Key, garp, heartbeat, hook, instance, notify, notify_command, policy, remedy, split_brain, top,
    track, webhook,
};
use crate::suggest::closest;
use crate::vip::ifname_problem;
use crate::{
    Builtin, Check, Config, EMAIL_SINK, Garp, InstanceConfig, Notify, Policy, PolicySource, Remedy, Track,
};

/// One problem, at a place in the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub at: FieldPath,
    pub message: String,
}

/// Validates a front end's draft and finishes it (a track of a check takes
/// the check's policy, interval, timeout and config; the instance's own
/// interface is not repeated in `track_interfaces`).
pub(crate) fn validate(mut cfg: Config, origins: &Origins<'_>) -> Result<Config, Vec<Problem>> {
    let mut v = Validator {
        o: origins,
        problems: Vec::new(),
        flawed: HashSet::new(),
    };
    v.top(&cfg);
    v.garp(Item::Garp, &cfg.garp);
    let remedies = v.remedies(&cfg.remedies);
    let policies = v.policies(&cfg.policies, &remedies);
    let checks = v.checks(&cfg.checks, &policies);
    let commands = v.notify(&cfg.notify);
    for (i, inst) in cfg.instances.iter().enumerate() {
        v.instance(i, inst, &policies, &checks);
        v.instance_notify(i, inst, &cfg.notify, &commands);
    }
    v.across_instances(&cfg.instances);
    v.sync_groups(&cfg.sync_groups, &cfg.instances, &cfg.notify, &commands);
    v.vmac_names(&cfg.instances);
    if !v.problems.is_empty() {
        return Err(v.problems);
    }
    finish(&mut cfg);
    Ok(cfg)
}

fn finish(cfg: &mut Config) {
    let checks = cfg.checks.clone();
    for inst in &mut cfg.instances {
        let own = inst.interface.clone();
        // Its own interface is tracked anyway (unless track_primary is
        // false); listed with a weight, it moves the priority instead.
        let primary = inst.track_primary;
        inst.track_interfaces
            .retain(|i| !(i.name == own && (primary || i.weight == 0)));
        for t in &mut inst.tracks {
            if let Some(c) = t
                .check
                .as_ref()
                .and_then(|name| checks.iter().find(|c| &c.name == name))
            {
                t.policy = c.policy.clone();
                t.interval = c.interval;
                t.timeout = c.timeout;
                t.config = c.config.clone();
            }
        }
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "IPv4",
        Family::V6 => "IPv6",
    }
}

/// " (did you mean `x`?)" when a name is close to `name`.
fn did_you_mean(name: &str, names: &[&str]) -> String {
    match closest(name, names) {
        Some(c) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    }
}

/// What a track, a check or a split-brain table may name: a policy with a
/// name (the first of that name).
struct Known<'c> {
    policy: &'c Policy,
    item: Item,
    /// The builtin it is, when its source is good.
    builtin: Option<Builtin>,
}

struct Validator<'o, 't> {
    o: &'o Origins<'t>,
    problems: Vec<Problem>,
    /// Items with problems found here.
    flawed: HashSet<Item>,
}

impl Validator<'_, '_> {
    fn err(&mut self, at: FieldPath, message: impl Into<String>) {
        if self.o.is_bad(&at) {
            return;
        }
        self.flawed.insert(at.item);
        if let Some(i) = at.item.instance() {
            self.flawed.insert(Item::Instance(i));
        }
        self.problems.push(Problem {
            at,
            message: message.into(),
        });
    }

    /// A problem with the value at `at`, which the message names.
    fn say(&mut self, at: FieldPath, message: impl std::fmt::Display) {
        let message = format!("{}: {message}", self.o.label(&at));
        self.err(at, message);
    }

    /// Without errors, the front end's or ours.
    fn clean(&self, item: Item) -> bool {
        !self.o.is_flawed(item) && !self.flawed.contains(&item)
    }

    fn good(&self, path: &FieldPath) -> bool {
        !self.o.is_bad(path)
    }

    /// A key the text gives (defaults are in range) and the front end took.
    fn given(&self, item: Item, key: &Key) -> bool {
        let path = FieldPath::key(item, key);
        self.o.given(&path) && self.good(&path)
    }

    fn line(&self, path: &FieldPath) -> usize {
        self.o.line(path)
    }

    fn int_range(&mut self, item: Item, key: &Key, n: i64) {
        if !self.given(item, key) {
            return;
        }
        let label = item.section().label(key);
        if let Some(m) = key.int_problem(&label, i128::from(n), &n.to_string()) {
            self.err(FieldPath::key(item, key), m);
        }
    }

    fn duration_range(&mut self, item: Item, key: &Key, d: Duration) -> bool {
        if !self.given(item, key) {
            return true;
        }
        match key.duration_problem(&item.section().label(key), d) {
            Some(m) => {
                self.err(FieldPath::key(item, key), m);
                false
            }
            None => true,
        }
    }

    /// A name: not empty, no spaces or control characters.
    fn word(&mut self, item: Item, key: &Key, s: &str) {
        let at = FieldPath::key(item, key);
        if s.is_empty() {
            self.say(at, "cannot be empty");
        } else if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            self.say(at, format!("{s:?} contains {c:?}; use a single word"));
        }
    }

    /// Reports each item named like one before it (`what`: "policy",
    /// "remedy", "check"); the items first of their name. An item whose
    /// name the front end could not take is neither.
    fn unique<'a>(
        &mut self,
        names: impl Iterator<Item = (Item, &'a Key, &'a str)>,
        what: &str,
    ) -> HashSet<Item> {
        let mut seen: HashMap<&str, Item> = HashMap::new();
        let mut firsts = HashSet::new();
        for (item, key, name) in names {
            let at = FieldPath::key(item, key);
            if !self.good(&at) {
                continue;
            }
            if let Some(first) = seen.get(name) {
                let line = self.line(&FieldPath::key(*first, key));
                self.err(
                    at,
                    format!("duplicate {what} name `{name}` (first defined at line {line})"),
                );
            } else {
                seen.insert(name, item);
                firsts.insert(item);
            }
        }
        firsts
    }

    fn top(&mut self, cfg: &Config) {
        if self.given(Item::Top, &top::ROUTER_ID) {
            self.word(Item::Top, &top::ROUTER_ID, &cfg.router_id);
        }
        let mut seen: Vec<&str> = Vec::new();
        for (k, r) in cfg.insecure_registries.iter().enumerate() {
            let at = FieldPath::index(Item::Top, &top::INSECURE_REGISTRIES, k);
            match crate::parse_registry(r) {
                Err(e) => self.say(at, e),
                Ok(_) if seen.contains(&r.as_str()) => self.say(at, format!("`{r}` is listed twice")),
                Ok(_) => seen.push(r),
            }
        }
        if cfg.instances.is_empty() {
            self.err(
                FieldPath::key(Item::Top, &top::INSTANCE),
                "no [[instance]]: a config needs at least one virtual router",
            );
        }
    }

    /// The keys a garp table gives (what it takes from its base was checked there).
    fn garp(&mut self, item: Item, g: &Garp) {
        self.duration_range(item, &garp::DELAY, g.delay);
        self.int_range(item, &garp::REPEAT, i64::from(g.repeat));
        self.duration_range(item, &garp::INTERVAL, g.interval);
        if self.duration_range(item, &garp::REFRESH, g.refresh)
            && self.given(item, &garp::REFRESH)
            && g.refresh != Duration::ZERO
            && g.refresh < garp::REFRESH_MIN
        {
            self.say(
                FieldPath::key(item, &garp::REFRESH),
                format!(
                    "{} is too often (0s for off, or at least {})",
                    format_duration(g.refresh),
                    format_duration(garp::REFRESH_MIN)
                ),
            );
        }
    }

    /// The remedies, and the names a policy may give in `remedies`.
    fn remedies<'c>(&mut self, remedies: &'c [Remedy]) -> Vec<&'c str> {
        for (r, rem) in remedies.iter().enumerate() {
            let item = Item::Remedy(r);
            if self.good(&FieldPath::key(item, &remedy::NAME)) {
                self.word(item, &remedy::NAME, &rem.name);
            }
            self.command(item, &rem.command);
            self.duration_range(item, &remedy::TIMEOUT, rem.timeout);
            self.run_as(item, rem);
        }
        let named = remedies
            .iter()
            .enumerate()
            .map(|(r, rem)| (Item::Remedy(r), &remedy::NAME, rem.name.as_str()));
        self.unique(named, "remedy");
        remedies
            .iter()
            .enumerate()
            .filter(|(r, _)| self.good(&FieldPath::key(Item::Remedy(*r), &remedy::NAME)))
            .map(|(_, rem)| rem.name.as_str())
            .collect()
    }

    /// `user` and `group` are names (the daemon looks them up at load);
    /// a group is the group of a user.
    fn run_as(&mut self, item: Item, rem: &Remedy) {
        for (key, name) in [(&remedy::USER, &rem.user), (&remedy::GROUP, &rem.group)] {
            if let Some(n) = name
                && self.good(&FieldPath::key(item, key))
            {
                self.word(item, key, n);
            }
        }
        if rem.group.is_some() && rem.user.is_none() && self.good(&FieldPath::key(item, &remedy::GROUP)) {
            self.say(
                FieldPath::key(item, &remedy::GROUP),
                "a group without a `user`: name the user it runs as too",
            );
        }
    }

    fn command(&mut self, item: Item, argv: &[String]) {
        let key = &remedy::COMMAND;
        if !self.good(&FieldPath::key(item, key)) {
            return;
        }
        if argv.is_empty() {
            self.say(FieldPath::key(item, key), "cannot be empty");
            return;
        }
        for (k, s) in argv.iter().enumerate() {
            if k == 0 && s.trim().is_empty() {
                self.say(FieldPath::index(item, key, k), "the program cannot be empty");
                return;
            }
            if s.contains('\0') {
                self.say(FieldPath::index(item, key, k), "contains a NUL character");
                return;
            }
        }
    }

    fn policies<'c>(&mut self, policies: &'c [Policy], remedies: &[&str]) -> Vec<Known<'c>> {
        for (p, pol) in policies.iter().enumerate() {
            let item = Item::Policy(p);
            if self.good(&FieldPath::key(item, &policy::NAME)) {
                self.word(item, &policy::NAME, &pol.name);
            }
            if let PolicySource::Path(path) = &pol.source
                && self.good(&FieldPath::key(item, &policy::SOURCE))
                && !path.is_file()
            {
                self.say(
                    FieldPath::key(item, &policy::SOURCE),
                    format!(
                        "policy file {} not found (a builtin is written \"builtin:NAME\")",
                        path.display()
                    ),
                );
            }
            if let PolicySource::Oci(r) = &pol.source
                && self.good(&FieldPath::key(item, &policy::SOURCE))
                && self.good(&FieldPath::key(item, &policy::SHA256))
            {
                self.oci_pin(item, &policy::SOURCE, &policy::SHA256, r, pol.sha256);
            }
            self.allow(item, &pol.allow);
            self.allow_files(item, &pol.allow_files);
            self.policy_remedies(item, &pol.remedies, remedies);
            if self.good(&FieldPath::key(item, &policy::SOURCE)) {
                self.targets(pol, &pol.config, item, &policy::CONFIG, &pol.config);
            }
        }
        let named = policies
            .iter()
            .enumerate()
            .map(|(p, pol)| (Item::Policy(p), &policy::NAME, pol.name.as_str()));
        let firsts = self.unique(named, "policy");
        policies
            .iter()
            .enumerate()
            .filter(|(p, _)| firsts.contains(&Item::Policy(*p)))
            .map(|(p, pol)| {
                let item = Item::Policy(p);
                let builtin = match pol.source {
                    PolicySource::Builtin(b) if self.good(&FieldPath::key(item, &policy::SOURCE)) => Some(b),
                    _ => None,
                };
                Known {
                    policy: pol,
                    item,
                    builtin,
                }
            })
            .collect()
    }

    /// A tag can move: an `oci://` reference by tag needs a `sha256` pin;
    /// one by digest is pinned by it, and a `sha256` beside it must agree.
    fn oci_pin(&mut self, item: Item, source: &Key, sha256: &Key, r: &crate::OciRef, pin: Option<[u8; 32]>) {
        match (r.digest(), pin) {
            (None, None) => self.say(
                FieldPath::key(item, source),
                format!(
                    "{r} names a tag, which can move: pin the component with `sha256 = \"...\"` or name its digest ({}/{}@sha256:...)",
                    r.registry, r.repository
                ),
            ),
            (Some(d), Some(p)) if d != p => self.say(
                FieldPath::key(item, sha256),
                format!(
                    "the pin {} is not the digest the source names ({}); give one of them",
                    crate::digest_string(&p),
                    crate::digest_string(&d)
                ),
            ),
            _ => {}
        }
    }

    fn allow(&mut self, item: Item, allow: &[String]) {
        let mut seen: Vec<&str> = Vec::new();
        for (k, s) in allow.iter().enumerate() {
            let at = FieldPath::index(item, &policy::ALLOW, k);
            match NetPattern::parse(s) {
                Ok(_) if seen.contains(&s.as_str()) => self.say(at, format!("`{s}` is listed twice")),
                Ok(_) => seen.push(s),
                Err(_) => self.say(
                    at,
                    format!(
                        "`{s}` is not ADDR:PORT (a literal address or CIDR block and a port or *: \"127.0.0.1:80\", \"192.0.2.0/24:8080\", \"[::1]:*\", \"localhost:80\")"
                    ),
                ),
            }
        }
    }

    fn allow_files(&mut self, item: Item, files: &[String]) {
        let mut seen: Vec<&str> = Vec::new();
        for (k, s) in files.iter().enumerate() {
            let at = FieldPath::index(item, &policy::ALLOW_FILES, k);
            if !s.starts_with('/') || s.split('/').any(|c| c == ".." || c == ".") || s.contains('\0') {
                self.say(at, format!("`{s}` must be an absolute path without . or .."));
            } else if seen.contains(&s.as_str()) {
                self.say(at, format!("`{s}` is listed twice"));
            } else {
                seen.push(s);
            }
        }
    }

    fn policy_remedies(&mut self, item: Item, named: &[String], remedies: &[&str]) {
        let mut seen: Vec<&str> = Vec::new();
        for (k, s) in named.iter().enumerate() {
            let at = FieldPath::index(item, &policy::REMEDIES, k);
            if !remedies.contains(&s.as_str()) {
                let hint = match closest(s, remedies) {
                    Some(c) => format!(" (did you mean `{c}`?)"),
                    None if remedies.is_empty() => " (define it as a top-level [[remedy]])".to_string(),
                    None => format!(" (remedies: {})", remedies.join(", ")),
                };
                self.say(at, format!("no [[remedy]] named `{s}`{hint}"));
            } else if seen.contains(&s.as_str()) {
                self.say(at, format!("`{s}` is listed twice"));
            } else {
                seen.push(s);
            }
        }
    }

    /// Reports the network targets `settings` name that cannot be reached
    /// (a host name: no DNS) or that a component's `allow` does not cover.
    /// Only targets made of a setting of `own` (the `key` table of `item`)
    /// are reported, at that setting: those of the policy's own `config`
    /// are reported at the policy, not again at each track.
    fn targets(
        &mut self,
        p: &Policy,
        settings: &BTreeMap<String, String>,
        item: Item,
        key: &Key,
        own: &BTreeMap<String, String>,
    ) {
        let builtin = matches!(p.source, PolicySource::Builtin(_));
        let patterns: Vec<NetPattern> = p.allow.iter().filter_map(|a| NetPattern::parse(a).ok()).collect();
        let label = item.section().label(key);
        for t in p.declared_targets(settings) {
            let Some(setting) = t.keys.iter().find(|k| own.contains_key(**k)) else {
                continue;
            };
            let at = FieldPath::setting(item, key, setting);
            match &t.target {
                Err(why) => self.say(at, why),
                Ok(target) if !builtin && !patterns.iter().any(|a| a.covers(target)) => {
                    let pat = target.pattern();
                    let message = if let Item::Policy(_) = item {
                        format!(
                            "policy {}: {label} {} names {pat}, which its `allow` does not cover; add allow = [\"{pat}\"]",
                            p.name, t.named
                        )
                    } else {
                        format!(
                            "{label}: {} names {pat}, which the `allow` of policy `{}` does not cover; add \"{pat}\" to it",
                            t.named, p.name
                        )
                    };
                    self.err(at, message);
                }
                Ok(_) => {}
            }
        }
    }

    /// The targets of a track's or check's `config`, merged over its
    /// policy's, when the policy has no errors of its own.
    fn merged_targets(
        &mut self,
        known: Option<&Known<'_>>,
        item: Item,
        key: &Key,
        own: &BTreeMap<String, String>,
    ) {
        if let Some(k) = known
            && self.clean(k.item)
        {
            let merged = crate::merge_settings(&k.policy.config, own);
            self.targets(k.policy, &merged, item, key, own);
        }
    }

    /// The policy `name` of a track, check or split-brain table, when it
    /// is one of the right world.
    fn policy_ref<'k, 'c>(
        &mut self,
        at: FieldPath,
        name: &str,
        known: &'k [Known<'c>],
        split_brain: bool,
    ) -> Option<&'k Known<'c>> {
        if !self.good(&at) {
            return None;
        }
        let Some(p) = known.iter().find(|k| k.policy.name == name) else {
            let names: Vec<&str> = known.iter().map(|k| k.policy.name.as_str()).collect();
            let hint = did_you_mean(name, &names);
            self.say(at, format!("no [[policy]] named `{name}`{hint}"));
            return None;
        };
        match p.builtin {
            Some(b) if split_brain && !b.is_split_brain() => {
                self.say(
                    at,
                    format!("policy `{name}` (builtin:{b}) is a health check, not a split-brain policy"),
                );
                None
            }
            Some(b) if !split_brain && b.is_split_brain() => {
                self.say(
                    at,
                    format!("policy `{name}` (builtin:{b}) is a split-brain policy: use it in [instance.split_brain]"),
                );
                None
            }
            _ => Some(p),
        }
    }

    /// The checks, and the names a track may give in `check`.
    fn checks<'c>(&mut self, checks: &'c [Check], policies: &[Known<'_>]) -> Vec<&'c str> {
        for (c, ch) in checks.iter().enumerate() {
            let item = Item::Check(c);
            if self.good(&FieldPath::key(item, &schema::check::NAME)) {
                self.word(item, &schema::check::NAME, &ch.name);
            }
            let known = self.policy_ref(
                FieldPath::key(item, &schema::check::POLICY),
                &ch.policy,
                policies,
                false,
            );
            self.duration_range(item, &track::INTERVAL, ch.interval);
            self.duration_range(item, &track::TIMEOUT, ch.timeout);
            self.merged_targets(known, item, &policy::CONFIG, &ch.config);
        }
        let named = checks
            .iter()
            .enumerate()
            .map(|(c, ch)| (Item::Check(c), &schema::check::NAME, ch.name.as_str()));
        self.unique(named, "check");
        checks
            .iter()
            .enumerate()
            .filter(|(c, _)| self.good(&FieldPath::key(Item::Check(*c), &schema::check::NAME)))
            .map(|(_, ch)| ch.name.as_str())
            .collect()
    }

    fn instance(&mut self, i: usize, inst: &InstanceConfig, policies: &[Known<'_>], checks: &[&str]) {
        let item = Item::Instance(i);
        let at = |key: &Key| FieldPath::key(item, key);
        if self.good(&at(&instance::NAME)) {
            self.word(item, &instance::NAME, &inst.name);
        }
        if self.good(&at(&instance::INTERFACE))
            && let Some(p) = ifname_problem(&inst.interface)
        {
            self.say(at(&instance::INTERFACE), p);
        }
        self.int_range(item, &instance::VRID, i64::from(inst.vrid));
        self.int_range(item, &instance::PRIORITY, i64::from(inst.priority));
        // The version's rules only when the version is as written.
        let version = self.good(&at(&instance::VERSION)).then_some(inst.version);
        self.advert_interval(item, inst.advert_interval, version);
        self.duration_range(item, &instance::PREEMPT_DELAY, inst.preempt_delay);
        let family = self.vips(item, inst);
        if let (Some(Version::V2), Some(Family::V6)) = (version, family) {
            self.say(
                at(&instance::VERSION),
                "VRRPv2 is IPv4 only; use version = 3 for IPv6 addresses",
            );
        }
        if let (Auth::Pass(_), Some(Version::V3)) = (&inst.auth, version) {
            let why = if self.o.given(&at(&instance::VERSION)) {
                ""
            } else {
                " (the default)"
            };
            self.say(
                at(&instance::AUTH),
                format!("VRRPv3{why} has no authentication (RFC 9568 §9); set version = 2 to use a password"),
            );
        }
        self.unicast(item, inst, family);
        self.heartbeats(i, inst, family);
        self.track_interface_links(i, inst);
        self.held_extras(item, inst);
        if inst.v3_checksum == V3Checksum::NoPseudoHeader
            && (version == Some(Version::V2) || family == Some(Family::V6))
        {
            self.err(
                at(&instance::V3_CHECKSUM),
                "v3_checksum: \"no-pseudo-header\" only applies to VRRPv3 over IPv4",
            );
        }
        self.garp(Item::InstanceGarp(i), &inst.garp);
        self.tracks(i, &inst.tracks, policies, checks);
        if let Some(sb) = &inst.split_brain {
            let item = Item::SplitBrain(i);
            self.policy_ref(
                FieldPath::key(item, &split_brain::POLICY),
                &sb.policy,
                policies,
                true,
            );
            self.duration_range(item, &track::INTERVAL, sb.interval);
        }
        // Nothing the protocol core refuses may pass.
        if self.clean(item)
            && let Err(e) = inst.vrrp_config(inst.placeholder_primary()).validate()
        {
            self.err(FieldPath::item(item), format!("instance `{}`: {e}", inst.name));
        }
    }

    /// `[notify]`; the names an instance's `notify_*` may give.
    fn notify<'c>(&mut self, n: &'c Notify) -> Vec<&'c str> {
        let item = Item::Notify;
        let at = |key: &Key| FieldPath::key(item, key);
        for (k, addr) in n.email.iter().enumerate() {
            if let Some(p) = address_problem(addr) {
                self.say(FieldPath::index(item, &notify::EMAIL, k), p);
            }
        }
        if self.given(item, &notify::EMAIL_FROM)
            && let Some(p) = address_problem(&n.email_from)
        {
            self.say(at(&notify::EMAIL_FROM), p);
        }
        if !n.email.is_empty() && n.smtp_server.is_none() && self.good(&at(&notify::SMTP_SERVER)) {
            self.say(
                at(&notify::EMAIL),
                "mail needs an `smtp_server` (e.g. smtp_server = \"127.0.0.1:25\")",
            );
        }
        if n.email.is_empty() && self.given(item, &notify::SMTP_SERVER) {
            self.say(at(&notify::SMTP_SERVER), "no `email` to send to");
        }
        if let Some(ca) = &n.ca
            && self.given(item, &notify::CA)
            && !ca.is_file()
        {
            self.say(at(&notify::CA), format!("no such file: {}", ca.display()));
        }
        self.duration_range(item, &notify::SMTP_CONNECT_TIMEOUT, n.smtp_connect_timeout);
        self.int_range(item, &notify::QUEUE, n.queue as i64);
        self.duration_range(item, &notify::DEADLINE, n.deadline);
        self.int_range(item, &notify::FLAP_BURST, n.flap_burst as i64);
        self.duration_range(item, &notify::FLAP_WINDOW, n.flap_window);
        for (w, hook) in n.webhooks.iter().enumerate() {
            let item = Item::Webhook(w);
            if self.given(item, &webhook::NAME) {
                self.word(item, &webhook::NAME, &hook.name);
            }
            if self.good(&FieldPath::key(item, &webhook::URL))
                && let Some(p) = url_problem(&hook.url)
            {
                self.say(FieldPath::key(item, &webhook::URL), p);
            }
            for (name, value) in &hook.headers {
                if let Some(p) = header_problem(name, value) {
                    self.say(FieldPath::setting(item, &webhook::HEADERS, name), p);
                }
            }
            self.duration_range(item, &webhook::TIMEOUT, hook.timeout);
        }
        for (c, cmd) in n.commands.iter().enumerate() {
            let item = Item::NotifyCommand(c);
            if self.good(&FieldPath::key(item, &notify_command::NAME)) {
                self.word(item, &notify_command::NAME, &cmd.name);
            }
            self.command(item, &cmd.command);
            self.duration_range(item, &notify_command::TIMEOUT, cmd.timeout);
        }
        if let Some(h) = &n.hook {
            let at = FieldPath::key(Item::Hook, &hook::SOURCE);
            match &h.source {
                _ if !self.good(&at) => {}
                PolicySource::Path(path) if !path.is_file() => {
                    self.say(at, format!("no such file: {}", path.display()));
                }
                PolicySource::Builtin(b) => self.say(
                    at,
                    format!("builtin:{b} is a health check; a hook is a .wasm component of the transition-hook world"),
                ),
                PolicySource::Oci(r) => {
                    if self.good(&FieldPath::key(Item::Hook, &hook::SHA256)) {
                        self.oci_pin(Item::Hook, &hook::SOURCE, &hook::SHA256, r, h.sha256);
                    }
                }
                PolicySource::Path(_) => {}
            }
            self.duration_range(Item::Hook, &hook::TIMEOUT, h.timeout);
        }
        // Webhooks and commands are sinks a hook names: one namespace with `email`.
        let sinks = n
            .webhooks
            .iter()
            .enumerate()
            .map(|(w, h)| (Item::Webhook(w), &webhook::NAME, h.name.as_str()))
            .chain(
                n.commands
                    .iter()
                    .enumerate()
                    .map(|(c, cmd)| (Item::NotifyCommand(c), &notify_command::NAME, cmd.name.as_str())),
            );
        let sinks: Vec<_> = sinks.collect();
        for (item, key, name) in &sinks {
            if *name == EMAIL_SINK {
                self.say(
                    FieldPath::key(*item, key),
                    "`email` is the name of mail; choose another",
                );
            }
        }
        self.unique(sinks.into_iter(), "webhook or command");
        n.commands
            .iter()
            .enumerate()
            .filter(|(c, _)| self.good(&FieldPath::key(Item::NotifyCommand(*c), &notify_command::NAME)))
            .map(|(_, cmd)| cmd.name.as_str())
            .collect()
    }

    /// An instance's `smtp_alert` and `notify_*` keys.
    fn instance_notify(&mut self, i: usize, inst: &InstanceConfig, n: &Notify, commands: &[&str]) {
        self.notify_keys(Item::Instance(i), &inst.notify, n, commands);
    }

    /// The `smtp_alert` and `notify_*` keys of an instance or a sync group
    /// (`item`): mail needs `[notify]`'s `email`, each name a command.
    pub(crate) fn notify_keys(
        &mut self,
        item: Item,
        own: &crate::InstanceNotify,
        n: &Notify,
        commands: &[&str],
    ) {
        if own.smtp_alert == Some(true) && n.email.is_empty() {
            self.say(
                FieldPath::key(item, &instance::SMTP_ALERT),
                "[notify] has no `email` to send to",
            );
        }
        let refs = [
            (&instance::NOTIFY_MASTER, &own.master),
            (&instance::NOTIFY_BACKUP, &own.backup),
            (&instance::NOTIFY_FAULT, &own.fault),
            (&instance::NOTIFY_STOP, &own.stop),
            (&instance::NOTIFY, &own.any),
        ];
        for (key, name) in refs {
            let Some(name) = name else { continue };
            let at = FieldPath::key(item, key);
            if !self.good(&at) || commands.contains(&name.as_str()) {
                continue;
            }
            let hint = if commands.is_empty() {
                " (declare it as a [[notify.command]] in [notify])".to_string()
            } else {
                did_you_mean(name, commands)
            };
            self.say(at, format!("no [[notify.command]] named `{name}`{hint}"));
        }
    }

    fn advert_interval(&mut self, item: Item, d: Duration, version: Option<Version>) {
        if !self.given(item, &instance::ADVERT_INTERVAL) {
            return;
        }
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
            _ => return,
        };
        let hint = if version == Some(Version::V2) {
            " (version 3 allows 10ms steps)"
        } else {
            ""
        };
        self.say(
            FieldPath::key(item, &instance::ADVERT_INTERVAL),
            format!("{problem}, got {}{hint}", format_duration(d)),
        );
    }

    /// The VIPs' rules; their family (the first's).
    fn vips(&mut self, item: Item, inst: &InstanceConfig) -> Option<Family> {
        let key = &instance::VIPS;
        if inst.vips.is_empty() {
            self.say(
                FieldPath::key(item, key),
                "at least one virtual address is needed",
            );
        }
        if inst.vips.len() > instance::VIPS_MAX {
            self.say(
                FieldPath::key(item, key),
                format!(
                    "{} addresses; one advert carries at most {}",
                    inst.vips.len(),
                    instance::VIPS_MAX
                ),
            );
        }
        let family = inst.vips.first().map(|v| Family::of(&v.addr));
        let mut seen: Vec<(IpAddr, usize)> = Vec::new();
        for (k, vip) in inst.vips.iter().enumerate() {
            let at = FieldPath::index(item, key, k);
            let f = Family::of(&vip.addr);
            if let Some(first) = family
                && f != first
            {
                self.say(
                    at,
                    format!(
                        "{} is {}, but the first address is {}: an instance's addresses are all of one family",
                        vip.addr,
                        family_name(f),
                        family_name(first)
                    ),
                );
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(a, _)| *a == vip.addr) {
                let line = self.line(&FieldPath::index(item, key, *first));
                self.say(at, format!("{} is listed twice (also at line {line})", vip.addr));
                continue;
            }
            seen.push((vip.addr, k));
        }
        family
    }

    /// Excluded VIPs apart from the VIPs and each other; a macvlan that is
    /// not the interface itself.
    fn held_extras(&mut self, item: Item, inst: &InstanceConfig) {
        let key = &instance::EXCLUDED_VIPS;
        for (k, vip) in inst.excluded_vips.iter().enumerate() {
            let twice = inst.vips.iter().any(|v| v.addr == vip.addr)
                || inst.excluded_vips[..k].iter().any(|v| v.addr == vip.addr);
            if twice {
                self.say(
                    FieldPath::index(item, key, k),
                    format!("{} is listed twice among the instance's addresses", vip.addr),
                );
            }
        }
        if let Some(v) = &inst.vmac
            && v.name == inst.interface
        {
            self.say(
                FieldPath::key(item, &instance::USE_VMAC),
                format!(
                    "the macvlan cannot be named like its interface `{}`",
                    inst.interface
                ),
            );
        }
    }

    /// Why `a` cannot be a unicast address of the instance, if it cannot.
    fn unicast_problem(a: IpAddr, family: Option<Family>, inst: &InstanceConfig) -> Option<String> {
        if a.is_unspecified() || a.is_multicast() {
            return Some(format!("{a} is not a unicast address"));
        }
        if let Some(f) = family
            && Family::of(&a) != f
        {
            return Some(format!(
                "{a} is {}, but the instance's addresses are {}",
                family_name(Family::of(&a)),
                family_name(f)
            ));
        }
        if inst.vips.iter().any(|x| x.addr == a) {
            return Some(format!("{a} is one of the instance's virtual addresses"));
        }
        None
    }

    fn unicast(&mut self, item: Item, inst: &InstanceConfig, family: Option<Family>) {
        let mut src = inst.unicast_src;
        if let Some(a) = src
            && let Some(p) = Self::unicast_problem(a, family, inst)
        {
            self.say(FieldPath::key(item, &instance::UNICAST_SRC), p);
            src = None;
        }
        let mut seen: Vec<IpAddr> = Vec::new();
        for (k, a) in inst.unicast_peers.iter().enumerate() {
            let at = FieldPath::index(item, &instance::UNICAST_PEERS, k);
            if let Some(p) = Self::unicast_problem(*a, family, inst) {
                self.say(at, p);
            } else if seen.contains(a) {
                self.say(at, format!("{a} is listed twice"));
            } else if Some(*a) == src {
                self.say(at, format!("{a} is this router's own unicast_src"));
            } else {
                seen.push(*a);
            }
        }
    }

    /// The `[[instance.heartbeat]]` paths: another interface each, the
    /// instance's family, a `primary` the main path knows, and no path twice.
    fn heartbeats(&mut self, i: usize, inst: &InstanceConfig, family: Option<Family>) {
        let main = Item::Instance(i);
        let own = self
            .good(&FieldPath::key(main, &instance::INTERFACE))
            .then_some(inst.interface.as_str());
        // Which peers the main path knows, when the front end took them all.
        let peers = self
            .good(&FieldPath::key(main, &instance::UNICAST_PEERS))
            .then_some(inst.unicast_peers.as_slice())
            .filter(|p| !p.is_empty());
        let mut seen: Vec<(&str, IpAddr, FieldPath)> = Vec::new();
        for (h, hb) in inst.heartbeat.iter().enumerate() {
            let item = Item::Heartbeat(i, h);
            let at = |key: &Key| FieldPath::key(item, key);
            if h == instance::HEARTBEAT_MAX {
                self.say(
                    FieldPath::item(item),
                    format!(
                        "{} heartbeat paths; an instance has at most {}",
                        inst.heartbeat.len(),
                        instance::HEARTBEAT_MAX
                    ),
                );
            }
            if self.good(&at(&heartbeat::INTERFACE)) {
                if let Some(p) = ifname_problem(&hb.interface) {
                    self.say(at(&heartbeat::INTERFACE), p);
                } else if own == Some(hb.interface.as_str()) {
                    self.say(
                        at(&heartbeat::INTERFACE),
                        format!(
                            "`{}` is the instance's own interface: a heartbeat path is another one",
                            hb.interface
                        ),
                    );
                }
            }
            let mut peer_ok = self.good(&at(&heartbeat::PEER));
            if peer_ok && let Some(p) = Self::unicast_problem(hb.peer, family, inst) {
                self.say(at(&heartbeat::PEER), p);
                peer_ok = false;
            }
            if let Some(src) = hb.source
                && self.good(&at(&heartbeat::SOURCE))
            {
                if let Some(p) = Self::unicast_problem(src, family, inst) {
                    self.say(at(&heartbeat::SOURCE), p);
                } else if peer_ok && src == hb.peer {
                    self.say(
                        at(&heartbeat::SOURCE),
                        format!(
                            "{src} is the path's `peer`; `source` is this router's own address on {}",
                            hb.interface
                        ),
                    );
                }
            }
            // A defaulted primary is the only unicast peer, checked there.
            if self.given(item, &heartbeat::PRIMARY) {
                let a = hb.primary;
                if let Some(p) = Self::unicast_problem(a, family, inst) {
                    self.say(at(&heartbeat::PRIMARY), p);
                } else if Some(a) == inst.unicast_src {
                    self.say(
                        at(&heartbeat::PRIMARY),
                        format!("{a} is this router's own unicast_src; `primary` is the peer's address"),
                    );
                } else if let Some(peers) = peers
                    && !peers.contains(&a)
                {
                    let listed: Vec<String> = peers.iter().map(ToString::to_string).collect();
                    self.say(
                        at(&heartbeat::PRIMARY),
                        format!(
                            "{a} is not one of the instance's unicast_peers ({}): the path must name a peer the main path knows",
                            listed.join(", ")
                        ),
                    );
                }
            }
            if !self.clean(item) {
                continue;
            }
            if let Some((_, _, first)) = seen
                .iter()
                .find(|(name, peer, _)| *name == hb.interface && *peer == hb.peer)
            {
                let line = self.line(first);
                self.say(
                    at(&heartbeat::PEER),
                    format!(
                        "{} on {} is already a heartbeat path of this instance (line {line})",
                        hb.peer, hb.interface
                    ),
                );
                continue;
            }
            seen.push((&hb.interface, hb.peer, FieldPath::item(item)));
        }
    }

    fn tracks(&mut self, i: usize, tracks: &[Track], policies: &[Known<'_>], checks: &[&str]) {
        let mut seen: Vec<(&str, FieldPath)> = Vec::new();
        for (j, t) in tracks.iter().enumerate() {
            let item = Item::Track(i, j);
            let at = match &t.check {
                Some(name) => {
                    let at = FieldPath::key(item, &track::CHECK);
                    if !checks.contains(&name.as_str()) {
                        let hint = did_you_mean(name, checks);
                        self.say(at.clone(), format!("no [[check]] named `{name}`{hint}"));
                    }
                    at
                }
                None => {
                    let at = FieldPath::key(item, &track::POLICY);
                    let known = self.policy_ref(at.clone(), &t.policy, policies, false);
                    self.duration_range(item, &track::INTERVAL, t.interval);
                    self.duration_range(item, &track::TIMEOUT, t.timeout);
                    self.merged_targets(known, item, &track::CONFIG, &t.config);
                    at
                }
            };
            self.int_range(item, &track::WEIGHT, i64::from(t.weight));
            self.int_range(item, &track::RISE, i64::from(t.rise));
            self.int_range(item, &track::FALL, i64::from(t.fall));
            if !self.clean(item) {
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(name, _)| *name == t.name()) {
                let line = self.line(first);
                let message = format!("`{}` is already tracked by this instance (line {line})", t.name());
                self.say(at, message);
                continue;
            }
            seen.push((t.name(), at));
        }
    }

    /// Names, (interface, family, VRID) and VIPs are each one instance's;
    /// only instances without errors of their own are compared.
    /// A macvlan is one instance's: not another's, and not an interface
    /// an instance runs on.
    fn vmac_names(&mut self, instances: &[InstanceConfig]) {
        for (i, inst) in instances.iter().enumerate() {
            let Some(v) = &inst.vmac else { continue };
            let taken = |(j, o): &(usize, &InstanceConfig)| {
                *j != i
                    && (o.interface == v.name
                        || (*j < i && o.vmac.as_ref().is_some_and(|w| w.name == v.name)))
            };
            if let Some((_, o)) = instances.iter().enumerate().find(taken) {
                self.say(
                    FieldPath::key(Item::Instance(i), &instance::USE_VMAC),
                    format!("macvlan `{}` is also instance `{}`'s", v.name, o.name),
                );
            }
        }
    }

    fn across_instances(&mut self, instances: &[InstanceConfig]) {
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut vrids: HashMap<(&str, Family, u8), usize> = HashMap::new();
        let mut addrs: HashMap<IpAddr, (usize, usize)> = HashMap::new();
        let clean: Vec<usize> = (0..instances.len())
            .filter(|i| self.clean(Item::Instance(*i)))
            .collect();
        for i in clean {
            let inst = &instances[i];
            let item = Item::Instance(i);
            if let Some(first) = names.get(inst.name.as_str()) {
                let line = self.line(&FieldPath::key(Item::Instance(*first), &instance::NAME));
                self.say(
                    FieldPath::key(item, &instance::NAME),
                    format!("another [[instance]] is named `{}` (line {line})", inst.name),
                );
            } else {
                names.insert(&inst.name, i);
            }
            let key = (inst.interface.as_str(), inst.family(), inst.vrid);
            if let Some(first) = vrids.get(&key) {
                let line = self.line(&FieldPath::item(Item::Instance(*first)));
                self.say(
                    FieldPath::key(item, &instance::VRID),
                    format!(
                        "{} on {} ({}) is already used by instance `{}` (line {line}); each (interface, family, vrid) needs its own",
                        inst.vrid,
                        inst.interface,
                        family_name(inst.family()),
                        instances[*first].name
                    ),
                );
            } else {
                vrids.insert(key, i);
            }
            for (k, vip) in inst.vips.iter().enumerate() {
                if let Some((first, fk)) = addrs.get(&vip.addr) {
                    let line = self.line(&FieldPath::index(Item::Instance(*first), &instance::VIPS, *fk));
                    self.say(
                        FieldPath::index(item, &instance::VIPS, k),
                        format!(
                            "{} is also a virtual address of instance `{}` (line {line})",
                            vip.addr, instances[*first].name
                        ),
                    );
                } else {
                    addrs.insert(vip.addr, (i, k));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::{DEFAULT_SOCKET, Vip};

    /// A model as any front end would build it.
    fn instance(name: &str, vrid: u8, vip: &str) -> InstanceConfig {
        InstanceConfig {
            name: name.into(),
            interface: "eth0".into(),
            vrid,
            priority: 100,
            advert_interval: Duration::from_secs(1),
            version: Version::V3,
            preempt: true,
            preempt_delay: Duration::ZERO,
            accept: true,
            vips: vec![Vip {
                addr: vip.parse().expect("address"),
                prefix_len: 32,
                dev: "eth0".into(),
                label: None,
                brd: None,
                scope: None,
            }],
            auth: Auth::None,
            auth_keys: None,
            unicast_src: None,
            unicast_peers: Vec::new(),
            check_unicast_src: true,
            track_interfaces: vec![
                crate::TrackInterface::fault("eth0"),
                crate::TrackInterface::fault("eth1"),
            ],
            v3_checksum: V3Checksum::PseudoHeader,
            check_adv_addr: true,
            garp: Garp::default(),
            tracks: Vec::new(),
            split_brain: None,
            heartbeat: Vec::new(),
            notify: Default::default(),
            track_primary: true,
            excluded_vips: Vec::new(),
            routes: Vec::new(),
            vmac: None,
        }
    }

    fn config(instances: Vec<InstanceConfig>) -> Config {
        Config {
            path: PathBuf::from("keepalived.conf"),
            format: crate::Format::Toml,
            router_id: "lb01".into(),
            socket: PathBuf::from(DEFAULT_SOCKET),
            log_file: None,
            startup_delay: Duration::ZERO,
            policy_cache: PathBuf::from(crate::DEFAULT_POLICY_CACHE),
            insecure_registries: Vec::new(),
            garp: Garp::default(),
            policies: Vec::new(),
            checks: Vec::new(),
            remedies: Vec::new(),
            notify: Notify::none("lb01"),
            instances,
            sync_groups: Vec::new(),
        }
    }

    /// Problems as (place, message).
    fn problems(cfg: Config, o: &Origins<'_>) -> Vec<(FieldPath, String)> {
        validate(cfg, o)
            .expect_err("problems")
            .into_iter()
            .map(|p| (p.at, p.message))
            .collect()
    }

    #[test]
    fn problems_are_reported_at_places_of_the_model() {
        let o = Origins::new("");
        let cfg = config(vec![
            instance("VI_1", 50, "192.0.2.3"),
            instance("VI_2", 50, "192.0.2.4"),
        ]);
        assert_eq!(
            problems(cfg, &o),
            [(
                FieldPath::key(Item::Instance(1), &instance::VRID),
                "vrid: 50 on eth0 (IPv4) is already used by instance `VI_1` (line 1); each (interface, family, vrid) needs its own"
                    .to_string()
            )]
        );
        // A range is checked where the front end says the value was given.
        let mut o = Origins::new("");
        o.place(FieldPath::key(Item::Instance(0), &instance::VRID), 0);
        let cfg = config(vec![instance("VI_1", 0, "192.0.2.3")]);
        assert_eq!(
            problems(cfg, &o),
            [(
                FieldPath::key(Item::Instance(0), &instance::VRID),
                "vrid: 0 is out of range (must be 1..=255)".to_string()
            )]
        );
        // Not a value the front end could not take: it said why (and so
        // the instance has an error, and is not handed to the protocol core).
        o.mark_bad(FieldPath::key(Item::Instance(0), &instance::VRID));
        o.flaw(Item::Instance(0));
        assert!(validate(config(vec![instance("VI_1", 0, "192.0.2.3")]), &o).is_ok());
    }

    #[test]
    fn a_valid_model_is_finished() {
        let o = Origins::new("");
        let cfg = validate(config(vec![instance("VI_1", 50, "192.0.2.3")]), &o).expect("valid");
        // The instance's own interface is always tracked: not repeated.
        assert_eq!(
            cfg.instances[0].track_interfaces,
            [crate::TrackInterface::fault("eth1")]
        );
        assert!(matches!(
            validate(config(Vec::new()), &o).expect_err("no instance")[0]
                .message
                .as_str(),
            "no [[instance]]: a config needs at least one virtual router"
        ));
    }
}
