//! Scripted capability answers, for testing a policy offline: an
//! [`EvalContext`](crate::EvalContext) with a [`Script`] answers every
//! capability call that would touch the network or the system from the
//! script instead, in order per capability, after the same grant checks as
//! in the daemon. A call the script does not expect (none left, or other
//! arguments) is answered with a failure and recorded as a
//! [`Script::problems`]; answers never asked for are
//! [`Script::unused`]. The clock the guest sees (Baton's and WASI's) is the
//! script's too: it starts where the script says and moves only by the
//! guest's sleeps, so a test is the same every run.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::caps::CapError;

/// One expected capability call and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    HttpGet {
        url: String,
        result: Result<(u16, Vec<u8>), CapError>,
    },
    TcpConnect {
        host: String,
        port: u16,
        result: Result<u64, CapError>,
    },
    ProcessRunning {
        name: String,
        at_least: u32,
        running: bool,
    },
    ProcessCount {
        name: String,
        count: u32,
    },
    AddressHeld {
        address: String,
        held: bool,
    },
    InterfaceUp {
        interface: String,
        result: Result<bool, CapError>,
    },
    /// `Ok(None)`: the file does not exist.
    ReadFile {
        path: String,
        result: Result<Option<Vec<u8>>, CapError>,
    },
    /// The remedy's exit code.
    Remedy {
        name: String,
        result: Result<i32, CapError>,
    },
}

impl Answer {
    /// The capability, as its WIT function is named.
    pub fn capability(&self) -> &'static str {
        match self {
            Answer::HttpGet { .. } => "http-get",
            Answer::TcpConnect { .. } => "tcp-connect",
            Answer::ProcessRunning { .. } => "process-running",
            Answer::ProcessCount { .. } => "process-count",
            Answer::AddressHeld { .. } => "address-held",
            Answer::InterfaceUp { .. } => "interface-up",
            Answer::ReadFile { .. } => "read-file",
            Answer::Remedy { .. } => "remedy",
        }
    }

    /// What it answers: `http-get http://x/`.
    fn call(&self) -> String {
        let args = match self {
            Answer::HttpGet { url, .. } => url.clone(),
            Answer::TcpConnect { host, port, .. } => format!("{host}:{port}"),
            Answer::ProcessRunning { name, at_least, .. } => format!("{name} at least {at_least}"),
            Answer::ProcessCount { name, .. } | Answer::AddressHeld { address: name, .. } => name.clone(),
            Answer::InterfaceUp { interface, .. } => interface.clone(),
            Answer::ReadFile { path, .. } => path.clone(),
            Answer::Remedy { name, .. } => name.clone(),
        };
        format!("{} {args}", self.capability())
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.call())
    }
}

/// The clock a scripted evaluation sees at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptClock {
    pub wall_ms: u64,
    pub monotonic_ms: u64,
}

