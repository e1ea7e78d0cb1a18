//! `baton policy test POLICY --scenario FILE|DIR`: the offline test kit.
//! A scenario (docs/policy-scenarios.md) is settings, facts, grants, the
//! capability answers the policy should get and the verdict it must give;
//! the evaluation runs in the real host with a [`Script`] in place of the
//! network and the system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use baton_policy::caps::CapError;
use baton_policy::script::{Answer, Script, ScriptClock};
use baton_policy::{EvalContext, Evaluation, Facts, Grants, LoadedPolicy};
use serde::Deserialize;

/// One scenario file, as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ScenarioToml {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    settings: BTreeMap<String, toml::Value>,
    #[serde(default)]
    facts: Option<toml::Value>,
    #[serde(default)]
    grants: Option<GrantsToml>,
    #[serde(default)]
    http_get: Vec<HttpGetToml>,
    #[serde(default)]
    tcp_connect: Vec<TcpToml>,
    #[serde(default)]
    process_running: Vec<ProcessRunningToml>,
    #[serde(default)]
    process_count: Vec<ProcessCountToml>,
    #[serde(default)]
    address_held: Vec<AddressToml>,
    #[serde(default)]
    interface_up: Vec<InterfaceToml>,
    #[serde(default)]
    read_file: Vec<ReadFileToml>,
    #[serde(default)]
    remedy: Vec<RemedyToml>,
    #[serde(default)]
    clock: Option<ClockToml>,
    expect: ExpectToml,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct GrantsToml {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    allow_files: Vec<String>,
    #[serde(default)]
    remedies: Vec<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct HttpGetToml {
    url: String,
    status: Option<u16>,
    #[serde(default)]
    body: String,
    error: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TcpToml {
    host: String,
    port: u16,
    result: String,
    /// Connect time reported to the policy.
    #[serde(default = "default_latency")]
    latency_us: u64,
}

fn default_latency() -> u64 {
    100
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ProcessRunningToml {
    name: String,
    #[serde(default = "one")]
    at_least: u32,
    running: bool,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ProcessCountToml {
    name: String,
    count: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct AddressToml {
    address: String,
    held: bool,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct InterfaceToml {
    interface: String,
    up: Option<bool>,
    error: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ReadFileToml {
    path: String,
    contents: Option<String>,
    #[serde(default)]
    missing: bool,
    error: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RemedyToml {
    name: String,
    exit: Option<i32>,
    error: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ClockToml {
    wall_ms: Option<u64>,
    monotonic_ms: Option<u64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ExpectToml {
    healthy: bool,
    reason: Option<String>,
    reason_contains: Option<String>,
    weight: Option<i32>,
    #[serde(default)]
    unused_answers: bool,
}

/// A scenario ready to run.
#[derive(Debug)]
pub struct Scenario {
    pub path: PathBuf,
    pub description: Option<String>,
    settings: Vec<(String, String)>,
    facts: Facts,
    grants: Option<GrantsToml>,
    answers: Vec<Answer>,
    clock: ScriptClock,
    expect: ExpectToml,
}

/// `refused`, `timeout`, `denied: TEXT`, `failed: TEXT`.
fn cap_error(s: &str) -> Result<CapError, String> {
    match s {
        "refused" => Ok(CapError::Refused),
        "timeout" => Ok(CapError::Timeout),
        s => match s.split_once(':') {
            Some(("failed", t)) => Ok(CapError::Failed(t.trim().to_string())),
            Some(("denied", t)) => Ok(CapError::Denied(t.trim().to_string())),
            _ => Err(format!(
                "error {s:?}: expected refused, timeout, \"failed: TEXT\" or \"denied: TEXT\""
            )),
        },
    }
}

/// Exactly one of an answer and an error.
fn one_of<T>(what: &str, answer: Option<T>, error: Option<&str>) -> Result<Result<T, CapError>, String> {
    match (answer, error) {
        (Some(a), None) => Ok(Ok(a)),
        (None, Some(e)) => cap_error(e).map(Err),
        (Some(_), Some(_)) => Err(format!("{what}: an answer and an `error`: give one")),
        (None, None) => Err(format!("{what}: no answer and no `error`")),
    }
}

fn setting_text(key: &str, v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        _ => Err(format!("settings.{key}: a string, integer or boolean")),
    }
}

impl ScenarioToml {
    fn answers(&self) -> Result<Vec<Answer>, String> {
        let mut out = Vec::new();
        for h in &self.http_get {
            let what = format!("[[http_get]] {}", h.url);
            let result = one_of(
                &what,
                h.status.map(|s| (s, h.body.clone().into_bytes())),
                h.error.as_deref(),
            )?;
            out.push(Answer::HttpGet {
                url: h.url.clone(),
                result,
            });
        }
        for t in &self.tcp_connect {
            let result = match t.result.as_str() {
                "ok" => Ok(t.latency_us),
                e => Err(cap_error(e).map_err(|e| format!("[[tcp_connect]] {}:{}: {e}", t.host, t.port))?),
            };
            out.push(Answer::TcpConnect {
                host: t.host.clone(),
                port: t.port,
                result,
            });
        }
        out.extend(self.process_running.iter().map(|p| Answer::ProcessRunning {
            name: p.name.clone(),
            at_least: p.at_least,
            running: p.running,
        }));
        out.extend(self.process_count.iter().map(|p| Answer::ProcessCount {
            name: p.name.clone(),
            count: p.count,
        }));
        out.extend(self.address_held.iter().map(|a| Answer::AddressHeld {
            address: a.address.clone(),
            held: a.held,
        }));
        for i in &self.interface_up {
            let what = format!("[[interface_up]] {}", i.interface);
            out.push(Answer::InterfaceUp {
                interface: i.interface.clone(),
                result: one_of(&what, i.up, i.error.as_deref())?,
            });
        }
        for f in &self.read_file {
            let what = format!("[[read_file]] {}", f.path);
            let contents = match (&f.contents, f.missing) {
                (Some(c), false) => Some(Some(c.clone().into_bytes())),
                (None, true) => Some(None),
                (None, false) => None,
                (Some(_), true) => return Err(format!("{what}: `contents` and `missing`: give one")),
            };
            out.push(Answer::ReadFile {
                path: f.path.clone(),
                result: one_of(&what, contents, f.error.as_deref())?,
            });
        }
        for r in &self.remedy {
            let what = format!("[[remedy]] {}", r.name);
            out.push(Answer::Remedy {
                name: r.name.clone(),
                result: one_of(&what, r.exit, r.error.as_deref())?,
            });
        }
        Ok(out)
    }
}

impl Scenario {
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, String> {
        let t: ScenarioToml = toml::from_str(text).map_err(|e| e.to_string())?;
        let settings = t
            .settings
            .iter()
            .map(|(k, v)| setting_text(k, v).map(|s| (k.clone(), s)))
            .collect::<Result<Vec<_>, _>>()?;
        let facts = match &t.facts {
            None => Facts::default(),
            Some(v) => {
                let json = serde_json::to_string(v).map_err(|e| format!("facts: {e}"))?;
                crate::checks::parse_facts(&json).map_err(|e| format!("facts: {e}"))?
            }
        };
        if t.expect.reason.is_some() && t.expect.reason_contains.is_some() {
            return Err("expect: `reason` and `reason_contains`: give one".into());
        }
        let d = ScriptClock::default();
        let clock = t.clock.as_ref().map_or(d, |c| ScriptClock {
            wall_ms: c.wall_ms.unwrap_or(d.wall_ms),
            monotonic_ms: c.monotonic_ms.unwrap_or(d.monotonic_ms),
        });
        Ok(Scenario {
            path: path.to_path_buf(),
            answers: t.answers()?,
            description: t.description,
            settings,
            facts,
            grants: t.grants,
            clock,
            expect: t.expect,
        })
    }

    /// The scenario's `[grants]`, the same for every version of a policy;
    /// without one, what the daemon would grant: a builtin what its own
    /// settings imply (`builtin`), a file nothing.
    fn grants(&self, builtin: Option<baton_config::Builtin>) -> Result<Grants, String> {
        let mut g = Grants::default();
        let none = GrantsToml::default();
        let given = self.grants.as_ref().unwrap_or(&none);
        let mut allow = given.allow.clone();
        if let (Some(b), None) = (builtin, &self.grants) {
            let p = baton_config::Policy {
                name: "scenario".into(),
                source: baton_config::PolicySource::Builtin(b),
                sha256: None,
                config: BTreeMap::new(),
                allow: Vec::new(),
                allow_files: Vec::new(),
                remedies: Vec::new(),
            };
            allow.extend(p.net_grants(&self.settings.iter().cloned().collect()));
        }
        for a in &allow {
            g = g.allow_net(a).map_err(|e| format!("grants.allow: {e}"))?;
        }
        for f in &given.allow_files {
            g = g.allow_file(f).map_err(|e| format!("grants.allow_files: {e}"))?;
        }
        for r in &given.remedies {
            // Scripted: the command never runs.
            g = g
                .remedy(r, vec!["/bin/false".into()], Duration::from_secs(10))
                .map_err(|e| format!("grants.remedies: {e}"))?;
        }
        Ok(g)
    }

    /// Runs it; `Ok` when the policy answered as expected, else what differed.
    pub fn run(
        &self,
        policy: &LoadedPolicy,
        builtin: Option<baton_config::Builtin>,
        budget: Duration,
    ) -> (Option<Evaluation>, Result<(), Vec<String>>) {
        let script = Script::new(self.answers.clone(), self.clock);
        let grants = match self.grants(builtin) {
            Ok(g) => g,
            Err(e) => return (None, Err(vec![e])),
        };
        let ctx = EvalContext::new(self.facts.clone())
            .with_settings(self.settings.clone())
            .with_grants(grants)
            .with_budget(budget)
            .with_script(Arc::clone(&script));
        let ev = policy.evaluate(ctx);
        let mut wrong = script.problems();
        let e = &self.expect;
        // A denied capability or a trap fails the check too: its reason is
        // the error's, as the daemon reports it.
        let healthy = ev.is_healthy();
        let reason = ev.failure_reason().unwrap_or_default();
        if healthy != e.healthy {
            wrong.push(format!(
                "healthy = {healthy}, expected {} (reason: {})",
                e.healthy,
                if reason.is_empty() { "none" } else { &reason }
            ));
        }
        if let Some(want) = &e.reason
            && reason != *want
        {
            wrong.push(format!("reason {reason:?}, expected {want:?}"));
        }
        if let Some(want) = &e.reason_contains
            && !reason.contains(want.as_str())
        {
            wrong.push(format!("reason {reason:?} does not contain {want:?}"));
        }
        let weight = ev.outcome.as_ref().ok().and_then(|v| v.weight);
        if let Some(w) = e.weight
            && weight != Some(w)
        {
            wrong.push(format!("weight {weight:?}, expected {w}"));
        }
        if !e.unused_answers {
            for u in script.unused() {
                wrong.push(format!("scripted {u} was never called"));
            }
        }
        let r = if wrong.is_empty() { Ok(()) } else { Err(wrong) };
        (Some(ev), r)
    }
}

/// Runs every scenario of `args` against `policy`, printing one line each
/// (and what differed, and the policy's logs, for a failure). Exit 0 if all
/// passed, 1 if one failed, 2 if one could not be read.
pub fn run_all(
    label: &str,
    policy: &LoadedPolicy,
    builtin: Option<baton_config::Builtin>,
    args: &[PathBuf],
    budget: Duration,
) -> std::process::ExitCode {
    let mut paths = Vec::new();
    for a in args {
        match files(a) {
            Ok(f) => paths.extend(f),
            Err(e) => {
                eprintln!("baton policy test: {e}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for path in &paths {
        let scenario = match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Scenario::parse(path, &t))
        {
            Ok(s) => s,
            Err(e) => {
                println!("INVALID {}: {e}", path.display());
                invalid += 1;
                continue;
            }
        };
        let about = scenario
            .description
            .as_deref()
            .map_or(String::new(), |d| format!(" ({d})"));
        match scenario.run(policy, builtin, budget) {
            (ev, Ok(())) => {
                let cost = ev.map_or(String::new(), |e| {
                    format!(" [{:?}, {} instructions]", e.cpu, e.fuel_consumed)
                });
                println!("ok      {}{about}{cost}", path.display());
                passed += 1;
            }
            (ev, Err(wrong)) => {
                println!("FAILED  {}{about}", path.display());
                for w in wrong {
                    println!("        - {w}");
                }
                for (level, msg) in ev.iter().flat_map(|e| e.logs.iter()) {
                    println!("        log [{level:?}] {msg}");
                }
                failed += 1;
            }
        }
    }
    println!("{label}: {passed} passed, {failed} failed, {invalid} invalid");
    match (failed, invalid) {
        (0, 0) => std::process::ExitCode::SUCCESS,
        (_, 0) => std::process::ExitCode::from(1),
        _ => std::process::ExitCode::from(2),
    }
}

/// The scenario files `arg` names: a file, or a directory's `*.toml` in name order.
pub fn files(arg: &Path) -> Result<Vec<PathBuf>, String> {
    if !arg.is_dir() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(arg)
        .map_err(|e| format!("{}: {e}", arg.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!("{}: no *.toml scenario in it", arg.display()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_parses_into_answers_in_file_order_per_capability() {
        let s = Scenario::parse(
            Path::new("t.toml"),
            r#"
description = "two gets"
[settings]
url = "http://192.0.2.11/"
expect = 200
[[http_get]]
url = "http://192.0.2.11/"
status = 503
[[http_get]]
url = "http://192.0.2.11/"
error = "failed: connection reset"
[[tcp_connect]]
host = "192.0.2.11"
port = 80
result = "refused"
[expect]
healthy = false
"#,
        )
        .expect("parses");
        assert_eq!(
            s.settings,
            [
                ("expect".to_string(), "200".to_string()),
                ("url".to_string(), "http://192.0.2.11/".to_string())
            ]
        );
        assert_eq!(
            s.answers,
            [
                Answer::HttpGet {
                    url: "http://192.0.2.11/".into(),
                    result: Ok((503, Vec::new()))
                },
                Answer::HttpGet {
                    url: "http://192.0.2.11/".into(),
                    result: Err(CapError::Failed("connection reset".into()))
                },
                Answer::TcpConnect {
                    host: "192.0.2.11".into(),
                    port: 80,
                    result: Err(CapError::Refused)
                },
            ]
        );
    }

    #[test]
    fn mistakes_in_a_scenario_are_named() {
        let bad = |text: &str| Scenario::parse(Path::new("t.toml"), text).expect_err("refused");
        assert!(bad("[expect]\nhealthy = true\nhealty = 1\n").contains("healty"));
        assert!(
            bad("[[http_get]]\nurl = \"http://x/\"\n[expect]\nhealthy = true\n")
                .contains("no answer and no `error`")
        );
        assert!(
            bad("[[http_get]]\nurl = \"http://x/\"\nerror = \"nope\"\n[expect]\nhealthy = true\n")
                .contains("expected refused, timeout")
        );
        assert!(bad("[settings]\nurl = []\n[expect]\nhealthy = true\n").contains("settings.url"));
    }
}
