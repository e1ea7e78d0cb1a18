//! Health checks: the `[[policy]]` components loaded into one
//! [`PolicyEngine`], and the `[[instance.track]]`s that run them.
//!
//! Everything here is synchronous and free of I/O except loading policy files,
//! so the daemon loop (driver.rs) stays in charge of time: it asks a
//! [`TrackRun`] when it is due, hands its [`EvalContext`] to the
//! [`PolicyRunner`](baton_policy::PolicyRunner) and feeds the result back with
//! [`TrackRun::complete`], which runs keepalived's rise/fall/weight rules
//! ([`baton_vrrp::track::Tracker`]).
//!
//! Scheduling: the first evaluation runs at startup, the next one `interval`
//! after the previous one *completed*; a track never has two evaluations in
//! flight.
//!
//! Also here: `baton policy test` ([`test_command`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_policy::{
    EvalContext, Evaluation, Facts, Grants, InstanceStatus as PolicyInstance, LoadedPolicy, LogLevel,
    PolicyEngine, VrrpState,
};
use baton_vrrp::track::{Effect, TrackConfig, Tracker};
use serde::Deserialize;

use crate::config::{self, Config, InstanceConfig, Policy, PolicySource, Track};
use crate::duration::parse_duration;

/// Policies by name.
pub type Loaded = BTreeMap<String, Arc<LoadedPolicy>>;

/// The component bytes of a policy: a builtin, or its file.
pub fn policy_bytes(p: &Policy) -> Result<Cow<'static, [u8]>, String> {
    match &p.source {
        PolicySource::Builtin(b) => baton_policy_builtins::builtin(b.name())
            .map(Cow::Borrowed)
            .ok_or_else(|| {
                format!(
                    "policy {}: builtin:{b} is not built into this binary (available: {})",
                    p.name,
                    baton_policy_builtins::NAMES.join(", ")
                )
            }),
        PolicySource::Path(path) => std::fs::read(path)
            .map(Cow::Owned)
            .map_err(|e| format!("policy {}: reading {}: {e}", p.name, path.display())),
    }
}

/// The policies the daemon runs: every `[[policy]]` except those only used
/// as `[instance.split_brain]` (not run yet: split-brain policies have a world
/// of their own), each with the names of those skipped.
pub fn runnable_policies(cfg: &Config) -> (Vec<&Policy>, Vec<&str>) {
    let tracked: HashSet<&str> = cfg
        .instances
        .iter()
        .flat_map(|i| i.tracks.iter().map(|t| t.policy.as_str()))
        .collect();
    let split: HashSet<&str> = cfg
        .instances
        .iter()
        .filter_map(|i| i.split_brain.as_ref().map(|s| s.policy.as_str()))
        .collect();
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    for p in &cfg.policies {
        let split_builtin = matches!(&p.source, PolicySource::Builtin(b) if b.is_split_brain());
        if tracked.contains(p.name.as_str()) || !(split.contains(p.name.as_str()) || split_builtin) {
            run.push(p);
        } else {
            skipped.push(p.name.as_str());
        }
    }
    (run, skipped)
}

/// Loads (verifying the sha256 pin, compiling once per digest and
/// type-checking) every runnable policy of `cfg`. The first error, naming its
/// policy, fails the whole load.
pub fn load_policies(engine: &PolicyEngine, cfg: &Config) -> Result<Loaded, String> {
    let mut out = Loaded::new();
    for p in runnable_policies(cfg).0 {
        let bytes = policy_bytes(p)?;
        let loaded = engine
            .load(&p.name, &bytes, p.sha256)
            .map_err(|e| format!("policy {} ({}): {e}", p.name, p.source))?;
        out.insert(p.name.clone(), loaded);
    }
    Ok(out)
}

