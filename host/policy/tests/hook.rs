//! The `transition-hook` world: the example hook (`route-alerts`) routes
//! notices as its settings say, components of the other world are refused at
//! load time with the world they lack, and a hook that loops or answers beyond
//! the host's limits is a bounded failure with its reason.

mod common;

use std::time::Duration;

use baton_policy::{
    EvalError, HookEvaluation, HookNotice, InstanceStatus, LoadedHook, LogLevel, NoticeKind, Outgoing,
    PolicyError, Route, VrrpState,
};
use common::{engine, example_hook, facts, hostile_hook};
use sha2::{Digest, Sha256};

const BUDGET: Duration = Duration::from_secs(1);

/// VI_1 on lb01 going `from` -> `to`, as the notifier tells it.
fn transition(from: VrrpState, to: VrrpState) -> HookNotice {
    HookNotice {
        instance: Some("VI_1".into()),
        from: Some(from),
        to: Some(to),
        reason: Some("master 192.0.2.11 stopped advertising (master down interval 3.6 s)".into()),
        base_priority: Some(150),
        effective_priority: Some(140),
        vips: vec!["192.0.2.3/24".into()],
        json: r#"{"schema":"baton.notice/1","kind":"transition"}"#.into(),
        ..HookNotice::new(NoticeKind::Transition, "lb01", 1_700_000_000_000)
    }
}

fn instances() -> Vec<InstanceStatus> {
    vec![facts().instance]
}

fn route(hook: &LoadedHook, settings: &[(&str, &str)], notice: &HookNotice) -> HookEvaluation {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    hook.route(&settings, notice, &instances(), BUDGET)
}

fn sent(ev: &HookEvaluation) -> &[Outgoing] {
    match &ev.result {
        Ok(Route::Send(list)) => list,
        other => panic!("expected a send, got {other:?} (logs {:?})", ev.logs),
    }
}

#[test]
fn master_transition_pages_and_mails() {
    let hook = example_hook("route-alerts");
    let ev = route(&hook, &[], &transition(VrrpState::Backup, VrrpState::Master));
    let list = sent(&ev);
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0].sink, "pager");
    assert_eq!(
        list[0].subject.as_deref(),
        Some("PAGE: VI_1 is now MASTER on lb01")
    );
    let body = list[0].body.as_deref().unwrap();
    for want in [
        "BACKUP -> MASTER",
        "stopped advertising",
        "140 (base 150)",
        "192.0.2.3/24",
    ] {
        assert!(body.contains(want), "{want:?} not in {body:?}");
    }
    // Mail as Baton would send it.
    assert_eq!(
        list[1],
        Outgoing {
            sink: "email".into(),
            subject: None,
            body: None
        }
    );
    println!(
        "route-alerts: {:?} in {:?} (cpu {:?})",
        list[0].subject, ev.elapsed, ev.cpu
    );
}

#[test]
fn page_sink_and_states_come_from_the_settings() {
    let hook = example_hook("route-alerts");
    let settings = [("page", "ops-webhook"), ("page-states", "backup")];
    let ev = route(
        &hook,
        &settings,
        &transition(VrrpState::Master, VrrpState::Backup),
    );
    let list = sent(&ev);
    assert_eq!(list[0].sink, "ops-webhook");
    assert_eq!(
        list[0].subject.as_deref(),
        Some("PAGE: VI_1 is now BACKUP on lb01")
    );
    // Master is no longer a paging state.
    let ev = route(
        &hook,
        &settings,
        &transition(VrrpState::Backup, VrrpState::Master),
    );
    assert_eq!(ev.result, Ok(Route::Default));
}

#[test]
fn the_page_takes_what_the_notice_lacks_from_the_instances() {
    let hook = example_hook("route-alerts");
    let notice = HookNotice {
        base_priority: None,
        effective_priority: None,
        vips: Vec::new(),
        ..transition(VrrpState::Backup, VrrpState::Fault)
    };
    let ev = route(&hook, &[], &notice);
    let body = sent(&ev)[0].body.clone().unwrap();
    assert!(
        body.contains("150 (base 150)") && body.contains("192.0.2.3/24"),
        "{body}"
    );
}

#[test]
fn backup_transition_is_routed_by_default() {
    let hook = example_hook("route-alerts");
    let ev = route(&hook, &[], &transition(VrrpState::Master, VrrpState::Backup));
    assert_eq!(ev.result, Ok(Route::Default), "{:?}", ev.logs);
    // Other kinds too, unless muted.
    let ev = route(&hook, &[], &HookNotice::new(NoticeKind::Reload, "lb01", 0));
    assert_eq!(ev.result, Ok(Route::Default));
}

#[test]
fn quiet_kinds_send_nothing() {
    let hook = example_hook("route-alerts");
    let settings = [("quiet", "track, daemon_start,reload")];
    for kind in [NoticeKind::Track, NoticeKind::DaemonStart, NoticeKind::Reload] {
        let ev = route(&hook, &settings, &HookNotice::new(kind, "lb01", 0));
        assert_eq!(ev.result, Ok(Route::Send(vec![])), "{kind:?}");
    }
    let ev = route(
        &hook,
        &settings,
        &HookNotice::new(NoticeKind::DaemonStop, "lb01", 0),
    );
    assert_eq!(ev.result, Ok(Route::Default));
    // Muting transitions beats paging on them.
    let ev = route(
        &hook,
        &[("quiet", "transition")],
        &transition(VrrpState::Backup, VrrpState::Master),
    );
    assert_eq!(ev.result, Ok(Route::Send(vec![])));
}

