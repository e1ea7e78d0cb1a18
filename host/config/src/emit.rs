//! The TOML emitter: the model written back as a config file that a person
//! reads and keeps (`baton convert`), the inverse of the TOML front end:
//! `parse(&to_toml(&c, dir), &dir.join(FILE))` gives `c` back, but for `path`.
//!
//! The layout is the examples': the top-level keys, `[garp]`, `[notify]`
//! with its webhooks, commands and hook, then `[[remedy]]`, `[[policy]]`,
//! `[[check]]` and each `[[instance]]` followed by its `[[instance.track]]`,
//! `[instance.split_brain]` and `[[instance.heartbeat]]` tables; small tables
//! inline (`auth = { .. }`, `garp = { .. }`, `config = { .. }`). A key is
//! written only when the front end would not take the same value without it
//! (required keys and `router_id` always), so the file says what this node
//! chose, not what every node has. Key names and defaults come from
//! [`crate::schema`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use baton_vrrp::{AntiReplay, Auth, Hmac, HmacMode, V3Checksum, Version};

use crate::duration::format_duration;
use crate::origin::Item;
use crate::schema::{
    Key, auth, check, garp, heartbeat, hook, instance, notify, notify_command, policy, remedy, split_brain,
    sync_group, top, track, track_interface, webhook,
};
use crate::{
    Check, Config, DEFAULT_POLICY_CACHE, DEFAULT_SOCKET, Garp, Heartbeat, Hook, InstanceConfig, KeyLine,
    KeySource, KeyValue, Notify, NotifyCommand, Policy, PolicySource, Remedy, SmtpTls, SplitBrain, SyncGroup,
    Track, TrackInterface, Vip, Webhook,
};

/// The config as TOML; `notes` are comments the caller attaches to items of
/// the model, printed as `# ...` lines just above the item's table or key
/// (those for [`Item::Top`], and for items not written, at the top). Paths
/// are written relative to `dir` where they lie under it.
pub(crate) fn emit(config: &Config, dir: &Path, notes: &[(Item, String)]) -> String {
    let mut w = Writer {
        out: String::new(),
        dir,
        notes,
        used: vec![false; notes.len()],
    };
    w.body(config);
    let mut head = String::new();
    for (n, (_, note)) in notes.iter().enumerate() {
        if !w.used[n] {
            comment(&mut head, note);
        }
    }
    if !head.is_empty() {
        head.push('\n');
    }
    head + &w.out
}

/// `# ...` lines for a note.
fn comment(out: &mut String, note: &str) {
    for line in note.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
}

struct Writer<'a> {
    out: String,
    dir: &'a Path,
    notes: &'a [(Item, String)],
    /// Which notes were written beside their item.
    used: Vec<bool>,
}