/// What a policy may touch with `settings` (its `config` merged with the
/// track's): its `allow` and, for a builtin, the targets its settings name;
/// its `allow_files` and `remedies`.
pub fn grants(p: &Policy, settings: &BTreeMap<String, String>, cfg: &Config) -> Result<Grants, String> {
    let mut g = Grants::default();
    for a in &p.net_grants(settings) {
        g = g.allow_net(a).map_err(|e| format!("policy {}: {e}", p.name))?;
    }
    for f in &p.allow_files {
        g = g.allow_file(f).map_err(|e| format!("policy {}: {e}", p.name))?;
    }
    for r in &p.remedies {
        let remedy = cfg
            .remedy(r)
            .ok_or_else(|| format!("policy {}: no [[remedy]] named {r}", p.name))?;
        g = g
            .remedy(r, remedy.command.clone(), remedy.timeout)
            .map_err(|e| format!("policy {}: {e}", p.name))?;
    }
    Ok(g)
}

/// The settings an evaluation gets: the policy's `config` with the track's
/// `config` merged over it (the track wins), in key order.
pub fn merge_settings(
    policy: &BTreeMap<String, String>,
    track: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    config::merge_settings(policy, track).into_iter().collect()
}

/// When a track runs next: at once when created, then `interval` after the
/// previous evaluation completed; never while one is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    next: Instant,
    running: bool,
}

impl Schedule {
    /// Due at `now`.
    pub fn new(interval: Duration, now: Instant) -> Schedule {
        Schedule {
            interval,
            next: now,
            running: false,
        }
    }

    /// When the next evaluation is due; `None` while one runs.
    pub fn due(&self) -> Option<Instant> {
        (!self.running).then_some(self.next)
    }

    pub fn is_due(&self, now: Instant) -> bool {
        self.due().is_some_and(|t| t <= now)
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// An evaluation was handed to the runner.
    pub fn started(&mut self) {
        self.running = true;
    }

    /// The evaluation in flight completed at `now`.
    pub fn completed(&mut self, now: Instant) {
        self.running = false;
        self.next = now + self.interval;
    }

    /// A new interval (reload): an idle schedule is not pushed later than
    /// `now + interval`.
    pub fn set_interval(&mut self, interval: Duration, now: Instant) {
        self.interval = interval;
        if !self.running {
            self.next = self.next.min(now + interval);
        }
    }
}

/// The tracker settings of a track.
pub fn track_config(t: &Track) -> TrackConfig {
    TrackConfig {
        weight: t.weight,
        rise: t.rise,
        fall: t.fall,
        init_fail: t.init_fail,
    }
}

/// Whether a reloaded track keeps its tracker's state (good/bad, streak,
/// weight override): same policy name, weight, rise, fall and init_fail.
pub fn keeps_state(old: &Track, new: &Track) -> bool {
    old.policy == new.policy && track_config(old) == track_config(new)
}

/// The commands that take a removed tracker's effect off its instance.
pub fn clear_commands(name: &str) -> [baton_vrrp::Command; 2] {
    Tracker::new(name, TrackConfig::default()).commands()
}

/// One `[[instance.track]]` of a running instance.
#[derive(Debug)]
pub struct TrackRun {
    /// Unique in the daemon's lifetime: results name their track by it.
    pub id: u64,
    pub cfg: Track,
    pub policy: Arc<LoadedPolicy>,
    pub settings: Vec<(String, String)>,
    pub grants: Arc<Grants>,
    pub tracker: Tracker,
    pub schedule: Schedule,
    /// Evaluations completed.
    pub runs: u64,
    pub last_healthy: Option<bool>,
    /// Why the last evaluation failed (`None` when it was healthy).
    pub last_reason: Option<String>,
    pub last_elapsed: Duration,
    pub last_fuel: u64,
    /// CPU of the last evaluation, and of all of them.
    pub last_cpu: Duration,
    pub cpu_total: Duration,
    /// When the last evaluation completed.
    pub last_at: Option<Instant>,
}

/// What one completed evaluation changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    /// The tracker's effect on the instance changed: apply its commands.
    pub effect_changed: bool,
    /// The result differs from the previous one (healthy <-> failed, or
    /// another failure reason): worth one log line.
    pub result_changed: bool,
    pub healthy: bool,
    pub reason: Option<String>,
}

