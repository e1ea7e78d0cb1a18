//! `vrrp_script`, `vrrp_track_file` and `vrrp_track_process`: what an
//! instance tracks. A script's command is matched against the patterns of
//! the builtin policies (a process check such as `killall -0 NAME`, `pidof`,
//! `pgrep`, `ps -C`; `curl`/`wget` of a URL; `nc -z HOST PORT`; `test -f` /
//! `[ -f FILE ]`; the seed's check_web.sh and check_brain.sh); a track
//! file is builtin:file with the file's number as the weight; a track
//! process is builtin:process-alive. Each becomes a `[[check]]` (one
//! evaluation per interval for the node) the first time an instance tracks
//! it, with its weight, rise and fall on each instance's track.
//!
//! What the seed's two scripts decide is the node's, not one instance's:
//! they stop keepalived, which gives up every VIP of the node. So check_web.sh
//! (a FAULT track) is tracked by every instance of the node, and
//! check_brain.sh goes to the instance(s) holding the VIP it watches
//! ([`Pending`], applied once every instance is read).
//!
//! A script that matches none of them is refused unless exec is allowed
//! (`--allow-exec`; `baton convert` always): then it runs as keepalived ran
//! it, a `[[remedy]]` (argv split as keepalived splits it; timeout the
//! script's `timeout`, else its interval; user the script's `user`, else
//! global_defs' `script_user`) run by builtin:exec, healthy iff it exits 0.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use super::Reader;
use super::read::{Arity, split_lines};
use super::tree::Stmt;
use crate::origin::{FieldPath, Item};
use crate::schema;
use crate::{Builtin, Check, Policy, PolicySource, Remedy, Track};

const SCRIPT_ARITY: Arity = &[
    ("script", usize::MAX),
    ("interval", 1),
    ("timeout", 1),
    ("weight", 2),
    ("rise", 1),
    ("fall", 1),
    ("user", 2),
    ("init_fail", 0),
];

const FILE_ARITY: Arity = &[("file", 1), ("weight", 2), ("init_file", 2)];

const PROCESS_ARITY: Arity = &[
    ("process", usize::MAX),
    ("weight", 2),
    ("quorum", 1),
    ("delay", 1),
    ("param_match", 1),
];

/// What a tracker becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    /// A health check by a builtin policy.
    Health {
        builtin: Builtin,
        config: BTreeMap<String, String>,
        allow_files: Vec<String>,
        /// A command the policy may run (the seed's restart of nginx).
        remedy: Option<Vec<String>>,
        /// Failing means what stopping keepalived meant: FAULT.
        faults: bool,
    },
    /// The seed's check_brain.sh: a split-brain policy asking the peer at
    /// this address and port, for the instance(s) holding `vip` (the address
    /// the script looks for in `ip addr`; None: the tracking instance).
    SplitBrain {
        peer: String,
        port: u16,
        vip: Option<IpAddr>,
    },
}

/// A tracker whose decision is the node's, applied to the other instances
/// once all are read.
#[derive(Clone, Debug)]
pub(super) enum Pending {
    /// A FAULT track (check_web.sh) of instance `by`, for every instance.
    Fault { track: Track, by: usize, at: usize },
    /// check_brain.sh (tracker `name`), tracked by instance `by`.
    Brain {
        name: String,
        peer: String,
        port: u16,
        vip: Option<IpAddr>,
        every: Duration,
        by: usize,
        at: usize,
    },
}

/// A declared tracker.
#[derive(Clone, Debug)]
pub(super) struct Tracker {
    pub at: usize,
    pub plan: Option<Plan>,
    /// What the plan came from, for the note (for builtin:exec: what to
    /// port the script to).
    pub what: String,
    pub interval: Duration,
    pub timeout: Option<Duration>,
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
    /// The `[[check]]` made for it, once tracked.
    pub check: Option<usize>,
    /// `script`'s command line and where it is, planned once every keyword
    /// (timeout, user) is read.
    pub script: Option<(String, usize)>,
    /// `user USER [GROUP]`.
    pub user: Option<(String, Option<String>)>,
}