impl Default for ScriptClock {
    /// 2026-12-01T00:00:00Z, and a monotonic clock 1000 s in.
    fn default() -> Self {
        ScriptClock {
            wall_ms: 1_764_547_200_000,
            monotonic_ms: 1_000_000,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    answers: VecDeque<Answer>,
    problems: Vec<String>,
    /// Slept so far.
    slept: Duration,
}

/// Scripted answers for one evaluation; shared by its capabilities.
#[derive(Debug, Default)]
pub struct Script {
    clock: ScriptClock,
    state: Mutex<State>,
}

impl Script {
    pub fn new(answers: impl IntoIterator<Item = Answer>, clock: ScriptClock) -> Arc<Script> {
        Arc::new(Script {
            clock,
            state: Mutex::new(State {
                answers: answers.into_iter().collect(),
                ..State::default()
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next answer of the same capability, if it is for this call
    /// (`matches`); else the call is recorded as unscripted.
    fn take(&self, capability: &str, call: &str, matches: impl Fn(&Answer) -> bool) -> Option<Answer> {
        let mut s = self.lock();
        let next = s.answers.iter().position(|a| a.capability() == capability);
        match next {
            Some(i) if matches(&s.answers[i]) => s.answers.remove(i),
            Some(i) => {
                let want = s.answers[i].call();
                s.problems.push(format!(
                    "unscripted {call} (the script's next {capability} is {want})"
                ));
                None
            }
            None => {
                s.problems
                    .push(format!("unscripted {call} (no {capability} answer left)"));
                None
            }
        }
    }

    fn unscripted(call: &str) -> CapError {
        CapError::Failed(format!("unscripted {call}"))
    }

    /// Calls the script did not expect, in order.
    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }

    /// Answers never asked for.
    pub fn unused(&self) -> Vec<String> {
        self.lock().answers.iter().map(Answer::call).collect()
    }

    pub fn http_get(&self, url: &str, max_body: u32) -> Result<(u16, Vec<u8>), CapError> {
        let call = format!("http-get {url}");
        match self.take(
            "http-get",
            &call,
            |a| matches!(a, Answer::HttpGet { url: u, .. } if u == url),
        ) {
            Some(Answer::HttpGet { result, .. }) => result.map(|(status, mut body)| {
                let cap = max_body.min(crate::caps::probe::http::MAX_BODY_CAP) as usize;
                body.truncate(cap);
                (status, body)
            }),
            _ => Err(Self::unscripted(&call)),
        }
    }

    pub fn tcp_connect(&self, host: &str, port: u16) -> Result<u64, CapError> {
        let call = format!("tcp-connect {host}:{port}");
        match self.take(
            "tcp-connect",
            &call,
            |a| matches!(a, Answer::TcpConnect { host: h, port: p, .. } if h == host && *p == port),
        ) {
            Some(Answer::TcpConnect { result, .. }) => result,
            _ => Err(Self::unscripted(&call)),
        }
    }

    /// Unscripted: false (and a problem).
    pub fn process_running(&self, name: &str, at_least: u32) -> bool {
        let call = format!("process-running {name} at least {at_least}");
        matches!(
            self.take("process-running", &call, |a| {
                matches!(a, Answer::ProcessRunning { name: n, at_least: k, .. } if n == name && *k == at_least)
            }),
            Some(Answer::ProcessRunning { running: true, .. })
        )
    }

    /// Unscripted: 0 (and a problem).
    pub fn process_count(&self, name: &str) -> u32 {
        let call = format!("process-count {name}");
        match self.take(
            "process-count",
            &call,
            |a| matches!(a, Answer::ProcessCount { name: n, .. } if n == name),
        ) {
            Some(Answer::ProcessCount { count, .. }) => count,
            _ => 0,
        }
    }

    /// Unscripted: false (and a problem).
    pub fn address_held(&self, address: &str) -> bool {
        let call = format!("address-held {address}");
        matches!(
            self.take("address-held", &call, |a| {
                matches!(a, Answer::AddressHeld { address: x, .. } if x == address)
            }),
            Some(Answer::AddressHeld { held: true, .. })
        )
    }

    pub fn interface_up(&self, interface: &str) -> Result<bool, CapError> {
        let call = format!("interface-up {interface}");
        match self.take(
            "interface-up",
            &call,
            |a| matches!(a, Answer::InterfaceUp { interface: i, .. } if i == interface),
        ) {
            Some(Answer::InterfaceUp { result, .. }) => result,
            _ => Err(Self::unscripted(&call)),
        }
    }

    pub fn read_file(&self, path: &str, max_bytes: u32) -> Result<Option<Vec<u8>>, CapError> {
        let call = format!("read-file {path}");
        match self.take(
            "read-file",
            &call,
            |a| matches!(a, Answer::ReadFile { path: p, .. } if p == path),
        ) {
            Some(Answer::ReadFile { result, .. }) => result.map(|c| {
                c.map(|mut b| {
                    b.truncate(max_bytes.min(1 << 20) as usize);
                    b
                })
            }),
            _ => Err(Self::unscripted(&call)),
        }
    }

    pub fn remedy(&self, name: &str) -> Result<i32, CapError> {
        let call = format!("remedy {name}");
        match self.take(
            "remedy",
            &call,
            |a| matches!(a, Answer::Remedy { name: n, .. } if n == name),
        ) {
            Some(Answer::Remedy { result, .. }) => result,
            _ => Err(Self::unscripted(&call)),
        }
    }

    /// A sleep: no time passes but the script's.
    pub fn sleep(&self, d: Duration) {
        self.lock().slept += d;
    }

    /// A wait until the script's monotonic clock reads `ns`: moves the clock
    /// there, unless it already is past it.
    pub fn advance_to(&self, ns: u64) {
        let origin = Duration::from_millis(self.clock.monotonic_ms);
        let target = Duration::from_nanos(ns).saturating_sub(origin);
        let mut s = self.lock();
        s.slept = s.slept.max(target);
    }

    fn slept(&self) -> Duration {
        self.lock().slept
    }

    /// Nanoseconds on the script's monotonic clock now.
    pub fn monotonic_ns(&self) -> u64 {
        let ns = Duration::from_millis(self.clock.monotonic_ms) + self.slept();
        u64::try_from(ns.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The script's wall clock now, since the Unix epoch.
    pub fn wall(&self) -> Duration {
        Duration::from_millis(self.clock.wall_ms) + self.slept()
    }
}

/// WASI's clocks, read from a script (Python's `time.time()`, JS's `Date.now()`).
#[derive(Debug, Clone)]
pub(crate) struct ScriptedClocks(pub Arc<Script>);

impl wasmtime_wasi::HostWallClock for ScriptedClocks {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        self.0.wall()
    }
}

impl wasmtime_wasi::HostMonotonicClock for ScriptedClocks {
    fn resolution(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        self.0.monotonic_ns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_in_order_per_capability_and_strays_are_recorded() {
        let s = Script::new(
            [
                Answer::HttpGet {
                    url: "http://192.0.2.1/".into(),
                    result: Ok((503, b"down and out".to_vec())),
                },
                Answer::TcpConnect {
                    host: "192.0.2.1".into(),
                    port: 80,
                    result: Err(CapError::Refused),
                },
                Answer::HttpGet {
                    url: "http://192.0.2.1/".into(),
                    result: Err(CapError::Timeout),
                },
            ],
            ScriptClock::default(),
        );
        // The tcp answer is not in the way of the second http-get.
        assert_eq!(s.http_get("http://192.0.2.1/", 4), Ok((503, b"down".to_vec())));
        assert_eq!(s.http_get("http://192.0.2.1/", 4), Err(CapError::Timeout));
        assert_eq!(
            s.http_get("http://192.0.2.1/", 4),
            Err(CapError::Failed("unscripted http-get http://192.0.2.1/".into()))
        );
        assert_eq!(
            s.tcp_connect("192.0.2.2", 80),
            Err(CapError::Failed("unscripted tcp-connect 192.0.2.2:80".into()))
        );
        assert!(!s.process_running("nginx", 1));
        assert_eq!(
            s.problems(),
            [
                "unscripted http-get http://192.0.2.1/ (no http-get answer left)",
                "unscripted tcp-connect 192.0.2.2:80 (the script's next tcp-connect is tcp-connect 192.0.2.1:80)",
                "unscripted process-running nginx at least 1 (no process-running answer left)",
            ]
        );
        assert_eq!(s.unused(), ["tcp-connect 192.0.2.1:80"]);
    }

    #[test]
    fn the_clock_moves_only_by_sleeps() {
        let s = Script::new(
            [],
            ScriptClock {
                wall_ms: 5_000,
                monotonic_ms: 7,
            },
        );
        assert_eq!(s.monotonic_ns(), 7_000_000);
        s.sleep(Duration::from_millis(250));
        assert_eq!(s.monotonic_ns(), 257_000_000);
        assert_eq!(s.wall(), Duration::from_millis(5_250));
        s.advance_to(1_007_000_000);
        assert_eq!(s.monotonic_ns(), 1_007_000_000);
        assert_eq!(s.wall(), Duration::from_millis(6_000));
        // Never backwards.
        s.advance_to(8_000_000);
        assert_eq!(s.monotonic_ns(), 1_007_000_000);
    }
}