impl TrackRun {
    pub fn new(
        id: u64,
        cfg: Track,
        policy: &Policy,
        loaded: Arc<LoadedPolicy>,
        grants: Arc<Grants>,
        now: Instant,
    ) -> TrackRun {
        TrackRun {
            id,
            settings: merge_settings(&policy.config, &cfg.config),
            tracker: Tracker::new(cfg.policy.clone(), track_config(&cfg)),
            schedule: Schedule::new(cfg.interval, now),
            cfg,
            policy: loaded,
            grants,
            runs: 0,
            last_healthy: None,
            last_reason: None,
            last_elapsed: Duration::ZERO,
            last_fuel: 0,
            last_cpu: Duration::ZERO,
            cpu_total: Duration::ZERO,
            last_at: None,
        }
    }

    /// The name it goes by (its policy's): the tracker's weight source.
    pub fn name(&self) -> &str {
        self.tracker.name()
    }

    /// The context of its next evaluation.
    pub fn context(
        &self,
        router_id: &str,
        instance: PolicyInstance,
        instances: Arc<Vec<PolicyInstance>>,
    ) -> EvalContext {
        let facts = Facts {
            router_id: router_id.to_string(),
            instance,
            run: self.runs,
            last_healthy: self.last_healthy,
        };
        EvalContext::new(facts)
            .with_settings(self.settings.iter().cloned())
            .with_grants(self.grants.clone())
            .with_instances(instances)
            .with_budget(self.cfg.timeout)
    }

    /// Feeds a result in: statistics, schedule, rise/fall.
    pub fn complete(&mut self, ev: &Evaluation, now: Instant) -> Completed {
        let healthy = ev.is_healthy();
        let reason = ev.failure_reason();
        let weight = ev.outcome.as_ref().ok().and_then(|v| v.weight);
        self.last_cpu = ev.cpu;
        self.cpu_total += ev.cpu;
        self.complete_with(healthy, reason, weight, ev.elapsed, ev.fuel_consumed, now)
    }

    fn complete_with(
        &mut self,
        healthy: bool,
        reason: Option<String>,
        weight: Option<i32>,
        elapsed: Duration,
        fuel: u64,
        now: Instant,
    ) -> Completed {
        self.schedule.completed(now);
        self.runs += 1;
        self.last_elapsed = elapsed;
        self.last_fuel = fuel;
        self.last_at = Some(now);
        let result_changed = self.last_healthy != Some(healthy) || self.last_reason != reason;
        let effect_changed = self.tracker.record(healthy, reason.clone(), weight);
        self.last_healthy = Some(healthy);
        self.last_reason = reason.clone();
        Completed {
            effect_changed,
            result_changed,
            healthy,
            reason,
        }
    }

    /// The effect, in words: "weight -60", "FAULT", "none".
    pub fn effect_text(&self) -> String {
        effect_text(self.tracker.effect())
    }
}

pub fn effect_text(e: Effect) -> String {
    match e {
        Effect::Fault => "FAULT".to_string(),
        Effect::Weight(0) => "none".to_string(),
        Effect::Weight(w) => format!("weight {w:+}"),
    }
}

/// What the policy sees of a VRRP state.
pub fn vrrp_state(s: baton_vrrp::State) -> VrrpState {
    match s {
        baton_vrrp::State::Initialize => VrrpState::Initialize,
        baton_vrrp::State::Backup => VrrpState::Backup,
        baton_vrrp::State::Master => VrrpState::Master,
        baton_vrrp::State::Fault => VrrpState::Fault,
    }
}

