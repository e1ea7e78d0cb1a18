//! Hostile transition hook: answers a route the host must refuse. Setting
//! `answer` picks which: `empty-sink` (default; a message to sink ""),
//! `too-many` (65 messages), `huge-subject` or `huge-body` (64 KiB + 1).

use baton_guest::{Hook, InstanceStatus, Notice, Outgoing, Result, Route, Settings};

struct HookBadAnswer;

/// One byte over the host's limit for a subject or body.
const HUGE: usize = 64 * 1024 + 1;

impl Hook for HookBadAnswer {
    fn route(settings: &Settings, _notice: &Notice, _instances: &[InstanceStatus]) -> Result<Route> {
        let answer = match settings.get_or("answer", "empty-sink") {
            "empty-sink" => vec![Outgoing::to("email"), Outgoing::to("")],
            "too-many" => vec![Outgoing::to("email"); 65],
            "huge-subject" => vec![Outgoing::to("email").subject("s".repeat(HUGE))],
            "huge-body" => vec![Outgoing::to("email").body("b".repeat(HUGE))],
            other => return Err(format!("unknown answer {other:?}").into()),
        };
        Ok(Route::Send(answer))
    }
}

baton_guest::export_hook!(HookBadAnswer);
