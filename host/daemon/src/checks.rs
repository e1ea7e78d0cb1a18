//! Policies: the `[[policy]]` components loaded into one [`PolicyEngine`],
//! and what each may touch (its grants). When checks run and what their
//! results mean is the node's (baton-node); this is the loading side.
//!
//! Also here: `baton policy test` ([`test_command`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_policy::{
    EvalContext, Evaluation, Evidence, Facts, Grants, InstanceStatus as PolicyInstance, LoadedPolicy,
    LoadedSplitBrain, LogLevel, Peer, PeerPath, PolicyEngine, RunAs, VipAnswer, VrrpState,
};
use serde::Deserialize;

use crate::config::{Config, Policy, PolicySource};
use crate::duration::parse_duration;

/// Policies by name.
pub type Loaded = BTreeMap<String, Arc<LoadedPolicy>>;

/// Split-brain policies by name.
pub type Brains = BTreeMap<String, Arc<LoadedSplitBrain>>;

/// Every component a config names, loaded: health policies, split-brain
/// policies, the transition hook.
#[derive(Debug, Default)]
pub struct Components {
    pub policies: Loaded,
    pub brains: Brains,
    pub hook: Option<Arc<crate::hook::LoadedHookConfig>>,
}

/// Loads every component of `cfg`; the first error fails the whole load.
pub fn load_components(engine: &PolicyEngine, cfg: &Config) -> Result<Components, String> {
    if let Some(e) = run_as_errors(cfg).into_iter().next() {
        return Err(e);
    }
    Ok(Components {
        policies: load_policies(engine, cfg)?,
        brains: load_split_brains(engine, cfg)?,
        hook: crate::hook::load(engine, cfg)?,
    })
}

/// Loads (type-checked against the split-brain world) every policy used
/// only as `[instance.split_brain]`.
pub fn load_split_brains(engine: &PolicyEngine, cfg: &Config) -> Result<Brains, String> {
    let mut out = Brains::new();
    let names: HashSet<&str> = runnable_policies(cfg).1.into_iter().collect();
    for p in cfg.policies.iter().filter(|p| names.contains(p.name.as_str())) {
        let bytes = policy_bytes(p, cfg)?;
        let loaded = engine
            .load_split_brain(&p.name, &bytes, p.pin())
            .map_err(|e| format!("policy {} ({}): {e}", p.name, p.source))?;
        out.insert(p.name.clone(), loaded);
    }
    Ok(out)
}

/// The component bytes of a policy: a builtin, its file, or from its
/// registry through `cfg`'s policy cache (see [`oci_bytes`]).
pub fn policy_bytes(p: &Policy, cfg: &Config) -> Result<Cow<'static, [u8]>, String> {
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
        PolicySource::Oci(r) => oci_bytes(r, p.pin(), cfg)
            .map(Cow::Owned)
            .map_err(|e| format!("policy {}: {e}", p.name)),
    }
}

/// The resolver of `cfg`: its `policy_cache` and `insecure_registries`.
pub fn oci_resolver(cfg: &Config) -> baton_oci::Resolver {
    baton_oci::Resolver::new(
        baton_oci::Cache::new(&cfg.policy_cache),
        baton_oci::Transport {
            insecure: cfg.insecure_registries.clone(),
            all_insecure: false,
        },
    )
}

/// A component from a registry: from the policy cache when it holds the
/// digest pinned, else pulled, verified and cached. The registry is not
/// asked when the cache has it, so a daemon starts with the registry down.
pub fn oci_bytes(r: &baton_oci::OciRef, pin: Option<[u8; 32]>, cfg: &Config) -> Result<Vec<u8>, String> {
    let t0 = Instant::now();
    let got = oci_resolver(cfg).resolve(r, pin).map_err(|e| e.to_string())?;
    let from = match got.source {
        baton_oci::Source::Cache => "the policy cache",
        baton_oci::Source::Registry => "the registry",
    };
    tracing::info!(
        "{r}: {} from {from} in {:?} ({})",
        baton_oci::digest_string(&got.digest),
        t0.elapsed(),
        got.path.display()
    );
    Ok(got.bytes)
}

/// The health policies: every `[[policy]]` except those used only as
/// `[instance.split_brain]` (a world of their own), and the names of those.
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
        let bytes = policy_bytes(p, cfg)?;
        let loaded = engine
            .load(&p.name, &bytes, p.pin())
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
        let run_as = run_as(remedy).map_err(|e| format!("policy {}: {e}", p.name))?;
        g = g
            .remedy_as(r, remedy.command.clone(), remedy.timeout, run_as)
            .map_err(|e| format!("policy {}: {e}", p.name))?;
    }
    Ok(g)
}