#[derive(Debug, Default)]
pub(super) struct Scripts {
    pub by_name: HashMap<String, Tracker>,
    /// Declaration order, for notes about the untracked.
    pub order: Vec<String>,
}

impl Reader<'_> {
    /// A `vrrp_script NAME {..}`, `vrrp_track_file NAME {..}` or
    /// `vrrp_track_process NAME {..}` declaration.
    pub(super) fn tracker(&mut self, s: &Stmt) {
        let Some(name) = self.one_name(s) else { return };
        let Some(b) = self.block(s) else { return };
        let mut t = Tracker {
            at: s.key.at,
            plan: None,
            what: String::new(),
            interval: Duration::from_secs(1),
            timeout: None,
            weight: 0,
            rise: 1,
            fall: 1,
            init_fail: false,
            check: None,
            script: None,
            user: None,
        };
        let kind = s.key.text.clone();
        let arity = match kind.as_str() {
            "vrrp_script" => SCRIPT_ARITY,
            "vrrp_track_file" => FILE_ARITY,
            _ => PROCESS_ARITY,
        };
        let mut seen_main = false;
        for k in split_lines(&b.stmts, arity) {
            seen_main |= self.tracker_key(&k, &kind, &mut t, arity);
        }
        if let Some((text, at)) = t.script.clone()
            && let Some((plan, what)) = self.script_plan(&name, &text, at)
        {
            t.plan = Some(plan);
            t.what = what;
        }
        if !seen_main {
            let need = match kind.as_str() {
                "vrrp_script" => "script",
                "vrrp_track_file" => "file",
                _ => "process",
            };
            self.err(s.key.at, format!("{kind} {name}: without `{need}`"));
        }
        if self.scripts.by_name.contains_key(&name) {
            self.err(
                s.key.at,
                format!("{kind} {name}: a tracker of this name is declared before"),
            );
            return;
        }
        self.scripts.order.push(name.clone());
        self.scripts.by_name.insert(name, t);
    }

    /// The block's name (`vrrp_script NAME`).
    pub(super) fn one_name(&mut self, s: &Stmt) -> Option<String> {
        self.no_more(s, 1);
        match s.arg(0) {
            Some(w) => Some(w.text.clone()),
            None => {
                self.err(s.key.at, format!("`{}` needs a name", s.key.text));
                None
            }
        }
    }

    /// One keyword of a tracker; true when it is the tracker's main one.
    fn tracker_key(&mut self, k: &Stmt, kind: &str, t: &mut Tracker, arity: Arity) -> bool {
        match (kind, k.key.text.as_str()) {
            ("vrrp_script", "script") => {
                self.no_block(k);
                let text: Vec<&str> = k.args.iter().map(|w| w.text.as_str()).collect();
                let text = text.join(" ");
                let at = k.args.first().map_or(k.key.at, |w| w.at);
                t.script = Some((text, at));
                return true;
            }
            ("vrrp_track_file", "file") => {
                let Some(w) = self.one(k) else { return true };
                t.what = format!("track file {}", w.text);
                t.plan = Some(file_plan(&w.text));
                // A track file's number times the weight moves the priority:
                // the weight is the multiplier, never a fault.
                return true;
            }
            ("vrrp_track_process", "process") => {
                self.no_block(k);
                let Some(w) = k.args.first() else {
                    self.err(k.key.at, "`process` needs a process name");
                    return true;
                };
                if let Some(extra) = k.args.get(1) {
                    self.err(
                        extra.at,
                        "process: Baton matches the process name only, not its arguments",
                    );
                }
                t.what = format!("process {}", w.text);
                t.plan = Some(process_plan(&w.text, None));
                return true;
            }
            (_, "interval") => t.interval = self.timer_of(k, Duration::from_secs(3600)).unwrap_or(t.interval),
            (_, "timeout") => t.timeout = self.timer_of(k, Duration::from_secs(3600)),
            (_, "weight") => self.tracker_weight(k, t),
            (_, "rise") => t.rise = self.int_of(k, 1, 1000).map_or(t.rise, |n| n as u32),
            (_, "fall") => t.fall = self.int_of(k, 1, 1000).map_or(t.fall, |n| n as u32),
            (_, "init_fail") => {
                self.flag(k);
                t.init_fail = true;
            }
            ("vrrp_script", "user") => {
                self.no_block(k);
                self.no_more(k, 2);
                match k.arg(0) {
                    Some(u) => t.user = Some((u.text.clone(), k.arg(1).map(|g| g.text.clone()))),
                    None => self.err(k.key.at, "`user` needs a user name"),
                }
            }
            ("vrrp_track_process", "quorum") => {
                if let (Some(n), Some(Plan::Health { config, .. })) =
                    (self.int_of(k, 1, 65_535), t.plan.as_mut())
                {
                    config.insert("min".to_string(), n.to_string());
                }
            }
            ("vrrp_track_process", "delay") => {
                self.timer_of(k, Duration::from_secs(3600));
            }
            ("vrrp_track_process", "param_match") => {
                self.err(k.key.at, "param_match: Baton matches the process name only");
            }
            ("vrrp_track_file", "init_file") => {
                self.err(k.key.at, "init_file: Baton does not create track files");
            }
            _ => self.unknown(k, kind, arity),
        }
        false
    }

    /// `weight N [reverse]`: -253..253 as keepalived.
    fn tracker_weight(&mut self, k: &Stmt, t: &mut Tracker) {
        self.no_block(k);
        self.no_more(k, 2);
        let Some(w) = k.arg(0) else {
            self.err(k.key.at, "`weight` needs a number");
            return;
        };
        if let Some(n) = self.int(w, "weight", -253, 253) {
            t.weight = n as i32;
        }
        if let Some(r) = k.arg(1) {
            self.err(
                r.at,
                format!(
                    "weight: `{}` is not supported (Baton has no reversed weights)",
                    r.text
                ),
            );
        }
    }

    /// What script `name`'s command maps to: a builtin, else builtin:exec
    /// when allowed; an error when nothing does.
    fn script_plan(&mut self, name: &str, text: &str, at: usize) -> Option<(Plan, String)> {
        let argv = match split_script(text) {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => {
                self.err(at, "script: empty");
                return None;
            }
            Err(why) => {
                self.err(at, format!("script: {why}"));
                return None;
            }
        };
        if let Some(plan) = command_plan(&argv) {
            return Some((plan, format!("`{text}`")));
        }
        let script = Path::new(&argv[0]);
        let body = if script.is_absolute() {
            self.files.read(script).ok()
        } else {
            None
        };
        if argv.len() == 1
            && let Some(plan) = body.as_deref().and_then(shell_file_plan)
        {
            let file = script.file_name().unwrap_or_default().to_string_lossy();
            let what = match plan {
                Plan::SplitBrain { .. } => format!("{file} (the seed's split-brain script)"),
                Plan::Health { .. } => format!("{file} (the seed's check-and-restart script)"),
            };
            return Some((plan, what));
        }
        let port = port_hint(text, body.as_deref());
        if self.allow_exec {
            let plan = Plan::Health {
                builtin: Builtin::Exec,
                config: BTreeMap::new(),
                allow_files: Vec::new(),
                remedy: Some(argv),
                faults: false,
            };
            return Some((plan, port));
        }
        self.err(
            at,
            format!(
                "vrrp_script {name}: script `{text}` matches no builtin policy; it runs (as keepalived \
                 ran it, through builtin:exec) only with --allow-exec; {port}, or use a check Baton \
                 knows (killall -0 NAME, pidof, pgrep, ps -C, curl/wget URL, nc -z HOST PORT, test -f FILE)"
            ),
        );
        None
    }

    /// The `[[check]]` for a tracker, made the first time an instance
    /// tracks it. `None` for a split-brain script or a tracker with errors.
    pub(super) fn check_for(&mut self, name: &str) -> Option<usize> {
        let t = self.scripts.by_name.get(name)?.clone();
        if let Some(c) = t.check {
            return Some(c);
        }
        let Some(Plan::Health {
            builtin,
            config,
            allow_files,
            remedy,
            ..
        }) = t.plan.clone()
        else {
            return None;
        };
        let p = self.policies.len();
        let mut remedies = Vec::new();
        let mut config = config;
        let exec = builtin == Builtin::Exec;
        // keepalived's script timeout: `timeout`, else the interval.
        let script_timeout = t.timeout.unwrap_or(t.interval);
        let mut check_timeout = script_timeout;
        if let Some(argv) = remedy {
            let (r, timeout, user) = if exec {
                // The evaluation outlives the script's timeout a little, so
                // a script killed at it is reported as timed out, not cut
                // off with the evaluation.
                check_timeout = script_timeout + (script_timeout / 10).max(Duration::from_millis(100));
                let user = t
                    .user
                    .clone()
                    .or_else(|| self.globals.script_user.clone())
                    .or_else(default_script_user);
                (format!("{name}-script"), script_timeout, user)
            } else {
                (format!("{name}-remedy"), Duration::from_secs(10), None)
            };
            self.origins
                .place(FieldPath::item(Item::Remedy(self.remedies.len())), t.at);
            let (user, group) = user.map_or((None, None), |(u, g)| (Some(u), g));
            self.remedies.push(Remedy {
                name: r.clone(),
                command: argv,
                timeout,
                user,
                group,
            });
            config.insert("remedy".to_string(), r.clone());
            remedies.push(r);
        }
        self.origins.place(FieldPath::item(Item::Policy(p)), t.at);
        self.policies.push(Policy {
            name: name.to_string(),
            source: PolicySource::Builtin(builtin),
            sha256: None,
            config: BTreeMap::new(),
            allow: Vec::new(),
            allow_files,
            remedies,
        });
        let c = self.checks.len();
        let item = Item::Check(c);
        self.origins.place(FieldPath::item(item), t.at);
        self.origins
            .place(FieldPath::key(item, &schema::track::INTERVAL), t.at);
        self.checks.push(Check {
            name: name.to_string(),
            policy: name.to_string(),
            interval: t.interval,
            timeout: check_timeout,
            config,
        });
        if exec {
            // `what` is the port hint (see `script_plan`).
            let (text, at) = t.script.clone().unwrap_or_default();
            self.note(
                item,
                format!(
                    "{name}: `{text}` runs as keepalived ran it, through builtin:exec (exit code 0 is \
                     healthy; any other code, or the timeout, is a failure); {}",
                    t.what
                ),
            );
            self.check_notes.push((
                at,
                format!(
                    "note: vrrp_script {name} runs `{text}` through builtin:exec; {}",
                    t.what
                ),
            ));
        } else {
            self.note(item, format!("{name}: {} is builtin:{builtin}", t.what));
        }
        if let Some(tr) = self.scripts.by_name.get_mut(name) {
            tr.check = Some(c);
        }
        Some(c)
    }
}