impl Writer<'_> {
    fn body(&mut self, cfg: &Config) {
        let keys = top_keys(cfg, self.dir);
        self.keys(&keys);
        if cfg.garp != Garp::default() {
            self.table(Item::Garp, "[garp]", &garp_keys(&cfg.garp, &Garp::default()));
        }
        self.notify(cfg);
        for (r, rem) in cfg.remedies.iter().enumerate() {
            self.table(Item::Remedy(r), "[[remedy]]", &remedy_keys(rem));
        }
        for (p, pol) in cfg.policies.iter().enumerate() {
            self.table(Item::Policy(p), "[[policy]]", &policy_keys(pol, self.dir));
        }
        for (c, ch) in cfg.checks.iter().enumerate() {
            self.table(Item::Check(c), "[[check]]", &check_keys(ch));
        }
        for (i, inst) in cfg.instances.iter().enumerate() {
            self.instance(cfg, i, inst);
        }
        for (g, sg) in cfg.sync_groups.iter().enumerate() {
            self.table(Item::SyncGroup(g), "[[sync_group]]", &sync_group_keys(sg));
        }
    }

    fn notify(&mut self, cfg: &Config) {
        let n = &cfg.notify;
        // No [notify] at all is what the front end takes as none.
        if *n == Notify::none(&cfg.router_id) {
            return;
        }
        let keys = notify_keys(n, &cfg.router_id, self.dir);
        // Without keys of its own it differs from none by a sub-table, which
        // says [notify] enough.
        if !keys.0.is_empty() || self.has_notes(Item::Notify) {
            self.table(Item::Notify, "[notify]", &keys);
        }
        for (k, wh) in n.webhooks.iter().enumerate() {
            self.table(Item::Webhook(k), "[[notify.webhook]]", &webhook_keys(wh, k));
        }
        for (k, cmd) in n.commands.iter().enumerate() {
            self.table(Item::NotifyCommand(k), "[[notify.command]]", &command_keys(cmd));
        }
        if let Some(h) = &n.hook {
            self.table(Item::Hook, "[notify.hook]", &hook_keys(h, self.dir));
        }
    }

    fn instance(&mut self, cfg: &Config, i: usize, inst: &InstanceConfig) {
        let keys = instance_keys(cfg, i, inst, self.dir);
        self.table(Item::Instance(i), "[[instance]]", &keys);
        for (j, t) in inst.tracks.iter().enumerate() {
            self.table(Item::Track(i, j), "[[instance.track]]", &track_keys(t));
        }
        if let Some(sb) = &inst.split_brain {
            self.table(
                Item::SplitBrain(i),
                "[instance.split_brain]",
                &split_brain_keys(sb),
            );
        }
        for (h, hb) in inst.heartbeat.iter().enumerate() {
            self.table(
                Item::Heartbeat(i, h),
                "[[instance.heartbeat]]",
                &heartbeat_keys(hb, inst),
            );
        }
    }

    /// A table: a blank line, its notes, its header, its keys.
    fn table(&mut self, item: Item, header: &str, keys: &Keys) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.notes_of(item);
        self.out.push_str(header);
        self.out.push('\n');
        self.keys(keys);
    }

    fn keys(&mut self, keys: &Keys) {
        for e in &keys.0 {
            if let Some(item) = e.item {
                self.notes_of(item);
            }
            let _ = writeln!(self.out, "{} = {}", e.name, e.value);
        }
    }

    fn has_notes(&self, item: Item) -> bool {
        self.notes
            .iter()
            .zip(&self.used)
            .any(|((at, _), used)| *at == item && !used)
    }

    fn notes_of(&mut self, item: Item) {
        for (n, (at, note)) in self.notes.iter().enumerate() {
            if *at == item && !self.used[n] {
                self.used[n] = true;
                comment(&mut self.out, note);
            }
        }
    }
}

/// One `key = value` line, or one key of an inline table.
struct Entry {
    /// The item an inline table value is (`auth`), for its notes.
    item: Option<Item>,
    name: &'static str,
    /// TOML text.
    value: String,
}

/// The keys of one table, in the order written.
#[derive(Default)]
struct Keys(Vec<Entry>);

impl Keys {
    fn put(&mut self, key: &Key, value: String) {
        self.0.push(Entry {
            item: None,
            name: key.name,
            value,
        });
    }

    fn text(&mut self, key: &Key, s: &str) {
        self.put(key, string(s));
    }

    fn opt_text(&mut self, key: &Key, s: Option<&str>) {
        if let Some(s) = s {
            self.text(key, s);
        }
    }

    /// Unless it is `default`.
    fn int(&mut self, key: &Key, n: i64, default: i64) {
        if n != default {
            self.put(key, n.to_string());
        }
    }

    fn boolean(&mut self, key: &Key, b: bool, default: bool) {
        if b != default {
            self.put(key, b.to_string());
        }
    }

    fn duration(&mut self, key: &Key, d: Duration, default: Duration) {
        if d != default {
            self.put(key, string(&format_duration(d)));
        }
    }

    /// Unless it is the key's own default.
    fn duration_or_default(&mut self, key: &Key, d: Duration) {
        self.duration(key, d, key.default_duration().unwrap_or_default());
    }

    /// Unless it is empty.
    fn list<S: AsRef<str>>(&mut self, key: &Key, items: &[S]) {
        if !items.is_empty() {
            self.put(key, list(items));
        }
    }

    fn settings(&mut self, key: &Key, s: &BTreeMap<String, String>) {
        if !s.is_empty() {
            self.put(key, settings(s));
        }
    }

    /// An inline table, unless it has no keys.
    fn inline(&mut self, item: Item, key: &Key, inner: &Keys) {
        if inner.0.is_empty() {
            return;
        }
        let body: Vec<String> = inner
            .0
            .iter()
            .map(|e| format!("{} = {}", e.name, e.value))
            .collect();
        self.0.push(Entry {
            item: Some(item),
            name: key.name,
            value: format!("{{ {} }}", body.join(", ")),
        });
    }
}