/// The uid and gid a remedy runs with, looked up by name (its `user` and
/// `group`); `None` without a `user`.
fn run_as(r: &crate::config::Remedy) -> Result<Option<RunAs>, String> {
    let Some(user) = &r.user else { return Ok(None) };
    RunAs::lookup(user, r.group.as_deref())
        .map(Some)
        .map_err(|e| format!("remedy {}: {e}", r.name))
}

/// Each remedy whose `user` or `group` does not exist on this system: what
/// the daemon refuses at load, and `baton check` reports.
pub fn run_as_errors(cfg: &Config) -> Vec<String> {
    cfg.remedies.iter().filter_map(|r| run_as(r).err()).collect()
}

/// What an evaluation of `policy` with `settings` may touch: the policy's
/// grants (see [`grants`]), looked up in `cfg`.
pub fn grants_for(cfg: &Config, policy: &str, settings: &[(String, String)]) -> Result<Grants, String> {
    let p = cfg
        .policy(policy)
        .ok_or_else(|| format!("no [[policy]] named {policy}"))?;
    let settings = settings.iter().cloned().collect();
    grants(p, &settings, cfg)
}

// ---------------------------------------------------------------------------
// `baton policy test`

/// `baton policy test`'s arguments.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// A component file (FILE.wasm), builtin:NAME, or oci://HOST/REPO@sha256:DIGEST
    /// (or REPO:TAG), fetched through the policy cache.
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
    /// For a split-brain policy, the evidence as JSON: {"own_mac", "peers":
    /// [{"address", "last_priority", "last_heard_ms_ago", "paths": [{"path",
    /// "last_heard_ms_ago"}]}], "answers": [{"vip", "others", "probed_ms_ago"}],
    /// "run", "last_decision"}; the instance is `--facts`'s.
    #[arg(long, value_name = "FILE.json")]
    pub evidence: Option<PathBuf>,
    /// Run the policy against scenario files (a file, or a directory of
    /// `*.toml`; repeatable): scripted capability answers and the expected
    /// verdict (docs/policy-scenarios.md). Exit 0 if every one passed, 1 if
    /// one failed, 2 if one is invalid.
    #[arg(long, value_name = "FILE|DIR")]
    pub scenario: Vec<PathBuf>,
    /// For an oci:// policy: the cache and how to reach its registry.
    #[command(flatten)]
    pub registry: crate::oci_cmd::RegistryArgs,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