/// A process check by name, optionally with a restart command.
fn process_plan(name: &str, remedy: Option<Vec<String>>) -> Plan {
    let mut config = BTreeMap::from([("name".to_string(), name.to_string())]);
    if remedy.is_some() {
        config.insert("settle-ms".to_string(), "3000".to_string());
    }
    let faults = remedy.is_some();
    Plan::Health {
        builtin: Builtin::ProcessAlive,
        config,
        allow_files: Vec::new(),
        remedy,
        faults,
    }
}

fn file_plan(path: &str) -> Plan {
    Plan::Health {
        builtin: Builtin::File,
        config: BTreeMap::from([
            ("path".to_string(), path.to_string()),
            ("weight-from-content".to_string(), "true".to_string()),
        ]),
        allow_files: vec![path.to_string()],
        remedy: None,
        faults: false,
    }
}

fn health(builtin: Builtin, pairs: &[(&str, &str)], allow_files: Vec<String>) -> Plan {
    Plan::Health {
        builtin,
        config: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        allow_files,
        remedy: None,
        faults: false,
    }
}

/// The builtin a one-line command is, if any.
pub(super) fn command_plan(argv: &[String]) -> Option<Plan> {
    let prog = argv[0].rsplit('/').next().unwrap_or(&argv[0]);
    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
    let plain: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    match prog {
        "sh" | "bash" if args.first() == Some(&"-c") && args.len() == 2 => {
            command_plan(&split_script(args[1]).ok()?)
        }
        "killall" if args.first() == Some(&"-0") && args.len() == 2 => Some(process_plan(args[1], None)),
        "pidof"
            if plain.len() == 1
                && args
                    .iter()
                    .all(|a| ["-s", "-x"].contains(a) || !a.starts_with('-')) =>
        {
            Some(process_plan(plain[0], None))
        }
        "pgrep"
            if plain.len() == 1
                && args
                    .iter()
                    .all(|a| ["-x", "-q"].contains(a) || !a.starts_with('-')) =>
        {
            Some(process_plan(plain[0], None))
        }
        "ps" => {
            let c = args.iter().position(|a| *a == "-C")?;
            let name = args.get(c + 1)?;
            Some(process_plan(name, None))
        }
        "curl" | "wget" => {
            let url = args.iter().find(|a| a.starts_with("http://"))?;
            Some(health(Builtin::HttpStatus, &[("url", url)], Vec::new()))
        }
        "nc" | "ncat" | "netcat" if args.contains(&"-z") => {
            let (host, port) = nc_target(&args)?;
            Some(health(
                Builtin::TcpPort,
                &[("host", host), ("port", port)],
                Vec::new(),
            ))
        }
        "test" | "[" => file_test(&args),
        _ => None,
    }
}