#[test]
fn a_bad_setting_is_logged_and_routed_by_default() {
    let hook = example_hook("route-alerts");
    let ev = route(
        &hook,
        &[("page-states", "master,primary")],
        &transition(VrrpState::Backup, VrrpState::Master),
    );
    assert_eq!(ev.result, Ok(Route::Default));
    assert!(
        ev.logs
            .iter()
            .any(|(l, m)| *l == LogLevel::Warn && m.contains("unknown VRRP state \"primary\"")),
        "{:?}",
        ev.logs
    );
}

#[test]
fn health_policies_and_hooks_are_told_the_world_they_lack() {
    let tcp = baton_policy_builtins::builtin("tcp-port").unwrap();
    let err = engine().load_hook("tcp-port", tcp, None).unwrap_err();
    match &err {
        PolicyError::Incompatible { world, reason, .. } => {
            assert_eq!(*world, "transition-hook");
            assert!(
                reason.contains("does not export `route` (it exports `check`)"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("world baton:policy/transition-hook@0.1.1"),
        "{err}"
    );
    println!("refused: {err}");

    let hook = baton_policy_builtins::example("route-alerts").unwrap();
    let err = engine().load("route-alerts", hook, None).unwrap_err();
    match &err {
        PolicyError::Incompatible { world, reason, .. } => {
            assert_eq!(*world, "health");
            assert!(
                reason.contains("does not export `check` (it exports `route`)"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("world baton:policy/health@0.1.1"),
        "{err}"
    );
    println!("refused: {err}");
}

#[test]
fn no_hostile_policy_loads_as_a_hook() {
    for name in baton_policy_builtins::HOSTILE_NAMES {
        let bytes = baton_policy_builtins::hostile(name).unwrap();
        match engine().load_hook(name, bytes, None) {
            Err(PolicyError::Incompatible { world, reason, .. }) => {
                assert_eq!(world, "transition-hook", "{name}");
                assert!(reason.contains("`route`"), "{name}: {reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    for name in baton_policy_builtins::HOSTILE_HOOK_NAMES {
        let bytes = baton_policy_builtins::hostile_hook(name).unwrap();
        assert!(
            matches!(
                engine().load(name, bytes, None),
                Err(PolicyError::Incompatible { .. })
            ),
            "{name} loads as a health policy"
        );
    }
}

#[test]
fn a_hook_is_pinned_like_a_policy() {
    let bytes = baton_policy_builtins::example("route-alerts").unwrap();
    let good: [u8; 32] = Sha256::digest(bytes).into();
    let hook = engine().load_hook("pinned", bytes, Some(good)).unwrap();
    assert_eq!(hook.name(), "pinned");
    assert_eq!(hook.sha256(), good);
    let mut bad = good;
    bad[0] ^= 1;
    assert!(matches!(
        engine().load_hook("pinned", bytes, Some(bad)),
        Err(PolicyError::DigestMismatch { actual, .. }) if actual == hook.sha256_hex()
    ));
}

#[test]
fn looping_hook_stops_at_its_deadline() {
    let hook = hostile_hook("hook-loop");
    let notice = transition(VrrpState::Backup, VrrpState::Master);
    for budget in [Duration::from_millis(20), Duration::from_millis(200)] {
        let ev = hook.route(&[], &notice, &instances(), budget);
        assert_eq!(ev.result, Err(EvalError::DeadlineExceeded(budget)), "{ev:?}");
        assert!(ev.elapsed >= budget, "{:?}", ev.elapsed);
        assert!(
            ev.elapsed < budget + Duration::from_millis(50),
            "{:?} for {budget:?}",
            ev.elapsed
        );
        println!("hook-loop, budget {budget:?}: stopped after {:?}", ev.elapsed);
    }
}

#[test]
fn answers_beyond_the_limits_are_refused() {
    let hook = hostile_hook("hook-bad-answer");
    let notice = transition(VrrpState::Backup, VrrpState::Master);
    for (answer, want) in [
        ("empty-sink", "outgoing message 1 has an empty sink name"),
        ("too-many", "65 outgoing messages (at most 64)"),
        ("huge-subject", "(to \"email\"): subject of 65537 bytes"),
        ("huge-body", "(to \"email\"): body of 65537 bytes"),
    ] {
        let ev = route(&hook, &[("answer", answer)], &notice);
        match &ev.result {
            Err(EvalError::BadAnswer(why)) => assert!(why.contains(want), "{answer}: {why}"),
            other => panic!("{answer}: expected a bad answer, got {other:?}"),
        }
    }
    let ev = route(&hook, &[("answer", "empty-sink")], &notice);
    println!("hook-bad-answer: {}", ev.result.unwrap_err());
}