struct EvidenceJson {
    own_mac: String,
    peers: Vec<PeerJson>,
    answers: Vec<AnswerJson>,
    run: u64,
    last_decision: Option<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
struct PeerJson {
    address: String,
    last_priority: Option<u8>,
    last_heard_ms_ago: Option<u64>,
    paths: Vec<PathJson>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
struct PathJson {
    path: String,
    last_heard_ms_ago: Option<u64>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default, deny_unknown_fields)]
struct AnswerJson {
    vip: String,
    others: Vec<String>,
    probed_ms_ago: Option<u64>,
}

/// Parses `--evidence` JSON, for the instance of `facts`.
pub fn parse_evidence(text: &str, facts: &Facts) -> Result<Evidence, String> {
    let j: EvidenceJson = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(Evidence {
        instance: facts.instance.clone(),
        own_mac: j.own_mac,
        peers: j
            .peers
            .into_iter()
            .map(|p| Peer {
                address: p.address,
                last_priority: p.last_priority,
                last_heard_ms_ago: p.last_heard_ms_ago,
                paths: p
                    .paths
                    .into_iter()
                    .map(|x| PeerPath {
                        path: x.path,
                        last_heard_ms_ago: x.last_heard_ms_ago,
                    })
                    .collect(),
            })
            .collect(),
        answers: j
            .answers
            .into_iter()
            .map(|a| VipAnswer {
                vip: a.vip,
                others: a.others,
                probed_ms_ago: a.probed_ms_ago,
            })
            .collect(),
        run: j.run,
        last_decision: j.last_decision,
    })
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

pub(crate) fn parse_state(s: &str) -> Result<VrrpState, String> {
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
    } else if a.policy.starts_with(baton_oci::OciRef::SCHEME) {
        match crate::oci_cmd::policy_arg(&a.policy, a.sha256.as_deref(), &a.registry) {
            Ok((label, b)) => (label, Cow::Owned(b)),
            Err(e) => return usage(e),
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
    let split_brain = match a.policy.strip_prefix("builtin:") {
        Some(name) => baton_policy_builtins::is_split_brain(name),
        None => a.evidence.is_some(),
    };
    if split_brain {
        let evidence = match &a.evidence {
            None => Ok(Evidence {
                instance: facts.instance.clone(),
                ..Evidence::default()
            }),
            Some(p) => std::fs::read_to_string(p)
                .map_err(|e| e.to_string())
                .and_then(|t| parse_evidence(&t, &facts))
                .map_err(|e| format!("--evidence {}: {e}", p.display())),
        };
        let evidence = match evidence {
            Ok(e) => e,
            Err(e) => return usage(e),
        };
        let brain = match engine.load_split_brain(&label, &bytes, pin) {
            Ok(b) => b,
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
        let ev = brain.decide(ctx, &evidence);
        print!("{}", render_brain(&label, &brain.sha256_hex(), load_time, &ev));
        // Stay (or alert): 0; demote or fault: 1; no decision: 2.
        return match &ev.result {
            Ok(baton_policy::Decision::Stay | baton_policy::Decision::Alert(_)) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(_) => ExitCode::from(2),
        };
    }
    let policy = match engine.load(&label, &bytes, pin) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("baton policy test: {e}");
            return ExitCode::from(2);
        }
    };
    let load_time = t0.elapsed();
    if !a.scenario.is_empty() {
        let builtin = a
            .policy
            .strip_prefix("builtin:")
            .and_then(baton_config::Builtin::from_name);
        return crate::scenario::run_all(&label, &policy, builtin, &a.scenario, budget);
    }
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

/// Time, CPU, instructions and logs of one evaluation, as `baton policy test` prints them.
fn render_costs(s: &mut String, elapsed: Duration, cpu: Duration, fuel: u64, logs: &[(LogLevel, String)]) {
    use std::fmt::Write as _;
    let _ = writeln!(s, "elapsed:      {}", format_duration_us(elapsed));
    let _ = writeln!(s, "cpu:          {}", format_duration_us(cpu));
    let _ = writeln!(s, "instructions: {fuel} (fuel consumed)");
    if logs.is_empty() {
        let _ = writeln!(s, "logs:         -");
    } else {
        let _ = writeln!(s, "logs:");
        for (l, m) in logs {
            let _ = writeln!(s, "  [{}] {m}", level_name(*l));
        }
    }
}

/// The report `baton policy test` prints for a split-brain policy.
fn render_brain(
    label: &str,
    sha256: &str,
    load_time: Duration,
    ev: &baton_policy::BrainEvaluation,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "policy:       {label} (sha256 {sha256}; split brain)");
    let _ = writeln!(s, "loaded in:    {}", format_duration_us(load_time));
    match &ev.result {
        Ok(d) => {
            let reason = d.reason().map_or(String::new(), |r| format!(": {r}"));
            let _ = writeln!(s, "decision:     {}{reason}", d.kind());
        }
        Err(e) => {
            let _ = writeln!(s, "decision:     none: {e}");
        }
    }
    render_costs(&mut s, ev.elapsed, ev.cpu, ev.fuel_consumed, &ev.logs);
    s
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
    render_costs(&mut s, ev.elapsed, ev.cpu, ev.fuel_consumed, &ev.logs);
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
    use crate::config;

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

    /// A remedy's user is looked up at load: a missing one is an error
    /// naming the remedy and the user, and the grant carries the uid.
    #[test]
    fn a_remedy_user_is_looked_up_at_load() {
        let text = "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.1\"]\n\
                    [[remedy]]\nname = \"ok\"\ncommand = [\"true\"]\nuser = \"root\"\n\
                    [[remedy]]\nname = \"bad\"\ncommand = [\"true\"]\nuser = \"baton-nosuch-user\"\n\
                    [[policy]]\nname = \"p\"\nsource = \"builtin:exec\"\nremedies = [\"ok\"]\n";
        let cfg = config::parse(text, std::path::Path::new("t.toml")).expect("a config");
        assert_eq!(
            run_as_errors(&cfg),
            ["remedy bad: user \"baton-nosuch-user\": no such user"]
        );
        let p = cfg.policy("p").unwrap();
        let g = grants(p, &p.config, &cfg).unwrap();
        assert_eq!(g.remedies["ok"].run_as, Some(RunAs { uid: 0, gid: 0 }));
    }

    #[test]
    fn every_builtin_policy_of_the_config_resolves() {
        // The split-brain builtins too: they are built in, of their own world.
        for b in config::Builtin::all() {
            assert!(baton_policy_builtins::NAMES.contains(&b.name()), "{b}");
        }
        let cfg = config::parse(
            "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.1\"]\n",
            std::path::Path::new("t.toml"),
        )
        .expect("a minimal config");
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
            assert!(policy_bytes(&p, &cfg).is_ok(), "{name}");
        }
    }
}