/// `nc -z [-w N] HOST PORT`.
fn nc_target<'a>(args: &[&'a str]) -> Option<(&'a str, &'a str)> {
    let mut plain = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "-w" {
            i += 2;
            continue;
        }
        if !args[i].starts_with('-') {
            plain.push(args[i]);
        }
        i += 1;
    }
    match plain[..] {
        [host, port] if port.parse::<u16>().is_ok() => Some((host, port)),
        _ => None,
    }
}

/// `test [!] -f|-e FILE` or `[ [!] -f|-e FILE ]`.
fn file_test(args: &[&str]) -> Option<Plan> {
    let args = args.strip_suffix(&["]"]).unwrap_or(args);
    let (negate, rest) = match args.split_first() {
        Some((&"!", rest)) => (true, rest),
        _ => (false, args),
    };
    match rest {
        [op, file] if ["-f", "-e"].contains(op) => {
            let exists = if negate { "false" } else { "true" };
            Some(health(
                Builtin::File,
                &[("path", file), ("exists", exists)],
                vec![file.to_string()],
            ))
        }
        _ => None,
    }
}

/// A shell script file: the seed's check_web.sh (count the processes of a
/// name, start it once, stop keepalived if it is still missing) or its
/// check_brain.sh (ask the peer's web server through its address; stop
/// keepalived if it answers 200 while this node holds the VIP).
pub(super) fn shell_file_plan(body: &str) -> Option<Plan> {
    let stops = [
        "systemctl stop keepalived",
        "killall keepalived",
        "service keepalived stop",
        "pkill keepalived",
    ]
    .iter()
    .any(|s| body.contains(s));
    if !stops {
        return None;
    }
    if body.contains("curl") && body.contains("ip a") {
        let proxy = body.split_whitespace().skip_while(|w| *w != "-x").nth(1)?;
        let (peer, port) = proxy.rsplit_once(':').unwrap_or((proxy, "80"));
        return Some(Plan::SplitBrain {
            peer: peer.to_string(),
            port: port.parse().ok()?,
            vip: watched_vip(body),
        });
    }
    let name = body
        .split("ps -C ")
        .nth(1)
        .or_else(|| body.split("pidof ").nth(1))
        .or_else(|| body.split("killall -0 ").nth(1))?
        .split(|c: char| c.is_whitespace() || c == ')' || c == '|')
        .next()?;
    let start = body.lines().map(str::trim).find(|l| {
        l.starts_with(&format!("systemctl start {name}"))
            || l.starts_with(&format!("systemctl restart {name}"))
            || l.starts_with(&format!("service {name} start"))
    })?;
    Some(process_plan(
        name,
        Some(start.split_whitespace().map(str::to_string).collect()),
    ))
}