/// Why a reloaded config cannot be applied without a restart: instances
/// added, removed, or changed in anything but `priority`, `garp`, `track`
/// and `split_brain`. Empty when it can.
pub fn reload_refusals(old: &[InstanceConfig], new: &[InstanceConfig]) -> Vec<String> {
    let mut out = Vec::new();
    for o in old {
        if !new.iter().any(|n| n.name == o.name) {
            out.push(format!("instance {} was removed", o.name));
        }
    }
    for n in new {
        let Some(o) = old.iter().find(|o| o.name == n.name) else {
            out.push(format!("instance {} was added", n.name));
            continue;
        };
        let mut changed = Vec::new();
        macro_rules! cmp {
            ($($f:ident),*) => {$(
                if o.$f != n.$f {
                    changed.push(stringify!($f));
                }
            )*};
        }
        cmp!(
            interface,
            vrid,
            version,
            vips,
            advert_interval,
            preempt,
            preempt_delay,
            accept,
            auth,
            unicast_src,
            unicast_peers,
            track_interfaces,
            v3_checksum,
            check_adv_addr
        );
        if !changed.is_empty() {
            out.push(format!("instance {}: {} changed", n.name, changed.join(", ")));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// `baton policy test`

/// `baton policy test`'s arguments.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// A component file (FILE.wasm) or builtin:NAME.
    pub policy: String,
    /// A setting for the policy, KEY=VALUE (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// The facts, as JSON: {"router_id", "instance": {"name", "state", ...}, "run", "last_healthy"};
    /// missing fields default.
    #[arg(long, value_name = "FILE.json")]
    pub facts: Option<PathBuf>,
    /// A network target the policy may probe, ADDR:PORT (repeatable).
    #[arg(long = "allow", value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// A file the policy may read (repeatable).
    #[arg(long = "allow-file", value_name = "PATH")]
    pub allow_file: Vec<String>,
    /// A remedy the policy may run, NAME=PROGRAM ARG... (split on spaces; repeatable).
    #[arg(long = "remedy", value_name = "NAME=COMMAND")]
    pub remedy: Vec<String>,
    /// Wall-clock budget of the evaluation.
    #[arg(long, default_value = "1s")]
    pub budget: String,
    /// Optional sha256 pin of the component.
    #[arg(long)]
    pub sha256: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
struct FactsJson {
    router_id: String,
    instance: InstanceJson,
    run: u64,
    last_healthy: Option<bool>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
struct InstanceJson {
    name: String,
    interface: String,
    vrid: u8,
    state: Option<String>,
    base_priority: u8,
    effective_priority: u8,
    master: Option<String>,
    vips: Vec<String>,
    holding_vips: bool,
}

fn parse_state(s: &str) -> Result<VrrpState, String> {
    match s.to_ascii_lowercase().as_str() {
        "initialize" | "init" => Ok(VrrpState::Initialize),
        "backup" => Ok(VrrpState::Backup),
        "master" => Ok(VrrpState::Master),
        "fault" => Ok(VrrpState::Fault),
        other => Err(format!(
            "instance.state: `{other}` is not initialize, backup, master or fault"
        )),
    }
}

/// Parses `--facts` JSON.
pub fn parse_facts(text: &str) -> Result<Facts, String> {
    let j: FactsJson = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let i = j.instance;
    let state = match &i.state {
        Some(s) => parse_state(s)?,
        None => VrrpState::default(),
    };
    Ok(Facts {
        router_id: j.router_id,
        instance: PolicyInstance {
            name: i.name,
            interface: i.interface,
            vrid: i.vrid,
            state,
            base_priority: i.base_priority,
            effective_priority: i.effective_priority,
            master: i.master,
            vips: i.vips,
            holding_vips: i.holding_vips,
        },
        run: j.run,
        last_healthy: j.last_healthy,
    })
}

fn level_name(l: LogLevel) -> &'static str {
    match l {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

/// `baton policy test`: one evaluation in the real host. Exit 0 healthy, 1
/// failed, 2 when it cannot load or the arguments are wrong.
pub fn test_command(a: &TestArgs) -> ExitCode {
    let usage = |msg: String| {
        eprintln!("baton policy test: {msg}");
        ExitCode::from(2)
    };
    let (label, bytes): (String, Cow<'static, [u8]>) = if let Some(name) = a.policy.strip_prefix("builtin:") {
        match baton_policy_builtins::builtin(name) {
            Some(b) => (a.policy.clone(), Cow::Borrowed(b)),
            None => {
                return usage(format!(
                    "no builtin policy `{name}` (available: {})",
                    baton_policy_builtins::NAMES.join(", ")
                ));
            }
        }
    } else {
        match std::fs::read(&a.policy) {
            Ok(b) => (a.policy.clone(), Cow::Owned(b)),
            Err(e) => return usage(format!("reading {}: {e}", a.policy)),
        }
    };
    let budget = match parse_duration(&a.budget) {
        Ok(d) if !d.is_zero() => d,
        Ok(_) => return usage("--budget must be more than 0".into()),
        Err(e) => return usage(format!("--budget: {e}")),
    };
    let mut settings = Vec::new();
    for kv in &a.config {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => settings.push((k.to_string(), v.to_string())),
            _ => return usage(format!("--config {kv:?}: expected KEY=VALUE")),
        }
    }
    let facts = match &a.facts {
        None => Facts::default(),
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_facts(&t))
        {
            Ok(f) => f,
            Err(e) => return usage(format!("--facts {}: {e}", p.display())),
        },
    };
    let mut grants = Grants::default();
    for p in &a.allow {
        grants = match grants.allow_net(p) {
            Ok(g) => g,
            Err(e) => return usage(format!("--allow: {e}")),
        };
    }
    for p in &a.allow_file {
        grants = match grants.allow_file(p) {
            Ok(g) => g,
            Err(e) => return usage(format!("--allow-file: {e}")),
        };
    }
    for r in &a.remedy {
        let Some((name, cmd)) = r.split_once('=') else {
            return usage(format!("--remedy {r:?}: expected NAME=COMMAND"));
        };
        let argv: Vec<String> = cmd.split_whitespace().map(String::from).collect();
        grants = match grants.remedy(name, argv, Duration::from_secs(10)) {
            Ok(g) => g,
            Err(e) => return usage(format!("--remedy: {e}")),
        };
    }
    let pin = match &a.sha256 {
        None => None,
        Some(s) => match baton_policy::parse_sha256(s) {
            Ok(d) => Some(d),
            Err(e) => return usage(format!("--sha256: {e}")),
        },
    };
    let engine = match PolicyEngine::new() {
        Ok(e) => e,
        Err(e) => return usage(e.to_string()),
    };
    let t0 = Instant::now();
    let policy = match engine.load(&label, &bytes, pin) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("baton policy test: {e}");
            return ExitCode::from(2);
        }
    };
    let load_time = t0.elapsed();
    let ctx = EvalContext::new(facts)
        .with_settings(settings)
        .with_grants(grants)
        .with_budget(budget);
    let ev = policy.evaluate(ctx);
    print!("{}", render_evaluation(&label, &policy, load_time, &ev));
    if ev.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The report `baton policy test` prints.
pub fn render_evaluation(label: &str, policy: &LoadedPolicy, load_time: Duration, ev: &Evaluation) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "policy:       {label} (sha256 {})", policy.sha256_hex());
    let _ = writeln!(s, "loaded in:    {}", format_duration_us(load_time));
    match ev.failure_reason() {
        None => {
            let _ = writeln!(s, "decision:     healthy");
        }
        Some(r) => {
            let _ = writeln!(s, "decision:     failed: {r}");
        }
    }
    let weight = ev.outcome.as_ref().ok().and_then(|v| v.weight);
    let _ = writeln!(
        s,
        "weight:       {}",
        weight.map_or("- (the track's configured weight)".to_string(), |w| format!(
            "{w:+}"
        ))
    );
    let _ = writeln!(s, "elapsed:      {}", format_duration_us(ev.elapsed));
    let _ = writeln!(s, "cpu:          {}", format_duration_us(ev.cpu));
    let _ = writeln!(s, "instructions: {} (fuel consumed)", ev.fuel_consumed);
    if ev.logs.is_empty() {
        let _ = writeln!(s, "logs:         -");
    } else {
        let _ = writeln!(s, "logs:");
        for (l, m) in &ev.logs {
            let _ = writeln!(s, "  [{}] {m}", level_name(*l));
        }
    }
    if ev.denials.is_empty() {
        let _ = writeln!(s, "denials:      -");
    } else {
        let _ = writeln!(s, "denials:");
        for d in &ev.denials {
            let _ = writeln!(s, "  {d}");
        }
    }
    s
}

