//! The TOML front end: reads the parsed document into a draft of the model,
//! each table through its section of [`crate::schema`], and records where
//! each key's value is. It reports what is about TOML (types, unknown keys,
//! values that do not convert into the model's types); ranges, references
//! and the rules between values are [`crate::validate`]'s.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use baton_vrrp::{AntiReplay, Auth, Hmac, HmacKey, HmacMode, V3Checksum, Version};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::duration::parse_duration;
use crate::origin::{FieldPath, Item, Origins};
use crate::schema::{
    self, Key, Kind, auth, garp, heartbeat, hook, instance, notify, notify_command, policy, remedy,
    split_brain, sync_group, top, track, track_interface, webhook,
};
use crate::suggest::closest;
use crate::{
    BUILTIN_POLICIES, Builtin, Check, Config, Garp, Heartbeat, Hook, InstanceConfig, InstanceNotify, KeyLine,
    KeySource, Notify, NotifyCommand, OciRef, Policy, PolicySource, Remedy, SmtpTls, SplitBrain, SyncGroup,
    Track, TrackInterface, Webhook, parse_sha256, parse_vip,
};

type Value<'i> = Spanned<DeValue<'i>>;

/// Parses and validates a config file's text; errors as (byte offset,
/// message), in text order.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Config, Vec<(usize, String)>> {
    parse_placed(text, path).0
}

/// [`parse`], and where each instance's keys are.
pub(crate) fn parse_placed(text: &str, path: &Path) -> (Result<Config, Vec<(usize, String)>>, super::Places) {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return (
            Err(super::syntax::errors(text, doc.get_ref(), &errors)),
            Vec::new(),
        );
    }
    let mut fe = Reader {
        text,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        file: path.to_path_buf(),
        errs: Vec::new(),
        origins: Origins::new(text),
    };
    let draft = fe.config(path, doc.get_ref());
    let places = super::places(&draft, &fe.origins);
    (super::finish(draft, &fe.origins, fe.errs), places)
}

struct Reader<'t> {
    text: &'t str,
    /// The config file's directory, which relative paths are relative to.
    dir: PathBuf,
    /// The config file (which a key written inline makes a secret).
    file: PathBuf,
    errs: Vec<(usize, String)>,
    origins: Origins<'t>,
}

/// What an instance's heartbeat paths need of its main path.
struct Main<'a> {
    interface: &'a str,
    peers: &'a [IpAddr],
    /// The front end could not take all of `unicast_peers`.
    peers_bad: bool,
}

/// A TOML table read as one item of the model.
#[derive(Clone, Copy)]
struct Table<'a, 'i> {
    t: &'a DeTable<'i>,
    item: Item,
    /// Where the table is: its header, or an inline table's `{`.
    header: usize,
    /// The number of errors before it was opened.
    before: usize,
}

impl Table<'_, '_> {
    fn label(&self, key: &Key) -> String {
        self.item.section().label(key)
    }

    fn path(&self, key: &Key) -> FieldPath {
        FieldPath::key(self.item, key)
    }
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

impl<'t> Reader<'t> {
    fn err(&mut self, at: usize, message: impl Into<String>) {
        self.errs.push((at, message.into()));
    }

    /// Reports an error about the value at `path`, which validation then
    /// leaves alone.
    fn fail(&mut self, path: FieldPath, at: usize, message: impl Into<String>) {
        self.err(at, message);
        self.origins.mark_bad(path);
    }

    /// Reports what is wrong with the value at `path`, which the message
    /// names (`track.weight: ...`).
    fn wrong(&mut self, path: FieldPath, at: usize, message: impl std::fmt::Display) {
        let message = format!("{}: {message}", path.label());
        self.fail(path, at, message);
    }

    /// Starts reading `t` as `item`: records where it is and reports the
    /// keys its section does not have.
    fn open<'a, 'i>(&mut self, t: &'a DeTable<'i>, item: Item, header: usize) -> Table<'a, 'i> {
        let before = self.errs.len();
        self.origins.place(FieldPath::item(item), header);
        let section = item.section();
        for (k, _) in t.iter() {
            let name: &str = k.get_ref();
            if section.key(name).is_some() {
                continue;
            }
            let names = section.names();
            let hint = if let Some(h) = section.hint(name) {
                format!(" ({h})")
            } else if let Some(s) = closest(name, &names) {
                format!(" (did you mean `{s}`?)")
            } else {
                format!(" (expected one of: {})", names.join(", "))
            };
            self.err(
                k.span().start,
                format!("unknown key `{name}` in {}{hint}", section.what),
            );
        }
        Table {
            t,
            item,
            header,
            before,
        }
    }

    /// Ends reading a table: an error since it was opened flaws its item.
    fn close(&mut self, tb: &Table<'_, '_>) {
        if self.errs.len() != tb.before {
            self.origins.flaw(tb.item);
        }
    }

    /// The value of `key`, if given; records where it is.
    fn get<'a, 'i>(&mut self, tb: &Table<'a, 'i>, key: &Key) -> Option<&'a Value<'i>> {
        debug_assert!(tb.item.section().key(key.name).is_some(), "{}", key.name);
        let v = tb.t.get(key.name)?;
        self.origins.place(tb.path(key), v.span().start);
        Some(v)
    }