/// The address check_brain.sh looks for in `ip addr`'s output: the pattern
/// of the `grep` that `ip add` is piped into, written out or a variable set
/// on a line of its own (`lb01_vip=192.0.2.3` ... `grep -wF "$lb01_vip"`).
fn watched_vip(body: &str) -> Option<IpAddr> {
    let line = body.lines().find(|l| l.contains("ip a") && l.contains("grep"))?;
    let after = &line[line.find("grep")? + "grep".len()..];
    let word = after
        .split(|c: char| c.is_whitespace() || matches!(c, '|' | '`' | ';' | ')'))
        .find(|w| !w.is_empty() && !w.starts_with('-'))?;
    let unquote = |w: &str| w.trim_matches(|c| c == '"' || c == '\'').to_string();
    let word = unquote(word);
    let value = match word.strip_prefix('$') {
        Some(var) => {
            let var = var.trim_start_matches('{').trim_end_matches('}');
            let set = body
                .lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(var)?.strip_prefix('='))?;
            unquote(set)
        }
        None => word,
    };
    value.parse().ok()
}

/// What a script that matches no builtin is best ported to, from the
/// commands its line and its file (`body`) use: "port it to ...".
fn port_hint(text: &str, body: Option<&str>) -> String {
    const USES: &[(&[&str], Builtin)] = &[
        (&["curl ", "wget "], Builtin::HttpStatus),
        (&["nc ", "ncat ", "netcat "], Builtin::TcpPort),
        (
            &["pidof ", "killall ", "pgrep ", "ps -C", "systemctl is-active"],
            Builtin::ProcessAlive,
        ),
        (&["test -f", "test -e", "[ -f", "[ -e"], Builtin::File),
        (&["ip link", "ethtool", "/sys/class/net/"], Builtin::InterfaceUp),
    ];
    let all = format!("{text}\n{}", body.unwrap_or_default());
    for (words, builtin) in USES {
        if let Some(w) = words.iter().find(|w| all.contains(*w)) {
            return format!(
                "port it to builtin:{builtin} (it uses `{}`) or to a policy (docs/writing-policies.md)",
                w.trim()
            );
        }
    }
    "port it to a policy (docs/writing-policies.md)".to_string()
}