/// A TOML string, escaped by the `toml` crate.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// A `config` table. The front end keeps integers and booleans as their
/// text; they are written back unquoted, as a person writes them.
fn settings(s: &BTreeMap<String, String>) -> String {
    let table: toml::Table = s.iter().map(|(k, v)| (k.clone(), setting(v))).collect();
    toml::Value::Table(table).to_string()
}

fn setting(v: &str) -> toml::Value {
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        // Only the canonical form: `007` or `+1` was a string.
        _ => match v.parse::<i64>() {
            Ok(n) if n.to_string() == v => toml::Value::Integer(n),
            _ => toml::Value::String(v.to_string()),
        },
    }
}

/// A path as the front end reads it back: relative to `dir` when under it.
fn path(p: &Path, dir: &Path) -> String {
    string(&path_text(p, dir))
}

fn path_text(p: &Path, dir: &Path) -> String {
    let rel = match p.strip_prefix(dir) {
        Ok(r) if dir.as_os_str().is_empty() => r,
        // The directory itself.
        Ok(r) if r.as_os_str().is_empty() => Path::new("."),
        Ok(r) => r,
        Err(_) => p,
    };
    rel.to_string_lossy().into_owned()
}

fn source(s: &PolicySource, dir: &Path) -> String {
    match s {
        PolicySource::Builtin(_) | PolicySource::Oci(_) => string(&s.to_string()),
        PolicySource::Path(p) => {
            let text = path_text(p, dir);
            // A file named like a builtin or a reference stays a file.
            if text.starts_with("builtin:") || text.starts_with(crate::OciRef::SCHEME) {
                string(&format!("./{text}"))
            } else {
                string(&text)
            }
        }
    }
}

fn sha256(d: &[u8; 32]) -> String {
    let hex = crate::digest_string(d);
    string(hex.trim_start_matches("sha256:"))
}

fn top_keys(cfg: &Config, dir: &Path) -> Keys {
    let mut k = Keys::default();
    k.text(&top::ROUTER_ID, &cfg.router_id);
    if cfg.socket != Path::new(DEFAULT_SOCKET) {
        k.put(&top::SOCKET, path(&cfg.socket, dir));
    }
    if let Some(log) = &cfg.log_file {
        k.put(&top::LOG_FILE, path(log, dir));
    }
    k.duration(&top::STARTUP_DELAY, cfg.startup_delay, Duration::ZERO);
    if cfg.policy_cache != Path::new(DEFAULT_POLICY_CACHE) {
        k.put(&top::POLICY_CACHE, path(&cfg.policy_cache, dir));
    }
    k.list(&top::INSECURE_REGISTRIES, &cfg.insecure_registries);
    k
}

/// `[garp]` or an instance's `garp`: what differs from `base`.
fn garp_keys(g: &Garp, base: &Garp) -> Keys {
    let mut k = Keys::default();
    k.duration(&garp::DELAY, g.delay, base.delay);
    k.int(&garp::REPEAT, g.repeat.into(), base.repeat.into());
    k.duration(&garp::INTERVAL, g.interval, base.interval);
    k.duration(&garp::REFRESH, g.refresh, base.refresh);
    k
}

fn remedy_keys(r: &Remedy) -> Keys {
    let mut k = Keys::default();
    k.text(&remedy::NAME, &r.name);
    k.put(&remedy::COMMAND, list(&r.command));
    k.duration_or_default(&remedy::TIMEOUT, r.timeout);
    k.opt_text(&remedy::USER, r.user.as_deref());
    k.opt_text(&remedy::GROUP, r.group.as_deref());
    k
}

fn policy_keys(p: &Policy, dir: &Path) -> Keys {
    let mut k = Keys::default();
    k.text(&policy::NAME, &p.name);
    k.put(&policy::SOURCE, source(&p.source, dir));
    if let Some(d) = &p.sha256 {
        k.put(&policy::SHA256, sha256(d));
    }
    k.settings(&policy::CONFIG, &p.config);
    k.list(&policy::ALLOW, &p.allow);
    k.list(&policy::ALLOW_FILES, &p.allow_files);
    k.list(&policy::REMEDIES, &p.remedies);
    k
}