    /// The value of `key`, if given; a required key that is not is reported.
    fn value<'a, 'i>(&mut self, tb: &Table<'a, 'i>, key: &Key) -> Option<&'a Value<'i>> {
        let v = self.get(tb, key);
        if v.is_none() && matches!(key.need, schema::Need::Required(_)) {
            let message = tb.item.section().missing(key);
            self.fail(tb.path(key), tb.header, message);
        }
        v
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

    /// A string value; `path` is what is bad if it is not one.
    fn str_of<'v>(&mut self, v: &'v Value<'_>, path: FieldPath) -> Option<&'v str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                let message = format!("expected a string, found {}", type_name(other));
                self.wrong(path, v.span().start, message);
                None
            }
        }
    }

    /// A string key (a word, a text, an interface name, one of some).
    fn text(&mut self, tb: &Table<'_, '_>, key: &Key) -> Option<String> {
        let v = self.value(tb, key)?;
        self.str_of(v, tb.path(key)).map(str::to_string)
    }

    fn path(&mut self, tb: &Table<'_, '_>, key: &Key) -> Option<PathBuf> {
        debug_assert!(matches!(key.kind, Kind::Path));
        let v = self.get(tb, key)?;
        let s = self.str_of(v, tb.path(key))?;
        if s.is_empty() {
            self.wrong(tb.path(key), v.span().start, "cannot be empty");
            return None;
        }
        Some(self.dir.join(s))
    }

    /// A boolean key, or its default.
    fn boolean(&mut self, tb: &Table<'_, '_>, key: &Key) -> bool {
        debug_assert!(matches!(key.kind, Kind::Bool));
        let default = key.default_bool();
        let Some(v) = self.get(tb, key) else {
            return default;
        };
        match v.get_ref() {
            DeValue::Boolean(b) => *b,
            other => {
                let hint = match other {
                    DeValue::String(s) if s.as_ref() == "true" || s.as_ref() == "false" => {
                        format!(" (write it without quotes: {s})")
                    }
                    _ => String::new(),
                };
                let message = format!("expected true or false, found {}{hint}", type_name(other));
                self.wrong(tb.path(key), v.span().start, message);
                default
            }
        }
    }

    /// An integer value as written, or why it is not one. A number too
    /// large for any key is `i128::MAX` (or `MIN`).
    fn integer(&mut self, v: &Value<'_>, path: FieldPath) -> Option<(i128, String)> {
        match v.get_ref() {
            DeValue::Integer(i) => {
                let n =
                    i128::from_str_radix(i.as_str(), i.radix()).unwrap_or(if i.as_str().starts_with('-') {
                        i128::MIN
                    } else {
                        i128::MAX
                    });
                Some((n, i.to_string()))
            }
            other => {
                let hint = match other {
                    DeValue::String(s) if s.trim().parse::<i128>().is_ok() => {
                        format!(" (write it without quotes: {})", s.trim())
                    }
                    _ => String::new(),
                };
                let message = format!("expected an integer, found {}{hint}", type_name(other));
                self.wrong(path, v.span().start, message);
                None
            }
        }
    }

    /// An integer key that fits `T`; when not given, its default (`None`
    /// when it has none of its own), and `None` when wrong. An integer that
    /// fits `T` but not the key's range is the validation's to report; one
    /// that does not fit `T` is reported here, with the same range.
    fn int<T: TryFrom<i128>>(&mut self, tb: &Table<'_, '_>, key: &Key) -> Option<T> {
        debug_assert!(matches!(key.kind, Kind::Int { .. }));
        let Some(v) = self.value(tb, key) else {
            return key.default_int().and_then(|n| T::try_from(i128::from(n)).ok());
        };
        let (n, shown) = self.integer(v, tb.path(key))?;
        let fits = T::try_from(n).ok();
        if fits.is_none() {
            let label = tb.label(key);
            let message = key
                .int_problem(&label, n, &shown)
                .unwrap_or_else(|| format!("{label}: {shown} is out of range"));
            self.fail(tb.path(key), v.span().start, message);
        }
        fits
    }

    /// A duration key as written; `None` when not given (or wrong), and
    /// then its default is the caller's: the key's own, the table's
    /// interval, or the base's.
    fn duration(&mut self, tb: &Table<'_, '_>, key: &Key) -> Option<Duration> {
        debug_assert!(matches!(key.kind, Kind::Duration { .. }));
        let Some(v) = self.get(tb, key) else {
            return key.default_duration();
        };
        let message = match v.get_ref() {
            DeValue::String(s) => match parse_duration(s) {
                Ok(d) => return Some(d),
                Err(e) => e.to_string(),
            },
            DeValue::Integer(i) => {
                format!("a duration is a string with a unit (us, ms, s, m, h), e.g. \"{i}s\"")
            }
            other => format!(
                "expected a duration string such as \"1s\", found {}",
                type_name(other)
            ),
        };
        self.wrong(tb.path(key), v.span().start, message);
        None
    }

    /// An IP address (which addresses are allowed is the validation's).
    fn ip(&mut self, v: &Value<'_>, path: FieldPath) -> Option<IpAddr> {
        let s = self.str_of(v, path.clone())?;
        match s.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                let hint = if s.contains('/') {
                    " (no prefix length here)"
                } else {
                    ""
                };
                let message = format!("`{s}` is not an IPv4 or IPv6 address{hint}");
                self.wrong(path, v.span().start, message);
                None
            }
        }
    }

    /// An array key's elements (none when it is not given or not an array).
    fn array<'a, 'i>(&mut self, tb: &Table<'a, 'i>, key: &Key, how: &str) -> &'a [Value<'i>] {
        debug_assert!(matches!(key.kind, Kind::List(_) | Kind::Argv));
        let Some(v) = self.get(tb, key) else {
            return &[];
        };
        match v.get_ref() {
            DeValue::Array(a) => a,
            other => {
                let message = format!("expected {how}, found {}", type_name(other));
                self.wrong(tb.path(key), v.span().start, message);
                &[]
            }
        }
    }

    /// An array of strings, each placed at its index.
    fn strings(&mut self, tb: &Table<'_, '_>, key: &Key, how: &str) -> Vec<String> {
        debug_assert!(matches!(
            key.kind,
            Kind::List(Kind::Text | Kind::Word | Kind::NetPattern | Kind::Ifname)
        ));
        let mut out = Vec::new();
        for item in self.array(tb, key, how) {
            if let Some(s) = self.str_of(item, tb.path(key)) {
                self.origins
                    .place(FieldPath::index(tb.item, key, out.len()), item.span().start);
                out.push(s.to_string());
            }
        }
        out
    }

    /// A table key, opened as `item` (not when it is not a table).
    fn table<'a, 'i>(&mut self, tb: &Table<'a, 'i>, key: &Key, item: Item) -> Option<Table<'a, 'i>> {
        debug_assert!(matches!(key.kind, Kind::Table(s) if s.what == item.section().what));
        let how = item.section().how;
        let v = self.get(tb, key)?;
        match v.get_ref() {
            DeValue::Table(t) => Some(self.open(t, item, v.span().start)),
            other => {
                let message = format!("expected {how}, found {}", type_name(other));
                self.wrong(tb.path(key), v.span().start, message);
                None
            }
        }
    }

    /// `[[key]]` tables (or an inline array of inline tables), each with
    /// where it is; none when any is not a table.
    fn tables<'a, 'i>(&mut self, tb: &Table<'a, 'i>, key: &Key) -> Vec<(&'a DeTable<'i>, usize)> {
        let Kind::Tables(section) = key.kind else {
            unreachable!("{} is no array of tables", key.name);
        };
        let Some(v) = self.get(tb, key) else {
            return Vec::new();
        };
        let name = section.what.trim_start_matches("[[").trim_end_matches("]]");
        let items = match v.get_ref() {
            DeValue::Array(a) => a,
            DeValue::Table(_) => {
                self.fail(
                    tb.path(key),
                    v.span().start,
                    format!("{name}: write [[{name}]] (an array of tables), not [{name}]"),
                );
                return Vec::new();
            }
            other => {
                self.fail(
                    tb.path(key),
                    v.span().start,
                    format!("{name}: expected [[{name}]] tables, found {}", type_name(other)),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, item.span().start)),
                other => self.fail(
                    tb.path(key),
                    item.span().start,
                    format!("{name}: expected a table, found {}", type_name(other)),
                ),
            }
        }
        if self.origins.is_bad(&tb.path(key)) {
            return Vec::new();
        }
        out
    }

    /// Each of the `[[key]]` tables, read by `read(self, table, its index,
    /// where it is)`.
    fn each<'a, 'i, T>(
        &mut self,
        tb: &Table<'a, 'i>,
        key: &Key,
        mut read: impl FnMut(&mut Self, &'a DeTable<'i>, usize, usize) -> T,
    ) -> Vec<T> {
        let tables = self.tables(tb, key);
        tables
            .into_iter()
            .enumerate()
            .map(|(n, (t, at))| read(self, t, n, at))
            .collect()
    }

    /// A `config` table of settings for a policy: strings, integers and
    /// booleans, kept as text (`80`, `true`), each placed by its name.
    fn settings(&mut self, tb: &Table<'_, '_>, key: &Key) -> BTreeMap<String, String> {
        debug_assert!(matches!(key.kind, Kind::Settings));
        let mut config = BTreeMap::new();
        let Some(v) = self.get(tb, key) else {
            return config;
        };
        let DeValue::Table(ct) = v.get_ref() else {
            let message = format!(
                "expected a table of keys and values, found {}",
                type_name(v.get_ref())
            );
            self.wrong(tb.path(key), v.span().start, message);
            return config;
        };
        for (k, val) in ct.iter() {
            let path = FieldPath::setting(tb.item, key, k.get_ref());
            let text = match val.get_ref() {
                DeValue::String(s) => s.to_string(),
                DeValue::Boolean(b) => b.to_string(),
                DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => n.to_string(),
                    Err(_) => continue,
                },
                other => {
                    let message = format!(
                        "values are strings, integers or booleans, found {} (quote it)",
                        type_name(other)
                    );
                    self.wrong(path, val.span().start, message);
                    continue;
                }
            };
            self.origins.place(path, val.span().start);
            config.insert(k.get_ref().to_string(), text);
        }
        config
    }

    fn config(&mut self, path: &Path, doc: &DeTable<'_>) -> Config {
        let tb = self.open(doc, Item::Top, 0);
        let router_id = self.text(&tb, &top::ROUTER_ID).unwrap_or_else(crate::hostname);
        let socket = self
            .path(&tb, &top::SOCKET)
            .unwrap_or_else(|| PathBuf::from(top::SOCKET.default_text().unwrap_or(crate::DEFAULT_SOCKET)));
        let log_file = self.path(&tb, &top::LOG_FILE);
        let startup_delay = self.duration(&tb, &top::STARTUP_DELAY).unwrap_or_default();
        let policy_cache = self
            .path(&tb, &top::POLICY_CACHE)
            .unwrap_or_else(|| PathBuf::from(crate::DEFAULT_POLICY_CACHE));
        let insecure_registries = self.strings(
            &tb,
            &top::INSECURE_REGISTRIES,
            "an array of \"HOST:PORT\" registries",
        );
        let garp = match self.table(&tb, &top::GARP, Item::Garp) {
            Some(g) => self.garp(&g, Garp::default()),
            None => Garp::default(),
        };
        let remedies = self.each(&tb, &top::REMEDY, Self::remedy);
        let policies = self.each(&tb, &top::POLICY, Self::policy);
        let checks = self.each(&tb, &top::CHECK, Self::check);
        let notify = match self.table(&tb, &top::NOTIFY, Item::Notify) {
            Some(nt) => self.notify(&nt, &router_id),
            None => Notify::none(&router_id),
        };
        let instances = self.each(&tb, &top::INSTANCE, |fe, t, i, at| fe.instance(t, i, at, &garp));
        let sync_groups = self.each(&tb, &top::SYNC_GROUP, Self::sync_group);
        self.close(&tb);
        Config {
            path: path.to_path_buf(),
            format: crate::Format::Toml,
            router_id,
            socket,
            log_file,
            startup_delay,
            policy_cache,
            insecure_registries,
            garp,
            policies,
            checks,
            remedies,
            notify,
            instances,
            sync_groups,
        }
    }

    fn sync_group(&mut self, t: &DeTable<'_>, g: usize, header: usize) -> SyncGroup {
        let tb = self.open(t, Item::SyncGroup(g), header);
        let name = self.text(&tb, &sync_group::NAME).unwrap_or_default();
        if self.value(&tb, &sync_group::INSTANCES).is_none() {
            self.close(&tb);
            return SyncGroup {
                name,
                instances: Vec::new(),
                notify: InstanceNotify::default(),
                tracking_weight: false,
            };
        }
        let instances = self.strings(&tb, &sync_group::INSTANCES, "an array of instance names");
        let notify = InstanceNotify {
            smtp_alert: self
                .get(&tb, &instance::SMTP_ALERT)
                .is_some()
                .then(|| self.boolean(&tb, &instance::SMTP_ALERT)),
            master: self.text(&tb, &instance::NOTIFY_MASTER),
            backup: self.text(&tb, &instance::NOTIFY_BACKUP),
            fault: self.text(&tb, &instance::NOTIFY_FAULT),
            stop: self.text(&tb, &instance::NOTIFY_STOP),
            any: self.text(&tb, &instance::NOTIFY),
        };
        let tracking_weight = self.boolean(&tb, &sync_group::TRACKING_WEIGHT);
        self.close(&tb);
        SyncGroup {
            name,
            instances,
            notify,
            tracking_weight,
        }
    }

    /// `track_interfaces`: names, or `{ name = .., weight = .. }` tables,
    /// each placed at its index (a table's weight at its own item).
    fn track_interfaces(&mut self, tb: &Table<'_, '_>) -> Vec<TrackInterface> {
        let key = &instance::TRACK_INTERFACES;
        let i = tb.item.instance().unwrap_or_default();
        let mut out = Vec::new();
        for item in self.array(tb, key, "an array of interface names or { name, weight } tables") {
            let at = FieldPath::index(tb.item, key, out.len());
            match item.get_ref() {
                DeValue::String(s) => {
                    self.origins.place(at, item.span().start);
                    out.push(TrackInterface::fault(s));
                }
                DeValue::Table(t) => {
                    let tt = self.open(t, Item::TrackInterface(i, out.len()), item.span().start);
                    let name = self.text(&tt, &track_interface::NAME);
                    let weight = self.int(&tt, &track_interface::WEIGHT).unwrap_or_default();
                    self.close(&tt);
                    let Some(name) = name else { continue };
                    let pos = t.get("name").map_or(item.span().start, |v| v.span().start);
                    self.origins.place(at, pos);
                    out.push(TrackInterface { name, weight });
                }
                other => {
                    let message = format!(
                        "expected an interface name or a table, found {}",
                        type_name(other)
                    );
                    self.wrong(tb.path(key), item.span().start, message);
                }
            }
        }
        out
    }

    /// `[garp]` or an instance's `garp`: `base` with what it sets.
    fn garp(&mut self, tb: &Table<'_, '_>, base: Garp) -> Garp {
        let g = Garp {
            delay: self.duration(tb, &garp::DELAY).unwrap_or(base.delay),
            repeat: self.int(tb, &garp::REPEAT).unwrap_or(base.repeat),
            interval: self.duration(tb, &garp::INTERVAL).unwrap_or(base.interval),
            refresh: self.duration(tb, &garp::REFRESH).unwrap_or(base.refresh),
        };
        self.close(tb);
        g
    }

    fn remedy(&mut self, t: &DeTable<'_>, r: usize, header: usize) -> Remedy {
        let tb = self.open(t, Item::Remedy(r), header);
        let name = self.text(&tb, &remedy::NAME).unwrap_or_default();
        let command = self.command(&tb, &remedy::COMMAND);
        let timeout = self.duration(&tb, &remedy::TIMEOUT).unwrap_or_default();
        let user = self.text(&tb, &remedy::USER);
        let group = self.text(&tb, &remedy::GROUP);
        self.close(&tb);
        Remedy {
            name,
            command,
            timeout,
            user,
            group,
        }
    }

    /// A `command`: an array of program and arguments.
    fn command(&mut self, tb: &Table<'_, '_>, key: &Key) -> Vec<String> {
        debug_assert!(matches!(key.kind, Kind::Argv));
        let Some(cv) = self.value(tb, key) else {
            return Vec::new();
        };
        if let DeValue::String(s) = cv.get_ref() {
            let words: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
            let message = format!(
                "an array of program and arguments, run without a shell (e.g. [{}])",
                words.join(", ")
            );
            self.wrong(tb.path(key), cv.span().start, message);
            return Vec::new();
        }
        let mut argv = Vec::new();
        for item in self.array(tb, key, "an array of program and arguments") {
            // The first element that is no string is reported, not the rest.
            let Some(s) = self.str_of(item, tb.path(key)) else {
                return Vec::new();
            };
            self.origins
                .place(FieldPath::index(tb.item, key, argv.len()), item.span().start);
            argv.push(s.to_string());
        }
        argv
    }

    fn policy(&mut self, t: &DeTable<'_>, p: usize, header: usize) -> Policy {
        let tb = self.open(t, Item::Policy(p), header);
        let name = self.text(&tb, &policy::NAME).unwrap_or_default();
        let source = self
            .source(&tb, &policy::SOURCE)
            .unwrap_or_else(|| PolicySource::Path(PathBuf::new()));
        let sha256 = self.sha256(&tb);
        let config = self.settings(&tb, &policy::CONFIG);
        let allow = self.strings(&tb, &policy::ALLOW, "an array of \"ADDR:PORT\" targets");
        let allow_files = self.strings(&tb, &policy::ALLOW_FILES, "an array of absolute paths");
        let remedies = self.strings(&tb, &policy::REMEDIES, "an array of [[remedy]] names");
        self.close(&tb);
        Policy {
            name,
            source,
            sha256,
            config,
            allow,
            allow_files,
            remedies,
        }
    }

    /// A `sha256` pin.
    fn sha256(&mut self, tb: &Table<'_, '_>) -> Option<[u8; 32]> {
        let key = &policy::SHA256;
        let v = self.get(tb, key)?;
        let s = self.str_of(v, tb.path(key))?;
        let digest = parse_sha256(s).ok();
        if digest.is_none() {
            self.wrong(tb.path(key), v.span().start, "expected 64 hexadecimal digits");
        }
        digest
    }

    /// `[notify]`.
    fn notify(&mut self, tb: &Table<'_, '_>, router_id: &str) -> Notify {
        let base = Notify::none(router_id);
        let email = self.strings(tb, &notify::EMAIL, "an array of mail addresses");
        let email_from = self.text(tb, &notify::EMAIL_FROM).unwrap_or(base.email_from);
        let smtp_server = self.get(tb, &notify::SMTP_SERVER).and_then(|v| {
            let path = tb.path(&notify::SMTP_SERVER);
            let s = self.str_of(v, path.clone())?;
            match crate::notify::parse_smtp_server(s) {
                Ok(server) => Some(server),
                Err(e) => {
                    self.wrong(path, v.span().start, e);
                    None
                }
            }
        });
        let smtp_tls = match self.get(tb, &notify::SMTP_TLS) {
            None => SmtpTls::None,
            Some(v) => match self.str_of(v, tb.path(&notify::SMTP_TLS)) {
                Some(notify::TLS_NONE) | None => SmtpTls::None,
                Some(notify::TLS_STARTTLS) => SmtpTls::Starttls,
                Some(other) => {
                    let message = format!("`{other}` is not {}", notify::SMTP_TLS.choices());
                    self.wrong(tb.path(&notify::SMTP_TLS), v.span().start, message);
                    SmtpTls::None
                }
            },
        };
        let n = Notify {
            email,
            email_from,
            smtp_server,
            smtp_connect_timeout: self
                .duration(tb, &notify::SMTP_CONNECT_TIMEOUT)
                .unwrap_or(base.smtp_connect_timeout),
            smtp_tls,
            ca: self.path(tb, &notify::CA),
            webhooks: self.each(tb, &notify::WEBHOOK, Self::webhook),
            commands: self.each(tb, &notify::COMMAND, Self::notify_command),
            hook: self.table(tb, &notify::HOOK, Item::Hook).map(|ht| self.hook(&ht)),
            queue: self.int(tb, &notify::QUEUE).unwrap_or(base.queue),
            deadline: self.duration(tb, &notify::DEADLINE).unwrap_or(base.deadline),
            flap_burst: self.int(tb, &notify::FLAP_BURST).unwrap_or(base.flap_burst),
            flap_window: self
                .duration(tb, &notify::FLAP_WINDOW)
                .unwrap_or(base.flap_window),
        };
        self.close(tb);
        n
    }

    fn webhook(&mut self, t: &DeTable<'_>, w: usize, header: usize) -> Webhook {
        let tb = self.open(t, Item::Webhook(w), header);
        let name = self.text(&tb, &webhook::NAME).unwrap_or_else(|| match w {
            0 => "webhook".to_string(),
            n => format!("webhook-{}", n + 1),
        });
        let url = self.text(&tb, &webhook::URL).unwrap_or_default();
        let headers = self.settings(&tb, &webhook::HEADERS);
        let timeout = self.duration(&tb, &webhook::TIMEOUT).unwrap_or_default();
        self.close(&tb);
        Webhook {
            name,
            url,
            headers,
            timeout,
        }
    }

    fn notify_command(&mut self, t: &DeTable<'_>, c: usize, header: usize) -> NotifyCommand {
        let tb = self.open(t, Item::NotifyCommand(c), header);
        let name = self.text(&tb, &notify_command::NAME).unwrap_or_default();
        let command = self.command(&tb, &notify_command::COMMAND);
        let timeout = self.duration(&tb, &notify_command::TIMEOUT).unwrap_or_default();
        self.close(&tb);
        NotifyCommand {
            name,
            command,
            timeout,
        }
    }

    fn hook(&mut self, tb: &Table<'_, '_>) -> Hook {
        let h = Hook {
            source: self
                .source(tb, &hook::SOURCE)
                .unwrap_or_else(|| PolicySource::Path(PathBuf::new())),
            sha256: self.sha256(tb),
            config: self.settings(tb, &hook::CONFIG),
            timeout: self.duration(tb, &hook::TIMEOUT).unwrap_or_default(),
        };
        self.close(tb);
        h
    }

    /// `builtin:NAME`, an `oci://` reference, or a file, relative to the config file.
    fn source(&mut self, tb: &Table<'_, '_>, key: &Key) -> Option<PolicySource> {
        debug_assert!(matches!(key.kind, Kind::Source));
        let v = self.value(tb, key)?;
        let s = self.str_of(v, tb.path(key))?;
        if let Some(name) = s.strip_prefix("builtin:") {
            if let Some(b) = Builtin::from_name(name) {
                return Some(PolicySource::Builtin(b));
            }
            let hint = match closest(name, BUILTIN_POLICIES) {
                Some(c) => format!("did you mean `builtin:{c}`?"),
                None => format!("builtins: {}", BUILTIN_POLICIES.join(", ")),
            };
            let at = self.str_pos(v, "builtin:".len());
            self.wrong(tb.path(key), at, format!("no builtin policy `{name}` ({hint})"));
            return None;
        }
        if s.starts_with(OciRef::SCHEME) {
            return match OciRef::parse(s) {
                Ok(r) => Some(PolicySource::Oci(r)),
                Err(e) => {
                    self.wrong(tb.path(key), v.span().start, e);
                    None
                }
            };
        }
        if s.is_empty() {
            self.wrong(tb.path(key), v.span().start, "cannot be empty");
            return None;
        }
        Some(PolicySource::Path(self.dir.join(s)))
    }

    fn check(&mut self, t: &DeTable<'_>, c: usize, header: usize) -> Check {
        let tb = self.open(t, Item::Check(c), header);
        let name = self.text(&tb, &schema::check::NAME).unwrap_or_default();
        let policy = self.text(&tb, &schema::check::POLICY).unwrap_or_default();
        let interval = self.duration(&tb, &track::INTERVAL).unwrap_or_default();
        let timeout = self.duration(&tb, &track::TIMEOUT).unwrap_or(interval);
        let config = self.settings(&tb, &policy::CONFIG);
        self.close(&tb);
        Check {
            name,
            policy,
            interval,
            timeout,
            config,
        }
    }

    fn instance(&mut self, t: &DeTable<'_>, i: usize, header: usize, global_garp: &Garp) -> InstanceConfig {
        let tb = self.open(t, Item::Instance(i), header);
        let name = self.text(&tb, &instance::NAME).unwrap_or_default();
        let interface = self.text(&tb, &instance::INTERFACE);
        let vrid = self.int(&tb, &instance::VRID).unwrap_or_default();
        let vips = self.vips(&tb, &instance::VIPS, interface.as_deref().unwrap_or(""));
        let version = self.version(&tb);
        let priority = self.int(&tb, &instance::PRIORITY).unwrap_or_default();
        let advert_interval = self.duration(&tb, &instance::ADVERT_INTERVAL).unwrap_or_default();
        let preempt = self.boolean(&tb, &instance::PREEMPT);
        let preempt_delay = self.duration(&tb, &instance::PREEMPT_DELAY).unwrap_or_default();
        let accept = self.boolean(&tb, &instance::ACCEPT);
        let (auth, auth_keys) = match self.table(&tb, &instance::AUTH, Item::Auth(i)) {
            Some(at) => self.auth(&at, advert_interval),
            None => (Auth::None, None),
        };
        let unicast_src = self
            .get(&tb, &instance::UNICAST_SRC)
            .and_then(|v| self.ip(v, tb.path(&instance::UNICAST_SRC)));
        let mut unicast_peers = Vec::new();
        let key = &instance::UNICAST_PEERS;
        for item in self.array(&tb, key, "an array of addresses") {
            if let Some(a) = self.ip(item, tb.path(key)) {
                self.origins.place(
                    FieldPath::index(tb.item, key, unicast_peers.len()),
                    item.span().start,
                );
                unicast_peers.push(a);
            }
        }
        let check_unicast_src = self.boolean(&tb, &instance::CHECK_UNICAST_SRC);
        let track_interfaces = self.track_interfaces(&tb);
        let track_primary = self.boolean(&tb, &instance::TRACK_PRIMARY);
        let v3_checksum = self.v3_checksum(&tb);
        let check_adv_addr = self.boolean(&tb, &instance::CHECK_ADV_ADDR);
        let garp = match self.table(&tb, &instance::GARP, Item::InstanceGarp(i)) {
            Some(g) => self.garp(&g, *global_garp),
            None => *global_garp,
        };
        let tracks = self.each(&tb, &instance::TRACK, |fe, t, j, at| fe.track(t, i, j, at));
        let split_brain = self
            .table(&tb, &instance::SPLIT_BRAIN, Item::SplitBrain(i))
            .map(|st| self.split_brain(&st));
        // After the unicast peers: `primary` defaults to the only one.
        let main = Main {
            interface: interface.as_deref().unwrap_or(""),
            peers: &unicast_peers,
            peers_bad: self.origins.is_bad(&tb.path(&instance::UNICAST_PEERS)),
        };
        let heartbeat = self.each(&tb, &instance::HEARTBEAT, |fe, t, h, at| {
            fe.heartbeat(t, i, h, at, &main)
        });
        let notify = InstanceNotify {
            smtp_alert: self
                .get(&tb, &instance::SMTP_ALERT)
                .is_some()
                .then(|| self.boolean(&tb, &instance::SMTP_ALERT)),
            master: self.text(&tb, &instance::NOTIFY_MASTER),
            backup: self.text(&tb, &instance::NOTIFY_BACKUP),
            fault: self.text(&tb, &instance::NOTIFY_FAULT),
            stop: self.text(&tb, &instance::NOTIFY_STOP),
            any: self.text(&tb, &instance::NOTIFY),
        };
        let excluded_vips = self.vips(&tb, &instance::EXCLUDED_VIPS, interface.as_deref().unwrap_or(""));
        let routes = self.routes(&tb);
        let vmac = self.vmac(&tb, vrid);
        self.close(&tb);
        InstanceConfig {
            name,
            interface: interface.unwrap_or_default(),
            vrid,
            priority,
            advert_interval,
            version,
            preempt,
            preempt_delay,
            accept,
            vips,
            auth,
            auth_keys,
            unicast_src,
            unicast_peers,
            check_unicast_src,
            track_interfaces,
            v3_checksum,
            check_adv_addr,
            garp,
            tracks,
            heartbeat,
            split_brain,
            notify,
            track_primary,
            excluded_vips,
            routes,
            vmac,
        }
    }

    /// `routes = ["198.51.100.0/24 via 192.0.2.1", ..]`, each placed at its index.
    fn routes(&mut self, tb: &Table<'_, '_>) -> Vec<crate::Route> {
        let key = &instance::ROUTES;
        let mut out = Vec::new();
        for item in self.array(tb, key, "an array of routes") {
            let Some(s) = self.str_of(item, tb.path(key)) else {
                continue;
            };
            match crate::parse_route(s) {
                Ok(r) => {
                    self.origins
                        .place(FieldPath::index(tb.item, key, out.len()), item.span().start);
                    out.push(r);
                }
                Err(msg) => {
                    let at = self.str_pos(item, 0);
                    self.wrong(tb.path(key), at, msg);
                }
            }
        }
        out
    }

    /// `use_vmac = true` (named `vrrp.VRID`) or `= "NAME"`, and `vmac_xmit_base`.
    fn vmac(&mut self, tb: &Table<'_, '_>, vrid: u8) -> Option<crate::Vmac> {
        let xmit_base = self.boolean(tb, &instance::VMAC_XMIT_BASE);
        let key = &instance::USE_VMAC;
        let v = self.get(tb, key);
        if xmit_base && v.is_none_or(|v| matches!(v.get_ref(), DeValue::Boolean(false))) {
            let at = self
                .get(tb, &instance::VMAC_XMIT_BASE)
                .map_or(tb.header, |x| x.span().start);
            let message = "without `use_vmac` there is no macvlan to bypass";
            self.wrong(tb.path(&instance::VMAC_XMIT_BASE), at, message);
        }
        let v = v?;
        let name = match v.get_ref() {
            DeValue::Boolean(false) => return None,
            DeValue::Boolean(true) => crate::Vmac::default_name(vrid),
            DeValue::String(s) => match crate::vip::ifname_problem(s) {
                None => s.to_string(),
                Some(p) => {
                    self.wrong(tb.path(key), v.span().start, p);
                    return None;
                }
            },
            other => {
                let message = format!("expected true or an interface name, found {}", type_name(other));
                self.wrong(tb.path(key), v.span().start, message);
                return None;
            }
        };
        Some(crate::Vmac { name, xmit_base })
    }

    /// The addresses that parse, each placed at its index; `dev` is the
    /// default device.
    fn vips(&mut self, tb: &Table<'_, '_>, key: &Key, dev: &str) -> Vec<crate::Vip> {
        if self.value(tb, key).is_none() {
            return Vec::new();
        }
        let mut vips = Vec::new();
        for item in self.array(tb, key, "an array of addresses") {
            let Some(s) = self.str_of(item, tb.path(key)) else {
                continue;
            };
            match parse_vip(s, dev) {
                Ok(vip) => {
                    self.origins
                        .place(FieldPath::index(tb.item, key, vips.len()), item.span().start);
                    vips.push(vip);
                }
                Err((off, msg)) => {
                    let at = self.str_pos(item, off);
                    self.wrong(tb.path(key), at, msg);
                }
            }
        }
        vips
    }

    fn version(&mut self, tb: &Table<'_, '_>) -> Version {
        let key = &instance::VERSION;
        let default = Version::V3;
        let Some(v) = self.get(tb, key) else {
            return default;
        };
        match self.integer(v, tb.path(key)) {
            Some((2, _)) => Version::V2,
            Some((3, _)) => Version::V3,
            Some((_, shown)) => {
                self.wrong(
                    tb.path(key),
                    v.span().start,
                    format!("{shown} is not a VRRP version (2 or 3)"),
                );
                default
            }
            None => default,
        }
    }

    fn v3_checksum(&mut self, tb: &Table<'_, '_>) -> V3Checksum {
        let key = &instance::V3_CHECKSUM;
        let Some(v) = self.get(tb, key) else {
            return V3Checksum::default();
        };
        match self.str_of(v, tb.path(key)) {
            Some(instance::PSEUDO_HEADER) => V3Checksum::PseudoHeader,
            Some(instance::NO_PSEUDO_HEADER) => V3Checksum::NoPseudoHeader,
            Some(other) => {
                let message = format!("v3_checksum: `{other}` is not {}", key.choices());
                self.fail(tb.path(key), v.span().start, message);
                V3Checksum::default()
            }
            None => V3Checksum::default(),
        }
    }

    /// An instance's `auth`. A password auth whose password is wrong is
    /// still one (a placeholder), for the rules about its version.
    fn auth(&mut self, tb: &Table<'_, '_>, advert_interval: Duration) -> (Auth, Option<KeySource>) {
        let kind = self.get(tb, &auth::TYPE).and_then(|v| match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        });
        let hmac = [
            &auth::KEY_FILE,
            &auth::KEYS,
            &auth::ACTIVE,
            &auth::MODE,
            &auth::ANTI_REPLAY,
            &auth::TIME_WINDOW,
        ];
        let r = if kind.as_deref() == Some(auth::HMAC) {
            self.hmac(tb, advert_interval)
        } else {
            for key in hmac {
                if let Some(v) = self.get(tb, key) {
                    let message = "only with type = \"hmac\"";
                    self.wrong(tb.path(key), v.span().start, message);
                }
            }
            (self.auth_kind(tb), None)
        };
        self.close(tb);
        r
    }

    /// `type = "hmac"`: the keys from `key_file` (checked to be private),
    /// the active one, the mode, the replay rules.
    fn hmac(&mut self, tb: &Table<'_, '_>, advert_interval: Duration) -> (Auth, Option<KeySource>) {
        if let Some(pv) = self.get(tb, &auth::PASSWORD) {
            self.wrong(
                tb.path(&auth::PASSWORD),
                pv.span().start,
                "not used with type = \"hmac\"",
            );
        }
        let (keys, source) = self.hmac_keys(tb);
        let active = self.int::<u8>(tb, &auth::ACTIVE);
        let active = match (active, keys.as_slice()) {
            (Some(a), _) => a,
            (None, [only]) => only.id,
            (None, []) => 1,
            (None, _) => {
                let message = "auth: several keys: say which signs with `active`";
                self.fail(tb.path(&auth::ACTIVE), tb.header, message);
                keys[0].id
            }
        };
        if !keys.is_empty() && !keys.iter().any(|k| k.id == active) {
            let at = self.get(tb, &auth::ACTIVE).map_or(tb.header, |v| v.span().start);
            let ids: Vec<String> = keys.iter().map(|k| k.id.to_string()).collect();
            let message = format!(
                "key {active} is not one of the keys (they are {})",
                ids.join(", ")
            );
            self.wrong(tb.path(&auth::ACTIVE), at, message);
        }
        let mode = match self.text(tb, &auth::MODE).as_deref() {
            Some(auth::PERMISSIVE) => HmacMode::Permissive,
            Some(auth::RECEIVE_ONLY) => HmacMode::ReceiveOnly,
            Some(auth::ENFORCE) | None => HmacMode::Enforce,
            Some(other) => {
                let message = format!("`{other}` is not {}", auth::MODE.choices());
                let at = self.get(tb, &auth::MODE).map_or(tb.header, |v| v.span().start);
                self.wrong(tb.path(&auth::MODE), at, message);
                HmacMode::Enforce
            }
        };
        let anti_replay = match self.text(tb, &auth::ANTI_REPLAY).as_deref() {
            Some(auth::MONOTONIC) => AntiReplay::Monotonic,
            Some(auth::TIME) | None => AntiReplay::Time,
            Some(other) => {
                let message = format!("`{other}` is not {}", auth::ANTI_REPLAY.choices());
                let at = self
                    .get(tb, &auth::ANTI_REPLAY)
                    .map_or(tb.header, |v| v.span().start);
                self.wrong(tb.path(&auth::ANTI_REPLAY), at, message);
                AntiReplay::Time
            }
        };
        let window = match self.duration(tb, &auth::TIME_WINDOW) {
            Some(d) => d.as_secs().clamp(1, 300) as u32,
            None => Hmac::default_window(advert_interval),
        };
        let hmac = Hmac {
            keys,
            active,
            mode,
            anti_replay,
            window,
        };
        (Auth::Hmac(hmac), source)
    }

    /// The keys of `key_file` (Baton's keyring) or of `keys` (keepalived's
    /// `ID VALUE` lines), one of the two; each file checked to be private.
    fn hmac_keys(&mut self, tb: &Table<'_, '_>) -> (Vec<HmacKey>, Option<KeySource>) {
        let file = self.path(tb, &auth::KEY_FILE);
        let mut lines: Vec<(String, usize)> = Vec::new();
        for item in self.array(tb, &auth::KEYS, "an array of \"ID VALUE\" strings") {
            if let Some(s) = self.str_of(item, tb.path(&auth::KEYS)) {
                let at = item.span().start;
                let path = FieldPath::index(tb.item, &auth::KEYS, lines.len());
                self.origins.place(path, at);
                lines.push((s.to_string(), at));
            }
        }
        let at = |r: &mut Self, key: &Key| r.get(tb, key).map_or(tb.header, |v| v.span().start);
        match (file, lines.is_empty()) {
            (Some(_), false) => {
                let message = "auth: `key_file` or `keys`, not both";
                let here = at(self, &auth::KEYS);
                self.wrong(tb.path(&auth::KEYS), here, message);
                (Vec::new(), None)
            }
            (Some(f), true) => match crate::secret::read_key_file(&f) {
                Ok(k) => (k, Some(KeySource::Keyring(f))),
                Err(e) => {
                    let here = at(self, &auth::KEY_FILE);
                    self.wrong(tb.path(&auth::KEY_FILE), here, e);
                    (Vec::new(), Some(KeySource::Keyring(f)))
                }
            },
            (None, true) => {
                let message = "auth: type = \"hmac\" needs a `key_file` (hex keys, mode 0600) or `keys`";
                self.fail(tb.path(&auth::KEY_FILE), tb.header, message);
                (Vec::new(), None)
            }
            (None, false) => {
                let mut keys = Vec::new();
                let mut each: Vec<KeyLine> = Vec::new();
                let read = |p: &Path| crate::secret::read_private(p, crate::secret::KEEPALIVED_KEY_MAX);
                for (n, (text, here)) in lines.iter().enumerate() {
                    let path = FieldPath::index(tb.item, &auth::KEYS, n);
                    let (id, value) = text.split_once(' ').unwrap_or((text, ""));
                    let line =
                        crate::secret::key_line(id, value.trim(), &self.dir, &self.file).and_then(|l| {
                            match each.iter().any(|e| e.id == l.id) {
                                true => Err(format!("key id {} is given twice", l.id)),
                                false => Ok(l),
                            }
                        });
                    match line.and_then(|l| Ok((crate::secret::key_of(&l, &read)?, l))) {
                        Ok((k, l)) => {
                            keys.push(k);
                            each.push(l);
                        }
                        Err(e) => self.wrong(
                            path,
                            *here,
                            format!("keys: {e} (\"ID file:PATH\" or \"ID hex:HEX\")"),
                        ),
                    }
                }
                (keys, Some(KeySource::Each(each)))
            }
        }
    }

    fn auth_kind(&mut self, tb: &Table<'_, '_>) -> Auth {
        let Some(tv) = self.value(tb, &auth::TYPE) else {
            return Auth::None;
        };
        let Some(kind) = self.str_of(tv, tb.path(&auth::TYPE)) else {
            return Auth::None;
        };
        let pv = self.get(tb, &auth::PASSWORD);
        let password = tb.path(&auth::PASSWORD);
        match kind {
            auth::NONE => {
                if let Some(pv) = pv {
                    self.wrong(password, pv.span().start, "not used with type = \"none\"");
                }
                Auth::None
            }
            auth::PASS => {
                let placeholder = Auth::Pass(Default::default());
                let Some(pv) = pv else {
                    self.fail(
                        password,
                        tb.header,
                        "auth: type = \"pass\" needs a `password` (1 to 8 bytes)",
                    );
                    return placeholder;
                };
                let Some(p) = self.str_of(pv, password.clone()) else {
                    return placeholder;
                };
                match Auth::pass(p) {
                    Ok(a) => a,
                    Err(_) if p.is_empty() => {
                        self.wrong(password, pv.span().start, "cannot be empty (1 to 8 bytes)");
                        placeholder
                    }
                    Err(_) => {
                        let cut: String = String::from_utf8_lossy(&p.as_bytes()[..8]).into_owned();
                        self.wrong(
                            password,
                            pv.span().start,
                            format!(
                                "{} bytes; VRRPv2 carries at most 8 (keepalived would silently use only {cut:?})",
                                p.len()
                            ),
                        );
                        placeholder
                    }
                }
            }
            other => {
                let hint = match other.to_ascii_lowercase().as_str() {
                    "pass" | "hmac" | "none" => {
                        format!(" (write it in lower case: \"{}\")", other.to_ascii_lowercase())
                    }
                    "ah" => " (IPsec AH is not supported)".to_string(),
                    _ => String::new(),
                };
                self.wrong(
                    tb.path(&auth::TYPE),
                    tv.span().start,
                    format!("`{other}` is not {}{hint}", auth::TYPE.choices()),
                );
                Auth::None
            }
        }
    }

    fn track(&mut self, t: &DeTable<'_>, i: usize, j: usize, header: usize) -> Track {
        let tb = self.open(t, Item::Track(i, j), header);
        let check = self.text(&tb, &track::CHECK);
        let mut out = Track {
            policy: String::new(),
            check: None,
            interval: track::INTERVAL.default_duration().unwrap_or_default(),
            timeout: Duration::ZERO,
            weight: 0,
            rise: 0,
            fall: 0,
            init_fail: false,
            config: BTreeMap::new(),
        };
        if check.is_some() || tb.t.contains_key(track::CHECK.name) {
            // The rest is the check's: what the track says of it is a mistake.
            for key in track::FROM_CHECK {
                if let Some((k, _)) = tb.t.get_key_value(key.name) {
                    self.err(
                        k.span().start,
                        format!(
                            "{}: a track with `check` takes its {} from the [[check]]",
                            tb.label(key),
                            key.name
                        ),
                    );
                }
            }
            if check.is_none() {
                // Not a string: the track names neither a check nor a policy.
                self.origins.mark_bad(tb.path(&track::POLICY));
            }
            out.check = check;
        } else {
            match self.text(&tb, &track::POLICY) {
                Some(p) => out.policy = p,
                None if !tb.t.contains_key(track::POLICY.name) => self.fail(
                    tb.path(&track::POLICY),
                    header,
                    "[[instance.track]] without `policy` (its own check) or `check` (a [[check]] of the node)",
                ),
                None => {}
            }
            out.interval = self.duration(&tb, &track::INTERVAL).unwrap_or(out.interval);
            out.config = self.settings(&tb, &track::CONFIG);
        }
        out.timeout = match out.check {
            Some(_) => out.interval,
            None => self.duration(&tb, &track::TIMEOUT).unwrap_or(out.interval),
        };
        out.weight = self.int(&tb, &track::WEIGHT).unwrap_or_default();
        out.rise = self.int(&tb, &track::RISE).unwrap_or_default();
        out.fall = self.int(&tb, &track::FALL).unwrap_or_default();
        out.init_fail = self.boolean(&tb, &track::INIT_FAIL);
        self.close(&tb);
        out
    }

    /// An address key: `None` when not given (a required one is reported)
    /// or not an address.
    fn addr(&mut self, tb: &Table<'_, '_>, key: &Key) -> Option<IpAddr> {
        debug_assert!(matches!(key.kind, Kind::Addr));
        let v = self.value(tb, key)?;
        self.ip(v, tb.path(key))
    }

    /// An `[[instance.heartbeat]]`. A value that is missing or wrong is a
    /// placeholder, marked bad.
    fn heartbeat(
        &mut self,
        t: &DeTable<'_>,
        i: usize,
        h: usize,
        header: usize,
        main: &Main<'_>,
    ) -> Heartbeat {
        let tb = self.open(t, Item::Heartbeat(i, h), header);
        let placeholder = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let interface = self.text(&tb, &heartbeat::INTERFACE).unwrap_or_default();
        let peer = self.addr(&tb, &heartbeat::PEER).unwrap_or(placeholder);
        let key = &heartbeat::PRIMARY;
        let primary = if tb.t.contains_key(key.name) {
            self.addr(&tb, key).unwrap_or(placeholder)
        } else {
            match main.peers {
                [only] if !main.peers_bad => *only,
                // Which peer is meant is unknown: its unicast_peers are wrong.
                _ if main.peers_bad => {
                    self.origins.mark_bad(tb.path(key));
                    placeholder
                }
                peers => {
                    let path = if main.interface.is_empty() {
                        "the main path".to_string()
                    } else {
                        format!("the main path ({})", main.interface)
                    };
                    let has = match peers.len() {
                        0 => "none".to_string(),
                        n => n.to_string(),
                    };
                    self.fail(
                        tb.path(key),
                        header,
                        format!(
                            "[[instance.heartbeat]] needs `primary`: the peer's address on {path}, by which it is known (the default only when the instance has exactly one unicast peer; it has {has})"
                        ),
                    );
                    placeholder
                }
            }
        };
        let source = self.addr(&tb, &heartbeat::SOURCE);
        self.close(&tb);
        Heartbeat {
            interface,
            peer,
            primary,
            source,
        }
    }

    fn split_brain(&mut self, tb: &Table<'_, '_>) -> SplitBrain {
        let sb = SplitBrain {
            policy: self.text(tb, &split_brain::POLICY).unwrap_or_default(),
            interval: self.duration(tb, &track::INTERVAL).unwrap_or_default(),
        };
        self.close(tb);
        sb
    }
}