/// A script's command line as keepalived splits it: blanks separate words,
/// `'...'` and `"..."` quote, `\` escapes.
pub(super) fn split_script(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                let next = chars.next().ok_or("a `\\` ends it")?;
                word.get_or_insert_with(String::new).push(next);
            }
            (q, None) if q == '\'' || q == '"' => {
                quote = Some(q);
                word.get_or_insert_with(String::new);
            }
            (q, Some(open)) if q == open => quote = None,
            (c, None) if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    out.push(w);
                }
            }
            (c, _) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("a {q} quote is not closed"));
    }
    out.extend(word);
    Ok(out)
}

/// keepalived's default without `script_user`: the user `keepalived_script`
/// when the system has one (in /etc/passwd), else root (`None`).
fn default_script_user() -> Option<(String, Option<String>)> {
    const NAME: &str = "keepalived_script";
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .any(|l| l.split(':').next() == Some(NAME))
        .then(|| (NAME.to_string(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(cmd: &str) -> Option<Plan> {
        command_plan(&split_script(cmd).unwrap())
    }

    fn builtin_of(p: Option<Plan>) -> Option<(Builtin, BTreeMap<String, String>)> {
        match p? {
            Plan::Health { builtin, config, .. } => Some((builtin, config)),
            Plan::SplitBrain { .. } => None,
        }
    }

    #[test]
    fn process_checks_map_to_process_alive() {
        for cmd in [
            "killall -0 nginx",
            "/usr/bin/killall -0 nginx",
            "pidof nginx",
            "pidof -x nginx",
            "pgrep -x nginx",
            "ps -C nginx --no-header",
            "sh -c 'killall -0 nginx'",
        ] {
            let (b, c) = builtin_of(plan(cmd)).unwrap_or_else(|| panic!("{cmd}"));
            assert_eq!(b, Builtin::ProcessAlive, "{cmd}");
            assert_eq!(c["name"], "nginx", "{cmd}");
        }
        assert_eq!(plan("pgrep -f nginx"), None);
        assert_eq!(plan("killall nginx"), None);
    }

    #[test]
    fn probes_map_to_their_builtins() {
        let (b, c) = builtin_of(plan("curl -sf http://127.0.0.1:8080/health")).unwrap();
        assert_eq!(
            (b, c["url"].as_str()),
            (Builtin::HttpStatus, "http://127.0.0.1:8080/health")
        );
        let (b, c) = builtin_of(plan("nc -z -w 1 127.0.0.1 3306")).unwrap();
        assert_eq!(
            (b, c["host"].as_str(), c["port"].as_str()),
            (Builtin::TcpPort, "127.0.0.1", "3306")
        );
        let (b, c) = builtin_of(plan("[ -f /run/app/up ]")).unwrap();
        assert_eq!(
            (b, c["path"].as_str(), c["exists"].as_str()),
            (Builtin::File, "/run/app/up", "true")
        );
        let (_, c) = builtin_of(plan("test ! -e /etc/maintenance")).unwrap();
        assert_eq!(c["exists"], "false");
        assert_eq!(plan("curl https://example.org/"), None);
        assert_eq!(plan("/usr/local/bin/check_db.sh"), None);
    }

    #[test]
    fn scripts_split_like_keepalived() {
        assert_eq!(
            split_script("a 'b c' \"d e\" f\\ g").unwrap(),
            ["a", "b c", "d e", "f g"]
        );
        assert_eq!(split_script("x ''").unwrap(), ["x", ""]);
        assert!(split_script("a 'b").is_err());
    }

    #[test]
    fn the_seed_s_scripts_are_recognised() {
        let web = "#!/bin/bash\nnginxpid=$(ps -C nginx --no-header|wc -l)\nif [ $nginxpid -eq 0 ];then\n    \
                   systemctl start nginx\n    sleep 3\n    nginxpid=$(ps -C nginx --no-header|wc -l)\n    \
                   if [ $nginxpid -eq 0 ];then\n        systemctl stop keepalived\n    fi\nfi\n";
        match shell_file_plan(web) {
            Some(Plan::Health {
                builtin: Builtin::ProcessAlive,
                config,
                remedy: Some(remedy),
                faults: true,
                ..
            }) => {
                assert_eq!(config["name"], "nginx");
                assert_eq!(remedy, ["systemctl", "start", "nginx"]);
            }
            other => panic!("{other:?}"),
        }
        let brain = "lb01_vip=192.0.2.3\nlb01_nginx=$(curl -x 192.0.2.5:80 -I -s -w \"%{http_code}\\n\" \
                     -o /dev/null  blog.example.org)\nif [ ${lb01_nginx} -eq 200 -a `ip add|grep \"$lb01_vip\"|wc -l` \
                     -eq 1 ];then\n    systemctl stop keepalived\nfi\n";
        assert_eq!(
            shell_file_plan(brain),
            Some(Plan::SplitBrain {
                peer: "192.0.2.5".to_string(),
                port: 80,
                vip: Some("192.0.2.3".parse().unwrap()),
            })
        );
        assert_eq!(shell_file_plan("#!/bin/sh\nexit 0\n"), None);
    }

    #[test]
    fn the_vip_check_brain_watches_is_found() {
        let example = include_str!("../../../../../examples/seed-split-brain/check_brain.sh");
        assert_eq!(watched_vip(example), "192.0.2.3".parse().ok());
        let literal = "if [ `ip addr | grep -c 192.0.2.4` -eq 1 ]; then systemctl stop keepalived; fi";
        assert_eq!(watched_vip(literal), "192.0.2.4".parse().ok());
        let braces = "V='192.0.2.9'\nn=$(ip a|grep ${V}|wc -l)\n";
        assert_eq!(watched_vip(braces), "192.0.2.9".parse().ok());
        // A variable set nowhere in the file, or no address: not known.
        assert_eq!(watched_vip("ip add|grep \"$VIP\"|wc -l"), None);
        assert_eq!(watched_vip("ip add|grep eth0"), None);
    }
}