fn format_duration_us(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.3} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(policy: &str, weight: i32) -> Track {
        Track {
            policy: policy.into(),
            check: None,
            interval: Duration::from_millis(20),
            timeout: Duration::from_millis(20),
            weight,
            rise: 2,
            fall: 1,
            init_fail: false,
            config: BTreeMap::new(),
        }
    }

    /// A builtin reaches the targets its settings name without an `allow`;
    /// the track's `url` is the one granted.
    #[test]
    fn a_builtin_is_granted_the_targets_of_its_settings() {
        let text = "[[policy]]\nname = \"web\"\nsource = \"builtin:http-status\"\n\
                    config = { url = \"http://192.0.2.11:8080/\" }\nallow = [\"127.0.0.1:81\"]\n\
                    [[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 50\nvips = [\"192.0.2.3\"]\n\
                    [[instance.track]]\npolicy = \"web\"\nconfig = { url = \"http://192.0.2.12/\" }\n";
        let cfg = config::parse(text, std::path::Path::new("t.toml")).expect("config");
        let p = cfg.policy("web").expect("web");
        let ip = |s: &str| s.parse().expect("address");
        let g = grants(p, &p.config, &cfg).expect("grants");
        assert!(g.net_allowed(ip("192.0.2.11"), 8080));
        assert!(g.net_allowed(ip("127.0.0.1"), 81));
        assert!(!g.net_allowed(ip("192.0.2.11"), 80));
        let tr = &cfg.instances[0].tracks[0];
        let g = grants(p, &config::merge_settings(&p.config, &tr.config), &cfg).expect("grants");
        assert!(g.net_allowed(ip("192.0.2.12"), 80));
        assert!(!g.net_allowed(ip("192.0.2.11"), 8080));
    }

    #[test]
    fn track_settings_override_the_policys() {
        let p: BTreeMap<String, String> = [("url", "http://a/"), ("expect", "200")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let t: BTreeMap<String, String> = [("url", "http://b/"), ("timeout-ms", "50")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let m = merge_settings(&p, &t);
        let want: Vec<(String, String)> = [("expect", "200"), ("timeout-ms", "50"), ("url", "http://b/")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(m, want);
        assert_eq!(merge_settings(&p, &BTreeMap::new()).len(), 2);
    }

    #[test]
    fn schedule_runs_at_once_then_interval_after_completion_never_overlapping() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut s = Schedule::new(ms(20), t0);
        assert_eq!(s.due(), Some(t0));
        assert!(s.is_due(t0));
        s.started();
        // While running, never due, however late it gets.
        assert_eq!(s.due(), None);
        assert!(!s.is_due(t0 + ms(1000)));
        // A slow evaluation (35 ms): the next starts 20 ms after it ended.
        s.completed(t0 + ms(35));
        assert_eq!(s.due(), Some(t0 + ms(55)));
        assert!(!s.is_due(t0 + ms(54)));
        assert!(s.is_due(t0 + ms(55)));
        // A shorter interval on reload brings an idle schedule forward...
        s.set_interval(ms(10), t0 + ms(40));
        assert_eq!(s.due(), Some(t0 + ms(50)));
        // ...a longer one does not push it back.
        s.set_interval(ms(100), t0 + ms(40));
        assert_eq!(s.due(), Some(t0 + ms(50)));
        s.started();
        s.set_interval(ms(30), t0 + ms(60));
        assert_eq!(s.due(), None);
        s.completed(t0 + ms(61));
        assert_eq!(s.due(), Some(t0 + ms(91)));
    }

    fn run(t: Track) -> TrackRun {
        let policy = Policy {
            name: t.policy.clone(),
            source: PolicySource::Builtin(config::Builtin::InterfaceUp),
            sha256: None,
            config: Default::default(),
            allow: Vec::new(),
            allow_files: Vec::new(),
            remedies: Vec::new(),
        };
        TrackRun::new(
            1,
            t,
            &policy,
            test_policy(),
            Arc::new(Grants::default()),
            Instant::now(),
        )
    }

    fn test_policy() -> Arc<LoadedPolicy> {
        use std::sync::OnceLock;
        static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
        let engine = ENGINE.get_or_init(|| {
            PolicyEngine::with_options(baton_policy::EngineOptions {
                disk_cache: false,
                ..Default::default()
            })
            .expect("engine")
        });
        engine
            .load(
                "tcp-port",
                baton_policy_builtins::builtin("tcp-port").expect("builtin"),
                None,
            )
            .expect("load")
    }

    #[test]
    fn completion_applies_fall_and_rise_and_reports_changes_once() {
        let now = Instant::now();
        let mut r = run(track("web", -60));
        r.schedule.started();
        let c = r.complete_with(true, None, None, Duration::from_micros(50), 1000, now);
        assert!(!c.effect_changed);
        assert!(c.result_changed, "the first result is news");
        assert_eq!(r.schedule.due(), Some(now + Duration::from_millis(20)));
        let c = r.complete_with(true, None, None, Duration::ZERO, 0, now);
        assert!(!c.result_changed && !c.effect_changed);
        // fall 1: one failure is enough.
        let c = r.complete_with(false, Some("refused".into()), None, Duration::ZERO, 0, now);
        assert!(c.effect_changed && c.result_changed);
        assert_eq!(r.effect_text(), "weight -60");
        assert_eq!(r.tracker.last_reason(), Some("refused"));
        let c = r.complete_with(false, Some("refused".into()), None, Duration::ZERO, 0, now);
        assert!(!c.effect_changed && !c.result_changed);
        let c = r.complete_with(false, Some("timeout".into()), None, Duration::ZERO, 0, now);
        assert!(!c.effect_changed && c.result_changed);
        // rise 2.
        let c = r.complete_with(true, None, None, Duration::ZERO, 0, now);
        assert!(!c.effect_changed && c.result_changed);
        let c = r.complete_with(true, None, None, Duration::ZERO, 0, now);
        assert!(c.effect_changed && !c.result_changed);
        assert_eq!(r.effect_text(), "none");
        assert_eq!(r.runs, 7);
        assert_eq!(r.last_fuel, 0);
    }

    #[test]
    fn weight_zero_faults_and_init_fail_starts_bad() {
        let now = Instant::now();
        let mut r = run(track("web", 0));
        r.complete_with(false, Some("dead".into()), None, Duration::ZERO, 0, now);
        assert_eq!(r.effect_text(), "FAULT");
        let mut t = track("web", -10);
        t.init_fail = true;
        let r = run(t);
        assert_eq!(r.effect_text(), "weight -10");
    }

    #[test]
    fn context_carries_settings_facts_grants_and_budget() {
        let mut t = track("web", -60);
        t.timeout = Duration::from_millis(15);
        let mut r = run(t);
        r.settings = vec![("port".into(), "80".into())];
        r.runs = 3;
        r.last_healthy = Some(false);
        let inst = PolicyInstance {
            name: "VI_1".into(),
            state: VrrpState::Master,
            ..Default::default()
        };
        let ctx = r.context("lb01", inst.clone(), Arc::new(vec![inst]));
        assert_eq!(ctx.settings, vec![("port".to_string(), "80".to_string())]);
        assert_eq!(ctx.facts.router_id, "lb01");
        assert_eq!(ctx.facts.run, 3);
        assert_eq!(ctx.facts.last_healthy, Some(false));
        assert_eq!(ctx.facts.instance.state, VrrpState::Master);
        assert_eq!(ctx.instances.len(), 1);
        assert_eq!(ctx.budget, Duration::from_millis(15));
    }

    #[test]
    fn reload_keeps_state_only_for_the_same_tracking_rules() {
        let a = track("web", -60);
        let mut b = a.clone();
        b.interval = Duration::from_secs(1);
        b.config.insert("url".into(), "http://x/".into());
        assert!(keeps_state(&a, &b), "interval and settings do not reset it");
        for change in [
            |t: &mut Track| t.weight = -50,
            |t: &mut Track| t.rise = 3,
            |t: &mut Track| t.fall = 3,
            |t: &mut Track| t.init_fail = true,
            |t: &mut Track| t.policy = "other".into(),
        ] {
            let mut c = a.clone();
            change(&mut c);
            assert!(!keeps_state(&a, &c), "{c:?}");
        }
        let [w, f] = clear_commands("web");
        assert_eq!(
            w,
            baton_vrrp::Command::SetWeight {
                source: "web".into(),
                weight: 0
            }
        );
        assert_eq!(
            f,
            baton_vrrp::Command::SetFault {
                cause: "track web failed".into(),
                active: false
            }
        );
    }

    #[test]
    fn reload_refuses_identity_changes() {
        let text = "router_id = \"lb01\"\n[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 50\npriority = 150\nvips = [\"192.0.2.3/24\"]\n";
        let cfg = crate::config::parse(text, std::path::Path::new("t.toml")).expect("config");
        let old = cfg.instances.clone();
        let mut new = old.clone();
        new[0].priority = 90;
        new[0].garp.repeat = 1;
        assert!(reload_refusals(&old, &new).is_empty());
        new[0].vrid = 51;
        new[0].vips.clear();
        let r = reload_refusals(&old, &new);
        assert_eq!(r, vec!["instance VI_1: vrid, vips changed".to_string()]);
        let mut renamed = old.clone();
        renamed[0].name = "VI_2".into();
        let r = reload_refusals(&old, &renamed);
        assert_eq!(
            r,
            vec![
                "instance VI_1 was removed".to_string(),
                "instance VI_2 was added".to_string()
            ]
        );
    }

    #[test]
    fn facts_json_defaults_missing_fields() {
        let f = parse_facts(r#"{"router_id": "lb01", "instance": {"name": "VI_1", "state": "MASTER"}, "last_healthy": false}"#)
            .expect("facts");
        assert_eq!(f.router_id, "lb01");
        assert_eq!(f.instance.state, VrrpState::Master);
        assert_eq!(f.instance.vrid, 0);
        assert_eq!(f.run, 0);
        assert_eq!(f.last_healthy, Some(false));
        assert!(parse_facts("{}").is_ok());
        assert!(parse_facts(r#"{"instance": {"state": "leader"}}"#).is_err());
        assert!(parse_facts(r#"{"routerid": "x"}"#).is_err());
    }

    #[test]
    fn every_builtin_policy_of_the_config_resolves_or_says_why() {
        for name in baton_policy_builtins::NAMES {
            let p = Policy {
                name: "p".into(),
                source: PolicySource::Builtin(
                    config::Builtin::from_name(name).expect("a builtin of the config"),
                ),
                sha256: None,
                config: BTreeMap::new(),
                allow: Vec::new(),
                allow_files: Vec::new(),
                remedies: Vec::new(),
            };
            assert!(policy_bytes(&p).is_ok(), "{name}");
        }
        let p = Policy {
            name: "brain".into(),
            source: PolicySource::Builtin(config::Builtin::SplitBrainArp),
            sha256: None,
            config: BTreeMap::new(),
            allow: Vec::new(),
            allow_files: Vec::new(),
            remedies: Vec::new(),
        };
        let e = policy_bytes(&p).err().unwrap_or_default();
        assert!(
            e.contains("policy brain") && e.contains("not built into this binary"),
            "{e}"
        );
    }
}