fn check_keys(c: &Check) -> Keys {
    let mut k = Keys::default();
    k.text(&check::NAME, &c.name);
    k.text(&check::POLICY, &c.policy);
    k.duration_or_default(&track::INTERVAL, c.interval);
    // The timeout's default is the interval.
    k.duration(&track::TIMEOUT, c.timeout, c.interval);
    k.settings(&policy::CONFIG, &c.config);
    k
}

fn notify_keys(n: &Notify, router_id: &str, dir: &Path) -> Keys {
    let base = Notify::none(router_id);
    let mut k = Keys::default();
    k.list(&notify::EMAIL, &n.email);
    if n.email_from != base.email_from {
        k.text(&notify::EMAIL_FROM, &n.email_from);
    }
    if let Some(server) = &n.smtp_server {
        k.text(&notify::SMTP_SERVER, &server.to_string());
    }
    k.duration(
        &notify::SMTP_CONNECT_TIMEOUT,
        n.smtp_connect_timeout,
        base.smtp_connect_timeout,
    );
    if n.smtp_tls == SmtpTls::Starttls {
        k.text(&notify::SMTP_TLS, notify::TLS_STARTTLS);
    }
    if let Some(ca) = &n.ca {
        k.put(&notify::CA, path(ca, dir));
    }
    k.int(&notify::QUEUE, count(n.queue), count(base.queue));
    k.duration(&notify::DEADLINE, n.deadline, base.deadline);
    k.int(&notify::FLAP_BURST, count(n.flap_burst), count(base.flap_burst));
    k.duration(&notify::FLAP_WINDOW, n.flap_window, base.flap_window);
    k
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn webhook_keys(w: &Webhook, index: usize) -> Keys {
    // The front end's names for webhooks without one.
    let default_name = match index {
        0 => "webhook".to_string(),
        n => format!("webhook-{}", n + 1),
    };
    let mut k = Keys::default();
    if w.name != default_name {
        k.text(&webhook::NAME, &w.name);
    }
    k.text(&webhook::URL, &w.url);
    k.settings(&webhook::HEADERS, &w.headers);
    k.duration_or_default(&webhook::TIMEOUT, w.timeout);
    k
}

fn command_keys(c: &NotifyCommand) -> Keys {
    let mut k = Keys::default();
    k.text(&notify_command::NAME, &c.name);
    k.put(&notify_command::COMMAND, list(&c.command));
    k.duration_or_default(&notify_command::TIMEOUT, c.timeout);
    k
}

fn hook_keys(h: &Hook, dir: &Path) -> Keys {
    let mut k = Keys::default();
    k.put(&hook::SOURCE, source(&h.source, dir));
    if let Some(d) = &h.sha256 {
        k.put(&hook::SHA256, sha256(d));
    }
    k.settings(&hook::CONFIG, &h.config);
    k.duration_or_default(&hook::TIMEOUT, h.timeout);
    k
}

fn instance_keys(cfg: &Config, i: usize, inst: &InstanceConfig, dir: &Path) -> Keys {
    let mut k = Keys::default();
    k.text(&instance::NAME, &inst.name);
    k.text(&instance::INTERFACE, &inst.interface);
    k.put(&instance::VRID, inst.vrid.to_string());
    k.int(
        &instance::PRIORITY,
        inst.priority.into(),
        default_int(&instance::PRIORITY),
    );
    // Before the interval, whose range it sets.
    if inst.version != Version::V3 {
        k.put(&instance::VERSION, inst.version.number().to_string());
    }
    k.duration_or_default(&instance::ADVERT_INTERVAL, inst.advert_interval);
    k.boolean(&instance::PREEMPT, inst.preempt, instance::PREEMPT.default_bool());
    k.duration_or_default(&instance::PREEMPT_DELAY, inst.preempt_delay);
    k.boolean(&instance::ACCEPT, inst.accept, instance::ACCEPT.default_bool());
    k.inline(Item::Auth(i), &instance::AUTH, &auth_keys(inst, dir));
    let vips: Vec<String> = inst.vips.iter().map(|v| vip(v, &inst.interface)).collect();
    k.put(&instance::VIPS, list(&vips));
    k.opt_text(
        &instance::UNICAST_SRC,
        inst.unicast_src.map(|a| a.to_string()).as_deref(),
    );
    let peers: Vec<String> = inst.unicast_peers.iter().map(IpAddr::to_string).collect();
    k.list(&instance::UNICAST_PEERS, &peers);
    if !inst.track_interfaces.is_empty() {
        k.put(
            &instance::TRACK_INTERFACES,
            track_interfaces(&inst.track_interfaces),
        );
    }
    if inst.v3_checksum == V3Checksum::NoPseudoHeader {
        k.text(&instance::V3_CHECKSUM, instance::NO_PSEUDO_HEADER);
    }
    k.boolean(
        &instance::CHECK_UNICAST_SRC,
        inst.check_unicast_src,
        instance::CHECK_UNICAST_SRC.default_bool(),
    );
    k.boolean(
        &instance::CHECK_ADV_ADDR,
        inst.check_adv_addr,
        instance::CHECK_ADV_ADDR.default_bool(),
    );
    k.inline(
        Item::InstanceGarp(i),
        &instance::GARP,
        &garp_keys(&inst.garp, &cfg.garp),
    );
    notify_keys_of(&mut k, &inst.notify);
    k.boolean(
        &instance::TRACK_PRIMARY,
        inst.track_primary,
        instance::TRACK_PRIMARY.default_bool(),
    );
    let excluded: Vec<String> = inst
        .excluded_vips
        .iter()
        .map(|v| vip(v, &inst.interface))
        .collect();
    k.list(&instance::EXCLUDED_VIPS, &excluded);
    let routes: Vec<String> = inst.routes.iter().map(ToString::to_string).collect();
    k.list(&instance::ROUTES, &routes);
    if let Some(v) = &inst.vmac {
        if v.name == crate::Vmac::default_name(inst.vrid) {
            k.put(&instance::USE_VMAC, "true".to_string());
        } else {
            k.text(&instance::USE_VMAC, &v.name);
        }
        k.boolean(&instance::VMAC_XMIT_BASE, v.xmit_base, false);
    }
    k
}

/// Plain names, but `{ name = .., weight = .. }` for a weighted link.
fn track_interfaces(links: &[TrackInterface]) -> String {
    let items: Vec<String> = links
        .iter()
        .map(|t| match t.weight {
            0 => string(&t.name),
            w => format!(
                "{{ {} = {}, {} = {w} }}",
                track_interface::NAME.name,
                string(&t.name),
                track_interface::WEIGHT.name
            ),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// `smtp_alert` and the `notify_*` names, of an instance or a sync group.
fn notify_keys_of(k: &mut Keys, n: &crate::InstanceNotify) {
    if let Some(alert) = n.smtp_alert {
        k.put(&instance::SMTP_ALERT, alert.to_string());
    }
    k.opt_text(&instance::NOTIFY_MASTER, n.master.as_deref());
    k.opt_text(&instance::NOTIFY_BACKUP, n.backup.as_deref());
    k.opt_text(&instance::NOTIFY_FAULT, n.fault.as_deref());
    k.opt_text(&instance::NOTIFY_STOP, n.stop.as_deref());
    k.opt_text(&instance::NOTIFY, n.any.as_deref());
}

fn sync_group_keys(sg: &SyncGroup) -> Keys {
    let mut k = Keys::default();
    k.text(&sync_group::NAME, &sg.name);
    k.put(&sync_group::INSTANCES, list(&sg.instances));
    notify_keys_of(&mut k, &sg.notify);
    k.boolean(
        &sync_group::TRACKING_WEIGHT,
        sg.tracking_weight,
        sync_group::TRACKING_WEIGHT.default_bool(),
    );
    k
}

fn default_int(key: &Key) -> i64 {
    key.default_int().unwrap_or_default()
}

/// `ADDR[/PREFIX] [dev IF] [label LABEL]` with what is the default left
/// out: a host prefix, and the instance's interface unless a label follows.
fn vip(v: &Vip, interface: &str) -> String {
    let mut s = v.addr.to_string();
    let host = if v.addr.is_ipv4() { 32 } else { 128 };
    if v.prefix_len != host {
        let _ = write!(s, "/{}", v.prefix_len);
    }
    if v.dev != interface || v.label.is_some() {
        let _ = write!(s, " dev {}", v.dev);
    }
    if let Some(label) = &v.label {
        let _ = write!(s, " label {label}");
    }
    if let Some(brd) = v.brd {
        let _ = write!(s, " brd {brd}");
    }
    if let Some(scope) = v.scope {
        let _ = write!(s, " scope {}", crate::scope_name(scope));
    }
    s
}

fn auth_keys(inst: &InstanceConfig, dir: &Path) -> Keys {
    let mut k = Keys::default();
    match &inst.auth {
        Auth::None => {}
        Auth::Pass(data) => {
            // Zero padded to 8 bytes on the wire: the padding is no part of it.
            let len = data.iter().rposition(|b| *b != 0).map_or(0, |n| n + 1);
            k.text(&auth::TYPE, auth::PASS);
            k.text(&auth::PASSWORD, &String::from_utf8_lossy(&data[..len]));
        }
        Auth::Hmac(h) => {
            k.text(&auth::TYPE, auth::HMAC);
            match &inst.auth_keys {
                Some(KeySource::Keyring(f)) => k.put(&auth::KEY_FILE, path(f, dir)),
                Some(KeySource::Each(lines)) => k.put(&auth::KEYS, key_lines(lines, dir)),
                None => {}
            }
            if h.keys.len() > 1 || h.keys.first().is_some_and(|only| only.id != h.active) {
                k.put(&auth::ACTIVE, h.active.to_string());
            }
            match h.mode {
                HmacMode::Enforce => {}
                HmacMode::Permissive => k.text(&auth::MODE, auth::PERMISSIVE),
                HmacMode::ReceiveOnly => k.text(&auth::MODE, auth::RECEIVE_ONLY),
            }
            if h.anti_replay == AntiReplay::Monotonic {
                k.text(&auth::ANTI_REPLAY, auth::MONOTONIC);
            }
            let default = Hmac::default_window(inst.advert_interval);
            if h.window != default {
                k.put(&auth::TIME_WINDOW, string(&format!("{}s", h.window)));
            }
        }
    }
    k
}

/// keepalived's `key ID VALUE` lines as TOML `keys`.
fn key_lines(lines: &[KeyLine], dir: &Path) -> String {
    let items: Vec<String> = lines
        .iter()
        .map(|l| match &l.value {
            KeyValue::File(f) => string(&format!("{} file:{}", l.id, path_text(f, dir))),
            KeyValue::Inline { text, .. } => string(&format!("{} {text}", l.id)),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn track_keys(t: &Track) -> Keys {
    let mut k = Keys::default();
    match &t.check {
        // The rest is the check's.
        Some(c) => k.text(&track::CHECK, c),
        None => {
            k.text(&track::POLICY, &t.policy);
            k.duration_or_default(&track::INTERVAL, t.interval);
            k.duration(&track::TIMEOUT, t.timeout, t.interval);
        }
    }
    k.int(&track::WEIGHT, t.weight.into(), default_int(&track::WEIGHT));
    k.int(&track::RISE, t.rise.into(), default_int(&track::RISE));
    k.int(&track::FALL, t.fall.into(), default_int(&track::FALL));
    k.boolean(&track::INIT_FAIL, t.init_fail, track::INIT_FAIL.default_bool());
    if t.check.is_none() {
        k.settings(&track::CONFIG, &t.config);
    }
    k
}

fn split_brain_keys(sb: &SplitBrain) -> Keys {
    let mut k = Keys::default();
    k.text(&split_brain::POLICY, &sb.policy);
    k.duration_or_default(&track::INTERVAL, sb.interval);
    k
}

fn heartbeat_keys(h: &Heartbeat, inst: &InstanceConfig) -> Keys {
    let mut k = Keys::default();
    k.text(&heartbeat::INTERFACE, &h.interface);
    k.text(&heartbeat::PEER, &h.peer.to_string());
    // Its default: the instance's only unicast peer.
    if inst.unicast_peers != [h.primary] {
        k.text(&heartbeat::PRIMARY, &h.primary.to_string());
    }
    k.opt_text(&heartbeat::SOURCE, h.source.map(|a| a.to_string()).as_deref());
    k
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;
    use crate::schema::{Kind, Section};

    include!("../tests/emit/files.rs");

    /// The every-key configs, in a fresh directory with the files they name.
    fn every_key(name: &str) -> Vec<Config> {
        let root = std::env::temp_dir().join(format!("baton-emit-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("conf");
        write_every_key_files(&dir);
        let texts = [
            include_str!("../tests/emit/every_key.toml"),
            include_str!("../tests/emit/ipv6.toml"),
        ];
        let path = dir.join("lb01.toml");
        let configs = texts
            .iter()
            .map(|t| crate::parse(t, &path).unwrap_or_else(|e| panic!("{e:?}")))
            .collect();
        // Parsed: the files are looked for no more.
        let _ = std::fs::remove_dir_all(&root);
        configs
    }

    /// The dotted names of the keys `t` gives, through the tables of `section`.
    fn given(section: &'static Section, t: &toml::Table, at: &str, out: &mut BTreeSet<String>) {
        for (name, v) in t {
            let key = section
                .key(name)
                .unwrap_or_else(|| panic!("`{at}{name}` is no key of {}", section.what));
            out.insert(format!("{at}{name}"));
            let inner = format!("{at}{name}.");
            match (&key.kind, v) {
                (Kind::Table(s), toml::Value::Table(t)) => given(s, t, &inner, out),
                (Kind::Tables(s), toml::Value::Array(items)) => {
                    for t in items.iter().filter_map(toml::Value::as_table) {
                        given(s, t, &inner, out);
                    }
                }
                _ => {}
            }
        }
    }

    /// Every dotted key name the schema has.
    fn declared(section: &'static Section, at: &str, out: &mut BTreeSet<String>) {
        for key in section.keys {
            out.insert(format!("{at}{}", key.name));
            if let Kind::Table(s) | Kind::Tables(s) = key.kind {
                declared(s, &format!("{at}{}.", key.name), out);
            }
        }
    }

    /// Only keys that are not their defaults are written: so written, every
    /// key of the schema was set to something else, and was not lost.
    #[test]
    fn the_every_key_configs_write_every_key_of_the_schema() {
        let mut written = BTreeSet::new();
        for c in every_key("schema") {
            let text = emit(&c, c.path.parent().unwrap(), &[]);
            let doc: toml::Table = text.parse().unwrap();
            given(&top::SECTION, &doc, "", &mut written);
        }
        let mut all = BTreeSet::new();
        declared(&top::SECTION, "", &mut all);
        assert!(all.len() > 90, "{all:?}");
        let missing: Vec<&String> = all.difference(&written).collect();
        assert!(missing.is_empty(), "never written: {missing:?}");
    }

    #[test]
    fn notes_go_above_their_item_and_the_rest_at_the_top() {
        let path = PathBuf::from("/etc/baton/lb01.toml");
        let c = crate::parse(include_str!("../../../examples/seed-ch4/lb01.toml"), &path).unwrap();
        let notes = [
            (
                Item::Instance(0),
                "state MASTER: the highest priority is master".to_string(),
            ),
            (
                Item::Top,
                "From keepalived.conf.\n\nCheck it with `baton check`.".to_string(),
            ),
            (Item::Auth(0), "auth_type PASS".to_string()),
            // Not written: a garp like [garp]'s, a track it does not have.
            (Item::InstanceGarp(0), "vrrp_garp_master_delay 5".to_string()),
            (Item::Track(0, 3), "no such track".to_string()),
        ];
        let text = emit(&c, Path::new("/etc/baton"), &notes);
        let expected = "\
# From keepalived.conf.
#
# Check it with `baton check`.
# vrrp_garp_master_delay 5
# no such track

router_id = \"lb01\"

# state MASTER: the highest priority is master
[[instance]]
name = \"VI_1\"
interface = \"eth0\"
vrid = 50
priority = 150
version = 2
# auth_type PASS
auth = { type = \"pass\", password = \"1111\" }
vips = [\"192.0.2.3\"]
";
        assert_eq!(text, expected);
        assert_eq!(crate::parse(&text, &path).unwrap(), c);
    }

    #[test]
    fn settings_keep_their_types_as_the_front_end_reads_them() {
        assert_eq!(setting("200"), toml::Value::Integer(200));
        assert_eq!(setting("-5"), toml::Value::Integer(-5));
        assert_eq!(setting("true"), toml::Value::Boolean(true));
        for s in ["007", "+1", "-0", "True", "1.5", "", "99999999999999999999"] {
            assert_eq!(setting(s), toml::Value::String(s.to_string()), "{s}");
        }
    }
}
